package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// loop is a unit body that runs until stopped.
const loop = "[Service]\nExecStart=/bin/sh -c \"while true; do sleep 1; done\"\n"

// TestTemplateMetadataFromInstance: a template whose MachineMetadata
// names %i places each instance by its instance name.
func TestTemplateMetadataFromInstance(t *testing.T) {
	need(t)
	u := newUnits(t, map[string]string{"meta@.service": loop + "\n[X-Fleet]\nMachineMetadata=role=%i\n"})
	u.ctl("start", "meta@db.service", "meta@worker.service")
	got := waitActive(t, 10*time.Second, "meta@db.service", "meta@worker.service")
	for inst, host := range got {
		role := strings.TrimSuffix(strings.TrimPrefix(inst, "meta@"), ".service")
		if m := machine(t, host); m.Metadata["role"] != role {
			t.Errorf("%s runs on %s, whose role is %s", inst, host, m.Metadata["role"])
		}
	}
	out, err := ctl(u.dir, "start", "meta@nosuchrole.service")
	if err == nil || !strings.Contains(out, "role=nosuchrole") {
		t.Errorf("an instance no machine's metadata fits: %q, %v", out, err)
	}
}

// TestConflictsSpread: instances that conflict with each other land on
// machines of their own; one more than there are machines is refused
// with the reason.
func TestConflictsSpread(t *testing.T) {
	need(t)
	u := newUnits(t, map[string]string{"spread@.service": loop + "\n[X-Fleet]\nConflicts=spread@*\n"})
	n := len(up())
	var names []string
	for i := 1; i <= n; i++ {
		names = append(names, fmt.Sprintf("spread@%d.service", i))
	}
	u.ctl(append([]string{"start"}, names...)...)
	got := waitActive(t, 10*time.Second, names...)
	seen := map[string]string{}
	for name, host := range got {
		if other, ok := seen[host]; ok {
			t.Errorf("%s and %s share %s", name, other, host)
		}
		seen[host] = name
	}
	extra := fmt.Sprintf("spread@%d.service", n+1)
	if out, err := ctl(u.dir, "start", extra); err == nil || !strings.Contains(out, "conflict") {
		t.Errorf("start %s with every machine taken: %q, %v", extra, out, err)
	}
}

// TestReplaces: a unit that Replaces another, which only that unit's
// machine can take (MachineMetadata naming all its metadata: MachineID
// and Replaces do not combine), takes the machine; the replaced one moves
// elsewhere and stops there.
func TestReplaces(t *testing.T) {
	need(t)
	u := newUnits(t, map[string]string{"repold.service": loop})
	u.ctl("start", "repold.service")
	host := waitActive(t, 10*time.Second, "repold.service")["repold.service"]
	m := machine(t, host)
	newer := loop + "\n[X-Fleet]\nReplaces=repold.service\n"
	for _, k := range []string{"role", "region", "disk", "ram"} {
		newer += "MachineMetadata=" + k + "=" + m.Metadata[k] + "\n"
	}
	u2 := newUnits(t, map[string]string{"repnew.service": newer})
	u2.ctl("start", "repnew.service")
	got := waitActive(t, 10*time.Second, "repnew.service", "repold.service")
	if got["repnew.service"] != host {
		t.Errorf("repnew.service runs on %s, want %s (MachineID)", got["repnew.service"], host)
	}
	if got["repold.service"] == host {
		t.Errorf("repold.service still runs on %s beside the unit that replaces it", host)
	}
	waitFor(t, "repold.service to stop on "+host, 10*time.Second, func() (bool, error) {
		return systemdState(m, "repold.service") != "active", nil
	})
}

// TestPortsTwoInstancesOneMachine: two instances with Ports= pinned to
// one machine get different ports of the range, seen in the
// environment of their processes.
func TestPortsTwoInstancesOneMachine(t *testing.T) {
	need(t)
	m := up()[len(up())-1]
	body := loop + "\n[X-Fleet]\nPorts=20001-20010\nMachineID=" + m.ID + "\n"
	u := newUnits(t, map[string]string{"port@.service": body})
	u.ctl("start", "port@1.service", "port@2.service")
	waitActive(t, 10*time.Second, "port@1.service", "port@2.service")
	ports := map[string]int{}
	for _, inst := range []string{"port@1.service", "port@2.service"} {
		ports[inst] = fleetPort(t, m.Exec, inst)
		if p := ports[inst]; p < 20001 || p > 20010 {
			t.Errorf("%s has FLEET_PORT=%d, out of 20001-20010", inst, p)
		}
	}
	if ports["port@1.service"] == ports["port@2.service"] {
		t.Errorf("both instances got port %d", ports["port@1.service"])
	}
}

// fleetPort reads FLEET_PORT from the environment of unit's main process.
func fleetPort(t *testing.T, exec func(context.Context, ...string) (string, error), unit string) int {
	t.Helper()
	pid, err := exec(t.Context(), "systemctl", "show", "--property=MainPID", "--value", unit)
	if err != nil {
		t.Fatal(err)
	}
	environ, err := exec(t.Context(), "cat", "/proc/"+strings.TrimSpace(pid)+"/environ")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range strings.Split(environ, "\x00") {
		if v, ok := strings.CutPrefix(kv, "FLEET_PORT="); ok {
			p, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("%s: FLEET_PORT=%q", unit, v)
			}
			return p
		}
	}
	t.Fatalf("%s (pid %s): no FLEET_PORT in its environment", unit, strings.TrimSpace(pid))
	return 0
}

// TestGlobalOnEveryMachineAndLateJoiner: a Global unit runs on every
// machine, and on a machine that joins afterwards.
func TestGlobalOnEveryMachineAndLateJoiner(t *testing.T) {
	need(t)
	u := newUnits(t, map[string]string{"glob.service": loop + "\n[X-Fleet]\nGlobal=true\n"})
	u.ctl("start", "glob.service")
	waitGlobal(t, "glob.service", len(up()))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	start := time.Now()
	m, err := lab.Add(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Kill(); err != nil {
			t.Error(err)
		}
		waitListed(t)
	})
	t.Logf("%s joined in %v", m.Hostname, time.Since(start).Round(10*time.Millisecond))
	waitGlobal(t, "glob.service", len(up()))
	if s := systemdState(m, "glob.service"); s != "active" {
		t.Errorf("the late joiner %s's systemd says glob.service is %q", m.Hostname, s)
	}
}

// waitGlobal waits until unit is active on n machines, all different.
func waitGlobal(t *testing.T, unit string, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s active on %d machines", unit, n), 15*time.Second, func() (bool, error) {
		hosts, err := where(unit)
		return err == nil && len(hosts) == n, fmt.Errorf("on %v (%v)", hosts, err)
	})
}
