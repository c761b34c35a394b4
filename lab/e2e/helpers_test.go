package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/lab/cluster"
)

// units is a test's set of unit files, in a directory of its own, where
// fleetctl runs. Every unit the test starts is destroyed when it ends.
type units struct {
	t   *testing.T
	dir string
}

// newUnits writes files (name -> content) and registers the cleanup
// that destroys every unit whose name starts with one of the files'
// prefixes (the part before '@' or '.').
func newUnits(t *testing.T, files map[string]string) *units {
	t.Helper()
	u := &units{t: t, dir: t.TempDir()}
	var globs []string
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(u.dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		prefix, _, _ := strings.Cut(strings.SplitN(name, "@", 2)[0], ".")
		globs = append(globs, prefix+"*")
	}
	t.Cleanup(func() { u.destroy(globs) })
	return u
}

// destroy destroys the units globs match and waits until no machine
// reports them.
func (u *units) destroy(globs []string) {
	u.t.Helper()
	for _, g := range globs {
		if out, err := ctl(u.dir, append([]string{"destroy"}, g)...); err != nil && !strings.Contains(out, "no unit in the cluster matches") {
			u.t.Errorf("cleanup: %v", err)
		}
	}
	waitFor(u.t, "destroyed units to leave every machine", agentTTL+slack, func() (bool, error) {
		ss, err := lab.Client().UnitStates(context.Background(), api.StateFilter{})
		if err != nil {
			return false, err
		}
		for _, s := range ss {
			for _, g := range globs {
				if ok, _ := filepath.Match(g, s.Name); ok {
					return false, fmt.Errorf("%s still reported on %s", s.Name, hostOf(s.MachineID))
				}
			}
		}
		return true, nil
	})
}

// ctl runs fleetctl in the units' directory and fails the test if it fails.
func (u *units) ctl(args ...string) string {
	u.t.Helper()
	out, err := ctl(u.dir, args...)
	if err != nil {
		u.t.Fatal(err)
	}
	return out
}

