package scheduler

import (
	"fmt"
	"testing"

	"github.com/fleetsim/fleet/unit"
	"pgregory.net/rapid"
)

// TestReusedSchedulerPlansLikeAFreshOne keeps one Scheduler across a run
// of snapshots, each an edit of the last (the units' desired states, the
// machines, requirements, units added and removed, the previous plan
// applied, a requirement changed in place in the caller's memory), and
// expects every plan to be the one a new Scheduler makes.
func TestReusedSchedulerPlansLikeAFreshOne(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := New()
		snap := genSnapshot().Draw(t, "snapshot").Snap
		other := genSnapshot().Draw(t, "other").Snap // units to add
		steps := rapid.IntRange(1, 6).Draw(t, "steps")
		for step := 0; ; step++ {
			want, err := New().Plan(genClone(snap))
			if err != nil {
				t.Fatalf("step %d: fresh Plan: %v", step, err)
			}
			got, err := s.Plan(snap)
			if err != nil {
				t.Fatalf("step %d: reused Plan: %v", step, err)
			}
			if propPlanText(got) != propPlanText(want) {
				t.Fatalf("step %d: plans differ\n reused:%s\n fresh:%s", step, propPlanText(got), propPlanText(want))
			}
			if step == steps {
				return
			}
			snap = reuseEdit(t, snap, other, got)
		}
	})
}

// reuseEdit returns the next snapshot of TestReusedSchedulerPlansLikeAFreshOne.
func reuseEdit(t *rapid.T, snap, other *Snapshot, plan *Plan) *Snapshot {
	next := genClone(snap)
	pickUnit := func(label string) int { return rapid.IntRange(0, len(next.Units)-1).Draw(t, label) }
	switch edit := rapid.IntRange(0, 7).Draw(t, "edit"); {
	case edit == 0: // nothing changes
	case edit == 1 && len(next.Units) > 0:
		u := pickUnit("unit")
		next.Units[u].Desired = rapid.SampledFrom(genDesired).Draw(t, "desired")
	case edit == 2 && len(next.Machines) > 0:
		m := rapid.IntRange(0, len(next.Machines)-1).Draw(t, "machine")
		next.Machines[m].Alive = !next.Machines[m].Alive
		next.Machines[m].Metadata["region"] = rapid.SampledFrom([]string{"eu", "us", "ap"}).Draw(t, "region")
	case edit == 3 && len(next.Units) > 1:
		a, b := pickUnit("a"), pickUnit("b")
		next.Units[a].Req, next.Units[b].Req = next.Units[b].Req, next.Units[a].Req
	case edit == 4 && len(next.Units) > 0:
		u := pickUnit("removed")
		next.Units = append(next.Units[:u], next.Units[u+1:]...)
	case edit == 5 && len(other.Units) > 0:
		u := other.Units[rapid.IntRange(0, len(other.Units)-1).Draw(t, "added")]
		if !reuseHasUnit(next, u.Name) {
			next.Units = append(next.Units, u)
		}
	case edit == 6:
		next.Placements = Apply(next.Placements, plan)
	case edit == 7:
		// The caller changes a requirement where it lies, shared by the
		// snapshot the scheduler last saw.
		for i := range next.Units {
			if c := next.Units[i].Req.Conflicts; len(c) > 0 {
				c[0] = "*"
				break
			}
			if r := next.Units[i].Req.Replaces; len(r) > 0 {
				r[0] = "*"
				break
			}
		}
	}
	return next
}

var genDesired = []unit.State{unit.StateLaunched, unit.StateLoaded, unit.StateInactive}

func reuseHasUnit(s *Snapshot, name string) bool {
	for _, u := range s.Units {
		if u.Name == name {
			return true
		}
	}
	return false
}

// TestSchedulerSharedBetweenGoroutines plans different snapshots on one
// Scheduler from several goroutines at once (run under -race by make
// test): each plan is the one a new Scheduler makes of its snapshot.
func TestSchedulerSharedBetweenGoroutines(t *testing.T) {
	snaps := []*Snapshot{workload(t, 50, 400, 1), workload(t, 50, 400, 2), workload(t, 60, 300, 3)}
	want := make([]string, len(snaps))
	for i, snap := range snaps {
		plan, err := New().Plan(genClone(snap))
		if err != nil {
			t.Fatal(err)
		}
		want[i] = propPlanText(plan)
	}
	s := New()
	errs := make(chan error, 4*len(snaps))
	for g := 0; g < 4; g++ {
		go func() {
			for k := range snaps {
				i := (g + k) % len(snaps)
				plan, err := s.Plan(genClone(snaps[i]))
				switch {
				case err != nil:
					errs <- err
				case propPlanText(plan) != want[i]:
					errs <- fmt.Errorf("goroutine %d, snapshot %d: the shared Scheduler planned otherwise", g, i)
				default:
					errs <- nil
				}
			}
		}()
	}
	for range 4 * len(snaps) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
