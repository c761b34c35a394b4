package leader

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/fleetsim/fleet/scheduler"
	"github.com/fleetsim/fleet/unit"
)

// body is a unit body with one [X-Fleet] line (none if xfleet is "").
func body(t *testing.T, xfleet string) ([]unit.Option, unit.Hash) {
	t.Helper()
	opts := []unit.Option{{Section: "Service", Name: "ExecStart", Value: "/bin/sleep 1d"}}
	if xfleet != "" {
		k, v, _ := cutEq(xfleet)
		opts = append(opts, unit.Option{Section: "X-Fleet", Name: k, Value: v})
	}
	f, err := unit.NewFile(opts)
	if err != nil {
		t.Fatal(err)
	}
	return opts, f.Hash()
}

func cutEq(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '=' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// world is a tiny registry the tests drive the step over by hand.
type world struct {
	t      *testing.T
	bodies map[unit.Hash][]unit.Option
	view   View
}

func newWorld(t *testing.T, machines ...string) *world {
	w := &world{t: t, bodies: map[unit.Hash][]unit.Option{}, view: View{Rev: 1}}
	for _, m := range machines {
		w.view.Machines = append(w.view.Machines, Machine{ID: m})
	}
	return w
}

// submit adds a job (names must be added in order).
func (w *world) submit(name, xfleet string, s unit.State) unit.Hash {
	opts, h := body(w.t, xfleet)
	w.bodies[h] = opts
	w.view.Jobs = append(w.view.Jobs, Job{Name: name, Hash: h, Desired: s})
	w.view.Rev++
	return h
}

// feed answers every body request of r.
func (w *world) feed(l *Leader, r Ready) {
	var out []Body
	for _, h := range r.Bodies {
		if o, ok := w.bodies[h]; ok {
			out = append(out, Body{Hash: h, Options: o})
		} else {
			out = append(out, Body{Hash: h, Err: errors.New("not found")})
		}
	}
	l.AddBodies(out)
}

// apply writes c into the view as a new revision.
func (w *world) apply(c *Commit) int64 {
	for _, ch := range c.Changes {
		var keep []Placement
		for _, p := range w.view.Schedule {
			if p.Unit != ch.Unit || p.Machine != ch.Machine {
				keep = append(keep, p)
			}
		}
		if !ch.Delete {
			keep = append(keep, ch.Placement)
		}
		w.view.Schedule = keep
	}
	w.view.Rev++
	w.view = sortedView(View{Rev: w.view.Rev, Jobs: w.view.Jobs, Machines: w.view.Machines, Schedule: w.view.Schedule, Unsorted: true})
	return w.view.Rev
}

// settle drives l until it waits, applying commits at once; it returns
// the last Ready.
func (w *world) settle(l *Leader) Ready {
	for range 20 {
		l.Observe(w.view)
		r := l.Ready()
		switch {
		case len(r.Bodies) > 0:
			w.feed(l, r)
		case r.Commit != nil:
			l.Committed(Applied, w.apply(r.Commit))
		default:
			return r
		}
	}
	w.t.Fatal("the leader never settled")
	return Ready{}
}

func (w *world) where(unit string) []string {
	var out []string
	for _, p := range w.view.Schedule {
		if p.Unit == unit {
			out = append(out, p.Machine)
		}
	}
	return out
}

func TestFollowerAndNewLeaderWait(t *testing.T) {
	l := New(nil)
	w := newWorld(t, "m1")
	w.submit("a.service", "", unit.StateLaunched)
	l.Observe(w.view)
	if r := l.Ready(); r.Wait != WaitFollower || r.Commit != nil || r.Bodies != nil {
		t.Fatalf("a follower asked for %+v", r)
	}
	l.Elected()
	if r := l.Ready(); r.Wait != WaitView {
		t.Fatalf("a new leader with no view read afresh: wait %v, want view", r.Wait)
	}
}

func TestPlansAfterBodiesThenWaitsForItsCommit(t *testing.T) {
	l := New(nil)
	w := newWorld(t, "m1", "m2")
	h := w.submit("a.service", "", unit.StateLaunched)
	l.Elected()
	l.Observe(w.view)
	r := l.Ready()
	if r.Wait != WaitBodies || len(r.Bodies) != 1 || r.Bodies[0] != h {
		t.Fatalf("want a request for a.service's body, got %+v", r)
	}
	if again := l.Ready(); again.Wait != WaitBodies || len(again.Bodies) != 0 {
		t.Fatalf("asked twice for one body: %+v", again)
	}
	w.feed(l, r)
	r = l.Ready()
	if r.Commit == nil || len(r.Commit.Changes) != 1 || r.Commit.Since != w.view.Rev {
		t.Fatalf("want one write since revision %d, got %+v", w.view.Rev, r.Commit)
	}
	c := r.Commit.Changes[0]
	if c.Unit != "a.service" || c.Hash != h || c.Desired != unit.StateLaunched || c.Delete {
		t.Fatalf("the placement must carry hash and desired state: %+v", c)
	}
	if r := l.Ready(); r.Wait != WaitCommit || r.Commit != nil {
		t.Fatalf("planned again with a commit in flight: %+v", r)
	}
	rev := w.apply(r.Commit)
	l.Committed(Applied, rev)
	l.Observe(View{Rev: rev - 1, Jobs: w.view.Jobs, Machines: w.view.Machines}) // a lagging copy
	if r := l.Ready(); r.Wait != WaitView {
		t.Fatalf("planned from a view older than its own commit: %+v", r)
	}
	l.Observe(w.view)
	if r := l.Ready(); r.Commit != nil || r.Plan != nil || r.Wait != WaitNothing {
		t.Fatalf("the view its own commit led to is that plan applied: nothing to plan, got %+v", r)
	}
	if r := l.Ready(); r.Plan != nil || r.Wait != WaitNothing {
		t.Fatalf("planned the same view twice: %+v", r)
	}
}

// The view a commit led to is planned again when anything else changed
// with it: a machine gone, a job changed, a placement written by another.
func TestViewAfterOwnCommitPlannedWhenMoreChanged(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(w *world)
	}{
		{"a machine gone", func(w *world) { w.view.Machines = w.view.Machines[1:] }},
		{"a job's desired state", func(w *world) {
			w.view.Jobs = slices.Clone(w.view.Jobs)
			w.view.Jobs[0].Desired = unit.StateLoaded
		}},
		{"a placement of another's", func(w *world) {
			w.view.Schedule = append(slices.Clone(w.view.Schedule), Placement{Unit: "b.service", Machine: "m2"})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := New(nil)
			w := newWorld(t, "m1", "m2")
			w.submit("a.service", "", unit.StateLaunched)
			w.submit("b.service", "", unit.StateLaunched)
			l.Elected()
			l.Observe(w.view)
			w.feed(l, l.Ready())
			r := l.Ready()
			if r.Commit == nil {
				t.Fatalf("no commit for two new units: %+v", r)
			}
			l.Committed(Applied, w.apply(r.Commit))
			tc.change(w) // at the commit's own revision, as a write folded into it
			l.Observe(w.view)
			if r := l.Ready(); r.Plan == nil {
				t.Fatalf("the view after its commit, with %s, was not planned: %+v", tc.name, r)
			}
		})
	}
}

