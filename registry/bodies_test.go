package registry_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/registry/etcdtest"
	"github.com/fleetsim/fleet/unit"
)

// numbered is a unit body of its own for each n.
func numbered(t testing.TB, n int) *unit.File {
	t.Helper()
	f, err := unit.ParseString(fmt.Sprintf("[Service]\nExecStart=/bin/echo %d\n", n))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// count returns how many keys are under prefix.
func count(t testing.TB, cli *clientv3.Client, prefix string) int64 {
	t.Helper()
	resp, err := cli.Get(context.Background(), prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Count
}

func TestDestroyDeletesTheLastReferenceToABody(t *testing.T) {
	cli := etcdtest.Start(t).Client(t)
	r := registry.New(cli, "/fleet")
	ctx := context.Background()
	for i := range 300 {
		if err := r.CreateUnit(ctx, "cycle.service", numbered(t, i), unit.StateLaunched); err != nil {
			t.Fatal(err)
		}
		if err := r.DestroyUnit(ctx, "cycle.service"); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, cli, "/fleet/unit/"); n != 0 {
		t.Fatalf("300 submit/destroy cycles left %d bodies", n)
	}
	if n := count(t, cli, "/fleet/unitref/"); n != 0 {
		t.Fatalf("300 submit/destroy cycles left %d references", n)
	}
}

func TestABodySharedByTwoUnitsLivesUntilBothAreGone(t *testing.T) {
	cli := etcdtest.Start(t).Client(t)
	r := registry.New(cli, "/fleet")
	ctx := context.Background()
	f := hello(t)
	for _, name := range []string{"a.service", "b.service"} {
		if err := r.CreateUnit(ctx, name, f, unit.StateLaunched); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.DestroyUnit(ctx, "a.service"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.File(ctx, f.Hash()); err != nil {
		t.Fatalf("b.service still refers to the body, but: %v", err)
	}
	if err := r.DestroyUnit(ctx, "b.service"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.File(ctx, f.Hash()); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("body after its last unit went: %v, want ErrNotFound", err)
	}
}

// Units of the same body are submitted and destroyed from several
// clients at once: whatever the interleaving, the body exists exactly
// while a unit refers to it.
func TestBodyDeletionCannotRaceASubmitOfTheSameBody(t *testing.T) {
	srv := etcdtest.Start(t)
	ctx := context.Background()
	f := hello(t)
	var wg sync.WaitGroup
	for c := range 3 {
		r := registry.New(srv.Client(t), "/fleet")
		name := fmt.Sprintf("u%d.service", c)
		wg.Go(func() {
			for range 60 {
				if err := r.CreateUnit(ctx, name, f, unit.StateLaunched); err != nil {
					t.Error(err)
					return
				}
				if _, err := r.File(ctx, f.Hash()); err != nil {
					t.Errorf("%s exists, and its body: %v", name, err)
					return
				}
				if err := r.DestroyUnit(ctx, name); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	cli := srv.Client(t)
	if n := count(t, cli, "/fleet/unit/"); n != 0 {
		t.Fatalf("every unit is gone, and %d bodies are left", n)
	}
	r := registry.New(cli, "/fleet")
	if err := r.CreateUnit(ctx, "last.service", f, unit.StateLaunched); err != nil {
		t.Fatal(err)
	}
	if _, err := r.File(ctx, f.Hash()); err != nil {
		t.Fatalf("the body of a live unit: %v", err)
	}
}

func TestCollectOrphanBodies(t *testing.T) {
	cli := etcdtest.Start(t).Client(t)
	r := registry.New(cli, "/fleet")
	ctx := context.Background()
	old, orphan, kept := numbered(t, 1), numbered(t, 2), numbered(t, 3)
	if err := r.CreateUnit(ctx, "kept.service", kept, unit.StateLaunched); err != nil {
		t.Fatal(err)
	}
	// What an older version leaves: a job with no reference, and a body
	// whose job was destroyed. A crash leaves a stale reference.
	put(t, cli, "/fleet/unit/"+old.Hash().String(), `{"options":[]}`)
	put(t, cli, "/fleet/job/old.service", fmt.Sprintf(`{"hash":%q,"desiredState":"launched"}`, old.Hash()))
	put(t, cli, "/fleet/unit/"+orphan.Hash().String(), `{"options":[]}`)
	put(t, cli, "/fleet/unitref/"+orphan.Hash().String()+"/gone.service", "")

	n, err := r.CollectOrphanBodies(ctx)
	if err != nil || n != 1 {
		t.Fatalf("CollectOrphanBodies = %d, %v; want 1 (the orphan)", n, err)
	}
	if _, err := r.File(ctx, orphan.Hash()); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("orphan body: %v, want ErrNotFound", err)
	}
	for _, h := range []unit.Hash{old.Hash(), kept.Hash()} {
		if _, err := r.File(ctx, h); err != nil {
			t.Fatalf("body %s of a live unit: %v", h.Short(), err)
		}
	}
	if n, err := r.CollectOrphanBodies(ctx); err != nil || n != 0 {
		t.Fatalf("second collection = %d, %v; want 0", n, err)
	}
	// old.service got its reference: destroying it now deletes its body.
	if err := r.DestroyUnit(ctx, "old.service"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.File(ctx, old.Hash()); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("body of a destroyed pre-reference unit: %v, want ErrNotFound", err)
	}
	if n := count(t, cli, "/fleet/unitref/"); n != 1 {
		t.Fatalf("%d references left, want 1 (kept.service's)", n)
	}
}

func put(t testing.TB, cli *clientv3.Client, key, value string) {
	t.Helper()
	if _, err := cli.Put(context.Background(), key, value); err != nil {
		t.Fatal(err)
	}
}

// A collection that runs while the same body is submitted again never
// takes the body from under the new unit.
func TestCollectionCannotRaceASubmitOfTheSameBody(t *testing.T) {
	srv := etcdtest.Start(t)
	collector := registry.New(srv.Client(t), "/fleet")
	submitter := registry.New(srv.Client(t), "/fleet")
	cli := srv.Client(t)
	ctx := context.Background()
	for i := range 100 {
		f := numbered(t, i)
		put(t, cli, "/fleet/unit/"+f.Hash().String(), `{"options":[]}`) // an orphan, until submitted
		var wg sync.WaitGroup
		wg.Go(func() {
			if _, err := collector.CollectOrphanBodies(ctx); err != nil {
				t.Error(err)
			}
		})
		if err := submitter.CreateUnit(ctx, fmt.Sprintf("u%d.service", i), f, unit.StateLaunched); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if _, err := submitter.File(ctx, f.Hash()); err != nil {
			t.Fatalf("round %d: the body of a unit just submitted: %v", i, err)
		}
	}
}
