package registry

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Cluster is an in-memory copy of what the engine schedules from (jobs,
// machines with their run-time metadata, the schedule), read once and
// then kept current by a single watch, instead of re-read whole at every
// reconcile. Unit states and bodies are not part of it.
type Cluster struct {
	mu       sync.Mutex
	rev      int64
	jobs     map[string]Job
	machines map[string]Machine
	meta     map[string]map[string]string
	sched    map[string]Placement // by schedule key
	corrupt  map[string]CorruptRecord
	changed  chan struct{}
}

// View is a consistent copy of a Cluster, sorted.
type View struct {
	Rev      int64
	Jobs     []Job       // by name
	Machines []Machine   // by ID, metadata merged
	Schedule []Placement // by (unit, machine)
	// Corrupt lists the records skipped because they do not decode, by
	// key; everything else is scheduled as usual.
	Corrupt []CorruptRecord
}

// ErrWatchLost says the watch ended (compaction, closed client): the
// caller loads the cluster afresh.
var ErrWatchLost = errors.New("registry: cluster watch lost")

// watchRange covers job/, machines/, metadata/ and schedule/, and leaves
// out state/ and unit/, which change often or never matter here.
func (r *Etcd) watchRange() (string, string) {
	return r.k.prefix + "job/", r.k.prefix + "schedule0"
}

// LoadCluster reads the cluster at one revision. Records that do not
// decode are skipped, logged once and listed in the view's Corrupt.
func (r *Etcd) LoadCluster(ctx context.Context) (*Cluster, error) {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	from, to := r.watchRange()
	resp, err := r.cli.Get(ctx, from, clientv3.WithRange(to))
	if err != nil {
		return nil, fmt.Errorf("registry: load cluster: %w", err)
	}
	c := &Cluster{rev: resp.Header.Revision, jobs: map[string]Job{}, machines: map[string]Machine{},
		meta: map[string]map[string]string{}, sched: map[string]Placement{}, corrupt: map[string]CorruptRecord{},
		changed: make(chan struct{}, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, kv := range resp.Kvs {
		r.applyPutLocked(c, kv)
	}
	return c, nil
}

// FollowCluster applies changes to c until ctx ends (nil) or the watch is
// lost (ErrWatchLost, wrapped).
func (r *Etcd) FollowCluster(ctx context.Context, c *Cluster) error {
	from, to := r.watchRange()
	c.mu.Lock()
	rev := c.rev
	c.mu.Unlock()
	wch := r.cli.Watch(clientv3.WithRequireLeader(ctx), from, clientv3.WithRange(to), clientv3.WithRev(rev+1))
	for resp := range wch {
		if err := resp.Err(); err != nil {
			return fmt.Errorf("%w: %w", ErrWatchLost, err)
		}
		r.applyEvents(c, resp.Events, resp.Header.Revision)
	}
	if ctx.Err() != nil {
		return nil
	}
	return ErrWatchLost
}

func (r *Etcd) applyEvents(c *Cluster, evs []*clientv3.Event, rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range evs {
		if ev.Type == mvccpb.DELETE {
			r.applyDelete(c, string(ev.Kv.Key))
		} else {
			r.applyPutLocked(c, ev.Kv)
		}
	}
	c.rev = rev
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// applyPutLocked applies one record; one that does not decode replaces
// what was at its key by a corrupt record.
func (r *Etcd) applyPutLocked(c *Cluster, kv *mvccpb.KeyValue) {
	key := string(kv.Key)
	err := r.decodeInto(c, key, kv.Value)
	if err == nil {
		delete(c.corrupt, key)
		return
	}
	r.applyDelete(c, key)
	c.corrupt[key] = r.skip(kv, err)
}

// decodeInto decodes one record of the watched range into c.
func (r *Etcd) decodeInto(c *Cluster, key string, v []byte) error {
	switch {
	case strings.HasPrefix(key, r.k.jobs()):
		j, err := decodeJob(strings.TrimPrefix(key, r.k.jobs()), v)
		if err != nil {
			return err
		}
		c.jobs[j.Name] = j
	case strings.HasPrefix(key, r.k.machines()):
		m, err := decodeMachine(strings.TrimPrefix(key, r.k.machines()), v)
		if err != nil {
			return err
		}
		c.machines[m.ID] = m
	case strings.HasPrefix(key, r.k.metadataAll()):
		id, k, err := decodeMetadata(strings.TrimPrefix(key, r.k.metadataAll()), v)
		if err != nil {
			return err
		}
		if c.meta[id] == nil {
			c.meta[id] = map[string]string{}
		}
		c.meta[id][k] = string(v)
	case strings.HasPrefix(key, r.k.scheduleAll()):
		p, err := r.decodePlacement(key, v)
		if err != nil {
			return err
		}
		c.sched[key] = p
	}
	return nil
}

func (r *Etcd) applyDelete(c *Cluster, key string) {
	delete(c.corrupt, key)
	switch {
	case strings.HasPrefix(key, r.k.jobs()):
		delete(c.jobs, strings.TrimPrefix(key, r.k.jobs()))
	case strings.HasPrefix(key, r.k.machines()):
		delete(c.machines, strings.TrimPrefix(key, r.k.machines()))
	case strings.HasPrefix(key, r.k.metadataAll()):
		if id, k, ok := splitMetadataKey(strings.TrimPrefix(key, r.k.metadataAll())); ok {
			delete(c.meta[id], k)
		}
	case strings.HasPrefix(key, r.k.scheduleAll()):
		delete(c.sched, key)
	}
}

// Changed signals (coalesced) that the cluster changed.
func (c *Cluster) Changed() <-chan struct{} { return c.changed }

// View returns a sorted copy of the cluster.
func (c *Cluster) View() View {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := View{Rev: c.rev}
	for _, j := range c.jobs {
		v.Jobs = append(v.Jobs, j)
	}
	sort.Slice(v.Jobs, func(i, j int) bool { return v.Jobs[i].Name < v.Jobs[j].Name })
	for _, m := range c.machines {
		md := make(map[string]string, len(m.Metadata)+len(c.meta[m.ID]))
		for k, val := range m.Metadata {
			md[k] = val
		}
		for k, val := range c.meta[m.ID] {
			md[k] = val
		}
		m.Metadata = md
		v.Machines = append(v.Machines, m)
	}
	sort.Slice(v.Machines, func(i, j int) bool { return v.Machines[i].ID < v.Machines[j].ID })
	for _, p := range c.sched {
		v.Schedule = append(v.Schedule, p)
	}
	sort.Slice(v.Schedule, func(i, j int) bool {
		a, b := v.Schedule[i], v.Schedule[j]
		return a.Unit < b.Unit || a.Unit == b.Unit && a.Machine < b.Machine
	})
	for _, rec := range c.corrupt {
		v.Corrupt = append(v.Corrupt, rec)
	}
	sort.Slice(v.Corrupt, func(i, j int) bool { return v.Corrupt[i].Key < v.Corrupt[j].Key })
	return v
}
