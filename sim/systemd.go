package sim

import (
	"fmt"
	"time"

	"github.com/fleetsim/fleet/agent"
	"github.com/fleetsim/fleet/unit"
)

// sdUnit is one unit as the simulated systemd holds it.
type sdUnit struct {
	u      int32
	hash   unit.Hash
	port   uint16
	active uint8 // one of the sd* states
	loaded bool  // daemon-reload has read its file
	gen    uint32
	// ended says the unit stopped on its own (it failed, crashed or
	// exited) since the agent last started it: starting it again is the
	// unit's Restart= business, not the agent's, unless it is launched
	// anew.
	ended  bool
	launch uint32 // the unit's launch count when the agent started it

	loadErr  bool // systemd would not load the file (load state error)
	agentJob bool // the start in progress is the agent's job (not a restart of systemd's)
	// the start limit's window: when it opened and how many starts since
	limitFrom  time.Duration
	limitCount int
	// dueSince is when a start of the unit became due (desired launched,
	// loaded, inactive, not ended on its own), 0 if none is due
	dueSince time.Duration
}

const (
	sdInactive uint8 = iota
	sdActivating
	sdActive
	sdFailed
)

var (
	sdActiveNames = [...]string{"inactive", "activating", "active", "failed"}
	sdSubNames    = [...]string{"dead", "start", "running", "failed"}
)

// fileTask carries out a load, unload or daemon-reload on machine i's
// systemd.
func (w *World) fileTask(i int32, t agent.Task) error {
	m := w.machines[i]
	if t.Kind == agent.TaskLoad && w.now < w.reg.timeoutUntil && w.rngLoss.Float64() < w.reg.timeoutRate {
		// The unit's body is read from the registry first (commit-timeouts
		// loses reads too): the load fails, systemd untouched.
		return fmt.Errorf("%w: body of %s: read timed out", agent.ErrUnreachable, t.Unit)
	}
	m.sdChanged = true
	if t.Kind == agent.TaskDaemonReload {
		for k := range m.units {
			refused := w.units[m.units[k].u].beh.RefuseLoad
			m.units[k].loaded, m.units[k].loadErr = !refused, refused
		}
		return nil
	}
	u, ok := w.upos[t.Unit]
	if !ok {
		return fmt.Errorf("sim: no unit %s", t.Unit)
	}
	k := m.find(u)
	switch t.Kind {
	case agent.TaskLoad:
		if k >= 0 && m.units[k].active != sdInactive && m.units[k].active != sdFailed {
			w.violate("agent", fmt.Sprintf("%s on %s: loaded over a running unit", t.Unit, m.id))
		}
		if k < 0 {
			k = m.insert(u)
		}
		m.units[k].hash, m.units[k].port, m.units[k].loaded, m.units[k].loadErr = t.Hash, t.Port, false, false
	case agent.TaskUnload:
		if k >= 0 {
			if s := m.units[k].active; s == sdActive || s == sdActivating {
				w.violate("agent", fmt.Sprintf("%s on %s: unloaded while %s", t.Unit, m.id, sdActiveNames[s]))
				w.stopUnit(i, k)
			}
			m.units = append(m.units[:k], m.units[k+1:]...)
		}
	}
	return nil
}

// queueJob queues a start or stop job on machine i's systemd. A start
// finishes after the unit's start time; a stop at once (it reports
// whether one did).
func (w *World) queueJob(i int32, t agent.Task) bool {
	m := w.machines[i]
	u := w.upos[t.Unit]
	k := m.find(u)
	if k < 0 || !m.units[k].loaded {
		m.agent.JobDone(t.Unit, t.Kind, "not-loaded")
		return t.Kind == agent.TaskStop
	}
	switch t.Kind {
	case agent.TaskStart:
		w.checkStart(i, k)
		w.startUnit(i, k, true)
		return false
	default:
		w.stopUnit(i, k)
		m.agent.JobDone(t.Unit, agent.TaskStop, "done")
		return true
	}
}

// checkStart: the agent never starts again a unit that ended on its own,
// unless the unit was launched anew since.
func (w *World) checkStart(i int32, k int) {
	s := &w.machines[i].units[k]
	su := w.units[s.u]
	if s.ended && s.launch == su.launches {
		w.violate("agent", fmt.Sprintf("%s on %s: started again after it ended on its own", su.name, w.machines[i].id))
	}
	s.ended, s.launch = false, su.launches
}

