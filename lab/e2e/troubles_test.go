package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/api"
)

// TestHangingStartHoldsBackNothing: a start that never completes
// (a oneshot with no start timeout) leaves its unit activating, and a
// unit placed on the same machine afterwards starts at once; destroying
// the hanging unit stops it.
func TestHangingStartHoldsBackNothing(t *testing.T) {
	need(t)
	u := newUnits(t, map[string]string{
		"hang.service":     "[Service]\nType=oneshot\nTimeoutStartSec=0\nExecStart=/bin/sleep 3600\n",
		"hangnext.service": loop + "\n[X-Fleet]\nMachineOf=hang.service\n",
	})
	u.ctl("start", "--no-block", "hang.service")
	var host string
	waitFor(t, "hang.service activating", 10*time.Second, func() (bool, error) {
		at, err := reportedOn("hang.service")
		if err != nil || len(at) != 1 {
			return false, fmt.Errorf("hang.service on %v (%v)", at, err)
		}
		host = at[0]
		if s := systemdState(machine(t, host), "hang.service"); s != "activating" {
			return false, fmt.Errorf("hang.service is %q on %s", s, host)
		}
		return true, nil
	})
	t0 := time.Now()
	u.ctl("start", "hangnext.service")
	got := waitActive(t, 10*time.Second, "hangnext.service")
	if got["hangnext.service"] != host {
		t.Errorf("hangnext.service runs on %s, want %s beside hang.service", got["hangnext.service"], host)
	}
	t.Logf("hangnext.service started %v after it was submitted, beside a start that never completes",
		time.Since(t0).Round(10*time.Millisecond))
}

// agentPass is the agent's periodic reconcile interval (fleetd's).
const agentPass = 5 * time.Second

// TestExitedUnitIsNotStartedAgain: a unit whose program exits at once is
// started once, as fleet's start means, and then left to its own
// Restart= (none): it is not started again and again.
func TestExitedUnitIsNotStartedAgain(t *testing.T) {
	need(t)
	u := newUnits(t, map[string]string{
		"once.service": "[Service]\nExecStart=/bin/sh -c 'echo started >> /run/once-starts'\n",
	})
	u.ctl("start", "--no-block", "once.service")
	var host string
	waitFor(t, "once.service to run and exit", 10*time.Second, func() (bool, error) {
		at, err := reportedOn("once.service")
		if err != nil || len(at) != 1 {
			return false, fmt.Errorf("once.service on %v (%v)", at, err)
		}
		host = at[0]
		out, err := machine(t, host).Exec(context.Background(), "cat", "/run/once-starts")
		if strings.Count(out, "started") < 1 {
			return false, fmt.Errorf("on %s: %q, %v", host, out, err)
		}
		return true, nil
	})
	time.Sleep(2*agentPass + reconcile) // two periodic agent passes over an inactive unit
	out, _ := machine(t, host).Exec(context.Background(), "cat", "/run/once-starts")
	if n := strings.Count(out, "started"); n != 1 {
		t.Fatalf("once.service was started %d times, want once", n)
	}
}

// reportedOn returns the hostnames of the machines that report a state
// of unit name, whatever it is.
func reportedOn(name string) ([]string, error) {
	ss, err := lab.Client().UnitStates(context.Background(), api.StateFilter{UnitName: name})
	if err != nil {
		return nil, err
	}
	var hosts []string
	for _, s := range ss {
		if s.Name == name {
			hosts = append(hosts, hostOf(s.MachineID))
		}
	}
	return hosts, nil
}

// TestLongLineRuns: a unit with a 2.1 KB ExecStart line (systemd reads
// lines up to 1 MiB) is accepted, installed, read back and run: it does
// not stop the agent's pass for the machine's other units.
func TestLongLineRuns(t *testing.T) {
	need(t)
	arg := strings.Repeat("x", 2100)
	u := newUnits(t, map[string]string{
		"longline.service":  "[Service]\nExecStart=/bin/sh -c 'while true; do sleep 1; done' " + arg + "\n",
		"shortline.service": loop,
	})
	u.ctl("start", "longline.service", "shortline.service")
	waitActive(t, 10*time.Second, "longline.service", "shortline.service")
}

// TestHostServiceNamesRefused: a unit named as a service the machine
// cannot lose (fleetd's own, D-Bus's, systemd's) is refused at submit,
// saying why, and nothing reaches the cluster.
func TestHostServiceNamesRefused(t *testing.T) {
	need(t)
	for _, name := range []string{"fleetd.service", "dbus.service", "systemd-journald.service"} {
		u := newUnits(t, map[string]string{name: loop})
		out, err := ctl(u.dir, "submit", name)
		if err == nil {
			t.Errorf("submit %s: accepted (%q)", name, out)
			continue
		}
		if listed, _ := ctl(u.dir, "list-unit-files"); strings.Contains(listed, name) {
			t.Errorf("%s reached the cluster after a refused submit:\n%s", name, listed)
		}
		t.Logf("submit %s: %s", name, strings.TrimSpace(out))
	}
}
