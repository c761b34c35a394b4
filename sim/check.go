package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/fleetsim/fleet/internal/shortdur"
	"github.com/fleetsim/fleet/scheduler"
	"github.com/fleetsim/fleet/unit"
)

// The checks here are written apart from the scheduler, by brute force
// over the registry, so that they judge it rather than repeat it.

// checkPlanTargets: no plan puts a unit on a machine whose record was
// gone from the view it was made from.
func (w *World) checkPlanTargets(actions []scheduler.Action) {
	for _, a := range actions {
		if a.Kind == scheduler.Unschedule {
			continue
		}
		if m, ok := w.mpos[a.To]; !ok || !w.reg.registered[m] {
			w.violate("safety", fmt.Sprintf("plan puts %s on %s, which it knew dead", a.Unit, a.To))
		}
	}
}

// checkMachines checks every unit scheduled on the given machines, and
// the MachineOf followers of those units wherever they are.
func (w *World) checkMachines(ms []int32) {
	for _, m := range ms {
		es := w.reg.sched[m]
		for k, e := range es {
			w.checkEntry(m, e, es[k+1:])
		}
	}
}

func (w *World) checkEntry(m int32, e entry, rest []entry) {
	mc, u := w.machines[m], w.units[e.u]
	req := &u.req
	fail := func(format string, args ...any) {
		w.violate("safety", fmt.Sprintf("%s on %s: ", u.name, mc.id)+fmt.Sprintf(format, args...))
	}
	if !u.desired.Active() || u.removed {
		fail("scheduled while %s", u.desired)
	}
	if !u.global && w.reg.where[e.u] != m {
		fail("also scheduled on another machine")
	}
	if id := req.MachineID; id != "" && id != mc.id && !(len(id) == 8 && strings.HasPrefix(mc.id, id)) {
		fail("MachineID is %s", id)
	}
	if !req.Metadata.Matches(mc.meta) {
		fail("metadata does not match %s", req.Metadata)
	}
	for _, peer := range req.MachineOf {
		if p, ok := w.upos[peer]; !ok || w.reg.where[p] != m {
			fail("MachineOf peer %s is elsewhere", peer)
		}
	}
	for _, f := range u.followers {
		if at := w.reg.where[f]; at >= 0 && at != m {
			fail("follower %s is on another machine", w.units[f].name)
		}
	}
	if len(req.Ports) > 0 && !req.Ports.Contains(e.port) || len(req.Ports) == 0 && e.port != 0 {
		fail("port %d outside %s", e.port, req.Ports)
	}
	for _, o := range rest {
		v := w.units[o.u]
		if g, ok := unit.MatchAny(req.Conflicts, v.name); ok {
			fail("conflicts (%s) with %s", g, v.name)
		}
		if g, ok := unit.MatchAny(v.req.Conflicts, u.name); ok {
			fail("%s conflicts with it (%s)", v.name, g)
		}
		if e.port != 0 && e.port == o.port {
			fail("port %d also given to %s", e.port, v.name)
		}
	}
}

// livenessAt is when liveness is checked: the liveness bound after the
// last fault, or -1 when no fault is scheduled.
func (w *World) livenessAt() time.Duration {
	if w.lastOp == 0 && len(w.ops) == 0 {
		return w.cfg.LivenessBound()
	}
	return w.lastOp + w.cfg.LivenessBound() + w.extraLiveness()
}

// extraLiveness widens the bound when starts may fail or units crash:
// the agent restarts them at its next reconcile.
func (w *World) extraLiveness() time.Duration {
	if w.cfg.StartFailProb > 0 || w.cfg.CrashPerHour > 0 {
		return 5 * (w.cfg.AgentInterval + w.cfg.StartTime + w.cfg.StartJitter)
	}
	return 0
}

