package sim

import (
	"regexp"
	"slices"
	"testing"
	"time"
)

func populated(t *testing.T, wl Workload) *World {
	t.Helper()
	w, err := New(Config{Seed: wl.Seed})
	if err != nil {
		t.Fatal(err)
	}
	if err := wl.Populate(w); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWorkloadIsDeterministic(t *testing.T) {
	wl := Workload{Seed: 5, Machines: 40, Units: 400, KillFraction: 0.1, KillAt: time.Minute}
	a, b := populated(t, wl), populated(t, wl)
	if !slices.Equal(a.MachineIDs(), b.MachineIDs()) {
		t.Fatal("same seed, different machines")
	}
	for i := range a.units {
		if a.units[i].name != b.units[i].name || a.units[i].hash != b.units[i].hash {
			t.Fatalf("unit %d: %s and %s", i, a.units[i].name, b.units[i].name)
		}
	}
	a.RunUntil(5 * time.Minute)
	b.RunUntil(5 * time.Minute)
	if a.Result().TraceHash != b.Result().TraceHash {
		t.Fatal("same workload, different traces")
	}
	wl.Seed = 6
	if c := populated(t, wl); slices.Equal(a.MachineIDs(), c.MachineIDs()) {
		t.Fatal("another seed gave the same machines")
	}
}

func TestWorkloadMachines(t *testing.T) {
	w := populated(t, Workload{Seed: 1, Machines: 300})
	hexID := regexp.MustCompile(`^[0-9a-f]{32}$`)
	values := map[string]map[string]bool{}
	for _, m := range w.machines {
		if !hexID.MatchString(m.id) {
			t.Fatalf("machine ID %q is not 32 hex digits", m.id)
		}
		for k, v := range m.meta {
			if values[k] == nil {
				values[k] = map[string]bool{}
			}
			values[k][v] = true
		}
	}
	want := map[string][]string{"region": {"eu", "us", "ap"}, "disk": {"ssd", "hdd"}, "ram": {"1024", "2048", "4096", "8192"}}
	for k, vs := range want {
		for _, v := range vs {
			if !values[k][v] {
				t.Errorf("no machine has %s=%s", k, v)
			}
		}
		if len(values[k]) != len(vs) {
			t.Errorf("%s takes %d values, want %d", k, len(values[k]), len(vs))
		}
	}
}

// TestWorkloadMix checks that every kind of unit of the mix is there, in
// about its share.
func TestWorkloadMix(t *testing.T) {
	const units = 20000
	w := populated(t, Workload{Seed: 2, Machines: 100, Units: units})
	if len(w.units) != units || len(w.machines) != 100 {
		t.Fatalf("%d units and %d machines, want %d and 100", len(w.units), len(w.machines), units)
	}
	count := map[string]int{}
	operators := false
	for _, u := range w.units {
		r := &u.req
		switch {
		case r.Global:
			count["global"]++
		case len(r.Replaces) > 0:
			count["replaces"]++
		case len(r.MachineOf) > 0:
			count["machineof"]++
		case len(r.Conflicts) > 0:
			count["conflicts"]++
		case len(r.Ports) > 0:
			count["ports"]++
		case !r.Metadata.Empty():
			count["metadata"]++
			operators = operators || len(r.Metadata.Others) > 0
		}
	}
	share := func(kind string, lo, hi float64) {
		got := float64(count[kind]) / units
		if got < lo || got > hi {
			t.Errorf("%s: %.3f of the units, want %.2f..%.2f", kind, got, lo, hi)
		}
	}
	share("metadata", 0.17, 0.23)
	share("conflicts", 0.17, 0.23)
	share("machineof", 0.06, 0.09) // the sidekick of each pair
	share("ports", 0.08, 0.12)
	if count["global"] != 1 || count["replaces"] != units/200 {
		t.Errorf("%d global and %d Replaces units, want 1 and %d", count["global"], count["replaces"], units/200)
	}
	if !operators {
		t.Error("no MachineMetadata uses an operator")
	}
}

func TestWorkloadSurvivesKillWave(t *testing.T) {
	w := populated(t, Workload{Seed: 3, Machines: 60, Units: 600, KillFraction: 0.1, KillAt: 2 * time.Minute})
	w.RunUntil(8 * time.Minute)
	r := w.Result()
	if r.ViolationCount != 0 {
		t.Fatalf("violations: %+v", r.Violations)
	}
	if !r.LivenessChecked || r.Reschedule.Pending != 0 || r.Reschedule.Count == 0 {
		t.Fatalf("liveness checked %v, %d rescheduled, %d pending", r.LivenessChecked, r.Reschedule.Count, r.Reschedule.Pending)
	}
	if len(r.Faults) != 6 {
		t.Fatalf("%d faults, want 6 (10%% of 60)", len(r.Faults))
	}
}

func TestKillWave(t *testing.T) {
	w := populated(t, Workload{Seed: 4, Machines: 8})
	if err := KillWave(w, time.Minute, 0.25, 9); err != nil {
		t.Fatal(err)
	}
	if len(w.ops) != 2 || w.ops[0].Kind != OpKill || !w.ops[0].IsFault || w.ops[0].Machine == w.ops[1].Machine {
		t.Fatalf("ops: %+v", w.ops)
	}
	for _, f := range []float64{-0.1, 1.5} {
		if err := KillWave(w, time.Minute, f, 9); err == nil {
			t.Errorf("fraction %v accepted", f)
		}
	}
	if err := (Workload{Machines: -1}).Populate(w); err == nil {
		t.Error("negative machine count accepted")
	}
}
