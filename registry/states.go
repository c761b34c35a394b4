package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fleetsim/fleet/unit"
)

// PublishState records what a machine's systemd reports for a unit,
// under the machine's lease.
func (r *Etcd) PublishState(ctx context.Context, s UnitState, lease clientv3.LeaseID) error {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	v, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("registry: encode state of %s: %w", s.Unit, err)
	}
	if _, err := r.cli.Put(ctx, r.k.state(s.Unit, s.Machine), string(v), clientv3.WithLease(lease)); err != nil {
		return r.writeErr("publish state of "+s.Unit, err)
	}
	return nil
}

// RemoveState removes a machine's state record for a unit.
func (r *Etcd) RemoveState(ctx context.Context, name, machine string) error {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	if _, err := r.cli.Delete(ctx, r.k.state(name, machine)); err != nil {
		return r.writeErr("remove state of "+name, err)
	}
	return nil
}

// States returns every published unit state, sorted by (unit, machine).
// Records that do not decode are logged once and skipped.
func (r *Etcd) States(ctx context.Context) ([]UnitState, error) {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	resp, err := r.cli.Get(ctx, r.k.states(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("registry: list states: %w", err)
	}
	out := make([]UnitState, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		s, err := decodeState(strings.TrimPrefix(string(kv.Key), r.k.states()), kv.Value)
		if err != nil {
			r.skip(kv, err)
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// decodeState decodes the state record "<unit>/<machine>": JSON naming
// the same unit and machine.
func decodeState(rest string, v []byte) (UnitState, error) {
	var s UnitState
	name, machine, ok := strings.Cut(rest, "/")
	if !ok || unit.ValidateName(name) != nil || machine == "" || strings.Contains(machine, "/") {
		return s, fmt.Errorf("%w: state key %q: want <unit>/<machine>", ErrCorrupt, rest)
	}
	if err := json.Unmarshal(v, &s); err != nil {
		return s, fmt.Errorf("%w: state of %s on %s: %w", ErrCorrupt, name, machine, err)
	}
	if s.Unit != name || s.Machine != machine {
		return s, fmt.Errorf("%w: state of %s on %s: the record names %s on %s", ErrCorrupt, name, machine, s.Unit, s.Machine)
	}
	return s, nil
}
