package leader

import (
	"fmt"

	"github.com/fleetsim/fleet/scheduler"
	"github.com/fleetsim/fleet/unit"
)

// Ready is what a leader asks of its driver now. Every part may be empty.
type Ready struct {
	// Bodies are unit bodies to read and hand back with AddBodies before
	// the leader can plan.
	Bodies []unit.Hash
	// Commit, when set, is a plan's writes: the driver commits them and
	// reports the outcome with Committed. Nothing else is planned until
	// then.
	Commit *Commit
	// Plan is the plan just made, nil if none was.
	Plan *scheduler.Plan
	// Invalid lists units left out of planning for the first time (for
	// the driver to log once): they keep their placements as they are.
	Invalid []InvalidUnit
	// Err is set when the scheduler refused the view (a unit or machine
	// named twice): that view is not planned again.
	Err error
	// Wait says what the leader waits for when it asks for nothing.
	Wait Wait
}

// Leader is one fleetd's engine decisions. It is not safe for concurrent
// use: its driver owns it. New does no I/O.
type Leader struct {
	sched *scheduler.Scheduler

	leading   bool
	view      *View
	committed int64 // revision of its last applied commit
	planned   int64 // revision of the view it last planned from; -1 for none
	inflight  bool  // a commit is on its way
	retry     bool  // a commit failed: plan again at the next tick

	reqs    map[reqKey]*reqEntry
	bodies  map[unit.Hash][]unit.Option // read, not yet parsed
	bodyErr map[unit.Hash]*bodyErr      // bodies that could not be read
	asked   map[unit.Hash]bool          // asked for, not yet answered
	broken  map[string]bool             // job records that do not decode, reported
	gen     uint32                      // bumped at every snapshot, for pruning reqs

	lastPlan *scheduler.Plan
	leftOut  []InvalidUnit
	applied  *applied // the last commit applied, until a view after it is planned

	// entries lines up the requirements of entryJobs (the jobs of the
	// last view resolved), nil where a body could not be read.
	entryJobs []Job
	// entriesWhole says every job of entryJobs whose record decodes has
	// its entry: no body was missing or unreadable.
	entriesWhole bool
	entries      []*reqEntry

	// buffers kept from one plan to the next
	snap  scheduler.Snapshot
	valid []Job
}

type reqKey struct {
	name string
	hash unit.Hash
}

// reqEntry is a unit's parsed requirements, or why they do not parse.
type reqEntry struct {
	req      unit.Requirements
	err      error
	reported bool
	seen     uint32
}

// bodyErr is a body that could not be read at view revision rev.
type bodyErr struct {
	err      error
	rev      int64
	reported bool
}

// New returns a leader that does not lead yet. sched may be shared with
// other leaders; nil makes a new one.
func New(sched *scheduler.Scheduler) *Leader {
	if sched == nil {
		sched = scheduler.New()
	}
	return &Leader{
		sched:   sched,
		planned: -1,
		reqs:    map[reqKey]*reqEntry{},
		bodies:  map[unit.Hash][]unit.Option{},
		bodyErr: map[unit.Hash]*bodyErr{},
		asked:   map[unit.Hash]bool{},
		broken:  map[string]bool{},
	}
}

// Leading reports whether the step believes it leads.
func (l *Leader) Leading() bool { return l.leading }

// LastPlan returns the last plan made, or nil.
func (l *Leader) LastPlan() *scheduler.Plan { return l.lastPlan }

// LeftOut returns the units the last plan left out, sorted by name.
func (l *Leader) LeftOut() []InvalidUnit { return l.leftOut }

// Elected says the leadership was won. A new leader trusts nothing it
// saw before: it waits for a view read afresh. What it parsed from
// bodies stays, being keyed by content.
func (l *Leader) Elected() {
	l.leading, l.inflight, l.retry = true, false, false
	l.view, l.committed, l.planned, l.applied = nil, 0, -1, nil
	clear(l.asked)
}

