package registry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/registry/etcdtest"
	"github.com/fleetsim/fleet/unit"
)

func hello(t *testing.T) *unit.File {
	t.Helper()
	f, err := unit.ParseString("[Unit]\nDescription=Hello\n[Service]\nExecStart=/bin/sh -c 'while true; do echo Hello World; sleep 1; done'\n")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestUnitLifecycle(t *testing.T) {
	cli := etcdtest.Start(t).Client(t)
	r := registry.New(cli, "/fleet")
	ctx := context.Background()
	f := hello(t)
	if err := r.CreateUnit(ctx, "hello.service", f, unit.StateInactive); err != nil {
		t.Fatal(err)
	}
	if err := r.CreateUnit(ctx, "hello.service", f, unit.StateLaunched); !errors.Is(err, registry.ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	j, err := r.Job(ctx, "hello.service")
	if err != nil || j.Hash != f.Hash() || j.Desired != unit.StateInactive {
		t.Fatalf("job = %+v, %v", j, err)
	}
	body, err := r.File(ctx, j.Hash)
	if err != nil || body.Hash() != f.Hash() {
		t.Fatalf("body: %v (hash %v, want %v)", err, body, f.Hash())
	}
	if err := r.SetDesired(ctx, "hello.service", unit.StateLaunched); err != nil {
		t.Fatal(err)
	}
	if j, _ = r.Job(ctx, "hello.service"); j.Desired != unit.StateLaunched {
		t.Fatalf("desired = %v after SetDesired", j.Desired)
	}
	if err := r.SetDesired(ctx, "nope.service", unit.StateLaunched); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("SetDesired on a missing unit: %v", err)
	}
	// The prefix is honoured: nothing under fleet's default prefix.
	if resp, _ := cli.Get(ctx, registry.DefaultPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly()); resp.Count != 0 {
		t.Fatalf("%d keys under the default prefix", resp.Count)
	}
	if err := r.DestroyUnit(ctx, "hello.service"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Job(ctx, "hello.service"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("after destroy: %v", err)
	}
	if err := r.DestroyUnit(ctx, "hello.service"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("second destroy: %v", err)
	}
}

func TestMachinesExpireWithTheirLease(t *testing.T) {
	cli := etcdtest.Start(t).Client(t)
	r := registry.New(cli, "")
	ctx := context.Background()
	lease, err := cli.Grant(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RegisterMachine(ctx, registry.Machine{ID: "m1", PublicIP: "10.0.0.1", Metadata: map[string]string{"region": "eu"}}, lease.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.SetMetadata(ctx, "m1", "disk", "ssd"); err != nil {
		t.Fatal(err)
	}
	ms, err := r.Machines(ctx)
	if err != nil || len(ms) != 1 || ms[0].Metadata["disk"] != "ssd" || ms[0].Metadata["region"] != "eu" {
		t.Fatalf("machines = %+v, %v", ms, err)
	}
	if err := r.SetMetadata(ctx, "m1", "a/b", "x"); err == nil {
		t.Fatal("a metadata key with a slash was accepted")
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ms, _ = r.Machines(ctx); len(ms) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the machine outlived its lease")
}

func TestCommitIsGuardedByLeadership(t *testing.T) {
	srv := etcdtest.Start(t)
	cli := srv.Client(t)
	r := registry.New(cli, "")
	ctx := context.Background()
	leader := campaign(t, cli, r.ElectionKey(), "a")
	changes := make([]registry.Change, 0, 250)
	for i := 0; i < 250; i++ { // several transactions
		changes = append(changes, registry.Change{Placement: registry.Placement{Unit: fmt.Sprintf("u%03d.service", i), Machine: "m1", Port: uint16(20000 + i)}})
	}
	if _, err := r.Commit(ctx, leader, changes); err != nil {
		t.Fatal(err)
	}
	got, rev, err := r.MachineSchedule(ctx, "m1")
	if err != nil || len(got) != 250 || got[7].Port != 20007 || rev == 0 {
		t.Fatalf("schedule: %d entries, %v", len(got), err)
	}
	// The leader's key goes away: its writes now fail and change nothing.
	if _, err := cli.Delete(ctx, leader.Key); err != nil {
		t.Fatal(err)
	}
	_, err = r.Commit(ctx, leader, []registry.Change{{Delete: true, Placement: registry.Placement{Unit: "u000.service", Machine: "m1"}}})
	if !errors.Is(err, registry.ErrNotLeader) {
		t.Fatalf("deposed commit: %v, want ErrNotLeader", err)
	}
	if all, _ := r.Schedule(ctx); len(all) != 250 {
		t.Fatalf("deposed commit changed the schedule: %d entries", len(all))
	}
}

func TestStatesFollowTheirMachine(t *testing.T) {
	cli := etcdtest.Start(t).Client(t)
	r := registry.New(cli, "")
	ctx := context.Background()
	lease, err := cli.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	s := registry.UnitState{Unit: "hello.service", Machine: "m1", Hash: "abc", LoadState: "loaded", ActiveState: "active", SubState: "running"}
	if err := r.PublishState(ctx, s, lease.ID); err != nil {
		t.Fatal(err)
	}
	got, err := r.States(ctx)
	if err != nil || len(got) != 1 || got[0] != s {
		t.Fatalf("states = %+v, %v", got, err)
	}
	if _, err := cli.Revoke(ctx, lease.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ = r.States(ctx); len(got) != 0 {
		t.Fatalf("states outlived the machine's lease: %+v", got)
	}
}

// campaign wins an election and returns the guard of its leadership.
func campaign(t *testing.T, cli *clientv3.Client, key, who string) registry.Guard {
	t.Helper()
	s, err := concurrency.NewSession(cli, concurrency.WithTTL(5))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := concurrency.NewElection(s, key)
	if err := e.Campaign(context.Background(), who); err != nil {
		t.Fatal(err)
	}
	return registry.Guard{Key: e.Key(), Rev: e.Rev()}
}

func TestCommitIsRefusedWhenTheClusterChanged(t *testing.T) {
	cli := etcdtest.Start(t).Client(t)
	r := registry.New(cli, "")
	ctx := context.Background()
	leader := campaign(t, cli, r.ElectionKey(), "a")
	if err := r.CreateUnit(ctx, "a.service", hello(t), unit.StateLaunched); err != nil {
		t.Fatal(err)
	}
	c, err := r.LoadCluster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	planned := leader
	planned.Since = c.View().Rev
	if err := r.SetMetadata(ctx, "m1", "region", "us"); err != nil { // changes under the plan
		t.Fatal(err)
	}
	put := []registry.Change{{Placement: registry.Placement{Unit: "a.service", Machine: "m1"}}}
	if _, err := r.Commit(ctx, planned, put); !errors.Is(err, registry.ErrStale) {
		t.Fatalf("commit from a stale view: %v, want ErrStale", err)
	}
	if s, _ := r.Schedule(ctx); len(s) != 0 {
		t.Fatalf("a stale commit wrote %v", s)
	}
	c, _ = r.LoadCluster(ctx)
	planned.Since = c.View().Rev
	big := make([]registry.Change, 0, 150) // two batches: the second expects the first
	for i := 0; i < 150; i++ {
		big = append(big, registry.Change{Placement: registry.Placement{Unit: fmt.Sprintf("u%03d.service", i), Machine: "m1"}})
	}
	if _, err := r.Commit(ctx, planned, big); err != nil {
		t.Fatalf("commit from a fresh view: %v", err)
	}
}

func TestRequestTimeoutBoundsEachRequest(t *testing.T) {
	srv := etcdtest.Start(t)
	r := registry.New(srv.Client(t), "", registry.WithRequestTimeout(200*time.Millisecond))
	if _, err := r.Jobs(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	start := time.Now()
	_, err := r.Jobs(context.Background())
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("with etcd gone: %v after %v, want an error within the request timeout", err, time.Since(start))
	}
}
