package sim

import (
	"time"

	"github.com/fleetsim/fleet/agent"
	"github.com/fleetsim/fleet/engine/leader"
	"github.com/fleetsim/fleet/unit"
)

// machine is one virtual machine: fleetd's agent over a simulated systemd.
type machine struct {
	id      string
	meta    map[string]string
	up      bool   // fleetd and systemd are running
	inc     uint32 // bumped at every crash and boot: older events are stale
	cut     bool   // cut off from the registry (it keeps running its units)
	skew    float64
	phase   time.Duration // its engine's tick offset
	hbPhase time.Duration // offset of its heartbeats, taken once after boot

	lossRate  float64 // heartbeats lost with this probability...
	lossUntil time.Duration

	leader  *leader.Leader // its engine's step, once it has led
	viewRev int64          // registry revision of the last view its leader was given

	units []sdUnit // the simulated systemd, sorted by unit
	dirty bool     // something changed: the agent must reconcile
	woken bool     // a wake is already on its way
}

// sdUnit is one unit as the simulated systemd holds it.
type sdUnit struct {
	u      int32
	hash   unit.Hash
	port   uint16
	active uint8 // one of the sd* states
	gen    uint32
}

const (
	sdInactive uint8 = iota
	sdActivating
	sdActive
	sdFailed
)

var sdActiveNames = [...]string{"inactive", "activating", "active", "failed"}

// scaled stretches an interval by the machine's clock skew.
func (m *machine) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (1 + m.skew))
}

// boot starts fleetd on machine i: heartbeats and agent ticks begin.
func (w *World) boot(i int32) {
	m := w.machines[i]
	m.up, m.cut, m.units, m.dirty, m.woken = true, false, nil, true, false
	m.inc++
	w.schedule(0, evHeartbeat, i, 0) // registers at once...
	m.hbPhase = jitter(w.rngPhase, w.cfg.HeartbeatInterval)
	w.schedule(m.scaled(w.cfg.AgentInterval), evAgentTick, i, 0)
}

// crash stops machine i at once: its units die with it.
func (w *World) crash(i int32) {
	m := w.machines[i]
	if !m.up {
		return
	}
	for _, s := range m.units {
		if s.active == sdActive {
			w.unitDown(s.u, true)
		}
	}
	m.up, m.units = false, nil
	m.inc++
	m.leader = nil // its engine's memory dies with it
}

func (w *World) heartbeat(i int32) {
	m := w.machines[i]
	lost := w.now < m.lossUntil && w.rngLoss.Float64() < m.lossRate ||
		w.cfg.HeartbeatLoss > 0 && w.rngLoss.Float64() < w.cfg.HeartbeatLoss
	if !m.cut && !lost {
		w.schedule(w.latency(), evHeartbeatArrive, i, 0)
	}
	// ...then renews on a period of its own phase, as machines booted at
	// different moments do: leases of a crashed rack do not all lapse at
	// the same instant.
	w.schedule(m.scaled(w.cfg.HeartbeatInterval+m.hbPhase), evHeartbeat, i, 0)
	m.hbPhase = 0
}

func (w *World) heartbeatArrive(i int32) {
	w.reg.register(i, w.now, w.cfg.AgentTTL)
}

func (w *World) agentTick(i int32) {
	m := w.machines[i]
	if m.dirty {
		w.reconcile(i)
	}
	w.schedule(m.scaled(w.cfg.AgentInterval), evAgentTick, i, 0)
}

func (w *World) agentWake(i int32) {
	w.machines[i].woken = false
	w.machines[i].dirty = true
	w.reconcile(i)
}

// wake tells machine i's agent, through its watch, that its schedule
// changed.
func (w *World) wake(i int32) {
	m := w.machines[i]
	if !m.up || m.cut || m.woken {
		return
	}
	m.woken = true
	w.schedule(w.latency(), evAgentWake, i, 0)
}

