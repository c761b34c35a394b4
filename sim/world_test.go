package sim

import (
	"fmt"
	"testing"
	"time"

	"github.com/fleetsim/fleet/unit"
)

func fleetOpt(k, v string) unit.Option {
	return unit.Option{Section: unit.FleetSection, Name: k, Value: v}
}

// failoverWorld is five machines, spread and pinned units, a global unit
// and a MachineOf pair, with m2 crashing at one minute.
func failoverWorld(t *testing.T, seed uint64) *World {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Seed = seed
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		if err := w.AddMachine(fmt.Sprintf("m%d", i), map[string]string{"region": []string{"eu", "us"}[i%2]}); err != nil {
			t.Fatal(err)
		}
	}
	units := map[string][]unit.Option{
		"web@1.service": {fleetOpt("Conflicts", "web@*")},
		"web@2.service": {fleetOpt("Conflicts", "web@*")},
		"web@3.service": {fleetOpt("Conflicts", "web@*")},
		"db.service":    {fleetOpt("Ports", "20001-20002")},
		"side.service":  {fleetOpt("MachineOf", "db.service")},
		"agent.service": {fleetOpt("Global", "true")},
		"eu.service":    {fleetOpt("MachineMetadata", "region=eu")},
	}
	for _, name := range []string{"web@1.service", "web@2.service", "web@3.service", "db.service", "side.service", "agent.service", "eu.service"} {
		if err := w.AddUnit(name, units[name], unit.StateLaunched); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.At(time.Minute, Op{Kind: OpKill, Machine: "m2", IsFault: true}); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestFailoverRelaunchesWithinBound(t *testing.T) {
	w := failoverWorld(t, 3)
	w.RunUntil(10 * time.Minute)
	r := w.Result()
	if r.ViolationCount != 0 {
		t.Fatalf("violations: %+v", r.Violations)
	}
	if !r.LivenessChecked {
		t.Fatal("liveness was never checked")
	}
	if r.Reschedule.Pending != 0 {
		t.Fatalf("%d units never ran again after their machine died", r.Reschedule.Pending)
	}
	bound := w.Config().LivenessBound()
	if r.Reschedule.Max > bound {
		t.Fatalf("reschedule took %v, bound %v", r.Reschedule.Max, bound)
	}
	// Seven units, the global one on the four live machines: ten copies.
	if r.UnitsRunning != 10 {
		t.Fatalf("units running at the end: %d, want 10", r.UnitsRunning)
	}
}

func TestSameSeedSameTrace(t *testing.T) {
	a, b := failoverWorld(t, 9), failoverWorld(t, 9)
	a.RunUntil(5 * time.Minute)
	b.RunUntil(5 * time.Minute)
	if a.Result().TraceHash != b.Result().TraceHash {
		t.Fatalf("same seed, different traces: %x %x", a.Result().TraceHash, b.Result().TraceHash)
	}
	c := failoverWorld(t, 10)
	c.RunUntil(5 * time.Minute)
	if c.Result().TraceHash == a.Result().TraceHash {
		t.Fatal("different seeds gave the same trace: the seed is not used")
	}
}

func TestPartitionDoubleRunsUntilHeal(t *testing.T) {
	w := failoverWorld(t, 4)
	w.RunUntil(30 * time.Second)
	// Cut off the machine running db.service: after the TTL it starts
	// elsewhere while the cut-off copy keeps running, until the heal.
	at := w.reg.where[w.upos["db.service"]]
	if at < 0 {
		t.Fatal("db.service not scheduled after 30s")
	}
	id := w.machines[at].id
	if err := w.At(40*time.Second, Op{Kind: OpPartition, Machine: id, IsFault: true}); err != nil {
		t.Fatal(err)
	}
	if err := w.At(3*time.Minute, Op{Kind: OpHeal, Machine: id, IsFault: true}); err != nil {
		t.Fatal(err)
	}
	w.RunUntil(10 * time.Minute)
	r := w.Result()
	if r.ViolationCount != 0 {
		t.Fatalf("violations: %+v", r.Violations)
	}
	if r.DoubleRunUnitSeconds <= 0 {
		t.Fatal("a partitioned machine's units should run twice until the heal")
	}
	if r.DoubleRunUnitSeconds > 4*180 {
		t.Fatalf("double running %.0f unit-seconds: the healed machine did not stop its copies", r.DoubleRunUnitSeconds)
	}
}
