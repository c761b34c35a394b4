package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// RegisterMachine writes a machine's record under lease, so that it
// disappears when the machine stops renewing it.
func (r *Etcd) RegisterMachine(ctx context.Context, m Machine, lease clientv3.LeaseID) error {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("registry: encode machine %s: %w", m.ID, err)
	}
	if _, err := r.cli.Txn(ctx).Then(clientv3.OpPut(r.k.machine(m.ID), string(v), clientv3.WithLease(lease)), r.bump()).Commit(); err != nil {
		return fmt.Errorf("registry: register machine %s: %w", m.ID, err)
	}
	return nil
}

// Machines returns the machines holding a lease, sorted by ID, with the
// metadata set at run time laid over their own.
func (r *Etcd) Machines(ctx context.Context) ([]Machine, error) {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	resp, err := r.cli.Get(ctx, r.k.machines(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("registry: list machines: %w", err)
	}
	md, err := r.cli.Get(ctx, r.k.metadataAll(), clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision))
	if err != nil {
		return nil, fmt.Errorf("registry: list metadata: %w", err)
	}
	extra := map[string]map[string]string{}
	for _, kv := range md.Kvs {
		id, key := lastTwo(string(kv.Key))
		if extra[id] == nil {
			extra[id] = map[string]string{}
		}
		extra[id][key] = string(kv.Value)
	}
	out := make([]Machine, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var m Machine
		if err := json.Unmarshal(kv.Value, &m); err != nil {
			return nil, fmt.Errorf("registry: machine %s: corrupt record: %w", kv.Key, err)
		}
		if m.Metadata == nil {
			m.Metadata = map[string]string{}
		}
		for k, v := range extra[m.ID] {
			m.Metadata[k] = v
		}
		out = append(out, m)
	}
	return out, nil
}

// SetMetadata sets one metadata key of a machine at run time.
func (r *Etcd) SetMetadata(ctx context.Context, id, key, value string) error {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	if err := checkMetadataKey(id, key); err != nil {
		return err
	}
	if _, err := r.cli.Txn(ctx).Then(clientv3.OpPut(r.k.metadata(id)+key, value), r.bump()).Commit(); err != nil {
		return fmt.Errorf("registry: set metadata %s on %s: %w", key, id, err)
	}
	return nil
}

// DeleteMetadata removes a metadata key set at run time.
func (r *Etcd) DeleteMetadata(ctx context.Context, id, key string) error {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	if err := checkMetadataKey(id, key); err != nil {
		return err
	}
	if _, err := r.cli.Txn(ctx).Then(clientv3.OpDelete(r.k.metadata(id)+key), r.bump()).Commit(); err != nil {
		return fmt.Errorf("registry: delete metadata %s on %s: %w", key, id, err)
	}
	return nil
}

func checkMetadataKey(id, key string) error {
	if id == "" || key == "" || strings.ContainsAny(id+key, "/\n") {
		return fmt.Errorf("registry: bad machine %q or metadata key %q", id, key)
	}
	return nil
}

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
		return fmt.Errorf("registry: publish state of %s: %w", s.Unit, err)
	}
	return nil
}

// RemoveState removes a machine's state record for a unit.
func (r *Etcd) RemoveState(ctx context.Context, name, machine string) error {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	if _, err := r.cli.Delete(ctx, r.k.state(name, machine)); err != nil {
		return fmt.Errorf("registry: remove state of %s: %w", name, err)
	}
	return nil
}

// States returns every published unit state, sorted by (unit, machine).
func (r *Etcd) States(ctx context.Context) ([]UnitState, error) {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	resp, err := r.cli.Get(ctx, r.k.states(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("registry: list states: %w", err)
	}
	out := make([]UnitState, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var s UnitState
		if err := json.Unmarshal(kv.Value, &s); err != nil {
			return nil, fmt.Errorf("registry: state %s: corrupt record: %w", kv.Key, err)
		}
		out = append(out, s)
	}
	return out, nil
}
