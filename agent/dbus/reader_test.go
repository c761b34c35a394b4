package dbus

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/fleetsim/fleet/unit"
)

// install writes f as unit name's file the way Load does, without D-Bus.
func install(t *testing.T, s *Systemd, name string, f *unit.File) {
	t.Helper()
	path, err := unit.PathIn(s.unitsDir, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeUnitFile(s.unitsDir, path, fileContent(f)); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
}

// readBack checks that what the API accepted for unit name, written by
// the agent, is read back by the agent's reader with the same hash, and
// parses (with the function readInstalled uses) to the same options.
func readBack(t *testing.T, s *Systemd, name string, f *unit.File) {
	t.Helper()
	install(t, s, name, f)
	got, err := s.readInstalled(name)
	if err != nil {
		t.Fatalf("readInstalled(%.40q) of an accepted unit: %v", name, err)
	}
	if got.Hash != f.Hash() {
		t.Fatalf("readInstalled(%.40q): hash %s, the API's is %s", name, got.Hash.Short(), f.Hash().Short())
	}
	path, _ := unit.PathIn(s.unitsDir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	back, err := unit.ParseString(string(b))
	if err != nil || len(back.Options)+len(f.Options) > 0 && !reflect.DeepEqual(back.Options, f.Options) {
		t.Fatalf("options %q read back as %v, %v", f.Options, back, err)
	}
}

// The units of the field reports: a 2.1 KB ExecStart line (systemd runs
// it; go-systemd's 2048-byte limit made every reconcile fail), longer
// lines up to what the size limits allow, and a name of MaxNameLength
// bytes, whose temporary file name must still fit in 255 bytes.
func TestReaderReadsWhatTheAPIAccepts(t *testing.T) {
	s := New(t.TempDir())
	long := strings.Repeat("a", unit.MaxNameLength-len(".service")) + ".service"
	for _, tt := range []struct {
		name, exec string
	}{
		{"long-line.service", "/bin/sh -c 'echo " + strings.Repeat("x", 2100) + "'"},
		{"longer-line.service", "/bin/sh -c 'echo " + strings.Repeat("x", 900<<10) + "'"},
		{"backslash.service", `/bin/echo \`},
		{long, "/bin/true"},
	} {
		f, _, err := unit.CheckSubmission(tt.name, []unit.Option{{Section: "Service", Name: "ExecStart", Value: tt.exec}})
		if err != nil {
			t.Fatalf("%.40q: the API's check refused it: %v", tt.name, err)
		}
		readBack(t, s, tt.name, f)
	}
}

// FuzzAcceptedReadsBack drives a unit from the API's check
// (unit.CheckSubmission) to the agent's reader: whatever the check
// accepts, written as the agent writes it and read back by readInstalled,
// has the same hash and options.
func FuzzAcceptedReadsBack(f *testing.F) {
	f.Add("hello.service", "Service", "ExecStart", "/bin/sh -c '"+strings.Repeat("x", 2100)+"'", "X-Fleet", "Conflicts", "hello*")
	f.Add("inject.service", "Unit", "Description", "x\n[Service]\nExecStartPre=/bin/touch FILE", "Service", "ExecStart", "/bin/true")
	f.Add("space.service", "Unit", "Description", "x ", "Unit", "Description", "x\r")
	f.Add("cont.service", "Service", "ExecStart", `/bin/echo \`, "Service", "ExecStop", `\\`)
	f.Add("#x.service", "Unit", "#Name", "v", "Unit ", "Name", "v")
	f.Add(strings.Repeat("n", 240)+".service", "Unit", "A", "v", "Service", "B", "v")
	f.Add("fleetd.service", "Service", "ExecStart", "/bin/true", "Service", "B", "v")
	f.Fuzz(func(t *testing.T, name, s1, k1, v1, s2, k2, v2 string) {
		opts := []unit.Option{{Section: s1, Name: k1, Value: v1}, {Section: s2, Name: k2, Value: v2}, {Section: s1, Name: k2, Value: v1}}
		file, _, err := unit.CheckSubmission(name, opts)
		if err != nil {
			return
		}
		readBack(t, New(t.TempDir()), name, file)
	})
}
