package sim

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// deps lists the packages pkg depends on (go list -deps).
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	cmd := exec.Command(goBin, "list", "-deps", pkg)
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestRunsTheProductionSteps: the simulator runs fleetd's own leader and
// agent steps (engine/leader, agent), and neither they nor the simulator
// depend on etcd, D-Bus, the network, processes or fleetd's drivers
// (engine, agent/runner), which are what differs between the two homes.
func TestRunsTheProductionSteps(t *testing.T) {
	const mod = "github.com/fleetsim/fleet/"
	got := deps(t, ".")
	for _, want := range []string{"engine/leader", "agent", "scheduler", "unit"} {
		if !slices.Contains(got, mod+want) {
			t.Errorf("the simulator does not run %s%s", mod, want)
		}
	}
	for _, pkg := range []string{".", "../engine/leader", "../agent"} {
		for _, dep := range deps(t, pkg) {
			switch {
			case dep == "net" || dep == "net/http" || dep == "os/exec",
				dep == mod+"engine" || dep == mod+"agent/runner" || dep == mod+"registry",
				strings.HasPrefix(dep, "go.etcd.io/"), strings.HasPrefix(dep, "github.com/godbus/"),
				strings.HasPrefix(dep, "github.com/coreos/go-systemd/v22/dbus"):
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
