package leader

import (
	"slices"

	"github.com/fleetsim/fleet/scheduler"
	"github.com/fleetsim/fleet/unit"
)

// resolve makes sure the requirements of every job of v are known: it
// parses bodies already read, lines up the entries with v.Jobs, and
// returns the bodies still to ask for. waiting is true when bodies asked
// for earlier have not come back. A job at the same position with the
// same name and hash as in the last view reuses its entry without a
// look-up.
func (l *Leader) resolve(v *View) (need []unit.Hash, waiting bool) {
	last, lastEntries := l.entryJobs, l.entries
	if l.entriesWhole && sameArray(v.Jobs, last) {
		return nil, false // the very jobs lined up last time, every body read
	}
	entries, whole := make([]*reqEntry, len(v.Jobs)), true
	for i, j := range v.Jobs {
		if j.Err != nil {
			continue // left out by check
		}
		if i < len(last) && last[i].Name == j.Name && last[i].Hash == j.Hash && lastEntries[i] != nil {
			entries[i] = lastEntries[i]
			continue
		}
		k := reqKey{j.Name, j.Hash}
		if e, ok := l.reqs[k]; ok {
			entries[i] = e
			continue
		}
		if opts, ok := l.bodies[j.Hash]; ok {
			req, _, err := unit.ParseRequirements(j.Name, opts)
			entries[i] = &reqEntry{req: req, err: err}
			l.reqs[k] = entries[i]
			continue
		}
		whole = false
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
		l.entryJobs, l.entries, l.entriesWhole = v.Jobs, entries, whole
	}
	return need, waiting
}

// sameArray reports whether a and b are the same elements of the same
// array, which Observe's contract says hold the same jobs.
func sameArray(a, b []Job) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}

// snapshot builds the scheduler's input from v, leaving out units whose
// requirements are unknown or invalid together with their placements. It
// returns the units left out for the first time. resolve has lined up
// the entries of v's jobs.
func (l *Leader) snapshot(v *View) (*scheduler.Snapshot, []InvalidUnit) {
	l.gen++
	s := &l.snap
	s.Machines = s.Machines[:0]
	for _, m := range v.Machines {
		s.Machines = append(s.Machines, scheduler.Machine{ID: m.ID, Metadata: m.Metadata, Alive: true})
	}
	s.Units, l.valid, l.leftOut = slices.Grow(s.Units[:0], len(v.Jobs)), slices.Grow(l.valid[:0], len(v.Jobs)), nil
	var (
		fresh   []InvalidUnit
		skipped map[string]bool
	)
	for i, j := range v.Jobs {
		bad, first := l.check(j, l.entries[i])
		if bad == nil {
			s.Units = append(s.Units, scheduler.Unit{Name: j.Name, Desired: j.Desired, Req: l.entries[i].req})
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
	s.Placements = slices.Grow(s.Placements[:0], len(v.Schedule))
	for _, p := range v.Schedule {
		if !skipped[p.Unit] {
			s.Placements = append(s.Placements, scheduler.Placement{Unit: p.Unit, Machine: p.Machine, Port: p.Port})
		}
	}
	l.prune(len(v.Jobs))
	if len(l.broken) > 0 {
		l.forgetMended(v)
	}
	return s, fresh
}

// forgetMended forgets broken job records that v no longer has broken,
// so that one broken again is reported again.
func (l *Leader) forgetMended(v *View) {
	still := map[string]bool{}
	for _, j := range v.Jobs {
		if j.Err != nil {
			still[j.Name] = true
		}
	}
	for name := range l.broken {
		if !still[name] {
			delete(l.broken, name)
		}
	}
}

// check returns why job j (with its entry e, nil if its body could not
// be read) cannot be planned, nil if it can, and whether that is
// reported for the first time. It marks the entry as used.
func (l *Leader) check(j Job, e *reqEntry) (*InvalidUnit, bool) {
	if j.Err != nil {
		first := !l.broken[j.Name]
		l.broken[j.Name] = true
		return &InvalidUnit{Unit: j.Name, Err: j.Err}, first
	}
	if e != nil {
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
