package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"pgregory.net/rapid"

	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/registry/etcdtest"
	"github.com/fleetsim/fleet/unit"
)

// jobOp is one write a client makes: submit a body, set a desired
// state, or destroy.
type jobOp struct {
	kind  string // "create", "set", "destroy"
	name  string
	body  int
	state unit.State
}

func genJobOp(t *rapid.T, label string) jobOp {
	return jobOp{
		kind:  rapid.SampledFrom([]string{"create", "set", "destroy"}).Draw(t, label+"kind"),
		name:  rapid.SampledFrom([]string{"a.service", "a.service", "a.service", "b.service"}).Draw(t, label+"name"),
		body:  rapid.IntRange(0, 2).Draw(t, label+"body"),
		state: rapid.SampledFrom([]unit.State{unit.StateInactive, unit.StateLoaded, unit.StateLaunched}).Draw(t, label+"state"),
	}
}

// apply runs op and returns whether it was acknowledged; a refusal must
// be one the operation allows.
func apply(ctx context.Context, r *registry.Etcd, bodies []*unit.File, op jobOp) (bool, error) {
	var err error
	switch op.kind {
	case "create":
		err = r.CreateUnit(ctx, op.name, bodies[op.body], op.state)
		if errors.Is(err, registry.ErrExists) {
			return false, nil
		}
	case "set":
		err = r.SetDesired(ctx, op.name, op.state)
	case "destroy":
		err = r.DestroyUnit(ctx, op.name)
	}
	if op.kind != "create" && (errors.Is(err, registry.ErrNotFound) || errors.Is(err, registry.ErrConflict)) {
		return false, nil
	}
	return err == nil, err
}

// Several clients submit, set and destroy the same units at once over a
// real etcd. Whatever the interleaving: every write acknowledged is in
// the history and nothing else is, no write brings back the hash of an
// earlier life of the unit, and the bodies left are exactly those of the
// units left.
func TestConcurrentJobWritesNeverResurrectOrLose(t *testing.T) {
	srv := etcdtest.Start(t)
	clis := []*clientv3.Client{srv.Client(t), srv.Client(t), srv.Client(t), srv.Client(t)}
	bodies := []*unit.File{numbered(t, 0), numbered(t, 1), numbered(t, 2)}
	var round atomic.Int64
	rapid.Check(t, func(rt *rapid.T) {
		ctx := context.Background()
		prefix := fmt.Sprintf("/prop/%d/", round.Add(1))
		start, err := clis[0].Get(ctx, prefix+"job/")
		if err != nil {
			rt.Fatal(err)
		}
		plans := make([][]jobOp, len(clis))
		for c := range plans {
			plans[c] = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) jobOp { return genJobOp(t, "") }), 1, 16).Draw(rt, fmt.Sprintf("client%d", c))
		}
		acked := runClients(rt, clis, prefix, bodies, plans)
		history := jobHistory(rt, clis[0], prefix, start.Header.Revision)
		checkHistory(rt, history, acked)
		checkBodies(rt, clis[0], prefix)
	})
}

// runClients runs each client's plan concurrently and counts the writes
// acknowledged: puts (create, set) and deletes (destroy).
func runClients(rt *rapid.T, clis []*clientv3.Client, prefix string, bodies []*unit.File, plans [][]jobOp) [2]int {
	var mu sync.Mutex
	var acked [2]int
	var failure error
	var wg sync.WaitGroup
	for c, plan := range plans {
		r := registry.New(clis[c], prefix)
		wg.Go(func() {
			for _, op := range plan {
				ok, err := apply(context.Background(), r, bodies, op)
				mu.Lock()
				switch {
				case err != nil && failure == nil:
					failure = fmt.Errorf("%s %s: %w", op.kind, op.name, err)
				case ok && op.kind == "destroy":
					acked[1]++
				case ok:
					acked[0]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if failure != nil {
		rt.Fatal(failure)
	}
	return acked
}

// jobHistory returns every job event under prefix after revision from.
func jobHistory(rt *rapid.T, cli *clientv3.Client, prefix string, from int64) []*clientv3.Event {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now, err := cli.Get(ctx, prefix+"job/")
	if err != nil {
		rt.Fatal(err)
	}
	var evs []*clientv3.Event
	if now.Header.Revision == from {
		return nil
	}
	for resp := range cli.Watch(ctx, prefix+"job/", clientv3.WithPrefix(), clientv3.WithRev(from+1)) {
		if err := resp.Err(); err != nil {
			rt.Fatal(err)
		}
		evs = append(evs, resp.Events...)
		if resp.Header.Revision >= now.Header.Revision {
			break
		}
	}
	return evs
}

// checkHistory checks the job events against the acknowledged writes,
// and that within one life of a unit (from its creation to its
// destruction) every write carries the hash it was created with.
func checkHistory(rt *rapid.T, evs []*clientv3.Event, acked [2]int) {
	var got [2]int
	life := map[string]string{} // unit -> hash of its current life
	for _, ev := range evs {
		key := string(ev.Kv.Key)
		if ev.Type == clientv3.EventTypeDelete {
			got[1]++
			delete(life, key)
			continue
		}
		got[0]++
		var j struct {
			Hash string `json:"hash"`
		}
		if err := json.Unmarshal(ev.Kv.Value, &j); err != nil {
			rt.Fatal(err)
		}
		if ev.IsCreate() {
			life[key] = j.Hash
		} else if life[key] != j.Hash {
			rt.Fatalf("%s at revision %d: hash %.7s written over a life begun with %.7s", key, ev.Kv.ModRevision, j.Hash, life[key])
		}
	}
	if got != acked {
		rt.Fatalf("history has %d puts and %d deletes of jobs; %d and %d were acknowledged", got[0], got[1], acked[0], acked[1])
	}
}

// checkBodies checks that the bodies and references left are exactly
// those of the jobs left.
func checkBodies(rt *rapid.T, cli *clientv3.Client, prefix string) {
	r := registry.New(cli, prefix)
	ctx := context.Background()
	jobs, err := r.Jobs(ctx)
	if err != nil {
		rt.Fatal(err)
	}
	want := map[string]bool{}
	for _, j := range jobs {
		want[prefix+"unit/"+j.Hash.String()] = true
	}
	resp, err := cli.Get(ctx, prefix+"unit/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		rt.Fatal(err)
	}
	if len(resp.Kvs) != len(want) {
		rt.Fatalf("%d bodies left for %d distinct bodies of %d units", len(resp.Kvs), len(want), len(jobs))
	}
	for _, kv := range resp.Kvs {
		if !want[string(kv.Key)] {
			rt.Fatalf("body %s left, and no unit refers to it", kv.Key)
		}
	}
	refs, err := cli.Get(ctx, prefix+"unitref/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || refs.Count != int64(len(jobs)) {
		rt.Fatalf("%d references for %d units (%v)", refs.Count, len(jobs), err)
	}
}
