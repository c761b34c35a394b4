package registry

import (
	"slices"
	"sort"
)

// sortedSet is a set of strings kept in order, for serving pages. A
// change is noted in O(1) and merged into the order when the order is
// next read, in one pass: a read after k changes costs O(n + k log k),
// a read after none costs nothing. Unit names come and go in bursts (a
// submit of many units) between listings, so merging at read time beats
// inserting into a sorted slice one name at a time.
type sortedSet struct {
	keys    []string
	added   map[string]struct{}
	removed map[string]struct{}
}

func newSortedSet() *sortedSet {
	return &sortedSet{added: map[string]struct{}{}, removed: map[string]struct{}{}}
}

// add notes k, which the caller knows is not in the set.
func (s *sortedSet) add(k string) {
	if _, ok := s.removed[k]; ok {
		delete(s.removed, k)
		return
	}
	s.added[k] = struct{}{}
}

// remove notes that k, which the caller knows is in the set, is gone.
func (s *sortedSet) remove(k string) {
	if _, ok := s.added[k]; ok {
		delete(s.added, k)
		return
	}
	s.removed[k] = struct{}{}
}

// sorted returns the keys in order; the slice is the set's own, valid
// until the next change.
func (s *sortedSet) sorted() []string {
	if len(s.added) == 0 && len(s.removed) == 0 {
		return s.keys
	}
	add := make([]string, 0, len(s.added))
	for k := range s.added {
		add = append(add, k)
	}
	slices.Sort(add)
	out := make([]string, 0, len(s.keys)+len(add)-len(s.removed))
	i := 0
	for _, k := range s.keys {
		if _, gone := s.removed[k]; gone {
			continue
		}
		for i < len(add) && add[i] < k {
			out = append(out, add[i])
			i++
		}
		out = append(out, k)
	}
	out = append(out, add[i:]...)
	s.keys = out
	clear(s.added)
	clear(s.removed)
	return s.keys
}

// after returns the index in keys of the first key greater than k.
func after(keys []string, k string) int {
	return sort.Search(len(keys), func(i int) bool { return keys[i] > k })
}
