package unit

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// fleetOpts turns "Key=Value" lines into [X-Fleet] options.
func fleetOpts(t *testing.T, lines ...string) []Option {
	t.Helper()
	opts := make([]Option, 0, len(lines))
	for _, l := range lines {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("test bug: %q has no '='", l)
		}
		opts = append(opts, Option{FleetSection, k, v})
	}
	return opts
}

func TestParseRequirements(t *testing.T) {
	eq := func(k string, vs ...string) MetadataAnyOf { return MetadataAnyOf{Key: k, Values: vs} }
	tests := []struct {
		name  string
		unit  string
		lines []string
		want  Requirements
	}{
		{"nothing", "a.service", nil, Requirements{}},
		{"MachineID", "a.service", []string{"MachineID=0123456789abcdef0123456789abcdef"},
			Requirements{MachineID: "0123456789abcdef0123456789abcdef"}},
		{"X-ConditionMachineID", "a.service", []string{"X-ConditionMachineID=01234567"}, Requirements{MachineID: "01234567"}},
		{"same MachineID twice", "a.service", []string{"MachineID=01234567", "X-ConditionMachineID=01234567"},
			Requirements{MachineID: "01234567"}},
		{"MachineOf", "a.service", []string{"MachineOf=db.service"}, Requirements{MachineOf: []string{"db.service"}}},
		{"X-ConditionMachineOf", "a.service", []string{"X-ConditionMachineOf=db.service"}, Requirements{MachineOf: []string{"db.service"}}},
		{"MachineOf repeated adds", "a.service", []string{"MachineOf=db.service", "MachineOf=cache.service db.service"},
			Requirements{MachineOf: []string{"db.service", "cache.service"}}},
		{"MachineMetadata quoted values", "a.service", []string{`MachineMetadata="region=us-east" "diskType=SSD"`},
			Requirements{Metadata: MetadataRequirement{AnyOf: []MetadataAnyOf{eq("region", "us-east"), eq("diskType", "SSD")}}}},
		{"X-ConditionMachineMetadata repeated", "a.service",
			[]string{"X-ConditionMachineMetadata=region=us-east", "MachineMetadata=region=us-west", "MachineMetadata=ram>=2048"},
			Requirements{Metadata: MetadataRequirement{
				AnyOf:  []MetadataAnyOf{eq("region", "us-east", "us-west")},
				Others: []MetadataPredicate{{"ram", OpGreaterEqual, "2048"}},
			}}},
		{"Conflicts", "a.service", []string{"Conflicts=web@*.service db.service"},
			Requirements{Conflicts: []string{"web@*.service", "db.service"}}},
		{"X-Conflicts repeated", "a.service", []string{"X-Conflicts=a*", "Conflicts=b* a*"}, Requirements{Conflicts: []string{"a*", "b*"}}},
		{"Global", "a.service", []string{"Global=true"}, Requirements{Global: true}},
		{"Global last wins", "a.service", []string{"Global=true", "Global=no"}, Requirements{}},
		{"Replaces", "a.service", []string{"Replaces=old.service"}, Requirements{Replaces: []string{"old.service"}}},
		{"Ports", "a.service", []string{"Ports=8080"}, Requirements{Ports: PortRanges{{8080, 8080}}}},
		{"Global with Conflicts and metadata", "a.service", []string{"Global=yes", "Conflicts=b.service", "MachineMetadata=role=edge"},
			Requirements{Global: true, Conflicts: []string{"b.service"}, Metadata: MetadataRequirement{AnyOf: []MetadataAnyOf{eq("role", "edge")}}}},
		{"MachineID with metadata and ports", "a.service", []string{"MachineID=01234567", "MachineMetadata=ram>=1", "Ports=80"},
			Requirements{MachineID: "01234567", Metadata: MetadataRequirement{Others: []MetadataPredicate{{"ram", OpGreaterEqual, "1"}}}, Ports: PortRanges{{80, 80}}}},
		{"specifiers", "web@eu1.service",
			[]string{"Conflicts=%p@*", "MachineMetadata=zone=%i", "MachineOf=db@%i.service"},
			Requirements{
				Conflicts: []string{"web@*"},
				Metadata:  MetadataRequirement{AnyOf: []MetadataAnyOf{eq("zone", "eu1")}},
				MachineOf: []string{"db@eu1.service"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]Option{{"Unit", "MachineID", "ignored"}}, fleetOpts(t, tt.lines...)...)
			got, warnings, err := ParseRequirements(tt.unit, opts)
			if err != nil || len(warnings) > 0 {
				t.Fatalf("ParseRequirements: %v, warnings %q", err, warnings)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseRequirementsReplacesSpecifier(t *testing.T) {
	r, _, err := ParseRequirements("web@eu1.service", fleetOpts(t, "Replaces=%N-old.service %n.bak"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"web@eu1-old.service", "web@eu1.service.bak"}; !reflect.DeepEqual(r.Replaces, want) {
		t.Errorf("Replaces = %q, want %q", r.Replaces, want)
	}
}

// A template has no instance: its section is read as its sample
// instance's, so specifiers that need one are accepted, and every
// instance resolves them with its own name.
func TestTemplateSpecifiers(t *testing.T) {
	lines := []string{"MachineMetadata=hostname=%i", "Conflicts=%p@*", "MachineOf=%p-db@%i.service", "MachineMetadata=ram>=%i"}
	for _, tt := range []struct {
		unit string
		want Requirements
	}{
		{"tmpl@.service", Requirements{MachineOf: []string{"tmpl-db@1.service"}, Conflicts: []string{"tmpl@*"},
			Metadata: MetadataRequirement{AnyOf: []MetadataAnyOf{{Key: "hostname", Values: []string{"1"}}},
				Others: []MetadataPredicate{{"ram", OpGreaterEqual, "1"}}}}},
		{"tmpl@m1.service", Requirements{MachineOf: []string{"tmpl-db@m1.service"}, Conflicts: []string{"tmpl@*"},
			Metadata: MetadataRequirement{AnyOf: []MetadataAnyOf{{Key: "hostname", Values: []string{"m1"}}},
				Others: []MetadataPredicate{{"ram", OpGreaterEqual, "m1"}}}}},
	} {
		r, _, err := ParseRequirements(tt.unit, fleetOpts(t, lines...))
		if err != nil {
			t.Fatalf("%s: %v", tt.unit, err)
		}
		if !reflect.DeepEqual(r, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.unit, r, tt.want)
		}
	}

	// What is wrong whatever the instance is still refused on the
	// template, in the words of its sample instance.
	for _, tt := range []struct {
		lines []string
		words []string
	}{
		{[]string{"MachineOf=%n"}, []string{"MachineOf", "itself", "tmpl@1.service"}},
		{[]string{"MachineOf=%p-db@%i.service", "Conflicts=%p-db@*"}, []string{"MachineOf peer tmpl-db@1.service", "Conflicts tmpl-db@*"}},
		{[]string{"MachineMetadata=hostname"}, []string{"MachineMetadata=hostname", "want key=value"}},
		{[]string{"MachineOf=%i"}, []string{"MachineOf=%i"}},
	} {
		_, _, err := ParseRequirements("tmpl@.service", fleetOpts(t, tt.lines...))
		if !errors.Is(err, ErrInvalidRequirements) {
			t.Errorf("%q accepted on a template (%v)", tt.lines, err)
			continue
		}
		for _, w := range tt.words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
	}
	// And CheckSubmission, which the API and fleetctl share, takes the
	// template.
	if _, _, err := CheckSubmission("tmpl@.service", fleetOpts(t, lines...)); err != nil {
		t.Errorf("CheckSubmission refused the template: %v", err)
	}
}

func TestParseRequirementsWarnings(t *testing.T) {
	r, warnings, err := ParseRequirements("a.service", fleetOpts(t, "Foo=bar", "machineid=x", "Global=true"))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Global {
		t.Error("known key after unknown ones was not read")
	}
	want := []string{"[X-Fleet] Foo: unknown key, ignored", "[X-Fleet] machineid: unknown key, ignored"}
	if !reflect.DeepEqual(warnings, want) {
		t.Errorf("warnings = %q, want %q", warnings, want)
	}
	_, warnings, err = ParseRequirements("a.service", fleetOpts(t, "Foo=bar", "Global=maybe"))
	if err == nil || len(warnings) != 1 {
		t.Errorf("warnings before an error are lost: %q, %v", warnings, err)
	}
}

func TestGlobalBooleans(t *testing.T) {
	for _, v := range []string{"true", "yes", "1", "on", "t", "y", "TRUE", "Yes", " on "} {
		r, _, err := ParseRequirements("a.service", fleetOpts(t, "Global="+v))
		if err != nil || !r.Global {
			t.Errorf("Global=%s: %v, %v; want true", v, r.Global, err)
		}
	}
	for _, v := range []string{"false", "no", "0", "off", "f", "n", "", "OFF"} {
		r, _, err := ParseRequirements("a.service", fleetOpts(t, "Global=true", "Global="+v))
		if err != nil || r.Global {
			t.Errorf("Global=%s: %v, %v; want false", v, r.Global, err)
		}
	}
	for _, v := range []string{"maybe", "2", "truee"} {
		_, _, err := ParseRequirements("a.service", fleetOpts(t, "Global="+v))
		if !errors.Is(err, ErrInvalidRequirements) || !strings.Contains(err.Error(), "not a boolean") {
			t.Errorf("Global=%s: %v, want a 'not a boolean' error", v, err)
		}
	}
}

func TestParseRequirementsInvalid(t *testing.T) {
	tests := []struct {
		name  string
		unit  string
		lines []string
		words []string // every one must appear in the error
	}{
		{"MachineID+MachineOf", "a.service", []string{"MachineID=01234567", "MachineOf=b.service"}, []string{"MachineID", "MachineOf"}},
		{"MachineID+Conflicts", "a.service", []string{"X-ConditionMachineID=01234567", "X-Conflicts=b*"}, []string{"MachineID", "Conflicts"}},
		{"MachineID+Global", "a.service", []string{"MachineID=01234567", "Global=true"}, []string{"MachineID", "Global"}},
		{"MachineID+Replaces", "a.service", []string{"Replaces=b.service", "MachineID=01234567"}, []string{"MachineID", "Replaces"}},
		{"Global+MachineOf", "a.service", []string{"Global=1", "MachineOf=b.service"}, []string{"Global", "MachineOf"}},
		{"Global+Replaces", "a.service", []string{"Global=on", "Replaces=b.service"}, []string{"Global", "Replaces"}},
		{"Conflicts+Replaces", "a.service", []string{"Conflicts=c*", "Replaces=b.service"}, []string{"Conflicts", "Replaces"}},
		{"MachineOf peer in own Conflicts", "a.service", []string{"MachineOf=db.service", "Conflicts=d*.service"},
			[]string{"MachineOf", "db.service", "Conflicts", "d*.service"}},
		{"MachineOf peer in own Replaces", "a.service", []string{"MachineOf=db.service", "Replaces=db.service"},
			[]string{"MachineOf", "Replaces", "db.service"}},
		{"MachineOf itself", "a.service", []string{"MachineOf=a.service"}, []string{"MachineOf", "itself", "a.service"}},
		{"MachineOf itself via %n", "web@1.service", []string{"MachineOf=%n"}, []string{"MachineOf", "itself", "web@1.service"}},
		{"bad Conflicts glob", "a.service", []string{"Conflicts=["}, []string{"Conflicts=[", "bad glob"}},
		{"bad Replaces glob", "a.service", []string{"Replaces=ok.service [a-"}, []string{"Replaces=", "bad glob", `"[a-"`}},
		{"bad glob, trailing backslash", "a.service", []string{`Conflicts=a\`}, []string{"Conflicts=", "bad glob"}},
		{"two MachineIDs in one value", "a.service", []string{"MachineID=01234567 89abcdef"}, []string{"MachineID", "exactly one", "got 2"}},
		{"empty MachineID", "a.service", []string{"MachineID="}, []string{"MachineID", "exactly one", "got 0"}},
		{"quoted blank MachineID", "a.service", []string{`MachineID=" "`}, []string{"MachineID", "white space"}},
		{"quoted MachineID with a space", "a.service", []string{`MachineID="0123 4567"`}, []string{"MachineID", `"0123 4567"`, "white space"}},
		{"second, different MachineID", "a.service", []string{"MachineID=01234567", "MachineID=89abcdef"}, []string{"MachineID=89abcdef", "different"}},
		{"bad metadata", "a.service", []string{"MachineMetadata=region"}, []string{"MachineMetadata=region", "want key=value"}},
		{"bad port", "a.service", []string{"Ports=70000"}, []string{"Ports=70000", "1 to 65535"}},
		{"bad Global", "a.service", []string{"Global=sometimes"}, []string{"Global=sometimes", "not a boolean"}},
		{"bad MachineOf name", "a.service", []string{"MachineOf=db"}, []string{"MachineOf=db", "must end in"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, err := ParseRequirements(tt.unit, fleetOpts(t, tt.lines...))
			if err == nil {
				t.Fatalf("accepted: %+v", r)
			}
			if !errors.Is(err, ErrInvalidRequirements) {
				t.Errorf("%v does not wrap ErrInvalidRequirements", err)
			}
			for _, w := range tt.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if !reflect.DeepEqual(r, Requirements{}) {
				t.Errorf("partial requirements returned with the error: %+v", r)
			}
		})
	}

	_, _, err := ParseRequirements("a.service", fleetOpts(t, "MachineOf=a/b.service"))
	if !errors.Is(err, ErrInvalidRequirements) || !errors.Is(err, ErrInvalidName) {
		t.Errorf("bad MachineOf name: %v, want both ErrInvalidRequirements and ErrInvalidName", err)
	}
	_, _, err = ParseRequirements("../a.service", nil)
	if !errors.Is(err, ErrInvalidName) || errors.Is(err, ErrInvalidRequirements) {
		t.Errorf("bad unit name: %v, want ErrInvalidName only", err)
	}
}

func TestExpand(t *testing.T) {
	inst, _ := ParseName("web@eu1.service")
	tmpl, _ := ParseName("web@.service")
	plain, _ := ParseName("hello.service")
	tests := []struct {
		in   string
		n    Name
		want string
	}{
		{"%n", inst, "web@eu1.service"},
		{"%N", inst, "web@eu1"},
		{"%p", inst, "web"},
		{"%i", inst, "eu1"},
		{"%p@*", inst, "web@*"},
		{"zone=%i", inst, "zone=eu1"},
		{"100%%", inst, "100%"},
		{"%%n", inst, "%n"},
		{"%%%n", inst, "%web@eu1.service"},
		{"%x %u", inst, "%x %u"},
		{"end%", inst, "end%"},
		{"%", inst, "%"},
		{"%é", inst, "%é"},
		{"no specifiers", inst, "no specifiers"},
		{"%p-%i", tmpl, "web-"},
		{"%p/%i/%N", plain, "hello//hello"},
	}
	for _, tt := range tests {
		if got := Expand(tt.in, tt.n); got != tt.want {
			t.Errorf("Expand(%q, %s) = %q, want %q", tt.in, tt.n.Full, got, tt.want)
		}
	}
}

func TestSplitValues(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a", []string{"a"}},
		{"a b\tc", []string{"a", "b", "c"}},
		{"  a   b  ", []string{"a", "b"}},
		{`"region=us-east" "diskType=SSD"`, []string{"region=us-east", "diskType=SSD"}},
		{`"a b" c`, []string{"a b", "c"}},
		{`"unterminated value`, []string{"unterminated value"}},
		{`a"b c"d`, []string{"ab cd"}},
		{`"" x ""`, []string{"x"}},
		{"", nil},
		{"   ", nil},
	}
	for _, tt := range tests {
		got := SplitValues(tt.in)
		if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("SplitValues(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMatchAny(t *testing.T) {
	globs := []string{"[", "web@*.service", "db.service"}
	tests := []struct {
		name string
		glob string
		ok   bool
	}{
		{"web@1.service", "web@*.service", true},
		{"db.service", "db.service", true},
		{"db2.service", "", false},
		{"web@.socket", "", false},
	}
	for _, tt := range tests {
		g, ok := MatchAny(globs, tt.name)
		if g != tt.glob || ok != tt.ok {
			t.Errorf("MatchAny(%q) = %q, %v; want %q, %v", tt.name, g, ok, tt.glob, tt.ok)
		}
	}
	if _, ok := MatchAny(nil, "a.service"); ok {
		t.Error("MatchAny(nil) matched")
	}
}
