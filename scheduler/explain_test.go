package scheduler

import (
	"strings"
	"testing"

	"github.com/fleetsim/fleet/unit"
)

func TestExplainGivesEveryMachinesReason(t *testing.T) {
	req := func(name string, kv ...string) Unit {
		var opts []unit.Option
		for i := 0; i+1 < len(kv); i += 2 {
			opts = append(opts, unit.Option{Section: unit.FleetSection, Name: kv[i], Value: kv[i+1]})
		}
		r, _, err := unit.ParseRequirements(name, opts)
		if err != nil {
			t.Fatal(err)
		}
		return Unit{Name: name, Desired: unit.StateLaunched, Req: r}
	}
	snap := &Snapshot{
		Machines: []Machine{
			{ID: "m1", Alive: true, Metadata: map[string]string{"region": "eu"}},
			{ID: "m2", Alive: true, Metadata: map[string]string{"region": "us"}},
			{ID: "m3", Alive: true, Metadata: map[string]string{"region": "eu"}},
			{ID: "m4", Alive: false, Metadata: map[string]string{"region": "eu"}},
		},
		Units: []Unit{
			req("web@1.service", "Conflicts", "web@*", "MachineMetadata", "region=eu"),
			req("web@2.service", "Conflicts", "web@*", "MachineMetadata", "region=eu"),
			req("web@3.service", "Conflicts", "web@*", "MachineMetadata", "region=eu"),
		},
	}
	_, ex, err := New().Explain(snap, []string{"web@1.service", "web@3.service", "nope.service"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 3 || ex[2].Found {
		t.Fatalf("explanations = %+v", ex)
	}
	placed := ex[0]
	if len(placed.Machines) != 1 || placed.Machines[0] != "m1" || placed.Unscheduled != nil {
		t.Fatalf("web@1 = %+v", placed)
	}
	want := map[string]string{
		"m1": "eligible",
		"m2": "m2 does not match region=eu",
		"m3": "conflicts with web@2.service on m3",
		"m4": "machine is dead",
	}
	for _, v := range placed.Verdicts {
		if !strings.Contains(v.Detail, want[v.Machine]) {
			t.Errorf("web@1 on %s: %q, want %q", v.Machine, v.Detail, want[v.Machine])
		}
	}
	if !placed.Verdicts[0].Placed || !placed.Verdicts[0].Eligible {
		t.Errorf("m1 verdict = %+v: web@1 is placed there", placed.Verdicts[0])
	}
	lost := ex[1]
	if lost.Unscheduled == nil || lost.Unscheduled.Reason != ReasonConflict || len(lost.Machines) != 0 {
		t.Fatalf("web@3 = %+v", lost)
	}
	for _, v := range lost.Verdicts {
		if v.Eligible {
			t.Errorf("web@3 eligible on %s", v.Machine)
		}
	}
}