// checkLiveness: once faults have stopped for the bound, every unit the
// scheduler can place runs on the machine the registry gives it.
func (w *World) checkLiveness() {
	if !w.anyMachineServes() {
		w.stats.livenessNote = "no machine is up and connected: nothing can be scheduled"
		return
	}
	w.stats.liveness = true
	plan, err := w.sched.Plan(w.snapshot())
	w.stats.schedulerCalls++
	if err != nil {
		w.violate("liveness", err.Error())
		return
	}
	unplaceable := map[string]bool{}
	for _, u := range plan.Unscheduled {
		unplaceable[u.Unit] = true
	}
	all := make([]int32, len(w.machines))
	for m, es := range w.reg.sched {
		all[m] = int32(m)
		for _, e := range es {
			w.checkRunning(int32(m), e.u)
		}
	}
	w.checkMachines(all) // a full safety audit, not just the machines a commit touched
	for i, u := range w.units {
		if u.desired.Active() && !u.removed && !u.global && !u.beh.CorruptBody && !unplaceable[u.name] && w.reg.where[i] < 0 {
			w.violate("liveness", fmt.Sprintf("%s is schedulable but has no machine", u.name))
		}
	}
}

func (w *World) checkRunning(m, u int32) {
	mc, su := w.machines[m], w.units[u]
	want := uint8(sdActive)
	if su.desired == unit.StateLoaded {
		want = sdInactive
	}
	k := mc.find(u)
	switch {
	case !mc.up:
		w.violate("liveness", fmt.Sprintf("%s is scheduled on %s, which is down", su.name, mc.id))
	case k < 0:
		w.violate("liveness", fmt.Sprintf("%s is scheduled on %s but not loaded there", su.name, mc.id))
	case mc.units[k].loadErr:
		// systemd will not load it: the agent publishes it failed, why.
	case mc.units[k].ended && mc.units[k].active != sdActive && mc.units[k].active != sdActivating:
		// It failed or exited on its own after the agent started it: what
		// happens next is its own Restart= business.
	case want == sdActive && mc.units[k].active == sdActivating && (su.beh.Start == StartHangs || su.beh.Start == StartSlow):
		// Its start job is still running, as its program makes it.
	case mc.units[k].active != want:
		w.violate("liveness", fmt.Sprintf("%s on %s is %s, want %s", su.name, mc.id, sdActiveNames[mc.units[k].active], sdActiveNames[want]))
	}
}

// anyMachineServes reports whether some machine is up and reaches the
// registry: without one, no engine runs and liveness cannot be asked for.
func (w *World) anyMachineServes() bool {
	for _, m := range w.machines {
		if m.up && !m.cut {
			return true
		}
	}
	return false
}

// noteDue records, after machine i's agent acted, which of its units
// have a start due: desired launched here, loaded, inactive, and not
// ended on its own since the agent last started it.
func (w *World) noteDue(i int32) {
	m := w.machines[i]
	es, j := w.reg.sched[i], 0
	m.due = 0
	for k := range m.units { // both sorted by unit: one merge walk
		s := &m.units[k]
		for j < len(es) && es[j].u < s.u {
			j++
		}
		launched := j < len(es) && es[j].u == s.u && unit.State(es[j].desired) == unit.StateLaunched
		switch {
		case !launched || !s.loaded || s.active != sdInactive || s.ended:
			s.dueSince = 0
		case s.dueSince == 0:
			s.dueSince = w.now
			m.due++
		default:
			m.due++
		}
	}
}

// checkDue: a start that became due is queued within one agent interval,
// whatever other units' jobs are doing (a start that hangs holds back no
// other unit).
func (w *World) checkDue(i int32) {
	m := w.machines[i]
	if m.due == 0 {
		return
	}
	for k := range m.units {
		s := &m.units[k]
		if s.dueSince != 0 && w.now-s.dueSince > m.scaled(w.cfg.AgentInterval)+time.Second {
			w.violate("agent", fmt.Sprintf("%s on %s: start due since %v not queued", w.units[s.u].name, m.id, shortdur.Format(s.dueSince)))
			s.dueSince = w.now // once per interval
		}
	}
}
