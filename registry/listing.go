package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"
)

// DefaultListingIdle is how long a Listing keeps its copy after the last
// page it served.
const DefaultListingIdle = 2 * time.Minute

// listingLoadTimeout bounds each read of a Listing's load, which may be
// large (every unit state of the cluster) and is waited for by no client
// in particular.
const listingLoadTimeout = time.Minute

// ErrListingClosed is returned by a Listing's reads after Close.
var ErrListingClosed = errors.New("registry: listing closed")

// Listing is an in-memory copy of what the API's listings show (the
// units' jobs and bodies, the schedule, the unit states), kept in name
// order, so that a page costs what its length costs whatever the size
// of the cluster: reading every job and state for each page made a
// listing of n units cost n².
//
// The copy is loaded on first use and then kept current by one watch. A
// read is served once the copy has caught up with the revision etcd had
// when the read began, so a listing shows every write that finished
// before it was asked for (read your writes), as a read of etcd would.
// Each page is read at one revision. Left unused for its idle time, the
// copy is dropped and its watch ended: a fleetd that serves no listings
// does not follow every unit state of the cluster.
type Listing struct {
	r    *Etcd
	idle time.Duration
	// md sets the listing's watch apart on a gRPC stream of its own, so
	// that its progress requests reach it alone (not the engine's watch).
	md metadata.MD
	// base bounds the load and the watch; Close cancels it.
	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	d        *listingData // nil until loaded, and once dropped
	loading  bool
	loadErr  error // why the last load failed
	used     time.Time
	advanced chan struct{} // closed and replaced whenever d moves
	stop     context.CancelFunc
	closed   bool
}

// NewListing returns a listing over r that drops its copy after idle
// without reads (DefaultListingIdle if zero or less). It does no I/O.
func (r *Etcd) NewListing(idle time.Duration) *Listing {
	if idle <= 0 {
		idle = DefaultListingIdle
	}
	base, cancel := context.WithCancel(context.Background())
	return &Listing{r: r, idle: idle, advanced: make(chan struct{}), base: base, cancel: cancel,
		md: metadata.Pairs("fleet-watch", "listing")}
}

// listingRange covers job/, schedule/, state/ and unit/ (with machines/
// and metadata/, which are passed over), and leaves out unitref/.
func (r *Etcd) listingRange() (string, string) {
	return r.k.jobs(), r.k.refsAll()
}

// Units returns up to n units whose names sort after the name after (""
// for the first), in name order, and whether more follow.
func (l *Listing) Units(ctx context.Context, after string, n int) ([]ListedUnit, bool, error) {
	var (
		out  []ListedUnit
		more bool
	)
	err := l.read(ctx, func(d *listingData) { out, more = d.unitsAfter(after, n) })
	return out, more, err
}

// Unit returns one unit, or an error wrapping ErrNotFound.
func (l *Listing) Unit(ctx context.Context, name string) (ListedUnit, error) {
	var (
		u  ListedUnit
		ok bool
	)
	err := l.read(ctx, func(d *listingData) {
		if _, ok = d.jobs[name]; ok {
			u = d.unit(name)
		}
	})
	if err == nil && !ok {
		err = fmt.Errorf("%w: unit %s", ErrNotFound, name)
	}
	return u, err
}

// States returns up to n unit states after the one of unit and machine
// keyed by after (see StateKey; "" for the first), in (unit, machine)
// order, only those of unit name and of machine when not "", and
// whether more follow.
func (l *Listing) States(ctx context.Context, after string, n int, name, machine string) ([]ListedState, bool, error) {
	var (
		out  []ListedState
		more bool
	)
	err := l.read(ctx, func(d *listingData) { out, more = d.statesAfter(after, n, name, machine) })
	return out, more, err
}

// StateKey is the key that orders unit states in a Listing: by unit,
// then machine.
func StateKey(name, machine string) string { return stateKey(name, machine) }

// Close ends the watch and drops the copy; later reads fail with
// ErrListingClosed.
func (l *Listing) Close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
}

