package fleetctl

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// fleetctl reads unit files with the limits of the API: what it refuses
// is what the API would refuse, and what it accepts the API accepts.
func TestReadUnitFileChecksAsTheAPI(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	s := &session{stdio: stdio{err: &stderr}, opts: options{workDir: dir}}
	exec := "/bin/sh -c 'echo " + strings.Repeat("x", 2100) + "'"
	long := strings.Repeat("n", 242) + ".service"
	for _, tt := range []struct {
		name, body string
		is         error // nil: accepted
		says       string
	}{
		{"long-line.service", "[Service]\nExecStart=" + exec + "\n", nil, ""},
		{"blanks.service", "[Service]\n  ExecStart = /bin/true  \n", nil, ""},
		{"fleetd.service", "[Service]\nExecStart=/bin/true\n", unit.ErrReservedName, "fleetd's own unit"},
		{"systemd-journald.service", "[Service]\nExecStart=/bin/true\n", unit.ErrReservedName, "systemd's own units"},
		{long, "[Service]\nExecStart=/bin/true\n", unit.ErrInvalidName, "250 bytes long, over the limit of 239"},
		{"escape.service", "[Unit]\nDescription=\x1b[31mred\n", unit.ErrInvalidFile, "line 2: control character U+001B"},
		{"cr.service", "[Service]\nExecStart=/bin/true\rExecStartPre=/bin/touch FILE\n", unit.ErrInvalidFile, "control character U+000D"},
		{"space.service", "[Service]\nExec Start=/bin/true\n", unit.ErrInvalidFile, "' ' at byte 4"},
		{"lt.service", "[Service]\nExecStart=" + strings.Repeat("<", 300<<10) + "\n", unit.ErrTooLarge, "limit of 1048576"},
	} {
		if err := os.WriteFile(filepath.Join(dir, tt.name), []byte(tt.body), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := s.readUnitFile(tt.name, tt.name)
		if tt.is == nil {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			api, _, err := unit.CheckSubmission(tt.name, f.Options)
			if err != nil || api.Hash() != f.Hash() {
				t.Errorf("%s: fleetctl accepts it, the API's check gives %v", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%.40s: %v, want %v saying %q", tt.name, err, tt.is, tt.says)
		}
	}
}

// A unit stored before the canonical-input rules (here with a trailing
// blank and a section seen again) is still listed with the hash it was
// stored under, and compared by it.
func TestStoredUnitsAreNotCheckedAgain(t *testing.T) {
	opts := []unit.Option{{Section: "Unit", Name: "Description", Value: "legacy "}, {Section: "Service", Name: "ExecStart", Value: "/bin/true"}, {Section: "Unit", Name: "After", Value: "a"}}
	if _, err := unit.NewFile(opts); err == nil {
		t.Fatal("test bug: the options are canonical")
	}
	want := (&unit.File{Options: opts}).Hash().String()
	r := unitFileRow(api.Unit{Name: "legacy.service", Options: opts}, nil)
	if r.Hash != want || r.Description != "legacy " {
		t.Errorf("unitFileRow = hash %q, description %q; want %s", r.Hash, r.Description, want)
	}
}