func TestScheduleAfter(t *testing.T) {
	p := func(u, m string, port uint16) Placement { return Placement{Unit: u, Machine: m, Port: port} }
	base := []Placement{p("a", "m1", 0), p("b", "m1", 0), p("c", "m2", 0)}
	changes := []Change{{Placement: p("d", "m1", 0)}, {Delete: true, Placement: p("b", "m1", 0)},
		{Placement: p("a", "m1", 80)}, {Delete: true, Placement: p("x", "m9", 0)}}
	want := []Placement{p("a", "m1", 80), p("c", "m2", 0), p("d", "m1", 0)}
	if !scheduleAfter(want, base, changes) {
		t.Fatal("base with the changes applied is not recognized")
	}
	for _, got := range [][]Placement{
		{p("a", "m1", 0), p("c", "m2", 0), p("d", "m1", 0)},                   // a put not applied
		{p("a", "m1", 80), p("b", "m1", 0), p("c", "m2", 0), p("d", "m1", 0)}, // a delete not applied
		{p("a", "m1", 80), p("c", "m2", 0)},                                   // a new placement missing
		{p("a", "m1", 80), p("c", "m2", 0), p("d", "m1", 0), p("e", "m1", 0)}, // one more
		nil,
	} {
		if scheduleAfter(got, base, changes) {
			t.Errorf("%v taken for base with the changes applied", got)
		}
	}
	if !scheduleAfter(base, base, nil) {
		t.Error("base with no change is not base")
	}
}

