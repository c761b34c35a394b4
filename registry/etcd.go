package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fleetsim/fleet/unit"
)

// MaxTxnOps bounds the operations of one transaction (etcd's default
// limit is 128); larger commits are split into batches.
const MaxTxnOps = 100

// Etcd is the registry kept in etcd.
type Etcd struct {
	cli     *clientv3.Client
	k       keys
	timeout time.Duration
	corrupt *corruptLog
}

// Option tunes a registry.
type Option func(*Etcd)

// WithRequestTimeout bounds every single request (fleet's
// etcd_request_timeout); a commit's transactions are bounded one by one.
func WithRequestTimeout(d time.Duration) Option { return func(r *Etcd) { r.timeout = d } }

// New returns a registry over cli under prefix ("" for fleet's). It does
// no I/O.
func New(cli *clientv3.Client, prefix string, opts ...Option) *Etcd {
	r := &Etcd{cli: cli, k: newKeys(prefix), corrupt: &corruptLog{seen: map[string]int64{}}}
	for _, o := range opts {
		o(r)
	}
	return r
}

// withTimeout bounds one request by the request timeout, if set.
func (r *Etcd) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, r.timeout)
}

// Prefix returns the key prefix in use.
func (r *Etcd) Prefix() string { return r.k.prefix }

// bump marks a change that matters to scheduling (a unit, a desired
// state, metadata, a machine joining): every such write also touches one
// key, so a commit can be conditioned on it in O(1).
func (r *Etcd) bump() clientv3.Op { return clientv3.OpPut(r.k.changed(), "") }

// ElectionKey is the key prefix of the engine leader election.
func (r *Etcd) ElectionKey() string { return r.k.prefix + "engine/leader" }

// Client returns the etcd client.
func (r *Etcd) Client() *clientv3.Client { return r.cli }

// Schedule returns every placement, sorted by (unit, machine); records
// that do not decode are logged once and skipped.
func (r *Etcd) Schedule(ctx context.Context) ([]Placement, error) {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	resp, err := r.cli.Get(ctx, r.k.scheduleAll(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("registry: read schedule: %w", err)
	}
	out := r.decodePlacements(resp.Kvs)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Unit != out[j].Unit {
			return out[i].Unit < out[j].Unit
		}
		return out[i].Machine < out[j].Machine
	})
	return out, nil
}

// MachineSchedule returns one machine's placements, sorted by unit, and
// the revision to watch from; records that do not decode are logged once
// and skipped.
func (r *Etcd) MachineSchedule(ctx context.Context, machine string) ([]Placement, int64, error) {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	resp, err := r.cli.Get(ctx, r.k.schedule(machine), clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("registry: read schedule of %s: %w", machine, err)
	}
	return r.decodePlacements(resp.Kvs), resp.Header.Revision, nil
}

// decodePlacements decodes schedule records, skipping (and logging
// once) those that do not decode.
func (r *Etcd) decodePlacements(kvs []*mvccpb.KeyValue) []Placement {
	out := make([]Placement, 0, len(kvs))
	for _, kv := range kvs {
		p, err := r.decodePlacement(string(kv.Key), kv.Value)
		if err != nil {
			r.skip(kv, err)
			continue
		}
		out = append(out, p)
	}
	return out
}

// decodePlacement decodes the schedule record at key, which must be
// <prefix>schedule/<machine>/<unit>.
func (r *Etcd) decodePlacement(key string, v []byte) (Placement, error) {
	machine, name, ok := strings.Cut(strings.TrimPrefix(key, r.k.scheduleAll()), "/")
	if !ok || machine == "" || unit.ValidateName(name) != nil {
		return Placement{}, fmt.Errorf("%w: schedule key %s: want schedule/<machine>/<unit>", ErrCorrupt, key)
	}
	var pj placementJSON
	if err := json.Unmarshal(v, &pj); err != nil {
		return Placement{}, fmt.Errorf("%w: placement %s: %w", ErrCorrupt, key, err)
	}
	p := Placement{Unit: name, Machine: machine, Port: pj.Port}
	var err error
	if pj.Hash != "" {
		if p.Hash, err = unit.ParseHash(pj.Hash); err != nil {
			return Placement{}, fmt.Errorf("%w: placement %s: %w", ErrCorrupt, key, err)
		}
	}
	if pj.Desired != "" {
		if p.Desired, err = unit.ParseState(pj.Desired); err != nil {
			return Placement{}, fmt.Errorf("%w: placement %s: %w", ErrCorrupt, key, err)
		}
	}
	return p, nil
}

func encodePlacement(p Placement) string {
	pj := placementJSON{Port: p.Port, Desired: p.Desired.String()}
	if !p.Hash.IsZero() {
		pj.Hash = p.Hash.String()
	}
	v, _ := json.Marshal(pj) // strings and a number always encode
	return string(v)
}

// Commit writes schedule changes in transactions of at most MaxTxnOps,
// each guarded by g, and returns the revision of the last one. When the
// leadership guard fails it returns ErrNotLeader, when the cluster changed
// since g.Since ErrStale; the batches before have landed, which is safe:
// each is a valid step.
func (r *Etcd) Commit(ctx context.Context, g Guard, changes []Change) (int64, error) {
	var rev int64
	for len(changes) > 0 {
		n := min(len(changes), MaxTxnOps)
		ops := make([]clientv3.Op, 0, n)
		for _, c := range changes[:n] {
			key := r.k.placement(c.Machine, c.Unit)
			if c.Delete {
				ops = append(ops, clientv3.OpDelete(key))
				continue
			}
			ops = append(ops, clientv3.OpPut(key, encodePlacement(c.Placement)))
		}
		tctx, cancel := r.withTimeout(ctx)
		resp, err := r.cli.Txn(tctx).If(r.guardCmps(g)...).Then(ops...).Commit()
		cancel()
		if err != nil {
			return rev, r.writeErr("commit schedule", err)
		}
		if !resp.Succeeded {
			return rev, r.whyRefused(ctx, g)
		}
		rev = resp.Header.Revision
		changes = changes[n:]
	}
	return rev, nil
}

// WatchMachineSchedule watches one machine's schedule from revision rev:
// the only part of the registry an agent needs to watch.
func (r *Etcd) WatchMachineSchedule(ctx context.Context, machine string, rev int64) clientv3.WatchChan {
	return r.cli.Watch(clientv3.WithRequireLeader(ctx), r.k.schedule(machine), clientv3.WithPrefix(), clientv3.WithRev(rev))
}

func (r *Etcd) guardCmps(g Guard) []clientv3.Cmp {
	var cmps []clientv3.Cmp
	if g.Key != "" {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(g.Key), "=", g.Rev))
	}
	if g.Since != 0 {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(r.k.changed()), "<", g.Since+1))
	}
	return cmps
}

// whyRefused tells a lost leadership from a changed cluster.
func (r *Etcd) whyRefused(ctx context.Context, g Guard) error {
	if g.Key == "" {
		return ErrStale
	}
	resp, err := r.cli.Get(ctx, g.Key)
	if err != nil {
		return fmt.Errorf("registry: commit refused, and checking why failed: %w", err)
	}
	if len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != g.Rev {
		return ErrNotLeader
	}
	return ErrStale
}
