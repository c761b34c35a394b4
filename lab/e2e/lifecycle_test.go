package e2e

import (
	"strings"
	"testing"
	"time"
)

const helloUnit = `[Unit]
Description=Hello World

[Service]
ExecStart=/bin/sh -c "while true; do echo Hello World; sleep 1; done"
`

// TestLifecycle walks seed 000 with the real fleetctl: submit, load,
// start, stop, unload, destroy, checking fleet's view and the machine's
// own systemd at each step.
func TestLifecycle(t *testing.T) {
	need(t)
	u := newUnits(t, map[string]string{"life.service": helloUnit})
	u.ctl("submit", "life.service")
	if out := u.ctl("list-unit-files"); !strings.Contains(out, "life.service") || !strings.Contains(out, "inactive") {
		t.Fatalf("after submit, list-unit-files:\n%s", out)
	}
	if out := u.ctl("load", "life.service"); !strings.Contains(out, "Unit life.service loaded on ") {
		t.Fatalf("load said %q", out)
	}
	out := u.ctl("start", "life.service")
	if !strings.Contains(out, "Unit life.service launched on ") {
		t.Fatalf("start said %q", out)
	}
	host := waitActive(t, 10*time.Second, "life.service")["life.service"]
	m := machine(t, host)
	if s := systemdState(m, "life.service"); s != "active" {
		t.Fatalf("%s's systemd says life.service is %q", host, s)
	}
	if out := u.ctl("list-units"); !strings.Contains(out, m.IP) || !strings.Contains(out, "running") {
		t.Fatalf("list-units does not show life.service running on %s:\n%s", m.IP, out)
	}
	journal, err := m.Exec(t.Context(), "journalctl", "-u", "life.service", "-o", "cat", "--no-pager")
	if err != nil || !strings.Contains(journal, "Hello World") {
		t.Errorf("journal of life.service on %s: %q, %v", host, journal, err)
	}
	u.ctl("stop", "life.service")
	waitFor(t, "life.service stopped", 10*time.Second, func() (bool, error) {
		return systemdState(m, "life.service") != "active", nil
	})
	u.ctl("unload", "life.service")
	waitFor(t, "life.service unloaded", 10*time.Second, func() (bool, error) {
		hosts, err := where("life.service")
		return err == nil && len(hosts) == 0, err
	})
	if out := u.ctl("destroy", "life.service"); !strings.Contains(out, "Destroyed life.service") {
		t.Fatalf("destroy said %q", out)
	}
	if out := u.ctl("list-unit-files"); strings.Contains(out, "life.service") {
		t.Fatalf("after destroy, list-unit-files:\n%s", out)
	}
}
