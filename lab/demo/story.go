package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fleetsim/fleet/lab/cluster"
)

// story is the walk, act after act.
func (d *demo) story() error {
	for _, act := range []func() error{d.machines, d.lifecycle, d.statusAndJournal, d.teardownHello,
		d.spread, d.global, d.metadata, d.ports, d.failover} {
		if err := act(); err != nil {
			return err
		}
	}
	d.act(fmt.Sprintf("The end: the story took %v", time.Since(d.start).Round(100*time.Millisecond)))
	return nil
}

// showFile prints a unit file as cat would.
func (d *demo) showFile(name string) error {
	b, err := os.ReadFile(filepath.Join(d.work, name))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(d.Out, "$ cat %s\n%s\n", name, b)
	return nil
}

func (d *demo) machines() error {
	d.act(fmt.Sprintf("The cluster: %d machines on this host, each its own systemd, network and fleetd.service", len(d.st.Machines)),
		"export FLEETCTL_ENDPOINT="+d.endpoint+"   # fleetd's API on core-01's address",
		fmt.Sprintf("fleetd runs with agent_ttl=%s and engine_reconcile_interval=%s (fleet's defaults: 30s, 2s), for a short demo",
			d.st.AgentTTL, d.st.Reconcile))
	if err := d.must("list-machines"); err != nil {
		return err
	}
	return d.onMachine("core-01", "systemctl", "status", "fleetd.service", "--no-pager", "--lines=0")
}

// lifecycle is seed 000: the life of hello.service, step by step.
func (d *demo) lifecycle() error {
	d.act("A unit's life (seed 000): submit, load, start", "hello.service is a shell loop printing Hello World (no Docker here)")
	if err := d.showFile("hello.service"); err != nil {
		return err
	}
	steps := [][]string{
		{"submit", "hello.service"}, {"list-unit-files"}, {"list-units"}, {"cat", "hello.service"},
		{"load", "hello.service"}, {"list-unit-files"}, {"list-units"}, {"start", "hello.service"},
	}
	for _, s := range steps {
		if err := d.must(s...); err != nil {
			return err
		}
	}
	d.helloStarted = time.Now()
	if err := d.waitActive(map[string]int{"hello.service": 1}); err != nil {
		return err
	}
	if err := d.must("list-unit-files"); err != nil {
		return err
	}
	return d.must("list-units")
}

// statusAndJournal shows hello.service's status and journal through
// fleetctl when it can, through the machine's own journal otherwise.
func (d *demo) statusAndJournal() error {
	d.act("Status and journal, wherever the unit runs")
	time.Sleep(time.Until(d.helloStarted.Add(2500 * time.Millisecond))) // a few Hello Worlds to show
	out, err := d.fleetctl("status", "hello.service")
	switch {
	case notThereYet(out, err):
		d.note("fleetctl status and journal are not there yet in this fleetctl: both skipped.")
		d.note("What they would show comes from the machine's own journal:")
		where, _, serr := d.states()
		if serr != nil || len(where["hello.service"]) == 0 {
			return fmt.Errorf("demo: where does hello.service run? %v", serr)
		}
		return d.onMachine(where["hello.service"][0], "journalctl", "-u", "hello.service", "--lines=3", "--no-pager")
	case err != nil:
		d.note("fleetctl status failed (see above); going on")
		return nil
	}
	if _, err := d.fleetctl("journal", "--lines", "3", "hello.service"); err != nil {
		d.note("fleetctl journal failed (see above); going on")
		return nil
	}
	d.remote = true
	return nil
}

// teardownHello is the way back: stop, unload, destroy.
func (d *demo) teardownHello() error {
	d.act("The way back: stop, unload, destroy")
	if err := d.must("stop", "hello.service"); err != nil {
		return err
	}
	if err := d.waitGone(func(s map[string][]string, active map[string]bool) bool { return !active["hello.service"] }); err != nil {
		return err
	}
	for _, s := range [][]string{{"list-units"}, {"unload", "hello.service"}, {"list-unit-files"},
		{"destroy", "hello.service"}, {"list-unit-files"}} {
		if err := d.must(s...); err != nil {
			return err
		}
	}
	if err := d.waitGone(func(where map[string][]string, _ map[string]bool) bool { return len(where["hello.service"]) == 0 }); err != nil {
		return err
	}
	return d.must("list-units")
}

