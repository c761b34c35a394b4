package sim

import (
	"time"

	"github.com/fleetsim/fleet/agent"
	"github.com/fleetsim/fleet/unit"
)

// The agents here are drivers of the real agent step (agent.Step), as
// fleetd's agent loop is: the simulator hands each machine's step its
// schedule when the machine's watch fires, systemd's states when they
// change, job results as their events arrive and the virtual time at
// every agent tick, and carries out what the step asks on the simulated
// systemd. Every decision is the step's.

// agentTick is the agent's periodic reconcile: as fleetd's, it reads
// its schedule again whatever its watch said.
func (w *World) agentTick(i int32) {
	m := w.machines[i]
	if !m.cut && m.agent != nil {
		m.agent.Tick(w.now)
		read := w.readSchedule(i)
		w.agentRun(i)
		if read {
			w.noteDue(i)
		}
		w.checkDue(i)
	}
	w.schedule(m.scaled(w.cfg.AgentInterval), evAgentTick, i, 0)
}

// agentWake is machine i's watch firing: it reads its schedule.
func (w *World) agentWake(i int32) {
	m := w.machines[i]
	m.woken = false
	if m.cut || m.agent == nil {
		return
	}
	w.readSchedule(i)
	w.agentRun(i)
	w.noteDue(i) // what is due follows what the agent read
}

// readSchedule hands machine i's agent its schedule as the registry
// holds it now, and reports whether it changed since the agent's last
// read: an unchanged schedule is the very list the step already has,
// which changes nothing in it, so it is not built again.
func (w *World) readSchedule(i int32) bool {
	m := w.machines[i]
	if v := w.reg.schedVer[i]; v != m.readVer {
		m.readVer = v
		m.agent.SetSchedule(w.desiredFor(i))
		return true
	}
	return false
}

// watchRelist is how long an agent whose watch was lost takes to list
// its schedule again (fleetd's agent retries its session after a second).
const watchRelist = time.Second

// loseWatch loses machine i's schedule watch, as a compaction past its
// revision does: changes go unseen until the agent lists again.
func (w *World) loseWatch(i int32) {
	m := w.machines[i]
	if !m.up || m.watchLost {
		return
	}
	m.watchLost = true
	w.schedule(watchRelist, evAgentRelist, i, 0)
}

// agentRelist is machine i's agent listing its schedule again after its
// watch was lost.
func (w *World) agentRelist(i int32) {
	m := w.machines[i]
	m.watchLost, m.woken = false, false
	w.wake(i)
}

// wake tells machine i's agent, through its watch, that its schedule
// changed.
func (w *World) wake(i int32) {
	m := w.machines[i]
	if !m.up || m.cut || m.woken || m.watchLost || w.now < m.stallUntil {
		return
	}
	m.woken = true
	w.schedule(w.latency(), evAgentWake, i, 0)
}

// agentRun carries out what machine i's agent step asks until it asks
// for no more file tasks. A machine cut off from the registry cannot
// read its schedule and leaves its units as they are.
func (w *World) agentRun(i int32) {
	m := w.machines[i]
	if !m.up || m.cut || m.agent == nil {
		return
	}
	acted := false
	defer func() {
		if acted {
			w.noteDue(i)
		}
	}()
	for range 8 {
		if m.sdChanged {
			m.sdChanged = false
			m.agent.SetUnits(w.currentOf(m))
		}
		r := m.agent.Ready()
		acted = acted || !r.Empty()
		for _, t := range r.Files {
			m.agent.FileDone(t, w.fileTask(i, t))
		}
		stopped := false
		for _, t := range r.Jobs {
			stopped = w.queueJob(i, t) || stopped
		}
		w.stats.published += uint64(len(r.Publish) + len(r.Unpublish))
		if len(r.Files) == 0 && !stopped {
			return
		}
	}
}

// desiredFor is machine i's schedule as its agent reads it, in a buffer
// the next call reuses (the step keeps a copy).
func (w *World) desiredFor(i int32) []agent.DesiredUnit {
	s := w.reg.sched[i]
	out := w.desiredBuf[:0]
	for _, e := range s {
		u := w.units[e.u]
		out = append(out, agent.DesiredUnit{Name: u.name, Hash: u.hash, State: unit.State(e.desired), Port: e.port})
	}
	w.desiredBuf = out
	return out
}

// currentOf is what m's systemd reports, in a buffer the next call reuses.
func (w *World) currentOf(m *machine) []agent.CurrentUnit {
	out := w.currentBuf[:0]
	for _, s := range m.units {
		load := "loaded"
		switch {
		case s.loadErr:
			load = "error"
		case !s.loaded:
			load = "not-found"
		}
		out = append(out, agent.CurrentUnit{Name: w.units[s.u].name, Hash: s.hash, Port: s.port,
			LoadState: load, ActiveState: sdActiveNames[s.active], SubState: sdSubNames[s.active]})
	}
	w.currentBuf = out
	return out
}
