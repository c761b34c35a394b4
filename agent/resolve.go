package agent

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
)

// resolveDesired returns the desired units Plan reconciles, one per name,
// sorted by name, and the set of names listed only with an inactive state.
// Entries with an empty name are dropped. The input is not modified.
func resolveDesired(in []DesiredUnit) ([]DesiredUnit, map[string]bool) {
	want := make([]DesiredUnit, 0, len(in))
	var listed map[string]bool // names listed inactive, maybe also active
	for _, d := range in {
		switch {
		case d.Name == "":
		case d.State.Active():
			want = append(want, d)
		default:
			if listed == nil {
				listed = make(map[string]bool)
			}
			listed[d.Name] = true
		}
	}
	if namesAscending(want, func(d DesiredUnit) string { return d.Name }) {
		return want, listed // the usual case: one entry per name, in order
	}
	slices.SortFunc(want, compareDesired)
	want = slices.CompactFunc(want, func(a, b DesiredUnit) bool { return a.Name == b.Name })
	return want, listed
}

// compareDesired orders desired units by name and, within a name, puts
// the one Plan keeps first: launched before loaded, then the larger hash,
// then the larger port. It compares every field, so the order, and the
// unit kept, do not depend on the input order.
func compareDesired(a, b DesiredUnit) int {
	return cmp.Or(
		strings.Compare(a.Name, b.Name),
		cmp.Compare(b.State, a.State),
		bytes.Compare(b.Hash[:], a.Hash[:]),
		cmp.Compare(b.Port, a.Port),
	)
}

// resolveCurrent returns the current units, one per name, sorted by name.
// Entries with an empty name are dropped. The input is not modified.
func resolveCurrent(in []CurrentUnit) []CurrentUnit {
	return resolveCurrentInto(make([]CurrentUnit, 0, len(in)), in)
}

// resolveCurrentInto is resolveCurrent into dst's array.
func resolveCurrentInto(dst, in []CurrentUnit) []CurrentUnit {
	have := dst[:0]
	for _, c := range in {
		if c.Name != "" {
			have = append(have, c)
		}
	}
	if namesAscending(have, func(c CurrentUnit) string { return c.Name }) {
		return have // the usual case: one entry per name, in order
	}
	slices.SortFunc(have, compareCurrent)
	return slices.CompactFunc(have, func(a, b CurrentUnit) bool { return a.Name == b.Name })
}

// namesAscending reports whether the names of s are strictly ascending:
// sorted, and no name twice, so that sorting and compacting would leave
// s as it is.
func namesAscending[T any](s []T, name func(T) string) bool {
	for i := 1; i < len(s); i++ {
		if name(s[i-1]) >= name(s[i]) {
			return false
		}
	}
	return true
}

// compareCurrent orders current units by name and, within a name, puts
// the one Plan keeps first: a running unit (so that it is stopped, never
// forgotten), then the larger hash, port, load, active and sub state. It
// compares every field, like compareDesired.
func compareCurrent(a, b CurrentUnit) int {
	return cmp.Or(
		strings.Compare(a.Name, b.Name),
		compareBool(running(b.ActiveState), running(a.ActiveState)),
		bytes.Compare(b.Hash[:], a.Hash[:]),
		cmp.Compare(b.Port, a.Port),
		strings.Compare(b.LoadState, a.LoadState),
		strings.Compare(b.ActiveState, a.ActiveState),
		strings.Compare(b.SubState, a.SubState),
	)
}

// compareBool orders false before true.
func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	default:
		return -1
	}
}