// Deposed says the leadership is lost (the election session ended, or a
// commit was refused for it). A commit in flight may still land or not;
// a later leader plans from what it finds.
func (l *Leader) Deposed() {
	l.leading, l.inflight, l.retry, l.view, l.applied = false, false, false, nil, nil
	clear(l.asked)
}

// Observe gives the cluster view at v.Rev. A view older than the one
// held is ignored: a lagging copy says nothing new. The step keeps v's
// slices and never changes them; the caller must not change them either
// once given, but may give the same Jobs again in a later view when the
// jobs did not change, which spares the step lining them up again.
func (l *Leader) Observe(v View) {
	if l.view != nil && v.Rev < l.view.Rev {
		return
	}
	if v.Unsorted {
		v = sortedView(v)
	}
	l.view = &v
}

// AddBodies hands over bodies asked for in Ready.Bodies (and any others,
// which are kept until planned).
func (l *Leader) AddBodies(bs []Body) {
	for _, b := range bs {
		delete(l.asked, b.Hash)
		if b.Err != nil {
			rev := int64(0)
			if l.view != nil {
				rev = l.view.Rev
			}
			prev := l.bodyErr[b.Hash]
			l.bodyErr[b.Hash] = &bodyErr{err: b.Err, rev: rev, reported: prev != nil && prev.reported}
			continue
		}
		delete(l.bodyErr, b.Hash)
		l.bodies[b.Hash] = b.Options
	}
}

// BodiesLost says the bodies of hs, asked for in a Ready, could not be
// read (the store did not answer): the next Ready asks for them again.
func (l *Leader) BodiesLost(hs []unit.Hash) {
	for _, h := range hs {
		delete(l.asked, h)
	}
}

// Committed reports the outcome of the commit of the last Ready; rev is
// the revision of an applied commit.
func (l *Leader) Committed(o Outcome, rev int64) {
	l.inflight = false
	if o != Applied {
		l.applied = nil
	}
	switch o {
	case Applied:
		l.committed = max(l.committed, rev)
	case NotLeader:
		l.Deposed()
	case Failed:
		l.retry = true
	case Stale:
		// A view with the change that refused it is on its way, and a
		// plan from it.
	}
}

// Tick says an engine interval has passed: a failed commit is retried.
func (l *Leader) Tick() {
	if l.retry {
		l.retry, l.planned = false, -1
	}
}

// Ready returns what to do now. It plans when it leads, holds a view at
// least as new as its last commit and newer than its last plan, has no
// commit in flight, and has read every body the view's units use; a view
// that is exactly its last commit applied and nothing else is taken as
// planned (see confirms).
func (l *Leader) Ready() Ready {
	switch {
	case !l.leading:
		return Ready{Wait: WaitFollower}
	case l.inflight:
		return Ready{Wait: WaitCommit}
	case l.view == nil || l.view.Rev < l.committed:
		return Ready{Wait: WaitView}
	case l.retry:
		return Ready{Wait: WaitTick}
	case l.planned == l.view.Rev:
		return Ready{Wait: WaitNothing}
	case l.confirms(l.view):
		l.planned, l.applied = l.view.Rev, nil
		return Ready{Wait: WaitNothing}
	}
	l.applied = nil // any other view is planned
	need, waiting := l.resolve(l.view)
	if len(need) > 0 || waiting {
		return Ready{Bodies: need, Wait: WaitBodies}
	}
	return l.plan(l.view)
}

// plan runs the scheduler over v and turns the plan into writes.
func (l *Leader) plan(v *View) Ready {
	l.planned = v.Rev
	snap, invalid := l.snapshot(v)
	plan, err := l.sched.Plan(snap)
	if err != nil {
		return Ready{Err: fmt.Errorf("leader: view at revision %d: %w", v.Rev, err), Invalid: invalid}
	}
	l.lastPlan = plan
	r := Ready{Plan: plan, Invalid: invalid}
	if changes := Changes(plan, v.Schedule, l.valid); len(changes) > 0 {
		r.Commit = &Commit{Since: v.Rev, Changes: changes}
		l.inflight, l.applied = true, &applied{base: v, changes: changes}
	}
	return r
}
