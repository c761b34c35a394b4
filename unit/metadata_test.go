package unit

import (
	"strings"
	"testing"
)

func TestParseMetadataPredicate(t *testing.T) {
	tests := []struct {
		in   string
		want MetadataPredicate
	}{
		{"region=us-east", MetadataPredicate{"region", OpEqual, "us-east"}},
		{"region!=eu", MetadataPredicate{"region", OpNotEqual, "eu"}},
		{"ram>=2048", MetadataPredicate{"ram", OpGreaterEqual, "2048"}},
		{"ram<=4096", MetadataPredicate{"ram", OpLessEqual, "4096"}},
		{"cpus>4", MetadataPredicate{"cpus", OpGreater, "4"}},
		{"cpus<8", MetadataPredicate{"cpus", OpLess, "8"}},
		{"temp>-5", MetadataPredicate{"temp", OpGreater, "-5"}},
		// fleet split "k=v" at the first '=', so a plain value may hold
		// operator characters; "k=>v" asks for k equal to ">v".
		{"env=A=B", MetadataPredicate{"env", OpEqual, "A=B"}},
		{"k=>v", MetadataPredicate{"k", OpEqual, ">v"}},
		{"k==v", MetadataPredicate{"k", OpEqual, "=v"}},
		{"k=!x", MetadataPredicate{"k", OpEqual, "!x"}},
		{"Disk.Type=SSD", MetadataPredicate{"Disk.Type", OpEqual, "SSD"}},
	}
	for _, tt := range tests {
		got, err := ParseMetadataPredicate(tt.in)
		if err != nil {
			t.Errorf("ParseMetadataPredicate(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseMetadataPredicate(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("%+v.String() = %q, want %q", got, got.String(), tt.in)
		}
	}
}

func TestParseMetadataPredicateErrors(t *testing.T) {
	tests := []struct{ in, rule string }{
		{"", "want key=value"},
		{"region", "want key=value"},
		{"=us-east", "want key=value"},
		{"!=eu", "want key=value"},
		{">=2048", "want key=value"},
		{"region=", "empty value"},
		{"region!=", "empty value"},
		{"ram>=", "empty value"},
		{"ram<", "empty value"},
		{"k!v", `"!" is not an operator`},
		{"k<>v", "more than one operator"},
		{"k>=<5", "more than one operator"},
		{"k!=a=b", "more than one operator"},
		{"k>>1", "more than one operator"},
	}
	for _, tt := range tests {
		p, err := ParseMetadataPredicate(tt.in)
		if err == nil {
			t.Errorf("ParseMetadataPredicate(%q) = %+v, want an error", tt.in, p)
			continue
		}
		if !strings.Contains(err.Error(), tt.rule) || !strings.Contains(err.Error(), tt.in) {
			t.Errorf("ParseMetadataPredicate(%q) = %q, want it to quote the term and mention %q", tt.in, err, tt.rule)
		}
	}
}

func TestMetadataOpString(t *testing.T) {
	want := map[MetadataOp]string{
		OpEqual: "=", OpNotEqual: "!=", OpGreaterEqual: ">=", OpLessEqual: "<=",
		OpGreater: ">", OpLess: "<", MetadataOp(99): "?",
	}
	for op, s := range want {
		if op.String() != s {
			t.Errorf("MetadataOp(%d).String() = %q, want %q", op, op.String(), s)
		}
	}
}

func TestMetadataPredicateHolds(t *testing.T) {
	tests := []struct {
		pred    string
		value   string
		present bool
		want    bool
	}{
		{"region=us-east", "us-east", true, true},
		{"region=us-east", "US-EAST", true, false}, // exact, case-sensitive
		{"region=us-east", "", false, false},
		{"region!=eu", "us", true, true},
		{"region!=eu", "eu", true, false},
		{"region!=eu", "", false, true}, // a missing key is "not eu"
		{"ram>=2048", "4096", true, true},
		{"ram>=2048", "2048", true, true},
		{"ram>=2048", "512", true, false}, // "512" > "2048" as strings
		{"ram>=2048", "", false, false},
		{"ram<=2048", "512", true, true},
		{"ram<=2048", "4096", true, false},
		{"ram<=2048", "", false, false},
		{"n>9", "10", true, true}, // numeric: "10" < "9" as strings
		{"n>9", "9", true, false},
		{"n>9", "", false, false},
		{"n<9", "10", true, false},
		{"n<9", "8.5", true, true},
		{"n<9", "", false, false},
		{"n>=1", "1.0", true, true}, // numerically equal
		{"n=1", "1.0", true, false}, // '=' is exact text
		{"temp>-5", "-2", true, true},
		{"temp>-5", "-10", true, false},
		{"ver>b", "c", true, true}, // both strings
		{"ver>b", "a", true, false},
		{"ver<9x", "10", true, true}, // one side not a number: strings
		// "NaN" parses as a float but is no number: compared as a string,
		// it must not be both >= and <= a number.
		{"n>=5", "nan", true, true},
		{"n<=5", "nan", true, false},
		{"n<=5", "NaN", true, false},
		{"n>NaN", "5", true, false},
		{"n>=inf", "1e308", true, false},
	}
	for _, tt := range tests {
		p, err := ParseMetadataPredicate(tt.pred)
		if err != nil {
			t.Fatalf("ParseMetadataPredicate(%q): %v", tt.pred, err)
		}
		if got := p.Holds(tt.value, tt.present); got != tt.want {
			t.Errorf("%s.Holds(%q, %v) = %v, want %v", tt.pred, tt.value, tt.present, got, tt.want)
		}
	}
}

// TestCompareValuesIsAnOrder checks that the ordering operators order
// values: "equal" (both >= and <=) is transitive and exactly one of <, >
// and equal holds.
func TestCompareValuesIsAnOrder(t *testing.T) {
	values := []string{"5", "6", "05", "5.0", "-1", "10", "9", "NaN", "nan", "inf", "-Inf", "1e400", "abc", "", "9x"}
	holds := func(op MetadataOp, a, b string) bool {
		return MetadataPredicate{Key: "k", Op: op, Value: b}.Holds(a, true)
	}
	eq := func(a, b string) bool { return holds(OpGreaterEqual, a, b) && holds(OpLessEqual, a, b) }
	for _, a := range values {
		for _, b := range values {
			lt, gt := holds(OpLess, a, b), holds(OpGreater, a, b)
			n := 0
			for _, x := range []bool{lt, gt, eq(a, b)} {
				if x {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%q vs %q: < %v, > %v, equal %v; want exactly one", a, b, lt, gt, eq(a, b))
			}
			for _, c := range values {
				if eq(a, b) && eq(b, c) && !eq(a, c) {
					t.Errorf("%q equals %q equals %q, but not %q", a, b, c, c)
				}
			}
		}
	}
}

func metadataReq(t *testing.T, terms ...string) MetadataRequirement {
	t.Helper()
	var m MetadataRequirement
	for _, s := range terms {
		p, err := ParseMetadataPredicate(s)
		if err != nil {
			t.Fatalf("ParseMetadataPredicate(%q): %v", s, err)
		}
		m.add(p)
	}
	return m
}

func TestMetadataRequirementMatches(t *testing.T) {
	type md = map[string]string
	tests := []struct {
		name     string
		terms    []string
		machine  md
		mismatch string // "" when the machine matches
	}{
		{"no terms", nil, md{}, ""},
		{"one term", []string{"region=us-east"}, md{"region": "us-east"}, ""},
		{"one term, wrong value", []string{"region=us-east"}, md{"region": "eu"}, "region=us-east"},
		{"one term, missing key", []string{"region=us-east"}, md{}, "region=us-east"},
		{"same key ORs", []string{"region=us-east", "region=us-west"}, md{"region": "us-west"}, ""},
		{"same key ORs, none", []string{"region=us-east", "region=us-west"}, md{"region": "eu"}, "region=us-east|us-west"},
		{"keys AND", []string{"region=us-east", "disk=ssd"}, md{"region": "us-east", "disk": "ssd"}, ""},
		{"keys AND, one fails", []string{"region=us-east", "disk=ssd"}, md{"region": "us-east", "disk": "hdd"}, "disk=ssd"},
		{"keys AND, one missing", []string{"region=us-east", "disk=ssd"}, md{"disk": "ssd"}, "region=us-east"},
		{
			"mixed, all hold",
			[]string{"region=eu", "ram>=2048", "region=us", "zone!=bad"},
			md{"region": "us", "ram": "4096", "zone": "good"},
			"",
		},
		{
			"mixed, operator fails",
			[]string{"region=eu", "ram>=2048", "region=us", "zone!=bad"},
			md{"region": "us", "ram": "512", "zone": "good"},
			"ram>=2048",
		},
		{
			"mixed, != fails",
			[]string{"region=eu", "ram>=2048", "region=us", "zone!=bad"},
			md{"region": "eu", "ram": "4096", "zone": "bad"},
			"zone!=bad",
		},
		{
			"mixed, missing != key passes",
			[]string{"region=eu", "ram>=2048", "zone!=bad"},
			md{"region": "eu", "ram": "2048"},
			"",
		},
		{"range on one key", []string{"ram>=1024", "ram<4096"}, md{"ram": "4096"}, "ram<4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := metadataReq(t, tt.terms...)
			if got := m.FirstMismatch(tt.machine); got != tt.mismatch {
				t.Errorf("FirstMismatch(%v) = %q, want %q", tt.machine, got, tt.mismatch)
			}
			if got := m.Matches(tt.machine); got != (tt.mismatch == "") {
				t.Errorf("Matches(%v) = %v", tt.machine, got)
			}
			if m.Empty() != (len(tt.terms) == 0) {
				t.Errorf("Empty() = %v with %d terms", m.Empty(), len(tt.terms))
			}
		})
	}
}

func TestMetadataRequirementString(t *testing.T) {
	m := metadataReq(t, "region=eu", "ram>=2048", "region=us", "disk=ssd", "region=eu", "zone!=bad")
	if want := "region=eu|us disk=ssd ram>=2048 zone!=bad"; m.String() != want {
		t.Errorf("String() = %q, want %q", m.String(), want)
	}
	if len(m.AnyOf) != 2 || len(m.AnyOf[0].Values) != 2 {
		t.Errorf("duplicate value not merged: %+v", m.AnyOf)
	}
	if (MetadataRequirement{}).String() != "" {
		t.Error("String() of an empty requirement not empty")
	}
}
