package registry_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/registry/etcdtest"
	"github.com/fleetsim/fleet/unit"
)

// unitNames lists the names of a page.
func unitNames(us []registry.ListedUnit) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Name)
	}
	return out
}

// TestListingPagesFollowTheRegistry: pages come in name order, start
// after the name given, and show every write made before they were asked
// for, without waiting for anything else to be written.
func TestListingPagesFollowTheRegistry(t *testing.T) {
	cli := etcdtest.Start(t).Client(t)
	r := registry.New(cli, "/fleet")
	ctx := context.Background()
	l := r.NewListing(0)
	defer l.Close()
	f := hello(t)
	for _, n := range []string{"c.service", "a.service", "b.service"} {
		if err := r.CreateUnit(ctx, n, f, unit.StateLaunched); err != nil {
			t.Fatal(err)
		}
	}
	page, more, err := l.Units(ctx, "", 2)
	if err != nil || !more || !reflect.DeepEqual(unitNames(page), []string{"a.service", "b.service"}) {
		t.Fatalf("first page: %v, more %v, %v", unitNames(page), more, err)
	}
	if page[0].File == nil || page[0].File.Hash() != f.Hash() || page[0].Job.Desired != unit.StateLaunched {
		t.Errorf("a.service listed as %+v", page[0])
	}

	// Written after the copy was loaded: seen by the next read at once.
	if err := r.CreateUnit(ctx, "d.service", f, unit.StateInactive); err != nil {
		t.Fatal(err)
	}
	if err := r.DestroyUnit(ctx, "c.service"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Commit(ctx, registry.Guard{}, []registry.Change{
		{Placement: registry.Placement{Unit: "d.service", Machine: "m2", Port: 8080}},
		{Placement: registry.Placement{Unit: "d.service", Machine: "m1"}},
	}); err != nil {
		t.Fatal(err)
	}
	lease, err := cli.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"m2", "m1"} {
		st := registry.UnitState{Unit: "d.service", Machine: m, LoadState: "loaded", ActiveState: "active", SubState: "running"}
		if err := r.PublishState(ctx, st, lease.ID); err != nil {
			t.Fatal(err)
		}
	}
	page, more, err = l.Units(ctx, "b.service", 2)
	if err != nil || more || !reflect.DeepEqual(unitNames(page), []string{"d.service"}) {
		t.Fatalf("second page: %v, more %v, %v", unitNames(page), more, err)
	}
	d := page[0]
	if len(d.Placements) != 2 || d.Placements[0].Machine != "m1" || d.Placements[1].Port != 8080 || len(d.States) != 2 || d.States[0].Machine != "m1" {
		t.Errorf("d.service listed as %+v", d)
	}
	if _, err := l.Unit(ctx, "c.service"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("destroyed unit: %v, want ErrNotFound", err)
	}

	states, more, err := l.States(ctx, "", 1, "", "")
	if err != nil || !more || len(states) != 1 || states[0].State.Machine != "m1" || states[0].Port != 0 {
		t.Fatalf("first state page: %+v, more %v, %v", states, more, err)
	}
	states, more, err = l.States(ctx, registry.StateKey("d.service", "m1"), 1, "", "")
	if err != nil || more || len(states) != 1 || states[0].State.Machine != "m2" || states[0].Port != 8080 {
		t.Fatalf("second state page: %+v, more %v, %v", states, more, err)
	}
	if states, _, _ := l.States(ctx, "", 10, "d.service", "m2"); len(states) != 1 || states[0].State.Machine != "m2" {
		t.Errorf("states of d.service on m2: %+v", states)
	}
	if states, _, _ := l.States(ctx, "", 10, "a.service", ""); len(states) != 0 {
		t.Errorf("states of a.service: %+v", states)
	}

	// A write outside what the copy follows moves etcd's revision: the
	// copy learns it has caught up from the watch's progress.
	if _, err := cli.Put(ctx, "/fleet/engine/elsewhere", "x"); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 5e9)
	defer cancel()
	if _, _, err := l.Units(tctx, "", 10); err != nil {
		t.Fatalf("after a write elsewhere: %v", err)
	}
}

// TestListingShowsBrokenUnits: a job that does not decode and a job whose
// body is missing are listed with their error, in their place.
func TestListingShowsBrokenUnits(t *testing.T) {
	cli := etcdtest.Start(t).Client(t)
	r := registry.New(cli, "/fleet")
	ctx := context.Background()
	l := r.NewListing(0)
	defer l.Close()
	if err := r.CreateUnit(ctx, "a.service", hello(t), unit.StateLaunched); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, "/fleet/job/b.service", "{not json"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, "/fleet/job/c.service", fmt.Sprintf(`{"hash":"%040d","desiredState":"loaded"}`, 0)); err != nil {
		t.Fatal(err)
	}
	page, _, err := l.Units(ctx, "", 10)
	if err != nil || len(page) != 3 {
		t.Fatalf("page %v, %v", unitNames(page), err)
	}
	if page[0].Err != nil || !errors.Is(page[1].Err, registry.ErrCorrupt) || !errors.Is(page[2].Err, registry.ErrNotFound) || page[2].Job.Desired != unit.StateLoaded {
		t.Errorf("listed %+v", page)
	}
	// Closed: no more reads.
	l.Close()
	if _, _, err := l.Units(ctx, "", 1); !errors.Is(err, registry.ErrListingClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// TestListingDropsItsCopyWhenUnused: unused for its idle time, the copy
// is dropped (and its watch ended); the next read loads it afresh, with
// what was written meanwhile.
func TestListingDropsItsCopyWhenUnused(t *testing.T) {
	cli := etcdtest.Start(t).Client(t)
	r := registry.New(cli, "/fleet")
	ctx := context.Background()
	l := r.NewListing(200 * time.Millisecond)
	defer l.Close()
	if l.Loaded() {
		t.Fatal("loaded before any read")
	}
	if err := r.CreateUnit(ctx, "a.service", hello(t), unit.StateLaunched); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Units(ctx, "", 10); err != nil || !l.Loaded() {
		t.Fatalf("read: %v, loaded %v", err, l.Loaded())
	}
	deadline := time.Now().Add(5 * time.Second)
	for l.Loaded() {
		if time.Now().After(deadline) {
			t.Fatal("copy still held 5s after its last read, idle time 200ms")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := r.CreateUnit(ctx, "b.service", hello(t), unit.StateLaunched); err != nil {
		t.Fatal(err)
	}
	page, _, err := l.Units(ctx, "", 10)
	if err != nil || !reflect.DeepEqual(unitNames(page), []string{"a.service", "b.service"}) {
		t.Fatalf("after the drop: %v, %v", unitNames(page), err)
	}
}

// With no machine at all, a page of machines says there is no more:
// a client that pages on must not be handed a token to nowhere.
func TestMachinesAfterWithNoMachines(t *testing.T) {
	r := registry.New(etcdtest.Start(t).Client(t), "/fleet")
	ms, last, more, err := r.MachinesAfter(context.Background(), "", 10)
	if err != nil || len(ms) != 0 || last != "" || more {
		t.Fatalf("MachinesAfter on no machines = %v, %q, %v, %v; want none and no more", ms, last, more, err)
	}
}
