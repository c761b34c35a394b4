package unit

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestNewFileRefuses lists what NewFile (the API's check) refuses: every
// option systemd would read back differently, or as more than one line.
func TestNewFileRefuses(t *testing.T) {
	bad := []struct {
		opt  Option
		rule string
	}{
		{Option{"", "A", "v"}, "section: empty"},
		{Option{"  ", "A", "v"}, "section: starts or ends with a blank"},
		{Option{" Unit", "A", "v"}, "section: starts or ends with a blank"},
		{Option{"Un]it", "A", "v"}, `section: ']' at byte 2`},
		{Option{"[Unit", "A", "v"}, `section: '[' at byte 0`},
		{Option{`Un\it`, "A", "v"}, `section: '\\' at byte 2`},
		{Option{"Unit\nX", "A", "v"}, "section: control character U+000A at byte 4"},
		{Option{"Unit\tX", "A", "v"}, "section: control character U+0009"},
		{Option{"Unit", "", "v"}, "name: empty"},
		{Option{"Unit", "\t", "v"}, "name: control character U+0009"},
		{Option{"Unit", "A=B", "v"}, "name: '=' at byte 1"},
		{Option{"Unit", "A\nB", "v"}, "name: control character U+000A"},
		{Option{"Unit", "A B", "v"}, "name: ' ' at byte 1"},
		{Option{"Unit", "A ", "v"}, "name: starts or ends with a blank"},
		{Option{"Unit", "#A", "v"}, "name: starts with '#'"},
		{Option{"Unit", ";A", "v"}, "name: starts with ';'"},
		{Option{"Unit", "[A", "v"}, "name: starts with '['"},
		{Option{"Unit", "A\x00", "v"}, "name: control character U+0000"},
		{Option{"Unit", "A", "x\n[Service]\nExecStartPre=/bin/touch FILE"}, "value: control character U+000A at byte 1"},
		{Option{"Unit", "A", "x\ry"}, "value: control character U+000D"},
		{Option{"Unit", "A", "x\x00"}, "value: control character U+0000"},
		{Option{"Unit", "A", "x\x7f"}, "value: control character U+007F"},
		{Option{"Unit", "A", "x\u0085"}, "value: control character U+0085"},
		{Option{"Unit", "A", "x "}, "value: starts or ends with a blank"},
		{Option{"Unit", "A", " x"}, "value: starts or ends with a blank"},
		{Option{"Unit", "A", "x\t"}, "value: starts or ends with a blank"},
		{Option{"Unit", "A", "caf\xe9"}, "value: not valid UTF-8"},
	}
	for _, tt := range bad {
		_, err := NewFile([]Option{{"Unit", "Description", "ok"}, tt.opt})
		if !errors.Is(err, ErrInvalidFile) || !strings.Contains(err.Error(), tt.rule) || !strings.Contains(err.Error(), "option 1 (") {
			t.Errorf("NewFile(%q) = %v, want ErrInvalidFile for option 1 mentioning %q", tt.opt, err, tt.rule)
		}
		if errors.Is(err, ErrTooLarge) {
			t.Errorf("NewFile(%q) = %v: not a size error", tt.opt, err)
		}
	}
}

func TestNewFileAccepts(t *testing.T) {
	for _, o := range []Option{
		{"Unit", "A", ""},
		{"Unit", "A", "a\tb"},
		{"X Fleet", "A", "v"},
		{"Unit", "A", "=v"},
		{"Unit", "A", "#v"},
		{"Unit", "A", "[v]"},
		{"Unit", "A", `v\`},
		{"Unit", "A", "café ☕ \u00a0nbsp\u00a0"},
		{"Unit", "A#;[", "v"},
	} {
		f, err := NewFile([]Option{o})
		if err != nil {
			t.Errorf("NewFile(%q): %v", o, err)
			continue
		}
		back, err := ParseString(f.Serialize())
		if err != nil || len(back.Options) != 1 || back.Options[0] != o {
			t.Errorf("%q read back from %q as %q, %v", o, f.Serialize(), back, err)
		}
	}
}

// Options [U A, S B, U C] and [U A, U C, S B] would have one canonical
// form; the first is refused so that they cannot share a stored body.
func TestNewFileRefusesSectionAgain(t *testing.T) {
	_, err := NewFile([]Option{{"Unit", "A", "1"}, {"Service", "B", "2"}, {"Unit", "C", "3"}})
	want := `option 2 ("Unit"/"C"): section "Unit" appears again after section "Service"`
	if !errors.Is(err, ErrInvalidFile) || !strings.Contains(err.Error(), want) {
		t.Errorf("NewFile = %v, want %q", err, want)
	}
	if _, err := NewFile([]Option{{"Unit", "A", "1"}, {"Unit", "C", "3"}, {"Service", "B", "2"}}); err != nil {
		t.Errorf("grouped: %v", err)
	}
}

func TestNewFileSizeLimits(t *testing.T) {
	// 300 KB of '<': a small request, but six times that as JSON.
	lt := strings.Repeat("<", 300<<10)
	_, err := NewFile([]Option{{"Service", "ExecStart", lt}})
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrInvalidFile) || !strings.Contains(err.Error(), "over the limit of 1048576") {
		t.Errorf("300 KB of '<': %v, want ErrTooLarge naming the limit", err)
	}
	if !strings.Contains(err.Error(), "1843253 bytes as stored") {
		t.Errorf("300 KB of '<': %v, want the stored size", err)
	}
	// Just under both limits is accepted; the file limit holds on its own.
	f, err := NewFile([]Option{{"Service", "ExecStart", strings.Repeat("x", MaxStoredSize-60)}})
	if err != nil {
		t.Fatalf("body just under the limit: %v", err)
	}
	if _, err := ParseString(f.Serialize()); err != nil {
		t.Errorf("canonical form of an accepted body: %v", err)
	}
	_, err = NewFile([]Option{{"Service", "ExecStart", strings.Repeat("x", MaxFileSize)}})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "the unit file is 1048597 bytes") {
		t.Errorf("file over MaxFileSize: %v", err)
	}
}

func TestStoredSize(t *testing.T) {
	f, err := NewFile([]Option{{"Service", "ExecStart", "/bin/echo <&>"}, {"Service", "A", "é"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(f.Options)
	if f.StoredSize() != len(b) || !strings.Contains(string(b), `\u003c`) {
		t.Errorf("StoredSize() = %d, JSON %s is %d bytes", f.StoredSize(), b, len(b))
	}
}
