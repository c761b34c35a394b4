package agent

import (
	"testing"

	"github.com/fleetsim/fleet/unit"
)

// Duplicate names are resolved by a fixed rule, whatever their order
// (runPlanCases checks the reversed input too).
func TestPlanDuplicates(t *testing.T) {
	runPlanCases(t, []planCase{
		{
			name:    "desired launched wins over loaded",
			desired: []DesiredUnit{loaded("a.service"), launched("a.service")},
			current: []CurrentUnit{idle1("a.service")},
			want:    []Task{start("a.service", ReasonDesiredLaunched)},
		},
		{
			name:    "desired larger hash wins",
			desired: []DesiredUnit{want("a.service", 3, 0, unit.StateLoaded), want("a.service", 2, 0, unit.StateLoaded)},
			want:    []Task{load("a.service", 3, 0, ReasonScheduledHere), reload},
		},
		{
			name:    "desired state wins over hash",
			desired: []DesiredUnit{want("a.service", 3, 0, unit.StateLoaded), want("a.service", 2, 0, unit.StateLaunched)},
			want:    []Task{load("a.service", 2, 0, ReasonScheduledHere), reload, start("a.service", ReasonDesiredLaunched)},
		},
		{
			name:    "desired larger port wins",
			desired: []DesiredUnit{want("a.service", 1, 8080, unit.StateLoaded), want("a.service", 1, 8081, unit.StateLoaded)},
			want:    []Task{load("a.service", 1, 8081, ReasonScheduledHere), reload},
		},
		{
			name:    "desired active wins over inactive",
			desired: []DesiredUnit{want("a.service", 1, 0, unit.StateInactive), launched("a.service")},
			current: []CurrentUnit{running1("a.service")},
		},
		{
			name:    "desired identical entries",
			desired: []DesiredUnit{launched("a.service"), launched("a.service")},
			want:    []Task{load1("a.service", ReasonScheduledHere), reload, start("a.service", ReasonDesiredLaunched)},
		},
		{
			name:    "current running entry wins",
			current: []CurrentUnit{idle1("a.service"), have("a.service", 0, 0, "loaded", "activating")},
			want:    []Task{stop("a.service", ReasonNotScheduledHere), unload("a.service", ReasonNotScheduledHere), reload},
		},
		{
			name:    "current larger hash wins",
			desired: []DesiredUnit{want("a.service", 2, 0, unit.StateLaunched)},
			current: []CurrentUnit{have("a.service", 2, 0, "loaded", "active"), have("a.service", 3, 0, "loaded", "active")},
			want: []Task{
				stop("a.service", ReasonContentChanged), unload("a.service", ReasonContentChanged),
				load("a.service", 2, 0, ReasonContentChanged), reload, start("a.service", ReasonDesiredLaunched),
			},
		},
	})
}

// resolveDesired reports names listed inactive so that removals can say
// why; a name also listed active is kept.
func TestResolveDesired(t *testing.T) {
	in := []DesiredUnit{
		want("b.service", 1, 0, unit.StateInactive), launched("a.service"),
		want("a.service", 1, 0, unit.StateInactive), loaded(""),
	}
	got, inactive := resolveDesired(in)
	if len(got) != 1 || got[0] != launched("a.service") {
		t.Fatalf("resolveDesired kept %v, want only a.service launched", got)
	}
	if !inactive["b.service"] {
		t.Fatalf("b.service is not listed inactive: %v", inactive)
	}
}
