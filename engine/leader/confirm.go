package leader

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// applied is a commit of the leader's own, remembered until a view after
// it is planned: the view it was planned from and the changes it made.
type applied struct {
	base    *View
	changes []Change
}

// confirms reports whether v is exactly the last commit applied over the
// view it was planned from: the same jobs, every body read, the same
// machines, and the schedule with the commit's changes and nothing else.
// Planning such a view finds nothing to do (a plan applied is planned
// again to no action: the scheduler's idempotence), so it is not planned:
// at 100,000 units a plan costs a tenth of a second of the leader's CPU.
func (l *Leader) confirms(v *View) bool {
	a := l.applied
	return a != nil && l.entriesWhole && sameJobs(v.Jobs, a.base.Jobs) &&
		sameMachines(v.Machines, a.base.Machines) && scheduleAfter(v.Schedule, a.base.Schedule, a.changes)
}

// sameJobs reports whether a and b list the same jobs, none broken.
func sameJobs(a, b []Job) bool {
	if sameArray(a, b) {
		return true
	}
	return slices.EqualFunc(a, b, func(x, y Job) bool {
		return x.Name == y.Name && x.Hash == y.Hash && x.Desired == y.Desired && x.Err == nil && y.Err == nil
	})
}

// sameMachines reports whether a and b list the same machines with the
// same metadata.
func sameMachines(a, b []Machine) bool {
	return slices.EqualFunc(a, b, func(x, y Machine) bool { return x.ID == y.ID && maps.Equal(x.Metadata, y.Metadata) })
}

// scheduleAfter reports whether got is base with changes applied: both
// schedules sorted by (unit, machine), at most one change per key.
func scheduleAfter(got, base []Placement, changes []Change) bool {
	cs := slices.Clone(changes)
	slices.SortFunc(cs, func(x, y Change) int { return comparePlacement(&x.Placement, &y.Placement) })
	k, i, j := 0, 0, 0
	next := func(p Placement) bool { // the next placement of the expected schedule
		if k == len(got) || got[k] != p {
			return false
		}
		k++
		return true
	}
	for i < len(base) || j < len(cs) {
		var c int
		switch {
		case j == len(cs):
			c = -1
		case i == len(base):
			c = 1
		default:
			c = comparePlacement(&base[i], &cs[j].Placement)
		}
		ok := true
		switch {
		case c < 0:
			ok = next(base[i])
			i++
		case c > 0 && cs[j].Delete:
			j++ // a delete of what base does not have
		case c > 0:
			ok = next(cs[j].Placement)
			j++
		default:
			if !cs[j].Delete {
				ok = next(cs[j].Placement)
			}
			i, j = i+1, j+1
		}
		if !ok {
			return false
		}
	}
	return k == len(got)
}

// comparePlacement orders placements by (unit, machine).
func comparePlacement(a, b *Placement) int {
	return cmp.Or(strings.Compare(a.Unit, b.Unit), strings.Compare(a.Machine, b.Machine))
}
