package agent

import (
	"slices"
	"testing"

	"github.com/fleetsim/fleet/unit"
)

type planCase struct {
	name    string
	desired []DesiredUnit
	current []CurrentUnit
	want    []Task
}

// runPlanCases checks each case, and checks it again with both inputs
// reversed: the order of the input must not matter.
func runPlanCases(t *testing.T, cases []planCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Plan(tc.desired, tc.current)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Plan:\n got\n%s want\n%s", formatTasks(got), formatTasks(tc.want))
			}
			d, c := slices.Clone(tc.desired), slices.Clone(tc.current)
			slices.Reverse(d)
			slices.Reverse(c)
			if rev := Plan(d, c); !slices.Equal(rev, got) {
				t.Fatalf("Plan of reversed input:\n got\n%s want\n%s", formatTasks(rev), formatTasks(got))
			}
		})
	}
}

func TestPlanNothingToDo(t *testing.T) {
	runPlanCases(t, []planCase{
		{name: "empty"},
		{name: "launched and active", desired: []DesiredUnit{launched("a.service")}, current: []CurrentUnit{running1("a.service")}},
		{name: "loaded and inactive", desired: []DesiredUnit{loaded("a.service")}, current: []CurrentUnit{idle1("a.service")}},
		{name: "loaded and failed", desired: []DesiredUnit{loaded("a.service")}, current: []CurrentUnit{have("a.service", 1, 0, "loaded", "failed")}},
		{name: "with its port", desired: []DesiredUnit{want("a.service", 1, 8080, unit.StateLaunched)}, current: []CurrentUnit{have("a.service", 1, 8080, "loaded", "active")}},
		{name: "launched and activating is left alone", desired: []DesiredUnit{launched("a.service")}, current: []CurrentUnit{have("a.service", 1, 0, "loaded", "activating")}},
		{name: "launched and deactivating is left alone", desired: []DesiredUnit{launched("a.service")}, current: []CurrentUnit{have("a.service", 1, 0, "loaded", "deactivating")}},
		{name: "launched and reloading is left alone", desired: []DesiredUnit{launched("a.service")}, current: []CurrentUnit{have("a.service", 1, 0, "loaded", "reloading")}},
		{name: "empty names are ignored", desired: []DesiredUnit{launched("")}, current: []CurrentUnit{running1("")}},
	})
}

// Rules 1 and 2: units that are not wanted here are stopped if running,
// then unloaded.
func TestPlanRemove(t *testing.T) {
	runPlanCases(t, []planCase{
		{
			name:    "running unit not scheduled here",
			current: []CurrentUnit{running1("a.service")},
			want:    []Task{stop("a.service", ReasonNotScheduledHere), unload("a.service", ReasonNotScheduledHere), reload},
		},
		{
			name:    "inactive unit is not stopped",
			current: []CurrentUnit{idle1("a.service")},
			want:    []Task{unload("a.service", ReasonNotScheduledHere), reload},
		},
		{
			name:    "failed unit is not stopped",
			current: []CurrentUnit{have("a.service", 1, 0, "loaded", "failed")},
			want:    []Task{unload("a.service", ReasonNotScheduledHere), reload},
		},
		{
			name:    "deactivating unit is stopped",
			current: []CurrentUnit{have("a.service", 1, 0, "loaded", "deactivating")},
			want:    []Task{stop("a.service", ReasonNotScheduledHere), unload("a.service", ReasonNotScheduledHere), reload},
		},
		{
			name:    "unknown active state counts as running",
			current: []CurrentUnit{have("a.service", 1, 0, "loaded", "")},
			want:    []Task{stop("a.service", ReasonNotScheduledHere), unload("a.service", ReasonNotScheduledHere), reload},
		},
		{
			name:    "not-found unit is unloaded too",
			current: []CurrentUnit{have("a.service", 1, 0, "not-found", "inactive")},
			want:    []Task{unload("a.service", ReasonNotScheduledHere), reload},
		},
		{
			name:    "desired inactive",
			desired: []DesiredUnit{want("a.service", 1, 0, unit.StateInactive)},
			current: []CurrentUnit{running1("a.service")},
			want:    []Task{stop("a.service", ReasonDesiredInactive), unload("a.service", ReasonDesiredInactive), reload},
		},
		{
			name:    "unknown desired state counts as inactive",
			desired: []DesiredUnit{want("a.service", 1, 0, unit.State(9))},
			current: []CurrentUnit{idle1("a.service")},
			want:    []Task{unload("a.service", ReasonDesiredInactive), reload},
		},
		{
			name:    "desired inactive and not here",
			desired: []DesiredUnit{want("a.service", 1, 0, unit.StateInactive)},
		},
	})
}

// Rule 3: new units are loaded, and units systemd did not load are loaded
// again.
func TestPlanLoad(t *testing.T) {
	runPlanCases(t, []planCase{
		{
			name:    "new loaded unit",
			desired: []DesiredUnit{want("a.service", 2, 8080, unit.StateLoaded)},
			want:    []Task{load("a.service", 2, 8080, ReasonScheduledHere), reload},
		},
		{
			name:    "new launched unit",
			desired: []DesiredUnit{launched("a.service")},
			want:    []Task{load1("a.service", ReasonScheduledHere), reload, start("a.service", ReasonDesiredLaunched)},
		},
		{
			name:    "not loaded, inactive",
			desired: []DesiredUnit{launched("a.service")},
			current: []CurrentUnit{have("a.service", 1, 0, "not-found", "inactive")},
			want:    []Task{load1("a.service", ReasonNotLoaded), reload, start("a.service", ReasonDesiredLaunched)},
		},
		{
			name:    "not loaded but still active",
			desired: []DesiredUnit{launched("a.service")},
			current: []CurrentUnit{have("a.service", 1, 0, "error", "active")},
			want:    []Task{load1("a.service", ReasonNotLoaded), reload},
		},
		{
			name:    "masked, desired loaded and running",
			desired: []DesiredUnit{loaded("a.service")},
			current: []CurrentUnit{have("a.service", 1, 0, "masked", "active")},
			want:    []Task{load1("a.service", ReasonNotLoaded), reload, stop("a.service", ReasonDesiredLoaded)},
		},
	})
}

