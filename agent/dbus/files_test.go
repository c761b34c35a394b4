package dbus

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/fleetsim/fleet/unit"
)

// The port link is never made where systemd has no runtime directory:
// Load must not create /run/systemd/system on a host without systemd.
func TestInstallPortNeedsRuntimeDir(t *testing.T) {
	tmp := t.TempDir()
	units, runtime := filepath.Join(tmp, "units"), filepath.Join(tmp, "run", "systemd", "system")
	s := New(units, WithRuntimeDir(runtime))
	if err := s.installPort("a.service", 80); err == nil {
		t.Error("installPort without a runtime directory: no error")
	}
	if _, err := os.Stat(filepath.Join(tmp, "run")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("installPort created %s (%v)", filepath.Join(tmp, "run"), err)
	}
	if err := s.removePort("a.service"); err != nil {
		t.Errorf("removePort without a runtime directory: %v", err)
	}
}

func TestInstallPortLink(t *testing.T) {
	tmp := t.TempDir()
	units, runtime := filepath.Join(tmp, "units"), filepath.Join(tmp, "runtime")
	if err := os.Mkdir(runtime, 0o755); err != nil {
		t.Fatal(err)
	}
	s := New(units, WithRuntimeDir(runtime))
	for _, port := range []uint16{80, 81, 81} {
		if err := s.installPort("a.service", port); err != nil {
			t.Fatal(err)
		}
	}
	if target, err := os.Readlink(filepath.Join(runtime, "a.service.d")); err != nil || target != filepath.Join(units, "a.service.d") {
		t.Errorf("link: %q, %v", target, err)
	}
	if p, err := readPort(filepath.Join(units, "a.service.d", portFile)); p != 81 || err != nil {
		t.Errorf("readPort: %d, %v", p, err)
	}
	// A real directory in the runtime directory is not ours to replace.
	if err := os.Mkdir(filepath.Join(runtime, "b.service.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runtime, "b.service.d", "x.conf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.installPort("b.service", 80); err == nil {
		t.Error("installPort over a real drop-in directory: no error")
	}
	if err := s.installPort("a.service", 0); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(runtime, "a.service.d"), filepath.Join(units, "a.service.d")} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("port 0: %s left (%v)", p, err)
		}
	}
}

func TestReadPort(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]string{
		portDropIn(8080): "8080",
		"[Service]\nEnvironment=A=1 FLEET_PORT=9\n": "9",
		"[Service]\nEnvironment=FLEET_PORT=0\n":     "error",
		"[Service]\nEnvironment=FLEET_PORT=70000\n": "error",
		"[Service]\nEnvironment=OTHER=1\n":          "error",
	} {
		path := filepath.Join(dir, portFile)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := readPort(path)
		got := "error"
		if err == nil {
			got = strconv.Itoa(int(p))
		}
		if got != want {
			t.Errorf("readPort(%q) = %s (%v), want %s", content, got, err, want)
		}
	}
	if p, err := readPort(filepath.Join(dir, "missing")); p != 0 || err != nil {
		t.Errorf("readPort(missing) = %d, %v", p, err)
	}
}

// The listing holds the unit files fleet wrote only: no drop-in
// directories, temporary files, stray names, files without fleet's
// marker or names fleet never manages; a file of fleet's that does not
// parse is listed with a zero hash, beside the others.
func TestInstalled(t *testing.T) {
	units := t.TempDir()
	s := New(units)
	f, err := unit.ParseString("[Service]\nExecStart=/bin/true\n")
	if err != nil {
		t.Fatal(err)
	}
	path, err := unit.PathIn(units, "a.service")
	if err != nil {
		t.Fatal(err)
	}
	if err := writeUnitFile(units, path, fileContent(f)); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"fleetd.service": fileContent(f), // a host service's name, marker or not
		"other.service":  f.Serialize(),  // no marker: someone else's
		"sshd@1.service": fileContent(f),
		"dbus.socket":    fileContent(f),
	} {
		if err := os.WriteFile(filepath.Join(units, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{".a.service.123.tmp", "README", "b.service.d/" + portFile} {
		p := filepath.Join(units, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(portDropIn(1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.installed()
	if err != nil || len(got) != 1 || got[0].Name != "a.service" || got[0].Hash != f.Hash() || got[0].Port != 0 {
		t.Errorf("installed() = %+v, %v; want a.service only", got, err)
	}
	if err := os.WriteFile(filepath.Join(units, "bad.service"), []byte(marker+"[Service\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = s.installed()
	if err != nil || len(got) != 2 || got[0].Name != "a.service" || got[1].Name != "bad.service" || !got[1].Hash.IsZero() {
		t.Errorf("installed() with a bad file: %+v, %v; want a.service, and bad.service with no hash", got, err)
	}
	if got, err := New(filepath.Join(units, "missing")).installed(); err != nil || len(got) != 0 {
		t.Errorf("installed() of a missing directory: %v, %v", got, err)
	}
}
