package fleetctl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/agent/memsd"
)

// A unit whose start job fails is listed failed, and status says so
// beside what systemctl says.
func TestStatusSaysWhyAUnitIsNotAsDesired(t *testing.T) {
	sdSetup = func(sd *memsd.Systemd) { sd.FailStarts("failing.service") }
	defer func() { sdSetup = nil }()
	tc := startCluster(t, "/_coreos.com/fleet/", "", walkthroughMachines()[:1])
	file := filepath.Join(t.TempDir(), "failing.service")
	if err := os.WriteFile(file, []byte("[Service]\nExecStart=/bin/false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runArgs(t, nil, "--endpoint", tc.endpoint, "start", "--no-block", file); code != ExitOK {
		t.Fatalf("start: exit %d, %s", code, stderr)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, stdout, _ := runArgs(t, nil, "--endpoint", tc.endpoint, "list-units")
		if strings.Contains(stdout, "failed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("failing.service never listed failed:\n%s", stdout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, stdout, stderr := runArgs(t, nil, "--endpoint", tc.endpoint, "status", "failing.service")
	if !strings.Contains(stdout, "fleet: start job failed") {
		t.Fatalf("status does not say why:\n%s%s", stdout, stderr)
	}
}