// startUnit starts unit k of machine i, for the agent's job or for a
// restart of systemd's own, within systemd's start limit.
func (w *World) startUnit(i int32, k int, job bool) {
	m := w.machines[i]
	s := &m.units[k]
	su := w.units[s.u]
	s.gen++
	s.agentJob, s.dueSince = job, 0
	m.sdChanged = true
	if job {
		w.stats.agentStarts++
	} else {
		w.stats.restarts++
	}
	if w.now-s.limitFrom >= startLimitEvery || s.limitCount == 0 {
		s.limitFrom, s.limitCount = w.now, 0
	}
	if s.limitCount++; s.limitCount > startLimitBurst {
		s.active, s.ended = sdFailed, true // start-limit-hit
		if job {
			m.agent.JobDone(su.name, agent.TaskStart, "failed")
		}
		return
	}
	s.active = sdActivating
	var d time.Duration
	switch su.beh.Start {
	case StartHangs:
		return // a start job that never completes
	case StartSlow:
		d = SlowStart
	default:
		d = w.cfg.StartTime + jitter(w.rngStart, w.cfg.StartJitter)
	}
	w.seq++
	w.queue.push(event{at: w.now + d, seq: w.seq, kind: evUnitStarted, a: i, b: s.u, c: s.gen, inc: m.inc})
}

// stopUnit stops unit k of machine i at once; a start in progress is
// canceled.
func (w *World) stopUnit(i int32, k int) {
	m := w.machines[i]
	s := &m.units[k]
	switch {
	case s.active == sdActive:
		w.unitDown(s.u, false)
	case s.active == sdActivating && s.agentJob:
		m.agent.JobDone(w.units[s.u].name, agent.TaskStart, "canceled")
	}
	s.active, s.agentJob = sdInactive, false
	s.gen++
	m.sdChanged = true
}

// unitStarted ends a start: the unit runs, exits at once, or fails.
func (w *World) unitStarted(i, u int32, gen uint32) {
	m := w.machines[i]
	k := m.find(u)
	if k < 0 || m.units[k].gen != gen || m.units[k].active != sdActivating {
		return
	}
	s, su := &m.units[k], w.units[u]
	m.sdChanged = true
	job := s.agentJob
	s.agentJob = false
	result := "done"
	switch {
	case su.beh.Start == StartFails || w.cfg.StartFailProb > 0 && w.rngStart.Float64() < w.cfg.StartFailProb:
		s.active, s.ended, result = sdFailed, true, "failed"
		w.maybeRestart(i, k, true)
	case su.beh.Start == StartExits:
		w.unitUp(u)
		w.unitDown(u, false)
		s.active, s.ended = sdInactive, true
		w.maybeRestart(i, k, false)
	default:
		s.active = sdActive
		w.unitUp(u)
		if w.cfg.CrashPerHour > 0 {
			d := exponential(w.rngCrash, w.cfg.CrashPerHour)
			w.seq++
			w.queue.push(event{at: w.now + d, seq: w.seq, kind: evUnitCrash, a: i, b: u, c: gen, inc: m.inc})
		}
	}
	if job {
		m.agent.JobDone(su.name, agent.TaskStart, result)
	}
	w.agentRun(i)
}

// unitCrash makes a running unit fail on its own.
func (w *World) unitCrash(i, u int32, gen uint32) {
	m := w.machines[i]
	k := m.find(u)
	if k < 0 || m.units[k].gen != gen || m.units[k].active != sdActive {
		return
	}
	m.units[k].active, m.units[k].ended = sdFailed, true
	m.sdChanged = true
	w.unitDown(u, false)
	w.maybeRestart(i, k, true)
	w.agentRun(i)
}

// maybeRestart applies the unit's Restart= after it ended: systemd
// starts it again after RestartSec.
func (w *World) maybeRestart(i int32, k int, failed bool) {
	s := &w.machines[i].units[k]
	if !w.units[s.u].beh.Restart.restarts(failed) {
		return
	}
	w.seq++
	w.queue.push(event{at: w.now + restartDelay, seq: w.seq, kind: evUnitRestart, a: i, b: s.u, c: s.gen, inc: w.machines[i].inc})
}

// unitRestart is systemd restarting a unit that ended, as its Restart=
// asks.
func (w *World) unitRestart(i, u int32, gen uint32) {
	m := w.machines[i]
	k := m.find(u)
	if k < 0 || m.units[k].gen != gen || (m.units[k].active != sdFailed && m.units[k].active != sdInactive) {
		return
	}
	w.startUnit(i, k, false)
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
