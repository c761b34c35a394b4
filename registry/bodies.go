package registry

import (
	"context"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// bodyIndex is what CollectOrphanBodies reads, at one revision.
type bodyIndex struct {
	jobs   map[string]*mvccpb.KeyValue // by unit name
	hashOf map[string]string           // unit name -> hash, for jobs that decode
	refs   map[string]bool             // reference keys
	bodies []*mvccpb.KeyValue          // keys only
	used   map[string]bool             // hashes a decodable job refers to
}

// CollectOrphanBodies deletes the unit bodies no job refers to, and
// returns how many it deleted. A leader calls it when it starts: older
// versions never deleted bodies, and a crash or a corrupt job can leave
// a reference behind. On the way it gives every job its reference (jobs
// written by older versions have none) and drops references whose job is
// gone or refers to another body. Each delete is conditional: a body
// goes only while no reference to it exists, so a submit of the same
// body at the same time keeps it.
func (r *Etcd) CollectOrphanBodies(ctx context.Context) (int, error) {
	ix, err := r.readBodyIndex(ctx)
	if err != nil {
		return 0, err
	}
	for name, kv := range ix.jobs {
		h, ok := ix.hashOf[name]
		if !ok || ix.refs[r.k.ref(h, name)] {
			continue
		}
		if err := r.guarded(ctx, "add reference of "+name, kv, clientv3.OpPut(r.k.ref(h, name), "")); err != nil {
			return 0, err
		}
	}
	for key := range ix.refs {
		hash, name := lastTwo(key)
		if ix.hashOf[name] == hash {
			continue
		}
		job := ix.jobs[name]
		if job == nil {
			job = &mvccpb.KeyValue{Key: []byte(r.k.job(name))}
		}
		if err := r.guarded(ctx, "drop reference "+key, job, clientv3.OpDelete(key)); err != nil {
			return 0, err
		}
	}
	return r.deleteUnused(ctx, ix)
}

// readBodyIndex reads jobs, references and body keys at one revision.
func (r *Etcd) readBodyIndex(ctx context.Context) (bodyIndex, error) {
	ix := bodyIndex{jobs: map[string]*mvccpb.KeyValue{}, hashOf: map[string]string{},
		refs: map[string]bool{}, used: map[string]bool{}}
	jobs, err := r.cli.Get(ctx, r.k.jobs(), clientv3.WithPrefix())
	if err != nil {
		return ix, fmt.Errorf("registry: collect bodies: read units: %w", err)
	}
	at := clientv3.WithRev(jobs.Header.Revision)
	refs, err := r.cli.Get(ctx, r.k.refsAll(), clientv3.WithPrefix(), at)
	if err != nil {
		return ix, fmt.Errorf("registry: collect bodies: read references: %w", err)
	}
	bodies, err := r.cli.Get(ctx, r.k.bodies(), clientv3.WithPrefix(), clientv3.WithKeysOnly(), at)
	if err != nil {
		return ix, fmt.Errorf("registry: collect bodies: read bodies: %w", err)
	}
	for _, kv := range jobs.Kvs {
		name := strings.TrimPrefix(string(kv.Key), r.k.jobs())
		ix.jobs[name] = kv
		if j, err := decodeJob(name, kv.Value); err == nil {
			ix.hashOf[name] = j.Hash.String()
			ix.used[j.Hash.String()] = true
		}
	}
	for _, kv := range refs.Kvs {
		ix.refs[string(kv.Key)] = true
	}
	ix.bodies = bodies.Kvs
	return ix, nil
}

// guarded applies op if job (a job's record, or its key alone when
// absent) has not changed; a job that changed is left to its writer.
func (r *Etcd) guarded(ctx context.Context, what string, job *mvccpb.KeyValue, op clientv3.Op) error {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	_, err := r.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(string(job.Key)), "=", job.ModRevision)).
		Then(op).Commit()
	if err != nil {
		return r.writeErr("collect bodies: "+what, err)
	}
	return nil
}

// deleteUnused deletes each body no decodable job refers to, while no
// reference to it exists.
func (r *Etcd) deleteUnused(ctx context.Context, ix bodyIndex) (int, error) {
	n := 0
	for _, kv := range ix.bodies {
		hash := strings.TrimPrefix(string(kv.Key), r.k.bodies())
		if ix.used[hash] {
			continue
		}
		refs := r.k.refs(hash)
		tctx, cancel := r.withTimeout(ctx)
		resp, err := r.cli.Txn(tctx).
			If(clientv3.Compare(clientv3.CreateRevision(refs), "=", 0).WithPrefix()).
			Then(clientv3.OpDelete(string(kv.Key))).Commit()
		cancel()
		if err != nil {
			return n, r.writeErr("collect bodies: delete "+string(kv.Key), err)
		}
		if resp.Succeeded {
			n++
		}
	}
	return n, nil
}
