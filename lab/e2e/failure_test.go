package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fleetsim/fleet/lab/cluster"
)

// failoverBound is how soon after a crash its units must be active
// elsewhere: the machine's lease runs out (agent_ttl), the engine
// reschedules on its next reconcile, the new machine's agent starts the
// unit and reports it before the one after; plus the slack.
const failoverBound = agentTTL + 2*reconcile + slack

// startSpread starts n instances of a plain template called prefix@ and
// returns where each runs.
func startSpread(t *testing.T, prefix string, n int) (*units, map[string]string) {
	t.Helper()
	u := newUnits(t, map[string]string{prefix + "@.service": loop})
	var names []string
	for i := 1; i <= n; i++ {
		names = append(names, fmt.Sprintf("%s@%d.service", prefix, i))
	}
	u.ctl(append([]string{"start"}, names...)...)
	return u, waitActive(t, 15*time.Second, names...)
}

// busiest returns the machine, among those up and not excluded, that
// runs the most of the units in at, and those units.
func busiest(t *testing.T, at map[string]string, exclude ...*cluster.Machine) (*cluster.Machine, []string) {
	t.Helper()
	var best *cluster.Machine
	var bestUnits []string
	for _, m := range up() {
		if slices.Contains(exclude, m) {
			continue
		}
		var on []string
		for name, host := range at {
			if host == m.Hostname {
				on = append(on, name)
			}
		}
		if best == nil || len(on) > len(bestUnits) {
			best, bestUnits = m, on
		}
	}
	if len(bestUnits) == 0 {
		t.Fatalf("no machine runs any of %v", at)
	}
	slices.Sort(bestUnits)
	return best, bestUnits
}

// waitMoved waits until every unit in names is active on exactly one
// machine other than gone, and returns where.
func waitMoved(t *testing.T, timeout time.Duration, gone *cluster.Machine, names ...string) map[string]string {
	t.Helper()
	got := map[string]string{}
	waitFor(t, fmt.Sprintf("%v active off %s", names, gone.Hostname), timeout, func() (bool, error) {
		for _, n := range names {
			hosts, err := where(n)
			if err != nil {
				return false, err
			}
			var off []string
			for _, h := range hosts {
				if h != gone.Hostname {
					off = append(off, h)
				}
			}
			if len(off) != 1 {
				return false, fmt.Errorf("%s active on %v", n, hosts)
			}
			got[n] = off[0]
		}
		return true, nil
	})
	return got
}

// TestMachineKillRelaunch: the units of a crashed machine are active
// elsewhere within agent_ttl plus two reconcile intervals (plus slack).
func TestMachineKillRelaunch(t *testing.T) {
	need(t)
	_, at := startSpread(t, "crash", 6)
	victim, moving := busiest(t, at)
	t0 := kill(t, victim)
	waitMoved(t, failoverBound, victim, moving...)
	t.Logf("%v of %s relaunched elsewhere %v after the crash (bound %v)", moving, victim.Hostname,
		time.Since(t0).Round(10*time.Millisecond), failoverBound)
}

// TestMachineOfPairMovesTogether: a unit and the one that follows it
// through MachineOf move together when their machine dies.
func TestMachineOfPairMovesTogether(t *testing.T) {
	need(t)
	u := newUnits(t, map[string]string{
		"pairdb.service":  loop,
		"pairweb.service": loop + "\n[X-Fleet]\nMachineOf=pairdb.service\n",
	})
	u.ctl("start", "pairdb.service", "pairweb.service")
	at := waitActive(t, 10*time.Second, "pairdb.service", "pairweb.service")
	if at["pairdb.service"] != at["pairweb.service"] {
		t.Fatalf("the pair is split: %v", at)
	}
	victim := machine(t, at["pairdb.service"])
	t0 := kill(t, victim)
	moved := waitMoved(t, failoverBound, victim, "pairdb.service", "pairweb.service")
	if moved["pairdb.service"] != moved["pairweb.service"] {
		t.Fatalf("the pair split when it moved: %v", moved)
	}
	t.Logf("the pair moved from %s to %s in %v", victim.Hostname, moved["pairdb.service"], time.Since(t0).Round(10*time.Millisecond))
}

// TestPartitionedMachine: a machine cut off keeps its units running;
// after the TTL they start elsewhere too; once its link is back, its
// copies stop and each unit runs once.
func TestPartitionedMachine(t *testing.T) {
	need(t)
	_, at := startSpread(t, "part", 6)
	victim, moving := busiest(t, at, leader(t))
	t0 := cut(t, victim)
	waitMoved(t, failoverBound, victim, moving...)
	t.Logf("%v started off the cut-off %s %v after the cut", moving, victim.Hostname, time.Since(t0).Round(10*time.Millisecond))
	for _, n := range moving {
		if s := systemdState(victim, n); s != "active" {
			t.Errorf("%s on the cut-off %s: %q, want it still running there", n, victim.Hostname, s)
		}
	}
	t1 := time.Now()
	if err := victim.LinkUp(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the copies on "+victim.Hostname+" to stop", 30*time.Second, func() (bool, error) {
		for _, n := range moving {
			if s := systemdState(victim, n); s == "active" {
				return false, fmt.Errorf("%s still %s there", n, s)
			}
		}
		return true, nil
	})
	t.Logf("its copies stopped %v after the link came back", time.Since(t1).Round(10*time.Millisecond))
	for n, host := range waitMoved(t, 5*time.Second, victim, moving...) {
		if host == victim.Hostname {
			t.Errorf("%s back on %s", n, host)
		}
	}
}

