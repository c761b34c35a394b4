package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.etcd.io/etcd/api/v3/mvccpb"
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
		return r.writeErr("register machine "+m.ID, err)
	}
	return nil
}

// Machines returns the machines holding a lease, sorted by ID, with the
// metadata set at run time laid over their own. Records that do not
// decode are logged once and skipped.
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
	return r.machinesWith(resp.Kvs, md.Kvs), nil
}

// MachinesAfter returns up to n machines whose IDs sort after the ID
// from ("" for the first), in ID order, with their run-time metadata, all
// read at one revision, and the ID of the last record read (the next page
// starts after it) and whether more follow. It reads the page's records
// only, so a page costs its length whatever the number of machines.
// Records that do not decode are logged once and skipped.
func (r *Etcd) MachinesAfter(ctx context.Context, from string, n int) ([]Machine, string, bool, error) {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	var (
		out  []Machine
		rev  int64
		more = true
	)
	// A record that does not decode leaves a hole: read on to fill it.
	for len(out) < n && more {
		ms, last, chunkRev, m, err := r.machinesChunk(ctx, from, n-len(out), rev)
		if err != nil {
			return nil, "", false, err
		}
		if last == "" {
			more = false // nothing after from: the listing ends here
			break
		}
		out, from, rev, more = append(out, ms...), last, chunkRev, m
	}
	return out, from, more, nil
}

// machinesChunk reads up to n machine records after the ID from, at
// revision rev (0: now), with their metadata, and returns the machines
// that decode, the last ID read ("" if none), the revision read at and
// whether more records follow.
func (r *Etcd) machinesChunk(ctx context.Context, from string, n int, rev int64) ([]Machine, string, int64, bool, error) {
	start := r.k.machines()
	if from != "" {
		start = r.k.machine(from) + "\x00"
	}
	resp, err := r.cli.Get(ctx, start, clientv3.WithRange(clientv3.GetPrefixRangeEnd(r.k.machines())),
		clientv3.WithLimit(int64(n)), clientv3.WithRev(rev))
	if err != nil {
		return nil, "", 0, false, fmt.Errorf("registry: list machines: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return nil, "", 0, false, nil
	}
	rev = resp.Header.Revision
	first := strings.TrimPrefix(string(resp.Kvs[0].Key), r.k.machines())
	last := strings.TrimPrefix(string(resp.Kvs[len(resp.Kvs)-1].Key), r.k.machines())
	// Metadata keys are metadata/<id>/<key>: '0' follows '/'.
	md, err := r.cli.Get(ctx, r.k.metadata(first), clientv3.WithRange(r.k.metadataAll()+last+"0"), clientv3.WithRev(rev))
	if err != nil {
		return nil, "", 0, false, fmt.Errorf("registry: list metadata: %w", err)
	}
	return r.machinesWith(resp.Kvs, md.Kvs), last, rev, resp.More, nil
}

// machinesWith decodes machine records and lays the run-time metadata
// records over their own; records that do not decode are skipped (and
// logged once).
func (r *Etcd) machinesWith(machines, metadata []*mvccpb.KeyValue) []Machine {
	extra := r.decodeMetadataRecords(metadata)
	out := make([]Machine, 0, len(machines))
	for _, kv := range machines {
		m, err := decodeMachine(strings.TrimPrefix(string(kv.Key), r.k.machines()), kv.Value)
		if err != nil {
			r.skip(kv, err)
			continue
		}
		for k, v := range extra[m.ID] {
			m.Metadata[k] = v
		}
		out = append(out, m)
	}
	return out
}

// decodeMetadataRecords decodes run-time metadata records by machine,
// skipping (and logging once) those that do not decode.
func (r *Etcd) decodeMetadataRecords(kvs []*mvccpb.KeyValue) map[string]map[string]string {
	extra := map[string]map[string]string{}
	for _, kv := range kvs {
		id, key, err := decodeMetadata(strings.TrimPrefix(string(kv.Key), r.k.metadataAll()), kv.Value)
		if err != nil {
			r.skip(kv, err)
			continue
		}
		if extra[id] == nil {
			extra[id] = map[string]string{}
		}
		extra[id][key] = string(kv.Value)
	}
	return extra
}

// decodeMachine decodes the record of machine id: JSON whose ID is id.
func decodeMachine(id string, v []byte) (Machine, error) {
	var m Machine
	if err := json.Unmarshal(v, &m); err != nil {
		return m, fmt.Errorf("%w: machine %s: %w", ErrCorrupt, id, err)
	}
	if m.ID != id {
		return m, fmt.Errorf("%w: machine %s: the record names machine %q", ErrCorrupt, id, m.ID)
	}
	if m.Metadata == nil {
		m.Metadata = map[string]string{}
	}
	return m, nil
}

// splitMetadataKey splits "<machine>/<key>" as SetMetadata writes it.
func splitMetadataKey(rest string) (string, string, bool) {
	id, key, ok := strings.Cut(rest, "/")
	return id, key, ok && checkMetadataKey(id, key) == nil
}

// decodeMetadata decodes a metadata record below the metadata prefix:
// its key must be "<machine>/<key>" and its value text.
func decodeMetadata(rest string, v []byte) (string, string, error) {
	id, key, ok := splitMetadataKey(rest)
	if !ok {
		return "", "", fmt.Errorf("%w: metadata key %q: want <machine>/<key>", ErrCorrupt, rest)
	}
	if !utf8.Valid(v) {
		return "", "", fmt.Errorf("%w: metadata %s of machine %s: the value is not UTF-8 text", ErrCorrupt, key, id)
	}
	return id, key, nil
}

// SetMetadata sets one metadata key of a machine at run time.
func (r *Etcd) SetMetadata(ctx context.Context, id, key, value string) error {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	if err := checkMetadataKey(id, key); err != nil {
		return err
	}
	if _, err := r.cli.Txn(ctx).Then(clientv3.OpPut(r.k.metadata(id)+key, value), r.bump()).Commit(); err != nil {
		return r.writeErr(fmt.Sprintf("set metadata %s on %s", key, id), err)
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
		return r.writeErr(fmt.Sprintf("delete metadata %s on %s", key, id), err)
	}
	return nil
}

func checkMetadataKey(id, key string) error {
	if id == "" || key == "" || strings.ContainsAny(id+key, "/\n") {
		return fmt.Errorf("registry: bad machine %q or metadata key %q", id, key)
	}
	return nil
}
