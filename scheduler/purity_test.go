package scheduler

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestPurity enforces DESIGN.md's first rule of the core: scheduler/ (the
// package, not its tests) depends on nothing that does network or process
// I/O: no etcd, no D-Bus, no net, no os/exec.
func TestPurity(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	cmd := exec.Command(goBin, "list", "-deps", "./...")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps ./...: %v\n%s", err, stderr)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps printed nothing")
	}
	forbidden := func(dep string) bool {
		switch dep {
		case "net", "net/http", "os/exec":
			return true
		}
		for _, prefix := range []string{"go.etcd.io/", "github.com/godbus/", "github.com/coreos/go-systemd/v22/dbus"} {
			if strings.HasPrefix(dep, prefix) {
				return true
			}
		}
		return false
	}
	for _, dep := range deps {
		if forbidden(dep) {
			t.Errorf("scheduler depends on %s", dep)
		}
	}
}