// TestLaggingViewNeverPlacesTwice is the bug a lagging watch once caused:
// a plan made from a view that does not have the leader's own commit yet
// places the same unit again.
func TestLaggingViewNeverPlacesTwice(t *testing.T) {
	l := New(nil)
	w := newWorld(t, "m1", "m2")
	w.submit("a.service", "", unit.StateLaunched)
	l.Elected()
	before := w.view
	w.settle(l)
	l.Observe(before) // older: ignored
	l.Tick()
	if r := l.Ready(); r.Commit != nil {
		t.Fatalf("planned from an older view: %+v", r.Commit)
	}
	if got := w.where("a.service"); len(got) != 1 {
		t.Fatalf("a.service on %v, want one machine", got)
	}
}

func TestInvalidUnitLeftOutOthersPlaced(t *testing.T) {
	l := New(nil)
	w := newWorld(t, "m1", "m2")
	w.submit("a.service", "", unit.StateLaunched)
	w.submit("bad.service", "MachineMetadata=novalue", unit.StateLaunched)
	w.submit("c.service", "", unit.StateLaunched)
	w.view.Schedule = []Placement{{Unit: "bad.service", Machine: "m9"}} // on a machine now gone
	l.Elected()
	l.Observe(w.view)
	w.feed(l, l.Ready())
	r := l.Ready()
	if len(r.Invalid) != 1 || r.Invalid[0].Unit != "bad.service" {
		t.Fatalf("want bad.service reported, got %v", r.Invalid)
	}
	for _, c := range r.Commit.Changes {
		if c.Unit == "bad.service" {
			t.Fatalf("an invalid unit's placement was touched: %+v", c)
		}
	}
	l.Committed(Applied, w.apply(r.Commit))
	if len(w.where("a.service")) != 1 || len(w.where("c.service")) != 1 {
		t.Fatalf("the valid units must be placed: %v", w.view.Schedule)
	}
	w.submit("d.service", "", unit.StateLaunched)
	r = w.settle(l)
	if len(r.Invalid) != 0 {
		t.Fatalf("an invalid unit reported twice: %v", r.Invalid)
	}
	if got := l.LeftOut(); len(got) != 1 || got[0].Unit != "bad.service" {
		t.Fatalf("LeftOut = %v", got)
	}
}

func TestMissingBodyAskedAgainAtANewerView(t *testing.T) {
	l := New(nil)
	w := newWorld(t, "m1")
	h := w.submit("a.service", "", unit.StateLaunched)
	opts := w.bodies[h]
	delete(w.bodies, h)
	l.Elected()
	r := w.settle(l)
	if len(l.LeftOut()) != 1 || r.Commit != nil {
		t.Fatalf("a unit without a body must be left out: %v", l.LeftOut())
	}
	w.bodies[h] = opts
	w.view.Rev++
	w.settle(l)
	if got := w.where("a.service"); len(got) != 1 {
		t.Fatalf("a.service was not placed once its body could be read: %v", w.view.Schedule)
	}
}

