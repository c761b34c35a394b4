package runner_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetsim/fleet/agent"
	"github.com/fleetsim/fleet/agent/memsd"
	"github.com/fleetsim/fleet/agent/runner"
	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/registry/etcdtest"
	"github.com/fleetsim/fleet/unit"
)

// place submits a unit and schedules it on m1 by hand, as an engine
// would, with its desired state copied into the placement.
func place(t *testing.T, reg *registry.Etcd, name, body string, s unit.State) {
	t.Helper()
	f, err := unit.ParseString(body)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := reg.CreateUnit(ctx, name, f, s); err != nil {
		t.Fatal(err)
	}
	ch := registry.Change{Placement: registry.Placement{Unit: name, Machine: "m1", Hash: f.Hash(), Desired: s}}
	if _, err := reg.Commit(ctx, registry.Guard{}, []registry.Change{ch}); err != nil {
		t.Fatal(err)
	}
}

func startAgent(t *testing.T, reg *registry.Etcd, sd agent.Systemd, cfg runner.Config) *runner.Runner {
	t.Helper()
	cfg.Machine = registry.Machine{ID: "m1"}
	cfg.TTL, cfg.Interval = 2*time.Second, 100*time.Millisecond
	r := runner.New(reg, sd, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = r.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return r
}

// A lease lost (here revoked) ends the session: the machine is not
// registered until the next one, but fleetd has started and stays so.
func TestLeaseLostLeavesTheAgentStarted(t *testing.T) {
	reg := registry.New(etcdtest.Start(t).Client(t), "")
	r := startAgent(t, reg, memsd.New(), runner.Config{})
	if r.Started() {
		t.Fatal("started before its first registration")
	}
	waitFor(t, "the first registration", r.Registered)
	cli := reg.Client()
	leases, err := cli.Leases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range leases.Leases {
		if _, err := cli.Revoke(context.Background(), l.ID); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the session to end", func() bool { return !r.Registered() })
	if !r.Started() {
		t.Fatal("no longer started between sessions")
	}
	waitFor(t, "the next session", r.Registered)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func state(t *testing.T, reg *registry.Etcd, name string) registry.UnitState {
	t.Helper()
	states, err := reg.States(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.Unit == name {
			return s
		}
	}
	return registry.UnitState{}
}

func TestHangingStartHoldsBackNoOtherUnit(t *testing.T) {
	reg := registry.New(etcdtest.Start(t).Client(t), "")
	sd := memsd.New()
	sd.Hang("hang.service")
	startAgent(t, reg, sd, runner.Config{Step: agent.StepConfig{JobTimeout: 500 * time.Millisecond}})
	place(t, reg, "hang.service", "[Service]\nType=oneshot\nTimeoutStartSec=0\nExecStart=/bin/sleep 1000\n", unit.StateLaunched)
	waitFor(t, "hang.service activating", func() bool { return state(t, reg, "hang.service").ActiveState == "activating" })
	start := time.Now()
	place(t, reg, "next.service", "[Service]\nExecStart=/bin/sleep 1d\n", unit.StateLaunched)
	waitFor(t, "next.service active", func() bool { return state(t, reg, "next.service").ActiveState == "active" })
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("next.service took %v to start beside a hanging start", d)
	}
	waitFor(t, "hang.service reported stuck", func() bool {
		return strings.Contains(state(t, reg, "hang.service").Reason, "not done after")
	})
}

func TestExitedUnitIsNotStartedAgain(t *testing.T) {
	reg := registry.New(etcdtest.Start(t).Client(t), "")
	sd := memsd.New()
	startAgent(t, reg, sd, runner.Config{})
	place(t, reg, "true.service", "[Service]\nExecStart=/bin/true\n", unit.StateLaunched)
	waitFor(t, "true.service active", func() bool { return state(t, reg, "true.service").ActiveState == "active" })
	if err := sd.Exit("true.service"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "true.service published inactive", func() bool { return state(t, reg, "true.service").ActiveState == "inactive" })
	time.Sleep(time.Second) // ten agent intervals
	if n := sd.Starts("true.service"); n != 1 {
		t.Fatalf("an exited unit was started %d times, want once", n)
	}
}

func TestBodyMissingIsPublishedAndOthersRun(t *testing.T) {
	reg := registry.New(etcdtest.Start(t).Client(t), "")
	sd := memsd.New()
	startAgent(t, reg, sd, runner.Config{})
	// A placement whose body was never stored: the load fails for that
	// unit alone.
	ghost := unit.Hash{1, 2, 3}
	ch := registry.Change{Placement: registry.Placement{Unit: "ghost.service", Machine: "m1", Hash: ghost, Desired: unit.StateLaunched}}
	if _, err := reg.Commit(context.Background(), registry.Guard{}, []registry.Change{ch}); err != nil {
		t.Fatal(err)
	}
	place(t, reg, "ok.service", "[Service]\nExecStart=/bin/sleep 1d\n", unit.StateLaunched)
	waitFor(t, "ok.service active", func() bool { return state(t, reg, "ok.service").ActiveState == "active" })
	waitFor(t, "ghost.service failed with why", func() bool {
		s := state(t, reg, "ghost.service")
		return s.ActiveState == "failed" && strings.Contains(s.Reason, "not found")
	})
}
