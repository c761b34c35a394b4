package agent

import (
	"slices"
	"strings"
)

// Active states systemd reports, as published for a unit fleet could
// not install.
const (
	loadStateError  = "error"
	activeStateFail = "failed"
	subStateFailed  = "failed"
)

// reservedReason is published for a unit whose name fleet never manages.
const reservedReason = "refused: a unit the machine cannot lose (fleetd's own, D-Bus's or systemd's); fleet never manages it"

// statuses returns the unit states that changed since the last publish,
// and the units whose published state must go: installed units with
// systemd's states and the step's reason, and desired units that could
// not be installed, shown failed with the reason. It marks the records
// of the units it sees, and forgets those of units neither desired,
// installed, busy nor published.
func (s *Step) statuses() (publish []UnitStatus, unpublish []string) {
	publish, unpublish = s.scratch.publish[:0], s.scratch.unpublish[:0]
	for _, c := range s.current {
		if c.Name == "" {
			continue
		}
		r := s.record(c.Name)
		r.seen = s.gen
		if c.LoadState == loadStateLoaded && !r.fileErr && r.loadedFor == (startKey{hash: c.Hash, port: c.Port}) {
			r.backoff = 0 // what it loaded is loaded: a later failure backs off from the start
		}
		publish = s.note(publish, r, UnitStatus{Name: c.Name, Hash: c.Hash, LoadState: c.LoadState,
			ActiveState: c.ActiveState, SubState: c.SubState, Reason: r.reason})
	}
	for _, d := range s.want {
		r := s.units[d.Name]
		if r == nil {
			continue
		}
		r.seen = s.gen
		if r.fileErr && r.pubSeen != s.gen { // not installed
			publish = s.note(publish, r, UnitStatus{Name: d.Name, Hash: d.Hash, LoadState: loadStateError,
				ActiveState: activeStateFail, SubState: subStateFailed, Reason: r.reason})
		}
	}
	for name, d := range s.refused {
		r := s.record(name)
		r.seen = s.gen
		publish = s.note(publish, r, UnitStatus{Name: name, Hash: d.Hash, LoadState: loadStateError,
			ActiveState: activeStateFail, SubState: subStateFailed, Reason: reservedReason})
	}
	for name, r := range s.units {
		if r.hasPub && r.pubSeen != s.gen {
			unpublish = append(unpublish, name)
			r.hasPub = false
		}
		if r.seen != s.gen && r.job == 0 && !r.fileErr && !r.hasPub {
			delete(s.units, name) // neither desired, installed, busy nor published
		}
	}
	if !namesAscending(publish, func(st UnitStatus) string { return st.Name }) {
		slices.SortFunc(publish, func(a, b UnitStatus) int { return strings.Compare(a.Name, b.Name) })
	}
	slices.Sort(unpublish)
	s.scratch.publish, s.scratch.unpublish = publish, unpublish
	return owned(publish), owned(unpublish)
}

// changedStatuses publishes the states of the units SetUnits saw change
// when nothing else did: the same units, a state or two moved (a start
// that completed, a unit that exited).
func (s *Step) changedStatuses() StepReady {
	if len(s.changed) == 0 {
		return StepReady{}
	}
	r := StepReady{Publish: s.scratch.publish[:0]}
	for _, i := range s.changed {
		c := s.current[i]
		rec := s.units[c.Name]
		if c.Name == "" || rec == nil {
			continue
		}
		st := UnitStatus{Name: c.Name, Hash: c.Hash, LoadState: c.LoadState,
			ActiveState: c.ActiveState, SubState: c.SubState, Reason: rec.reason}
		if !rec.hasPub || rec.pub != st {
			rec.pub, rec.hasPub = st, true
			r.Publish = append(r.Publish, st)
		}
	}
	s.changed = s.changed[:0]
	s.scratch.publish, r.Publish = r.Publish, owned(r.Publish)
	return r
}

// note records st as r's state in this Ready and adds it to publish if it
// differs from what was published.
func (s *Step) note(publish []UnitStatus, r *record, st UnitStatus) []UnitStatus {
	if r.pubSeen == s.gen {
		return publish // a duplicate name: the first one stands
	}
	r.pubSeen = s.gen
	if r.hasPub && r.pub == st {
		return publish
	}
	r.pub, r.hasPub = st, true
	return append(publish, st)
}

// Unpublished says a state of the last Ready could not be published (or
// removed): it is tried again at the next Ready.
func (s *Step) Unpublished(name string) {
	r := s.record(name)
	r.pub, r.hasPub, r.pubSeen = UnitStatus{Name: "\x00"}, true, 0 // differs from any state
	s.dirty = true
}
