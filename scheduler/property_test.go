package scheduler

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// Property tests of the fast scheduler (README "Guarantees"). Each draws a
// snapshot with genSnapshot; a failure prints rapid's seed and the shrunk
// snapshot as a listing of machines, unit options and placements.

// propPlan runs the fast scheduler on a copy of snap and fails the check
// when it errors or changes its input.
func propPlan(t *rapid.T, snap *Snapshot) *Plan {
	in, before := genClone(snap), genClone(snap)
	plan, err := New().Plan(in)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if !reflect.DeepEqual(in, before) {
		t.Fatalf("Plan changed its input snapshot")
	}
	return plan
}

func propPlacementsText(ps []Placement) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("%s@%s:%d", p.Unit, p.Machine, p.Port)
	}
	return strings.Join(parts, " ")
}

func propPlanText(p *Plan) string {
	var b strings.Builder
	for _, a := range p.Actions {
		fmt.Fprintf(&b, "\n  %s %s %q->%q port %d (%s: %s)", a.Kind, a.Unit, a.From, a.To, a.Port, a.Reason, a.Detail)
	}
	for _, u := range p.Unscheduled {
		fmt.Fprintf(&b, "\n  unscheduled %s (%s: %s)", u.Unit, u.Reason, u.Detail)
	}
	return b.String()
}

// TestPlanMatchesReference: the fast scheduler ends with the same
// placements (ports included) and the same unscheduled units as the naive
// reference.
func TestPlanMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genSnapshot().Draw(t, "snapshot")
		plan := propPlan(t, c.Snap)
		got := Apply(c.Snap.Placements, plan)
		want, wantAll := referencePlan(c.Snap)
		// Unplaced global units are TestPlanListsUnplacedUnits' business.
		var gotUnscheduled, wantUnscheduled []string
		for _, u := range plan.Unscheduled {
			if !propIsGlobal(c.Snap, u.Unit) {
				gotUnscheduled = append(gotUnscheduled, u.Unit)
			}
		}
		for _, name := range wantAll {
			if !propIsGlobal(c.Snap, name) {
				wantUnscheduled = append(wantUnscheduled, name)
			}
		}
		if propPlacementsText(got) != propPlacementsText(want) {
			t.Fatalf("placements differ\n fast:      %s\n reference: %s\nplan:%s", propPlacementsText(got), propPlacementsText(want), propPlanText(plan))
		}
		if strings.Join(gotUnscheduled, " ") != strings.Join(wantUnscheduled, " ") {
			t.Fatalf("unscheduled units differ\n fast:      %v\n reference: %v\nplan:%s", gotUnscheduled, wantUnscheduled, propPlanText(plan))
		}
	})
}

// TestPlanInvariants: the placements after applying a plan break none of
// the README's guarantees, and the plan explains itself.
func TestPlanInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genSnapshot().Draw(t, "snapshot")
		plan := propPlan(t, c.Snap)
		final := Apply(c.Snap.Placements, plan)
		bad := propViolations(c.Snap, final)
		bad = append(bad, propPlanViolations(c.Snap, plan, final, false)...)
		if len(bad) > 0 {
			t.Fatalf("%s\nfinal: %s\nplan:%s", strings.Join(bad, "\n"), propPlacementsText(final), propPlanText(plan))
		}
	})
}

// TestPlanListsUnplacedUnits: every active unit, global ones included, is
// either placed or listed as unscheduled, never both (a global unit that
// runs nowhere is an active unit left without a machine).
func TestPlanListsUnplacedUnits(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genSnapshot().Draw(t, "snapshot")
		plan := propPlan(t, c.Snap)
		final := Apply(c.Snap.Placements, plan)
		if bad := propPlanViolations(c.Snap, plan, final, true); len(bad) > 0 {
			t.Fatalf("%s\nfinal: %s\nplan:%s", strings.Join(bad, "\n"), propPlacementsText(final), propPlanText(plan))
		}
	})
}

func propIsGlobal(snap *Snapshot, name string) bool {
	for _, u := range snap.Units {
		if u.Name == name {
			return u.Req.Global
		}
	}
	return false
}

// TestPlanIdempotent: planning again on the applied placements changes
// nothing.
func TestPlanIdempotent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genSnapshot().Draw(t, "snapshot")
		first := propPlan(t, c.Snap)
		again := genClone(c.Snap)
		again.Placements = Apply(c.Snap.Placements, first)
		second := propPlan(t, again)
		if !second.Empty() {
			t.Fatalf("second pass is not empty\nfirst:%s\nafter: %s\nsecond:%s", propPlanText(first), propPlacementsText(again.Placements), propPlanText(second))
		}
	})
}

// TestPlanOrderIndependent: shuffling machines, units and placements gives
// the same plan.
func TestPlanOrderIndependent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genSnapshot().Draw(t, "snapshot")
		want := propPlan(t, c.Snap)
		s := c.Snap
		shuffled := &Snapshot{}
		for _, i := range rapid.Permutation(propIndexes(len(s.Machines))).Draw(t, "machineOrder") {
			shuffled.Machines = append(shuffled.Machines, s.Machines[i])
		}
		for _, i := range rapid.Permutation(propIndexes(len(s.Units))).Draw(t, "unitOrder") {
			shuffled.Units = append(shuffled.Units, s.Units[i])
		}
		for _, i := range rapid.Permutation(propIndexes(len(s.Placements))).Draw(t, "placementOrder") {
			shuffled.Placements = append(shuffled.Placements, s.Placements[i])
		}
		if got := propPlan(t, shuffled); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffled snapshot gives another plan\nin order:%s\nshuffled:%s", propPlanText(want), propPlanText(got))
		}
	})
}

func propIndexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// TestPlanRejectsDuplicates: a snapshot naming a unit or a machine twice is
// invalid.
func TestPlanRejectsDuplicates(t *testing.T) {
	m := Machine{ID: "m01", Alive: true}
	u := Unit{Name: "a.service"}
	for name, snap := range map[string]*Snapshot{
		"unit":    {Machines: []Machine{m}, Units: []Unit{u, u}},
		"machine": {Machines: []Machine{m, m}, Units: []Unit{u}},
	} {
		if _, err := New().Plan(snap); err == nil {
			t.Errorf("duplicate %s: Plan returned no error", name)
		}
	}
}

// TestReferenceSelfCheck holds the oracle to the same guarantees: its
// final placements break no invariant, and running it again on them gives
// the same placements.
func TestReferenceSelfCheck(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genSnapshot().Draw(t, "snapshot")
		final, _ := referencePlan(c.Snap)
		if bad := propViolations(c.Snap, final); len(bad) > 0 {
			t.Fatalf("%s\nfinal: %s", strings.Join(bad, "\n"), propPlacementsText(final))
		}
		again := genClone(c.Snap)
		again.Placements = final
		if second, _ := referencePlan(again); propPlacementsText(second) != propPlacementsText(final) {
			t.Fatalf("second pass moves\nfirst:  %s\nsecond: %s", propPlacementsText(final), propPlacementsText(second))
		}
	})
}