// reconcile runs the real agent planner for machine i and applies its
// tasks to the simulated systemd. A machine cut off from the registry
// cannot read its schedule and leaves its units as they are.
func (w *World) reconcile(i int32) {
	m := w.machines[i]
	if !m.up || m.cut {
		return
	}
	m.dirty = false
	tasks := agent.Plan(w.desiredFor(i), w.currentOf(m))
	for _, t := range tasks {
		w.applyTask(i, t)
	}
}

func (w *World) desiredFor(i int32) []agent.DesiredUnit {
	s := w.reg.sched[i]
	out := make([]agent.DesiredUnit, 0, len(s))
	for _, e := range s {
		u := w.units[e.u]
		out = append(out, agent.DesiredUnit{Name: u.name, Hash: u.hash, State: unit.State(e.desired), Port: e.port})
	}
	return out
}

func (w *World) currentOf(m *machine) []agent.CurrentUnit {
	out := make([]agent.CurrentUnit, 0, len(m.units))
	for _, s := range m.units {
		out = append(out, agent.CurrentUnit{Name: w.units[s.u].name, Hash: s.hash, Port: s.port,
			LoadState: "loaded", ActiveState: sdActiveNames[s.active]})
	}
	return out
}

func (w *World) applyTask(i int32, t agent.Task) {
	m := w.machines[i]
	if t.Kind == agent.TaskDaemonReload {
		return
	}
	u := w.upos[t.Unit]
	k := m.find(u)
	switch t.Kind {
	case agent.TaskLoad:
		if k < 0 {
			k = m.insert(u)
		}
		m.units[k].hash, m.units[k].port = t.Hash, t.Port
	case agent.TaskUnload:
		if k >= 0 {
			w.stopUnit(i, k)
			m.units = append(m.units[:k], m.units[k+1:]...)
		}
	case agent.TaskStop:
		if k >= 0 {
			w.stopUnit(i, k)
		}
	case agent.TaskStart:
		if k >= 0 {
			w.startUnit(i, k)
		}
	}
}

func (w *World) startUnit(i int32, k int) {
	s := &w.machines[i].units[k]
	s.active = sdActivating
	s.gen++
	d := w.cfg.StartTime + jitter(w.rngStart, w.cfg.StartJitter)
	w.seq++
	w.queue.push(event{at: w.now + d, seq: w.seq, kind: evUnitStarted, a: i, b: s.u, c: s.gen, inc: w.machines[i].inc})
}

func (w *World) stopUnit(i int32, k int) {
	s := &w.machines[i].units[k]
	if s.active == sdActive {
		w.unitDown(s.u, false)
	}
	s.active = sdInactive
	s.gen++
}

func (w *World) unitStarted(i, u int32, gen uint32) {
	m := w.machines[i]
	k := m.find(u)
	if k < 0 || m.units[k].gen != gen || m.units[k].active != sdActivating {
		return
	}
	if w.cfg.StartFailProb > 0 && w.rngStart.Float64() < w.cfg.StartFailProb {
		m.units[k].active = sdFailed
		m.dirty = true
		return
	}
	m.units[k].active = sdActive
	w.unitUp(u)
	if w.cfg.CrashPerHour > 0 {
		d := exponential(w.rngCrash, w.cfg.CrashPerHour)
		w.seq++
		w.queue.push(event{at: w.now + d, seq: w.seq, kind: evUnitCrash, a: i, b: u, c: gen, inc: m.inc})
	}
}

func (w *World) unitCrash(i, u int32, gen uint32) {
	m := w.machines[i]
	k := m.find(u)
	if k < 0 || m.units[k].gen != gen || m.units[k].active != sdActive {
		return
	}
	m.units[k].active = sdFailed
	w.unitDown(u, false)
	m.dirty = true
}

// find returns the position of unit u in m's systemd, or -1.
func (m *machine) find(u int32) int {
	for k := range m.units {
		if m.units[k].u == u {
			return k
		}
	}
	return -1
}

// insert adds unit u in order and returns its position.
func (m *machine) insert(u int32) int {
	k := 0
	for k < len(m.units) && m.units[k].u < u {
		k++
	}
	m.units = append(m.units, sdUnit{})
	copy(m.units[k+1:], m.units[k:])
	m.units[k] = sdUnit{u: u}
	return k
}