// Rules 1 to 3 for a unit whose file or port changed: stopped if running,
// unloaded, loaded anew, started again if launched.
func TestPlanReplace(t *testing.T) {
	runPlanCases(t, []planCase{
		{
			name:    "content changed, running",
			desired: []DesiredUnit{want("a.service", 2, 0, unit.StateLaunched)},
			current: []CurrentUnit{running1("a.service")},
			want: []Task{
				stop("a.service", ReasonContentChanged), unload("a.service", ReasonContentChanged),
				load("a.service", 2, 0, ReasonContentChanged), reload, start("a.service", ReasonDesiredLaunched),
			},
		},
		{
			name:    "port changed, desired loaded",
			desired: []DesiredUnit{want("a.service", 1, 8081, unit.StateLoaded)},
			current: []CurrentUnit{have("a.service", 1, 8080, "loaded", "active")},
			want: []Task{
				stop("a.service", ReasonPortChanged), unload("a.service", ReasonPortChanged),
				load("a.service", 1, 8081, ReasonPortChanged), reload,
			},
		},
		{
			name:    "content and port changed",
			desired: []DesiredUnit{want("a.service", 2, 8081, unit.StateLoaded)},
			current: []CurrentUnit{have("a.service", 1, 8080, "loaded", "inactive")},
			want:    []Task{unload("a.service", ReasonContentChanged), load("a.service", 2, 8081, ReasonContentChanged), reload},
		},
		{
			name:    "changed and failed is restarted fresh",
			desired: []DesiredUnit{want("a.service", 2, 0, unit.StateLaunched)},
			current: []CurrentUnit{have("a.service", 1, 0, "loaded", "failed")},
			want: []Task{
				unload("a.service", ReasonContentChanged), load("a.service", 2, 0, ReasonContentChanged),
				reload, start("a.service", ReasonDesiredLaunched),
			},
		},
	})
}

// Rules 5 and 6: loaded units run or not as desired.
func TestPlanStartStop(t *testing.T) {
	runPlanCases(t, []planCase{
		{
			name:    "desired loaded, active",
			desired: []DesiredUnit{loaded("a.service")},
			current: []CurrentUnit{running1("a.service")},
			want:    []Task{stop("a.service", ReasonDesiredLoaded)},
		},
		{
			name:    "desired loaded, activating",
			desired: []DesiredUnit{loaded("a.service")},
			current: []CurrentUnit{have("a.service", 1, 0, "loaded", "activating")},
			want:    []Task{stop("a.service", ReasonDesiredLoaded)},
		},
		{
			name:    "desired launched, inactive",
			desired: []DesiredUnit{launched("a.service")},
			current: []CurrentUnit{idle1("a.service")},
			want:    []Task{start("a.service", ReasonDesiredLaunched)},
		},
		{
			name:    "desired launched, failed",
			desired: []DesiredUnit{launched("a.service")},
			current: []CurrentUnit{have("a.service", 1, 0, "loaded", "failed")},
			want:    []Task{start("a.service", ReasonFailed)},
		},
	})
}

// The phases come in order, each sorted by name, with one daemon-reload.
func TestPlanPhaseOrder(t *testing.T) {
	runPlanCases(t, []planCase{{
		name: "every phase",
		desired: []DesiredUnit{
			launched("f.service"), want("d.service", 2, 0, unit.StateLaunched), loaded("g.service"),
			launched("h.service"), want("e.service", 2, 0, unit.StateLoaded), launched("c.service"),
		},
		current: []CurrentUnit{
			running1("b.service"), running1("g.service"), running1("d.service"), idle1("a.service"),
			running1("e.service"), have("h.service", 1, 0, "loaded", "failed"), idle1("f.service"),
		},
		want: []Task{
			stop("b.service", ReasonNotScheduledHere), stop("d.service", ReasonContentChanged), stop("e.service", ReasonContentChanged),
			unload("a.service", ReasonNotScheduledHere), unload("b.service", ReasonNotScheduledHere),
			unload("d.service", ReasonContentChanged), unload("e.service", ReasonContentChanged),
			load1("c.service", ReasonScheduledHere), load("d.service", 2, 0, ReasonContentChanged), load("e.service", 2, 0, ReasonContentChanged),
			reload,
			stop("g.service", ReasonDesiredLoaded),
			start("c.service", ReasonDesiredLaunched), start("d.service", ReasonDesiredLaunched),
			start("f.service", ReasonDesiredLaunched), start("h.service", ReasonFailed),
		},
	}})
}

func TestPlanDoesNotModifyInput(t *testing.T) {
	desired := []DesiredUnit{launched("b.service"), launched("a.service"), loaded("a.service")}
	current := []CurrentUnit{running1("c.service"), idle1("b.service"), idle1("b.service")}
	d, c := slices.Clone(desired), slices.Clone(current)
	Plan(desired, current)
	if !slices.Equal(desired, d) || !slices.Equal(current, c) {
		t.Fatalf("Plan modified its input")
	}
}
