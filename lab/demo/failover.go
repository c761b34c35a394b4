package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/fleetsim/fleet/lab/cluster"
)

// crash kills machine victim and prints, as they happen, when fleet saw
// it gone and when each unit in moving was active elsewhere.
func (d *demo) crash(victim string, moving []string) error {
	m, err := d.st.Machine(victim)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(d.Out, "$ bin/fleetlab kill %s   # a crash: SIGKILL to its systemd; fleetd and its units die with it\n", victim)
	t0 := time.Now()
	if err := m.Kill(10 * time.Second); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(d.Out, "%s crashed at %s, running %v\n", victim, t0.Format("15:04:05.000"), moving)
	var gone time.Duration
	moved := map[string]time.Duration{}
	since := func() string { return fmt.Sprintf("+%5.2fs", time.Since(t0).Seconds()) }
	err = cluster.Poll(d.ctx, "the units to be relaunched", func(ctx context.Context) (bool, error) {
		if gone == 0 && !d.listed(ctx, m.ID) {
			gone = time.Since(t0)
			fmt.Fprintf(d.Out, "  %s  %s is out of the machine list: its lease (agent_ttl %s) ran out\n", since(), victim, d.st.AgentTTL)
		}
		_, byKey, err := d.states()
		if err != nil {
			return false, err
		}
		for _, u := range moving {
			for _, h := range d.st.Machines {
				s, ok := byKey[u+"@"+h.Hostname]
				if _, done := moved[u]; done || !ok || h.Hostname == victim || s.SystemdActiveState != "active" {
					continue
				}
				moved[u] = time.Since(t0)
				fmt.Fprintf(d.Out, "  %s  %s active/%s on %s\n", since(), u, s.SystemdSubState, h.Hostname)
			}
		}
		return gone > 0 && len(moved) == len(moving), nil
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	var last time.Duration
	for _, t := range moved {
		last = max(last, t)
	}
	fmt.Fprintf(d.Out, "\nall %d units relaunched %.2fs after the crash: the machine's lease runs out agent_ttl (%s) after its\n"+
		"last renewal (it renews every third of that; a lost etcd leader adds an election), then the engine\n"+
		"(at once on the change, or every %s) reschedules, and the other machines' agents start the units\n\n",
		len(moving), last.Seconds(), d.st.AgentTTL, d.st.Reconcile)
	if err := d.must("list-machines"); err != nil {
		return err
	}
	if err := d.must("list-units"); err != nil {
		return err
	}
	return d.comeback(victim)
}

// listed reports whether the machine is in the machine list (true when
// the list cannot be read: nothing is concluded then).
func (d *demo) listed(ctx context.Context, id string) bool {
	ms, err := d.client.Machines(ctx)
	if err != nil {
		return true
	}
	for _, m := range ms {
		if m.ID == id {
			return true
		}
	}
	return false
}

// comeback boots the crashed machine again: it rejoins, the Global unit
// comes back on it, the units that moved stay where they are.
func (d *demo) comeback(victim string) error {
	d.act("The machine comes back")
	fmt.Fprintf(d.Out, "$ bin/fleetlab boot   # boots again every machine that is down\n")
	t0 := time.Now()
	st, err := cluster.BootDown(d.Dir, time.Minute)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.st = st
	fmt.Fprintf(d.Out, "%s booted in %.2fs\n\n", victim, time.Since(t0).Seconds())
	if err := d.waitActive(map[string]int{"monitor.service": len(st.Machines)}); err != nil {
		return err
	}
	fmt.Fprintf(d.Out, "%s rejoined %.2fs after the boot began\n\n", victim, time.Since(t0).Seconds())
	if err := d.must("list-machines"); err != nil {
		return err
	}
	if err := d.must("list-units"); err != nil {
		return err
	}
	d.note("monitor.service (Global) runs on %s again; the workers stay where they went", victim)
	return nil
}
