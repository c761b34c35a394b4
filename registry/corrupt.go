package registry

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// ErrCorrupt is wrapped by the error of a record that does not decode
// (written past fleet, or by a broken client). Listings skip such
// records instead of failing; reading one by name returns it.
var ErrCorrupt = errors.New("registry: corrupt record")

// CorruptRecord is a record a listing or the cluster copy skipped because
// it does not decode: its key, the revision it was written at, and why.
// Name is the key below its kind's folder: a unit's name for a job
// (job/<name>), "<machine>/<unit>" for a placement, and so on.
type CorruptRecord struct {
	Key  string
	Name string
	Rev  int64
	Err  error
}

// corruptLog logs each corrupt record once per version (key and
// revision) and counts them.
type corruptLog struct {
	log   *slog.Logger
	total atomic.Int64

	mu   sync.Mutex
	seen map[string]int64 // key -> ModRevision last logged
}

// WithLogger sets where the registry logs what it skips (corrupt
// records), with component=registry; nothing is logged by default.
func WithLogger(l *slog.Logger) Option {
	return func(r *Etcd) {
		if l != nil {
			r.corrupt.log = l.With("component", "registry")
		}
	}
}

// skip records that kv does not decode (err) and returns the record.
func (r *Etcd) skip(kv *mvccpb.KeyValue, err error) CorruptRecord {
	rec := CorruptRecord{Key: string(kv.Key), Rev: kv.ModRevision, Err: err}
	if _, name, ok := strings.Cut(strings.TrimPrefix(rec.Key, r.k.prefix), "/"); ok {
		rec.Name = name
	}
	l := r.corrupt
	l.mu.Lock()
	first := l.seen[rec.Key] != rec.Rev
	if first {
		l.seen[rec.Key] = rec.Rev
	}
	l.mu.Unlock()
	if first {
		l.total.Add(1)
		if l.log != nil {
			l.log.Warn("skipping corrupt record", "key", rec.Key, "rev", rec.Rev, "err", err)
		}
	}
	return rec
}

// CorruptSeen returns how many corrupt records (distinct key and
// revision) this registry has skipped since it was made: a counter.
func (r *Etcd) CorruptSeen() int64 { return r.corrupt.total.Load() }