// read runs f over the copy once it is at least as recent as etcd was
// when read began, loading the copy first if there is none.
func (l *Listing) read(ctx context.Context, f func(*listingData)) error {
	rev, err := l.r.currentRev(ctx)
	if err != nil {
		return err
	}
	asked := false
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return ErrListingClosed
		}
		l.used = time.Now()
		d, advanced := l.d, l.advanced
		if d != nil && d.rev >= rev {
			f(d)
			l.mu.Unlock()
			return nil
		}
		if d == nil {
			// The load goes on without the read that started it: a read
			// that gives up (a client's timeout) leaves it to the next.
			if !l.loading {
				l.loading, l.loadErr = true, nil
				l.wg.Add(1)
				go l.load()
			}
			l.mu.Unlock()
			select {
			case <-advanced:
			case <-ctx.Done():
				return fmt.Errorf("registry: listing: waiting for the load: %w", ctx.Err())
			}
			l.mu.Lock()
			d, err := l.d, l.loadErr
			l.mu.Unlock()
			if d == nil && err != nil {
				return err
			}
			continue
		}
		l.mu.Unlock()
		if !asked {
			// Progress tells the watch the revision it has caught up
			// with, also when the writes since touched nothing it covers.
			pctx := metadata.NewOutgoingContext(ctx, l.md)
			if err := l.r.cli.RequestProgress(clientv3.WithRequireLeader(pctx)); err != nil {
				return fmt.Errorf("registry: listing: %w", err)
			}
			asked = true
		}
		select {
		case <-advanced:
		case <-time.After(200 * time.Millisecond):
			asked = false // a request can be lost with the stream: ask again
		case <-ctx.Done():
			return fmt.Errorf("registry: listing: waiting for revision %d: %w", rev, ctx.Err())
		}
	}
}

// currentRev returns etcd's revision now (a linearizable read).
func (r *Etcd) currentRev(ctx context.Context) (int64, error) {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	resp, err := r.cli.Get(ctx, r.k.changed(), clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("registry: listing: read the revision: %w", err)
	}
	return resp.Header.Revision, nil
}

// load reads the listing's records at one revision, in chunks, and
// starts following them.
func (l *Listing) load() {
	defer l.wg.Done()
	d, err := l.read0()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.loading = false
	if err != nil || l.closed {
		l.loadErr = err
		l.signalLocked()
		return
	}
	fctx, stop := context.WithCancel(l.base)
	l.d, l.stop = d, stop
	l.used = time.Now()
	l.wg.Add(1)
	go l.follow(fctx, d)
	l.signalLocked()
}

// read0 reads the copy: jobs, the schedule, states and bodies, one read
// each (etcd counts the whole range for every read with a limit, so
// chunks would cost the square of the range), at the revision of the
// first.
func (l *Listing) read0() (*listingData, error) {
	d := l.r.newListingData()
	k := l.r.k
	for _, prefix := range []string{k.jobs(), k.scheduleAll(), k.states(), k.bodies()} {
		opts := []clientv3.OpOption{clientv3.WithPrefix()}
		if d.rev != 0 {
			opts = append(opts, clientv3.WithRev(d.rev))
		}
		ctx, cancel := context.WithTimeout(l.base, listingLoadTimeout)
		resp, err := l.r.cli.Get(ctx, prefix, opts...)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("registry: listing: load: %w", err)
		}
		if d.rev == 0 {
			d.rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			d.put(kv)
		}
	}
	return d, nil
}

// signalLocked wakes the reads waiting for the copy to move.
func (l *Listing) signalLocked() {
	close(l.advanced)
	l.advanced = make(chan struct{})
}

// follow applies the watch's changes to d until ctx ends, the watch is
// lost or the copy goes unused for the idle time; then it drops d, and
// the next read loads the copy afresh.
func (l *Listing) follow(ctx context.Context, d *listingData) {
	defer l.wg.Done()
	defer l.drop(d)
	from, to := l.r.listingRange()
	wctx, cancel := context.WithCancel(metadata.NewOutgoingContext(ctx, l.md))
	defer cancel()
	wch := l.r.cli.Watch(clientv3.WithRequireLeader(wctx), from, clientv3.WithRange(to), clientv3.WithRev(d.rev+1))
	tick := time.NewTicker(l.idle / 4)
	defer tick.Stop()
	for {
		select {
		case resp, ok := <-wch:
			if !ok || resp.Err() != nil {
				return
			}
			l.apply(d, resp)
		case <-tick.C:
			l.mu.Lock()
			idle := time.Since(l.used) > l.idle
			l.mu.Unlock()
			if idle {
				return
			}
		}
	}
}

// apply applies one watch answer to d. The copy's revision moves to the
// last event's, or to the answer's own on a progress notice, which etcd
// only sends once the watch has sent everything up to it.
func (l *Listing) apply(d *listingData, resp clientv3.WatchResponse) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range resp.Events {
		if ev.Type == mvccpb.DELETE {
			d.delete(string(ev.Kv.Key))
		} else {
			d.put(ev.Kv)
		}
		d.rev = max(d.rev, ev.Kv.ModRevision)
	}
	if resp.IsProgressNotify() {
		d.rev = max(d.rev, resp.Header.Revision)
	}
	l.signalLocked()
}

// drop forgets d if it is still the copy.
func (l *Listing) drop(d *listingData) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.d == d {
		if l.stop != nil {
			l.stop()
		}
		l.d, l.stop = nil, nil
		l.signalLocked()
	}
}