func TestOutcomes(t *testing.T) {
	for _, tc := range []struct {
		o         Outcome
		wait      Wait
		afterTick bool // plans again after a tick, on the same view
	}{
		{Stale, WaitNothing, false},
		{NotLeader, WaitFollower, false},
		{Failed, WaitTick, true},
	} {
		t.Run(tc.o.String(), func(t *testing.T) {
			l := New(nil)
			w := newWorld(t, "m1")
			w.submit("a.service", "", unit.StateLaunched)
			l.Elected()
			l.Observe(w.view)
			w.feed(l, l.Ready())
			if r := l.Ready(); r.Commit == nil {
				t.Fatal("no commit")
			}
			l.Committed(tc.o, 0)
			if r := l.Ready(); r.Wait != tc.wait || r.Commit != nil {
				t.Fatalf("after %v: %+v, want wait %v", tc.o, r, tc.wait)
			}
			l.Tick()
			if r := l.Ready(); (r.Commit != nil) != tc.afterTick {
				t.Fatalf("after %v and a tick: commit %v, want %v", tc.o, r.Commit, tc.afterTick)
			}
		})
	}
}

func TestStaleCommitReplannedFromTheNewView(t *testing.T) {
	l := New(nil)
	w := newWorld(t, "m1", "m2")
	w.submit("a.service", "", unit.StateLaunched)
	l.Elected()
	l.Observe(w.view)
	w.feed(l, l.Ready())
	r := l.Ready()
	l.Committed(Stale, 0)
	w.submit("b.service", "Conflicts=a.service", unit.StateLaunched)
	r = w.settle(l)
	if r.Plan == nil && l.LastPlan() == nil {
		t.Fatal("no plan after the newer view")
	}
	a, b := w.where("a.service"), w.where("b.service")
	if len(a) != 1 || len(b) != 1 || a[0] == b[0] {
		t.Fatalf("a on %v, b on %v: want one each, apart", a, b)
	}
}

func TestRefreshesHashAndDesiredOfPlacements(t *testing.T) {
	l := New(nil)
	w := newWorld(t, "m1")
	w.submit("a.service", "", unit.StateLaunched)
	l.Elected()
	w.settle(l)
	w.view.Jobs = slices.Clone(w.view.Jobs) // a view's slices are never changed once given
	w.view.Jobs[0].Desired = unit.StateLoaded
	w.view.Rev++
	w.settle(l)
	if p := w.view.Schedule; len(p) != 1 || p[0].Desired != unit.StateLoaded || p[0].Machine != "m1" {
		t.Fatalf("placement not refreshed in place: %+v", p)
	}
}

// A driver may hand the same jobs again (the very array) when only the
// machines or the schedule changed: the plan follows the new machines.
func TestSameJobsGivenAgainPlanTheNewMachines(t *testing.T) {
	l := New(nil)
	w := newWorld(t, "m1", "m2")
	w.submit("a.service", "Conflicts=b.service", unit.StateLaunched)
	w.submit("b.service", "", unit.StateLaunched)
	l.Elected()
	w.settle(l) // the last view planned holds the jobs' array as it stands
	gone := w.where("a.service")[0]
	var left []Machine
	for _, m := range w.view.Machines {
		if m.ID != gone {
			left = append(left, m)
		}
	}
	w.view.Machines = left
	w.view.Rev++
	l.Observe(w.view)
	r := l.Ready()
	if len(r.Bodies) > 0 || r.Commit == nil {
		t.Fatalf("the same jobs with a machine gone: want a commit and no body asked, got %+v", r)
	}
	l.Committed(Applied, w.apply(r.Commit))
	w.settle(l)
	if a, b := w.where("a.service"), w.where("b.service"); len(a)+len(b) != 1 || len(a) == 1 && a[0] == gone {
		t.Fatalf("one machine left and two conflicting units: a on %v, b on %v", a, b)
	}
}

