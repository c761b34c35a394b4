package leader

import (
	"github.com/fleetsim/fleet/scheduler"
	"github.com/fleetsim/fleet/unit"
)

// resolve makes sure the requirements of every job of v are known: it
// parses bodies already read and returns those still to ask for. waiting
// is true when bodies asked for earlier have not come back.
func (l *Leader) resolve(v *View) (need []unit.Hash, waiting bool) {
	for _, j := range v.Jobs {
		k := reqKey{j.Name, j.Hash}
		if _, ok := l.reqs[k]; ok {
			continue
		}
		if opts, ok := l.bodies[j.Hash]; ok {
			req, _, err := unit.ParseRequirements(j.Name, opts)
			l.reqs[k] = &reqEntry{req: req, err: err}
			continue
		}
		if be := l.bodyErr[j.Hash]; be != nil && be.rev >= v.Rev {
			continue // unreadable at this revision: left out
		}
		if l.asked[j.Hash] {
			waiting = true
			continue
		}
		l.asked[j.Hash] = true
		need = append(need, j.Hash)
	}
	if len(need) == 0 && !waiting {
		clear(l.bodies)
	}
	return need, waiting
}

// snapshot builds the scheduler's input from v, leaving out units whose
// requirements are unknown or invalid together with their placements. It
// returns the units left out for the first time.
func (l *Leader) snapshot(v *View) (*scheduler.Snapshot, []InvalidUnit) {
	l.gen++
	s := &l.snap
	s.Machines = s.Machines[:0]
	for _, m := range v.Machines {
		s.Machines = append(s.Machines, scheduler.Machine{ID: m.ID, Metadata: m.Metadata, Alive: true})
	}
	s.Units, l.valid, l.leftOut = s.Units[:0], l.valid[:0], nil
	var (
		fresh   []InvalidUnit
		skipped map[string]bool
	)
	for _, j := range v.Jobs {
		bad, first := l.check(j)
		if bad == nil {
			s.Units = append(s.Units, scheduler.Unit{Name: j.Name, Desired: j.Desired, Req: l.reqs[reqKey{j.Name, j.Hash}].req})
			l.valid = append(l.valid, j)
			continue
		}
		if skipped == nil {
			skipped = map[string]bool{}
		}
		skipped[j.Name] = true
		l.leftOut = append(l.leftOut, *bad)
		if first {
			fresh = append(fresh, *bad)
		}
	}
	s.Placements = s.Placements[:0]
	for _, p := range v.Schedule {
		if !skipped[p.Unit] {
			s.Placements = append(s.Placements, scheduler.Placement{Unit: p.Unit, Machine: p.Machine, Port: p.Port})
		}
	}
	l.prune(len(v.Jobs))
	return s, fresh
}

// check returns why job j cannot be planned (nil if it can) and whether
// that is reported for the first time. It marks the job's entry as used.
func (l *Leader) check(j Job) (*InvalidUnit, bool) {
	if e := l.reqs[reqKey{j.Name, j.Hash}]; e != nil {
		e.seen = l.gen
		if e.err == nil {
			return nil, false
		}
		first := !e.reported
		e.reported = true
		return &InvalidUnit{Unit: j.Name, Hash: j.Hash, Err: e.err}, first
	}
	be := l.bodyErr[j.Hash]
	first := !be.reported
	be.reported = true
	return &InvalidUnit{Unit: j.Name, Hash: j.Hash, Err: be.err}, first
}

// prune forgets requirements no job of the last view used, once there
// are more of them than jobs.
func (l *Leader) prune(jobs int) {
	if len(l.reqs) <= jobs {
		return
	}
	for k, e := range l.reqs {
		if e.seen != l.gen {
			delete(l.reqs, k)
		}
	}
	for h, be := range l.bodyErr {
		if be.rev < l.view.Rev && !l.asked[h] {
			delete(l.bodyErr, h)
		}
	}
}
