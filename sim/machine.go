package sim

import (
	"time"

	"github.com/fleetsim/fleet/agent"
	"github.com/fleetsim/fleet/engine/leader"
)

// machine is one virtual machine: fleetd's agent step and engine step
// over a simulated systemd.
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
	agent   *agent.Step    // its agent's step, new at every boot

	units     []sdUnit // the simulated systemd, sorted by unit
	sdChanged bool     // systemd's states changed since the agent last read them
	woken     bool     // a wake is already on its way
	watchLost bool     // its schedule watch is lost until it lists again
	// its schedule watch delivers nothing until then (a member cut off
	// from etcd's quorum): only the agent's own reads see changes
	stallUntil time.Duration
	readVer    int64 // the registry's schedule version its agent read last; -1: none
	due        int   // units with a start due (noteDue)
}

// scaled stretches an interval by the machine's clock skew.
func (m *machine) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (1 + m.skew))
}

// boot starts fleetd on machine i: heartbeats and agent ticks begin. A
// fresh agent step reads its schedule once the machine has registered.
func (w *World) boot(i int32) {
	m := w.machines[i]
	m.up, m.cut, m.units, m.sdChanged, m.woken, m.watchLost, m.due = true, false, nil, true, false, false, 0
	m.stallUntil, m.readVer = 0, -1
	cfg := w.cfg.agentStep()
	cfg.Scratch = &w.agentScratch // the world drives every step in turn
	m.agent = agent.NewStep(cfg)
	m.inc++
	w.schedule(0, evHeartbeat, i, 0) // registers at once...
	m.hbPhase = jitter(w.rngPhase, w.cfg.HeartbeatInterval)
	w.schedule(m.scaled(w.cfg.AgentInterval), evAgentTick, i, 0)
	w.wake(i)
}

// crash stops machine i at once: its units die with it, and so does
// what its fleetd held in memory.
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
	m.leader, m.agent = nil, nil
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

// heartbeatArrive renews machine i's lease. A machine whose lease ran
// out registers again under a new one, as fleetd's agent does: the states
// it published went with the old lease, so its agent publishes them all
// again.
func (w *World) heartbeatArrive(i int32) {
	if !w.reg.alive(i, w.now) && w.reg.registered[i] {
		if m := w.machines[i]; m.up && m.agent != nil {
			m.agent.Restarted()
		}
	}
	w.reg.register(i, w.now, w.cfg.AgentTTL)
}
