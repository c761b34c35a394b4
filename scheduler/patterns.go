package scheduler

import (
	"path"
	"sort"
	"strings"
)

// patternIndex holds every distinct Conflicts and Replaces glob of the
// units, each with an id, and finds the globs a name matches.
type patternIndex struct {
	ids      map[string]int32
	globs    []string
	byPrefix map[string][]int32 // literal prefix -> patterns
	prefixes []int              // distinct literal prefix lengths, ascending
}

func newPatternIndex() *patternIndex {
	return &patternIndex{ids: map[string]int32{}, byPrefix: map[string][]int32{}}
}

// intern returns the id of glob g, adding it if new.
func (x *patternIndex) intern(g string) int32 {
	if id, ok := x.ids[g]; ok {
		return id
	}
	id := int32(len(x.globs))
	x.ids[g] = id
	x.globs = append(x.globs, g)
	p := literalPrefix(g)
	if _, seen := x.byPrefix[p]; !seen {
		x.prefixes = append(x.prefixes, len(p))
	}
	x.byPrefix[p] = append(x.byPrefix[p], id)
	return id
}

func (x *patternIndex) internAll(globs []string) []int32 {
	if len(globs) == 0 {
		return nil
	}
	ids := make([]int32, len(globs))
	for i, g := range globs {
		ids[i] = x.intern(g)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// finish sorts the prefix lengths once every glob is interned.
func (x *patternIndex) finish() {
	sort.Ints(x.prefixes)
	x.prefixes = dedupInts(x.prefixes)
}

// matching returns the ids of the globs that match name, ascending.
func (x *patternIndex) matching(name string) []int32 {
	var out []int32
	for _, l := range x.prefixes {
		if l > len(name) {
			break
		}
		for _, id := range x.byPrefix[name[:l]] {
			if ok, _ := path.Match(x.globs[id], name); ok {
				out = append(out, id)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func literalPrefix(g string) string {
	if i := strings.IndexAny(g, `*?[\`); i >= 0 {
		return g[:i]
	}
	return g
}

func dedupInts(s []int) []int {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// count adds d to counter[m] for every id, dropping zero entries.
func count(counters []map[int32]int32, ids []int32, m, d int32) {
	for _, id := range ids {
		if counters[id] == nil {
			counters[id] = map[int32]int32{}
		}
		c := counters[id][m] + d
		if c == 0 {
			delete(counters[id], m)
		} else {
			counters[id][m] = c
		}
	}
}

// anyOn reports whether counters[id] is non-zero on m for some id.
func anyOn(counters []map[int32]int32, ids []int32, m int32) bool {
	for _, id := range ids {
		if counters[id][m] > 0 {
			return true
		}
	}
	return false
}
