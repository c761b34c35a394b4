package scheduler

import (
	"sort"
	"sync"
)

// Scheduler computes plans. It holds no cluster state between passes: one
// value may serve any number of snapshots, from any goroutine, and every
// plan depends on its snapshot alone. It remembers what it derived from
// the last snapshot's units (names and requirements, not desired states)
// and uses it again while they stay the same, which spares most of a
// pass's set-up when a leader replans an unchanged set of units. New does
// no I/O.
type Scheduler struct {
	mu    sync.Mutex
	index *unitIndex // from the last pass; read-only once made
	// the per-unit working array of the last finished Plan, lent to the
	// next pass: at 100,000 units, fresh memory costs a pass more in page
	// faults than its work
	spare []unitInfo
}

// New returns a Scheduler.
func New() *Scheduler { return &Scheduler{} }

// Plan runs one scheduling pass over snap (see README.md). It fails only
// when the snapshot names a unit or a machine twice. snap is not modified.
func (s *Scheduler) Plan(snap *Snapshot) (*Plan, error) {
	p, err := s.run(snap)
	if err != nil {
		return nil, err
	}
	plan := p.plan()
	s.mu.Lock()
	s.spare = p.info // the plan holds nothing of it
	s.mu.Unlock()
	return plan, nil
}

// run makes one whole pass and keeps its working state.
func (s *Scheduler) run(snap *Snapshot) (*pass, error) {
	s.mu.Lock()
	index, spare := s.index, s.spare
	s.spare = nil // a pass running beside this one makes its own
	s.mu.Unlock()
	p, err := newPass(snap, index, spare)
	if err != nil {
		return nil, err
	}
	if p.index != index {
		s.mu.Lock()
		s.index = p.index
		s.mu.Unlock()
	}
	p.scheduleOrder()
	p.stale(snap.Placements)
	p.keep()
	p.globals()
	p.place()
	p.diff()
	sortActions(p.actions)
	sort.Slice(p.unsched, func(i, j int) bool { return p.unsched[i].Unit < p.unsched[j].Unit })
	return p, nil
}

func (p *pass) plan() *Plan { return &Plan{Actions: p.actions, Unscheduled: p.unsched} }

// Apply returns placements after plan, sorted by (unit, machine). Exact
// duplicates of (unit, machine) in placements collapse to the lowest port,
// as the scheduler reads them.
func Apply(placements []Placement, plan *Plan) []Placement {
	type key struct{ unit, machine string }
	cur := map[key]uint16{}
	for _, pl := range sortedPlacements(placements) {
		cur[key{pl.Unit, pl.Machine}] = pl.Port
	}
	for _, a := range plan.Actions {
		if a.Kind == Unschedule || a.Kind == Move {
			delete(cur, key{a.Unit, a.From})
		}
		if a.Kind == Schedule || a.Kind == Move {
			cur[key{a.Unit, a.To}] = a.Port
		}
	}
	out := make([]Placement, 0, len(cur))
	for k, port := range cur {
		out = append(out, Placement{Unit: k.unit, Machine: k.machine, Port: port})
	}
	sort.Slice(out, func(i, j int) bool { return placementLess(out[i], out[j]) })
	return out
}
