package unit

import (
	"strings"
	"testing"
)

func TestStateRoundTrip(t *testing.T) {
	tests := []struct {
		s      State
		name   string
		active bool
	}{
		{StateInactive, "inactive", false},
		{StateLoaded, "loaded", true},
		{StateLaunched, "launched", true},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.name {
			t.Errorf("State(%d).String() = %q, want %q", tt.s, got, tt.name)
		}
		got, err := ParseState(tt.name)
		if err != nil || got != tt.s {
			t.Errorf("ParseState(%q) = %v, %v; want %v", tt.name, got, err, tt.s)
		}
		if tt.s.Active() != tt.active {
			t.Errorf("%v.Active() = %v, want %v", tt.s, tt.s.Active(), tt.active)
		}
	}
	if StateInactive != 0 {
		t.Error("the zero State must be inactive")
	}
	if got := State(7).String(); got != "State(7)" {
		t.Errorf("State(7).String() = %q", got)
	}
	if State(7).Active() {
		t.Error("State(7).Active() = true")
	}
}

func TestParseStateErrors(t *testing.T) {
	for _, in := range []string{"", "Loaded", "LAUNCHED", " loaded", "launched\n", "active", "State(1)", "1"} {
		s, err := ParseState(in)
		if err == nil {
			t.Errorf("ParseState(%q) = %v, want an error", in, s)
			continue
		}
		if !strings.Contains(err.Error(), "unknown state") || !strings.Contains(err.Error(), "want inactive, loaded or launched") {
			t.Errorf("ParseState(%q) error %q does not explain itself", in, err)
		}
	}
}
