package unit

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in   string
		want PortRange
		str  string
	}{
		{"8080", PortRange{8080, 8080}, "8080"},
		{"1", PortRange{1, 1}, "1"},
		{"65535", PortRange{65535, 65535}, "65535"},
		{"20001-20010", PortRange{20001, 20010}, "20001-20010"},
		{"80-80", PortRange{80, 80}, "80"},
		{"1-65535", PortRange{1, 65535}, "1-65535"},
		{"080", PortRange{80, 80}, "80"},
	}
	for _, tt := range tests {
		got, err := ParsePortRange(tt.in)
		if err != nil {
			t.Errorf("ParsePortRange(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want || got.String() != tt.str {
			t.Errorf("ParsePortRange(%q) = %+v (%q), want %+v (%q)", tt.in, got, got, tt.want, tt.str)
		}
	}
}

func TestParsePortRangeErrors(t *testing.T) {
	tests := []struct{ in, rule string }{
		{"0", "ports from 1 to 65535"},
		{"65536", "ports from 1 to 65535"},
		{"0-10", "ports from 1 to 65535"},
		{"10-65536", "ports from 1 to 65535"},
		{"99999999999999999999", "ports from 1 to 65535"},
		{"20010-20001", "20010 is above 20001"},
		{"abc", "ports from 1 to 65535"},
		{"", "ports from 1 to 65535"},
		{"-", "ports from 1 to 65535"},
		{"80-", "ports from 1 to 65535"},
		{"-80", "ports from 1 to 65535"},
		{"1-2-3", "ports from 1 to 65535"},
		{" 80", "ports from 1 to 65535"},
		{"+80", "ports from 1 to 65535"},
		{"8080/tcp", "ports from 1 to 65535"},
		{"1.5", "ports from 1 to 65535"},
		{"0x50", "ports from 1 to 65535"},
	}
	for _, tt := range tests {
		got, err := ParsePortRange(tt.in)
		if err == nil {
			t.Errorf("ParsePortRange(%q) = %v, want an error", tt.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tt.rule) || !strings.Contains(err.Error(), tt.in) {
			t.Errorf("ParsePortRange(%q) = %q, want it to quote the input and mention %q", tt.in, err, tt.rule)
		}
	}
}

func TestPortsNormalizedByParseRequirements(t *testing.T) {
	tests := []struct {
		name   string
		values []string // one Ports= line each
		want   string
		size   int
	}{
		{"single port", []string{"8080"}, "8080", 1},
		{"overlap and sort", []string{"20005-20010 20001-20006 9000"}, "9000 20001-20010", 11},
		{"adjacent merged", []string{"1-5 6-10"}, "1-10", 10},
		{"gap kept", []string{"1-5 7-10"}, "1-5 7-10", 9},
		{"repeated key adds", []string{"80", "81", "443"}, "80-81 443", 3},
		{"duplicates", []string{"80 80", "80"}, "80", 1},
		{"contained", []string{"5-6 1-100"}, "1-100", 100},
		{"quoted values", []string{`"3000" "2000-2999"`}, "2000-3000", 1001},
		{"edges", []string{"65535 1 65534"}, "1 65534-65535", 3},
		{"everything", []string{"1-65535 22"}, "1-65535", 65535},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []Option
			for _, v := range tt.values {
				opts = append(opts, Option{FleetSection, "Ports", v})
			}
			r, warnings, err := ParseRequirements("web.service", opts)
			if err != nil || len(warnings) > 0 {
				t.Fatalf("ParseRequirements: %v %q", err, warnings)
			}
			if r.Ports.String() != tt.want {
				t.Errorf("Ports = %q, want %q", r.Ports, tt.want)
			}
			if r.Ports.Size() != tt.size {
				t.Errorf("Size() = %d, want %d", r.Ports.Size(), tt.size)
			}
		})
	}
	_, _, err := ParseRequirements("web.service", []Option{{FleetSection, "Ports", "80 0"}})
	if !errors.Is(err, ErrInvalidRequirements) || !strings.Contains(err.Error(), "Ports=80 0") {
		t.Errorf("Ports=80 0: %v, want ErrInvalidRequirements naming the option", err)
	}
}

func TestPortRangesContainsAndSize(t *testing.T) {
	rs := PortRanges{{80, 80}, {443, 443}, {20001, 20010}}
	for _, p := range []uint16{80, 443, 20001, 20005, 20010} {
		if !rs.Contains(p) {
			t.Errorf("Contains(%d) = false", p)
		}
	}
	for _, p := range []uint16{0, 79, 81, 442, 444, 20000, 20011, 65535} {
		if rs.Contains(p) {
			t.Errorf("Contains(%d) = true", p)
		}
	}
	if rs.Size() != 12 {
		t.Errorf("Size() = %d, want 12", rs.Size())
	}
	if rs.String() != "80 443 20001-20010" {
		t.Errorf("String() = %q", rs.String())
	}
	var none PortRanges
	if none.Contains(80) || none.Size() != 0 || none.String() != "" {
		t.Error("empty PortRanges not empty")
	}
	if got := (PortRanges{{1, 65535}}).Size(); got != 65535 {
		t.Errorf("Size() of 1-65535 = %d", got)
	}
	if got := (PortRanges{}).normalize(); got != nil {
		t.Errorf("normalize() of no ranges = %v, want nil", got)
	}
	got := (PortRanges{{30, 40}, {1, 10}, {11, 11}, {35, 50}, {60, 60}}).normalize()
	if want := (PortRanges{{1, 11}, {30, 50}, {60, 60}}); !reflect.DeepEqual(got, want) {
		t.Errorf("normalize() = %v, want %v", got, want)
	}
}
