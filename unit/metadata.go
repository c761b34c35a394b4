package unit

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MetadataOp is a comparison in a MachineMetadata requirement.
type MetadataOp uint8

// The MachineMetadata operators. OpEqual is fleet's plain "k=v"; the
// others are ours. Ordering operators compare numerically when both sides
// parse as numbers, and as strings otherwise.
const (
	OpEqual MetadataOp = iota
	OpNotEqual
	OpGreaterEqual
	OpLessEqual
	OpGreater
	OpLess
)

// opTokens is ordered so that two-character operators are tried first.
var opTokens = []struct {
	tok string
	op  MetadataOp
}{{"!=", OpNotEqual}, {">=", OpGreaterEqual}, {"<=", OpLessEqual}, {"=", OpEqual}, {">", OpGreater}, {"<", OpLess}}

// String returns the operator as written in a unit file.
func (op MetadataOp) String() string {
	for _, t := range opTokens {
		if t.op == op {
			return t.tok
		}
	}
	return "?"
}

// MetadataPredicate is one "key<op>value" term.
type MetadataPredicate struct {
	Key   string
	Op    MetadataOp
	Value string
}

// String renders the predicate as written ("ram>=2048").
func (p MetadataPredicate) String() string { return p.Key + p.Op.String() + p.Value }

// ParseMetadataPredicate reads "key=value", "key!=value", "key>=value",
// "key<=value", "key>value" or "key<value".
func ParseMetadataPredicate(s string) (MetadataPredicate, error) {
	i := strings.IndexAny(s, "!<>=")
	if i <= 0 {
		return MetadataPredicate{}, fmt.Errorf("metadata requirement %q: want key=value (or !=, >=, <=, >, <)", s)
	}
	rest := s[i:]
	for _, t := range opTokens {
		if strings.HasPrefix(rest, t.tok) {
			p := MetadataPredicate{Key: s[:i], Op: t.op, Value: rest[len(t.tok):]}
			if p.Value == "" {
				return MetadataPredicate{}, fmt.Errorf("metadata requirement %q: empty value", s)
			}
			if strings.ContainsAny(p.Value, "!<>=") && p.Op != OpEqual {
				return MetadataPredicate{}, fmt.Errorf("metadata requirement %q: more than one operator", s)
			}
			return p, nil
		}
	}
	return MetadataPredicate{}, fmt.Errorf("metadata requirement %q: %q is not an operator", s, rest[:1])
}

// Holds reports whether a machine whose value for p.Key is (v, ok) passes.
// A missing key fails every operator except !=.
func (p MetadataPredicate) Holds(v string, ok bool) bool {
	if !ok {
		return p.Op == OpNotEqual
	}
	switch p.Op {
	case OpEqual:
		return v == p.Value
	case OpNotEqual:
		return v != p.Value
	}
	c := compareValues(v, p.Value)
	switch p.Op {
	case OpGreaterEqual:
		return c >= 0
	case OpLessEqual:
		return c <= 0
	case OpGreater:
		return c > 0
	default:
		return c < 0
	}
}

// compareValues compares numerically when both parse as numbers. "NaN"
// parses as a float but is no number: compared numerically it would equal
// everything, so it is compared as a string.
func compareValues(a, b string) int {
	fa, errA := strconv.ParseFloat(a, 64)
	fb, errB := strconv.ParseFloat(b, 64)
	if errA == nil && errB == nil && !math.IsNaN(fa) && !math.IsNaN(fb) {
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}

// MetadataAnyOf is a set of "key=value" terms on one key: any one matches.
type MetadataAnyOf struct {
	Key    string
	Values []string
}

// MetadataRequirement is a unit's whole MachineMetadata requirement.
// Plain "k=v" terms on the same key are ORed (fleet's rule); all groups and
// every other term are ANDed.
type MetadataRequirement struct {
	AnyOf  []MetadataAnyOf     // one per key, in order of first appearance
	Others []MetadataPredicate // !=, >=, <=, >, < terms, in order
}

// Empty reports whether there is no metadata requirement at all.
func (m MetadataRequirement) Empty() bool { return len(m.AnyOf) == 0 && len(m.Others) == 0 }

func (m *MetadataRequirement) add(p MetadataPredicate) {
	if p.Op != OpEqual {
		m.Others = append(m.Others, p)
		return
	}
	for i := range m.AnyOf {
		if m.AnyOf[i].Key == p.Key {
			if !containsString(m.AnyOf[i].Values, p.Value) {
				m.AnyOf[i].Values = append(m.AnyOf[i].Values, p.Value)
			}
			return
		}
	}
	m.AnyOf = append(m.AnyOf, MetadataAnyOf{Key: p.Key, Values: []string{p.Value}})
}

// Matches reports whether machine metadata md satisfies the requirement.
func (m MetadataRequirement) Matches(md map[string]string) bool {
	return m.FirstMismatch(md) == ""
}

// FirstMismatch returns the first term md fails, as written ("region=eu",
// or "region=eu|us" for an OR group), or "" when md matches.
func (m MetadataRequirement) FirstMismatch(md map[string]string) string {
	for _, g := range m.AnyOf {
		v, ok := md[g.Key]
		if !ok || !containsString(g.Values, v) {
			return g.String()
		}
	}
	for _, p := range m.Others {
		v, ok := md[p.Key]
		if !p.Holds(v, ok) {
			return p.String()
		}
	}
	return ""
}

// String renders an OR group as "key=v1|v2".
func (g MetadataAnyOf) String() string { return g.Key + "=" + strings.Join(g.Values, "|") }

// String renders the whole requirement, terms separated by spaces.
func (m MetadataRequirement) String() string {
	parts := make([]string, 0, len(m.AnyOf)+len(m.Others))
	for _, g := range m.AnyOf {
		parts = append(parts, g.String())
	}
	for _, p := range m.Others {
		parts = append(parts, p.String())
	}
	return strings.Join(parts, " ")
}