// TestEngineLeaderKilledMidFailover: a machine crashes, and while fleet
// waits for its lease the engine leader crashes too; another engine
// takes over and every unit of both machines runs again, once.
func TestEngineLeaderKilledMidFailover(t *testing.T) {
	need(t)
	_, at := startSpread(t, "lead", 8)
	lead := leader(t)
	first, moving := busiest(t, at, lead)
	if first.Member && lead.Member {
		// Two etcd members down would take etcd's quorum: crash the one
		// machine that is not a member instead of the busiest.
		for _, m := range up() {
			if !m.Member && m != lead {
				first = m
			}
		}
		moving = nil
		for n, h := range at {
			if h == first.Hostname {
				moving = append(moving, n)
			}
		}
	}
	for n, h := range at {
		if h == lead.Hostname {
			moving = append(moving, n)
		}
	}
	t0 := kill(t, first)
	time.Sleep(agentTTL / 2)
	kill(t, lead)
	bound := agentTTL/2 + leaderTTL + agentTTL + 2*reconcile + slack
	got := map[string]string{}
	waitFor(t, fmt.Sprintf("%v active off %s and %s", moving, first.Hostname, lead.Hostname), bound, func() (bool, error) {
		for _, n := range moving {
			hosts, err := where(n)
			if err != nil || len(hosts) != 1 || hosts[0] == first.Hostname || hosts[0] == lead.Hostname {
				return false, fmt.Errorf("%s active on %v (%v)", n, hosts, err)
			}
			got[n] = hosts[0]
		}
		return true, nil
	})
	t.Logf("%s crashed, then the leader %s %v later; %d units ran again elsewhere %v after the first crash (bound %v); new leader %s",
		first.Hostname, lead.Hostname, agentTTL/2, len(moving), time.Since(t0).Round(10*time.Millisecond), bound, leader(t).Hostname)
}

// TestEtcdMemberLost: with one of the three etcd members gone, the
// cluster goes on: it lists its machines and starts new units.
func TestEtcdMemberLost(t *testing.T) {
	need(t)
	var member *cluster.Machine
	for _, m := range up() {
		if m.Member {
			member = m
		}
	}
	t0 := kill(t, member)
	// If it led etcd, the two others elect a leader first (election
	// timeout 1s); requests time out meanwhile.
	took := waitFor(t, "the API to answer with two members", 5*time.Second, func() (bool, error) {
		_, err := lab.Client().Units(t.Context())
		return err == nil, err
	})
	t.Logf("the API answered %v after %s died", took.Round(10*time.Millisecond), member.Hostname)
	u := newUnits(t, map[string]string{"quorum@.service": loop})
	u.ctl("start", "quorum@1.service", "quorum@2.service", "quorum@3.service")
	for n, host := range waitActive(t, failoverBound, "quorum@1.service", "quorum@2.service", "quorum@3.service") {
		if host == member.Hostname {
			t.Errorf("%s on the dead %s", n, host)
		}
	}
	waitListed(t)
	t.Logf("with %s (an etcd member) dead, the cluster listed %d machines and started 3 units %v after the crash",
		member.Hostname, len(up()), time.Since(t0).Round(10*time.Millisecond))
}

// TestMemberCutOffOthersStayListed: an etcd member cut off from the
// network takes nobody else's lease with it. A machine whose etcd client
// had its lease renewals on that member's connection renews through the
// others before its lease runs out, and stays listed throughout.
func TestMemberCutOffOthersStayListed(t *testing.T) {
	need(t)
	lead := leader(t)
	var victim *cluster.Machine
	for _, m := range up() {
		if m.Member && m != lead {
			victim = m
		}
	}
	cut(t, victim)
	start := time.Now()
	for time.Since(start) < 2*agentTTL+slack {
		ms, err := lab.Client().Machines(t.Context())
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			continue // the API's own etcd client may be between members
		}
		listed := map[string]bool{}
		for _, m := range ms {
			listed[m.ID] = true
		}
		for _, m := range up() {
			if m != victim && !listed[m.ID] {
				t.Fatalf("%s dropped out of the machine list %v after %s was cut off",
					m.Hostname, time.Since(start).Round(10*time.Millisecond), victim.Hostname)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("with %s cut off, the %d others stayed listed for %v", victim.Hostname, len(up())-1, time.Since(start).Round(time.Second))
}