func TestCachesKeepOnlyWhatTheViewUses(t *testing.T) {
	l := New(nil)
	w := newWorld(t, "m1")
	for i := range 40 {
		w.submit(fmt.Sprintf("u%02d.service", i), fmt.Sprintf("MachineMetadata=n=%d", i), unit.StateInactive)
	}
	l.Elected()
	w.settle(l)
	if len(l.reqs) != 40 {
		t.Fatalf("%d requirements cached, want 40", len(l.reqs))
	}
	w.view.Jobs = w.view.Jobs[:5]
	w.view.Rev++
	w.settle(l)
	if len(l.reqs) != 5 {
		t.Fatalf("%d requirements cached after 35 units went, want 5", len(l.reqs))
	}
}

func TestSchedulerRefusalIsReportedOnce(t *testing.T) {
	l := New(nil)
	w := newWorld(t, "m1", "m1")
	w.submit("a.service", "", unit.StateLaunched)
	l.Elected()
	l.Observe(w.view)
	w.feed(l, l.Ready())
	if r := l.Ready(); r.Err == nil {
		t.Fatal("a machine named twice must be refused")
	}
	if r := l.Ready(); r.Err != nil || r.Wait != WaitNothing {
		t.Fatalf("the same view refused twice: %+v", r)
	}
}

func TestChangesOneWritePerKey(t *testing.T) {
	jobs := []Job{{Name: "a.service", Desired: unit.StateLaunched}}
	plan := &scheduler.Plan{Actions: []scheduler.Action{
		{Kind: scheduler.Move, Unit: "a.service", From: "m1", To: "m2"},
		{Kind: scheduler.Move, Unit: "a.service", From: "m2", To: "m1"},
	}}
	got := Changes(plan, nil, jobs)
	if len(got) != 2 {
		t.Fatalf("want one write per (unit, machine), got %+v", got)
	}
	for _, c := range got {
		if c.Machine == "m1" && c.Delete || c.Machine == "m2" && !c.Delete {
			t.Fatalf("the last decision must win: %+v", got)
		}
	}
}

func TestBrokenJobRecordLeftOutWithItsPlacements(t *testing.T) {
	l := New(nil)
	w := newWorld(t, "m1", "m2")
	w.submit("a.service", "", unit.StateLaunched)
	w.view.Jobs = append(w.view.Jobs, Job{Name: "b.service", Err: errors.New("corrupt record")})
	w.view.Schedule = []Placement{{Unit: "b.service", Machine: "m1"}}
	w.submit("c.service", "", unit.StateLaunched)
	l.Elected()
	r := w.settle(l)
	if got := l.LeftOut(); len(got) != 1 || got[0].Unit != "b.service" {
		t.Fatalf("LeftOut = %v, want b.service", got)
	}
	if len(w.where("a.service")) != 1 || len(w.where("c.service")) != 1 {
		t.Fatalf("the other units must be placed: %v", w.view.Schedule)
	}
	if got := w.where("b.service"); len(got) != 1 || got[0] != "m1" {
		t.Fatalf("a broken record's placement must stay as it is: %v (%+v)", got, r)
	}
}

// A body read that gets no answer is asked for again, not waited for
// forever.
func TestLostBodyReadIsAskedAgain(t *testing.T) {
	l := New(nil)
	w := newWorld(t, "m1")
	h := w.submit("a.service", "", unit.StateLaunched)
	l.Elected()
	l.Observe(w.view)
	r := l.Ready()
	if len(r.Bodies) != 1 {
		t.Fatalf("want a body request, got %+v", r)
	}
	l.BodiesLost(r.Bodies)
	if r := l.Ready(); len(r.Bodies) != 1 || r.Bodies[0] != h {
		t.Fatalf("a lost read must be asked for again: %+v", r)
	}
}
