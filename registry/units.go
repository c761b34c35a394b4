package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fleetsim/fleet/unit"
)

// ErrConflict says a write kept losing to concurrent writes of the same
// unit; the caller may try again.
var ErrConflict = errors.New("registry: write refused: the unit kept changing under the write; try again")

// maxAttempts bounds the read-modify-write rounds of one job write.
const maxAttempts = 10

// CreateUnit stores a new unit: its body under its hash, its job, and the
// job's reference to the body. It fails with ErrExists when a unit of
// that name exists.
func (r *Etcd) CreateUnit(ctx context.Context, name string, f *unit.File, desired unit.State) error {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	h := f.Hash().String()
	body, err := json.Marshal(bodyJSON{Options: f.Options})
	if err != nil {
		return fmt.Errorf("registry: encode %s: %w", name, err)
	}
	job, err := json.Marshal(jobJSON{Hash: h, Desired: desired.String()})
	if err != nil {
		return fmt.Errorf("registry: encode %s: %w", name, err)
	}
	resp, err := r.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(r.k.job(name)), "=", 0)).
		Then(clientv3.OpPut(r.k.body(h), string(body)), clientv3.OpPut(r.k.job(name), string(job)),
			clientv3.OpPut(r.k.ref(h, name), ""), r.bump()).
		Commit()
	if err != nil {
		return r.writeErr(fmt.Sprintf("create %s", name), err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("%w: unit %s", ErrExists, name)
	}
	return nil
}

// Job returns one unit's job. A job that does not decode is returned as
// an error wrapping ErrCorrupt.
func (r *Etcd) Job(ctx context.Context, name string) (Job, error) {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	kv, err := r.jobRecord(ctx, name)
	if err != nil {
		return Job{}, err
	}
	return decodeJob(name, kv.Value)
}

// jobRecord reads a job's record, with its revisions.
func (r *Etcd) jobRecord(ctx context.Context, name string) (*mvccpb.KeyValue, error) {
	resp, err := r.cli.Get(ctx, r.k.job(name))
	if err != nil {
		return nil, fmt.Errorf("registry: get %s: %w", name, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("%w: unit %s", ErrNotFound, name)
	}
	return resp.Kvs[0], nil
}

// Jobs returns every unit's job that decodes, sorted by name; those that
// do not are logged once and skipped (ListJobs returns them).
func (r *Etcd) Jobs(ctx context.Context) ([]Job, error) {
	jobs, _, err := r.ListJobs(ctx)
	return jobs, err
}

// ListJobs returns every unit's job that decodes, sorted by name, and the
// job records that do not, sorted by key.
func (r *Etcd) ListJobs(ctx context.Context) ([]Job, []CorruptRecord, error) {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	resp, err := r.cli.Get(ctx, r.k.jobs(), clientv3.WithPrefix())
	if err != nil {
		return nil, nil, fmt.Errorf("registry: list units: %w", err)
	}
	out := make([]Job, 0, len(resp.Kvs))
	var bad []CorruptRecord
	for _, kv := range resp.Kvs {
		j, err := decodeJob(strings.TrimPrefix(string(kv.Key), r.k.jobs()), kv.Value)
		if err != nil {
			bad = append(bad, r.skip(kv, err))
			continue
		}
		out = append(out, j)
	}
	return out, bad, nil
}

func decodeJob(name string, v []byte) (Job, error) {
	if err := unit.ValidateName(name); err != nil {
		return Job{}, fmt.Errorf("%w: unit %q: %w", ErrCorrupt, name, err)
	}
	var j jobJSON
	if err := json.Unmarshal(v, &j); err != nil {
		return Job{}, fmt.Errorf("%w: unit %s: %w", ErrCorrupt, name, err)
	}
	h, err := unit.ParseHash(j.Hash)
	if err != nil {
		return Job{}, fmt.Errorf("%w: unit %s: %w", ErrCorrupt, name, err)
	}
	s, err := unit.ParseState(j.Desired)
	if err != nil {
		return Job{}, fmt.Errorf("%w: unit %s: %w", ErrCorrupt, name, err)
	}
	return Job{Name: name, Hash: h, Desired: s}, nil
}

// SetDesired changes a unit's desired state. The write is conditional on
// the job being the one read (same ModRevision), so a unit destroyed and
// submitted again meanwhile keeps its new body: the write is tried again
// on the new job, or fails with ErrNotFound when there is none.
func (r *Etcd) SetDesired(ctx context.Context, name string, s unit.State) error {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	for range maxAttempts {
		kv, err := r.jobRecord(ctx, name)
		if err != nil {
			return err
		}
		j, err := decodeJob(name, kv.Value)
		if err != nil {
			return fmt.Errorf("%w (destroy the unit and submit it again)", err)
		}
		v, err := json.Marshal(jobJSON{Hash: j.Hash.String(), Desired: s.String()})
		if err != nil {
			return fmt.Errorf("registry: encode %s: %w", name, err)
		}
		resp, err := r.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(r.k.job(name)), "=", kv.ModRevision)).
			Then(clientv3.OpPut(r.k.job(name), string(v)), r.bump()).Commit()
		if err != nil {
			return r.writeErr(fmt.Sprintf("set %s %s", name, s), err)
		}
		if resp.Succeeded {
			return nil
		}
	}
	return fmt.Errorf("%w: set %s %s", ErrConflict, name, s)
}