// waitFor polls cond every 100 ms until it holds, and returns how long
// that took; after timeout it fails the test with cond's last error.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, error)) time.Duration {
	t.Helper()
	start := time.Now()
	var last error
	for {
		ok, err := cond()
		if ok {
			return time.Since(start)
		}
		if err != nil {
			last = err
		}
		if time.Since(start) > timeout {
			logJournals(t, start.Add(-timeout))
			t.Fatalf("waiting %v for %s: not yet (last: %v)", timeout, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logJournals logs what each running machine's fleetd wrote to its
// journal since since: a timed-out wait says why in the test's output.
func logJournals(t *testing.T, since time.Time) {
	t.Helper()
	for _, m := range up() {
		out, err := m.Exec(context.Background(), "journalctl", "--no-pager", "-o", "short-precise",
			"-u", "fleetd.service", "--since", "@"+strconv.FormatInt(since.Unix(), 10))
		if err != nil {
			t.Logf("journal of %s: %v", m.Hostname, err)
		}
		t.Logf("fleetd's journal on %s since %s:\n%s", m.Hostname, since.Format(time.TimeOnly), out)
	}
}

// where returns the hostnames on which unit name is reported active,
// sorted.
func where(name string) ([]string, error) {
	ss, err := lab.Client().UnitStates(context.Background(), api.StateFilter{UnitName: name})
	if err != nil {
		return nil, err
	}
	var hosts []string
	for _, s := range ss {
		if s.Name == name && s.SystemdActiveState == "active" {
			hosts = append(hosts, hostOf(s.MachineID))
		}
	}
	sort.Strings(hosts)
	return hosts, nil
}

// waitActive waits until each unit is active on exactly one machine
// and returns those machines' hostnames.
func waitActive(t *testing.T, timeout time.Duration, names ...string) map[string]string {
	t.Helper()
	got := map[string]string{}
	waitFor(t, strings.Join(names, ", ")+" active", timeout, func() (bool, error) {
		for _, n := range names {
			hosts, err := where(n)
			if err != nil || len(hosts) != 1 {
				return false, fmt.Errorf("%s active on %v (%v)", n, hosts, err)
			}
			got[n] = hosts[0]
		}
		return true, nil
	})
	return got
}

// hostOf returns the hostname of the machine with that ID.
func hostOf(id string) string {
	for _, m := range lab.Machines() {
		if m.ID == id {
			return m.Hostname
		}
	}
	return id
}

// machine returns the lab's machine with that hostname.
func machine(t *testing.T, hostname string) *cluster.Machine {
	t.Helper()
	m := lab.Machine(hostname)
	if m == nil {
		t.Fatalf("no machine %s", hostname)
	}
	return m
}

// up returns the machines that are up.
func up() []*cluster.Machine {
	var out []*cluster.Machine
	for _, m := range lab.Machines() {
		if m.Up() {
			out = append(out, m)
		}
	}
	return out
}

// systemdState asks machine m's own systemd whether unit is active.
func systemdState(m *cluster.Machine, unit string) string {
	out, _ := m.Exec(context.Background(), "systemctl", "is-active", unit) // non-zero when not active: the output says
	return strings.TrimSpace(out)
}

// kill crashes machine m and, when the test ends, boots it again and
// waits until it is back in the machine list.
func kill(t *testing.T, m *cluster.Machine) time.Time {
	t.Helper()
	t.Cleanup(func() { restore(t, m) })
	at := time.Now()
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	return at
}

// cut cuts machine m off and, when the test ends, puts its link back and
// waits until it is back in the machine list.
func cut(t *testing.T, m *cluster.Machine) time.Time {
	t.Helper()
	t.Cleanup(func() { restore(t, m) })
	at := time.Now()
	if err := m.LinkDown(); err != nil {
		t.Fatal(err)
	}
	return at
}

// restore puts machine m back: link up, booted, in the machine list;
// then waits until machines that are down have left the list.
func restore(t *testing.T, m *cluster.Machine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if m.Up() && m.Cut() {
		if err := m.LinkUp(); err != nil {
			t.Errorf("restore %s: %v", m.Hostname, err)
		}
	}
	if !m.Up() {
		if err := m.Boot(ctx); err != nil {
			t.Errorf("restore %s: %v", m.Hostname, err)
			return
		}
	}
	if err := lab.WaitRegistered(ctx, m); err != nil {
		t.Errorf("restore %s: %v", m.Hostname, err)
	}
	waitListed(t)
}

// waitListed waits until the machine list holds exactly the machines
// that are up.
func waitListed(t *testing.T) {
	t.Helper()
	waitFor(t, "the machine list to match the machines up", agentTTL+slack, func() (bool, error) {
		ms, err := lab.Client().Machines(context.Background())
		if err != nil {
			return false, err
		}
		listed := map[string]bool{}
		for _, m := range ms {
			listed[m.ID] = true
		}
		for _, m := range lab.Machines() {
			if listed[m.ID] != (m.Up() && !m.Cut()) {
				return false, fmt.Errorf("%s: listed %v, up %v", m.Hostname, listed[m.ID], m.Up())
			}
		}
		return len(listed) == len(up()), nil
	})
}

// leader returns the machine whose engine leads, as fleetd's metrics say.
func leader(t *testing.T) *cluster.Machine {
	t.Helper()
	var lead *cluster.Machine
	waitFor(t, "an engine leader", leaderTTL+slack, func() (bool, error) {
		for _, m := range up() {
			ok, err := leads(m)
			if err != nil {
				return false, err
			}
			if ok {
				lead = m
				return true, nil
			}
		}
		return false, nil
	})
	return lead
}

// leads reads fleetd_engine_leader from machine m's metrics.
func leads(m *cluster.Machine) (bool, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(m.Endpoint() + "/metrics")
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err
	}
	return strings.Contains(string(b), "\nfleetd_engine_leader 1\n"), nil
}