// waitGone waits, quietly, until done says so about the unit states
// (where each unit is reported, and which are active anywhere).
func (d *demo) waitGone(done func(where map[string][]string, active map[string]bool) bool) error {
	err := cluster.Poll(d.ctx, "unit states", func(context.Context) (bool, error) {
		where, byKey, err := d.states()
		if err != nil {
			return false, err
		}
		active := map[string]bool{}
		for _, s := range byKey {
			if s.SystemdActiveState == "active" {
				active[s.Name] = true
			}
		}
		return done(where, active), nil
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

func (d *demo) spread() error {
	d.act("Template instances spread by Conflicts (seed 004: wys-wpa@{1..3}.service)")
	if err := d.showFile("hello@.service"); err != nil {
		return err
	}
	if err := d.must("start", "hello@{1..3}.service"); err != nil {
		return err
	}
	if err := d.waitActive(map[string]int{"hello@1.service": 1, "hello@2.service": 1, "hello@3.service": 1}); err != nil {
		return err
	}
	if err := d.must("list-units"); err != nil {
		return err
	}
	d.note("three machines, one instance each: Conflicts=hello@* keeps them apart")
	return d.must("destroy", "hello@*")
}

func (d *demo) global() error {
	d.act("A Global unit: one copy on every machine, not scheduled by the engine")
	if err := d.showFile("monitor.service"); err != nil {
		return err
	}
	if err := d.must("start", "monitor.service"); err != nil {
		return err
	}
	if err := d.waitActive(map[string]int{"monitor.service": d.upMachines()}); err != nil {
		return err
	}
	if err := d.must("list-units"); err != nil {
		return err
	}
	if !d.remote {
		return nil
	}
	d.note("seed 004 could not see a Global unit's status; here is its journal, machine by machine:")
	for _, m := range d.st.Machines {
		if _, err := d.fleetctl("journal", "--lines", "1", "--machine", m.IP, "monitor.service"); err != nil {
			d.note("fleetctl journal failed (see above); going on")
			return nil
		}
	}
	return nil
}

// upMachines counts the machines in the machine list.
func (d *demo) upMachines() int {
	ms, err := d.client.Machines(d.ctx)
	if err != nil {
		return len(d.st.Machines)
	}
	return len(ms)
}

func (d *demo) metadata() error {
	d.act("MachineMetadata: only where the machines' metadata fits")
	for _, f := range []string{"db.service", "ssd-cache.service"} {
		if err := d.showFile(f); err != nil {
			return err
		}
	}
	if err := d.must("list-machines"); err != nil {
		return err
	}
	if err := d.must("start", "db.service", "ssd-cache.service"); err != nil {
		return err
	}
	ssd := 0
	for _, m := range d.st.Machines {
		if strings.Contains(m.Metadata, "disk=ssd") {
			ssd++
		}
	}
	if err := d.waitActive(map[string]int{"db.service": 1, "ssd-cache.service": ssd}); err != nil {
		return err
	}
	if err := d.must("list-units"); err != nil {
		return err
	}
	d.note("db.service on the role=db machine; ssd-cache.service (Global) on every disk=ssd machine")
	return nil
}

func (d *demo) ports() error {
	d.act("Ports=: each instance gets a free port of the range on its machine (the wish of seed 004)")
	if err := d.showFile("web@.service"); err != nil {
		return err
	}
	if err := d.must("start", "web@{1..2}.service"); err != nil {
		return err
	}
	if err := d.waitActive(map[string]int{"web@1.service": 1, "web@2.service": 1}); err != nil {
		return err
	}
	if err := d.must("list-units"); err != nil {
		return err
	}
	where, _, err := d.states()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.note("both on the one role=db machine; each prints the FLEET_PORT in its environment:")
	host := where["web@1.service"][0]
	time.Sleep(300 * time.Millisecond) // let the journal take the instances' first lines
	if d.remote {
		for _, u := range []string{"web@1.service", "web@2.service"} {
			if _, err := d.fleetctl("journal", "--lines", "1", u); err != nil {
				return err
			}
		}
		return nil
	}
	return d.onMachine(host, "journalctl", "_SYSTEMD_UNIT=web@1.service", "_SYSTEMD_UNIT=web@2.service", "--no-pager")
}

// failover starts six workers, crashes the machine (not the one
// fleetctl talks to) that runs most of them, and times their relaunch.
func (d *demo) failover() error {
	d.act("A machine crashes: its units are relaunched elsewhere")
	if err := d.showFile("worker@.service"); err != nil {
		return err
	}
	if err := d.must("start", "worker@{1..6}.service"); err != nil {
		return err
	}
	want := map[string]int{}
	for i := 1; i <= 6; i++ {
		want[fmt.Sprintf("worker@%d.service", i)] = 1
	}
	if err := d.waitActive(want); err != nil {
		return err
	}
	if err := d.must("list-units"); err != nil {
		return err
	}
	where, _, err := d.states()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	victim, moving := d.victim(where)
	return d.crash(victim, moving)
}

// victim picks the machine to crash: not the first (fleetctl's
// endpoint), not the only role=db one, running the most units that can
// move (not Global ones); and lists those units.
func (d *demo) victim(where map[string][]string) (string, []string) {
	movable := map[string][]string{}
	for name, hosts := range where {
		if name == "monitor.service" || name == "ssd-cache.service" {
			continue
		}
		for _, h := range hosts {
			movable[h] = append(movable[h], name)
		}
	}
	best := ""
	for _, m := range d.st.Machines[1:] {
		if strings.Contains(m.Metadata, "role=db") || !m.Up() {
			continue
		}
		if best == "" || len(movable[m.Hostname]) > len(movable[best]) {
			best = m.Hostname
		}
	}
	sort.Strings(movable[best])
	return best, movable[best]
}