// DestroyUnit removes a unit's job and its reference to its body, and
// the body too when no other job refers to it, in one transaction
// conditional on the job being the one read; the engine then unschedules
// the unit. A job that does not decode is removed all the same (its
// reference, if any, is collected by CollectOrphanBodies).
func (r *Etcd) DestroyUnit(ctx context.Context, name string) error {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	for range maxAttempts {
		kv, err := r.jobRecord(ctx, name)
		if err != nil {
			return err
		}
		ops := []clientv3.Op{clientv3.OpDelete(r.k.job(name)), r.bump()}
		if j, err := decodeJob(name, kv.Value); err == nil {
			ops = append(ops, r.releaseBody(j.Hash.String(), name)...)
		}
		resp, err := r.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(r.k.job(name)), "=", kv.ModRevision)).
			Then(ops...).Commit()
		if err != nil {
			return r.writeErr(fmt.Sprintf("destroy %s", name), err)
		}
		if resp.Succeeded {
			return nil
		}
	}
	return fmt.Errorf("%w: destroy %s", ErrConflict, name)
}

// releaseBody drops job name's reference to body hash, and the body when
// no other reference to it exists. The check is a nested transaction,
// evaluated in the same revision as the write around it: a concurrent
// submit of the same body either lands before (its reference keeps the
// body) or after (it writes the body again).
func (r *Etcd) releaseBody(hash, name string) []clientv3.Op {
	from, mine := r.k.refs(hash), r.k.ref(hash, name)
	end := clientv3.GetPrefixRangeEnd(from)
	noOther := []clientv3.Cmp{
		clientv3.Compare(clientv3.CreateRevision(from), "=", 0).WithRange(mine),
		clientv3.Compare(clientv3.CreateRevision(mine+"\x00"), "=", 0).WithRange(end),
	}
	return []clientv3.Op{
		clientv3.OpDelete(mine),
		clientv3.OpTxn(noOther, []clientv3.Op{clientv3.OpDelete(r.k.body(hash))}, nil),
	}
}

// File returns the unit body stored under hash; one that does not decode
// is an error wrapping ErrCorrupt.
func (r *Etcd) File(ctx context.Context, h unit.Hash) (*unit.File, error) {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	resp, err := r.cli.Get(ctx, r.k.body(h.String()))
	if err != nil {
		return nil, fmt.Errorf("registry: get body %s: %w", h.Short(), err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("%w: unit body %s", ErrNotFound, h.Short())
	}
	return decodeBody(h, resp.Kvs[0].Value)
}

func decodeBody(h unit.Hash, v []byte) (*unit.File, error) {
	var b bodyJSON
	if err := json.Unmarshal(v, &b); err != nil {
		return nil, fmt.Errorf("%w: unit body %s: %w", ErrCorrupt, h.Short(), err)
	}
	return &unit.File{Options: b.Options}, nil
}

// Files returns every stored unit body that decodes, by hash, in one
// request; the others are logged once and skipped.
func (r *Etcd) Files(ctx context.Context) (map[unit.Hash]*unit.File, error) {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	resp, err := r.cli.Get(ctx, r.k.bodies(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("registry: read unit bodies: %w", err)
	}
	out := make(map[unit.Hash]*unit.File, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		h, err := unit.ParseHash(strings.TrimPrefix(string(kv.Key), r.k.bodies()))
		if err != nil {
			r.skip(kv, fmt.Errorf("%w: unit body key: %w", ErrCorrupt, err))
			continue
		}
		f, err := decodeBody(h, kv.Value)
		if err != nil {
			r.skip(kv, err)
			continue
		}
		out[h] = f
	}
	return out, nil
}
