package sim

import (
	"fmt"
	"sort"
	"time"

	"github.com/fleetsim/fleet/engine/leader"
	"github.com/fleetsim/fleet/unit"
)

// The engines here are drivers of the real leader step (engine/leader),
// as fleetd's engine is: the simulator reads views from its registry,
// hands over bodies, carries commits with a latency, applies them under
// the same guards etcd does and reports the outcome. Every decision is
// the step's.

// commit is a plan's writes on their way from a leader to the registry,
// with the leadership term it was made in (an etcd transaction guarded by
// the election key's revision: a later term of the same machine is
// another key) and the revision it was planned from.
type commit struct {
	from    int32
	inc     uint32 // the incarnation of the machine that sent it
	term    uint64
	since   int64
	changes []leader.Change
}

// leaseCheck runs when the leader lease may have expired: if it has, the
// engines campaign, and the one whose tick comes first takes the lease
// (every engine tries at each of its ticks; this computes who wins).
func (w *World) leaseCheck() {
	if w.reg.leader >= 0 && w.now < w.reg.leaderUntil {
		w.schedule(w.reg.leaderUntil-w.now, evLeaseCheck, -1, 0)
		return
	}
	w.reg.leader = -1
	best, bestAt := int32(-1), time.Duration(0)
	for i, m := range w.machines {
		if !m.up || m.cut {
			continue
		}
		at := w.nextTick(m)
		if best < 0 || at < bestAt {
			best, bestAt = int32(i), at
		}
	}
	if best < 0 {
		w.schedule(w.cfg.EngineInterval, evLeaseCheck, -1, 0)
		return
	}
	w.reg.leader, w.reg.leaderUntil = best, bestAt+w.cfg.LeaderTTL
	w.reg.term++
	w.reg.writes++
	w.stats.elections++
	m := w.machines[best]
	if m.leader == nil {
		m.leader = leader.New(w.sched) // a fleetd's engine; the scheduler's cache is a pure function of its input
	}
	m.leader.Elected()
	m.viewRev = -1 // a new leader reads everything afresh
	w.schedule(bestAt-w.now, evEngineTick, best, 0)
	w.schedule(w.reg.leaderUntil-w.now, evLeaseCheck, -1, 0)
}

// nextTick returns the first tick of m's engine strictly after now.
func (w *World) nextTick(m *machine) time.Duration {
	iv := m.scaled(w.cfg.EngineInterval)
	k := (w.now-m.phase)/iv + 1
	return m.phase + k*iv
}

// engineTick is a leading engine's tick: renew the lease, read the view
// if it changed, and carry out what the step asks.
func (w *World) engineTick(i int32) {
	m := w.machines[i]
	if !m.up || m.leader == nil || !m.leader.Leading() {
		return
	}
	if !m.cut {
		if w.reg.leader != i {
			m.leader.Deposed() // its session ended: it reads who leads now
			return
		}
		w.schedule(w.latency(), evRenewArrive, i, 0)
		m.leader.Tick()
		w.observe(m)
		w.drive(i)
	}
	w.schedule(m.scaled(w.cfg.EngineInterval), evEngineTick, i, 0)
}

func (w *World) renewArrive(i int32) {
	if w.reg.leader == i && w.now < w.reg.leaderUntil {
		w.reg.leaderUntil = w.now + w.cfg.LeaderTTL
		w.reg.writes++
	}
}

// observe hands m's leader the registry's view when it changed since the
// last one it was given.
func (w *World) observe(m *machine) {
	w.reg.expire(w.now)
	if m.viewRev == w.reg.rev {
		return
	}
	m.viewRev = w.reg.rev
	m.leader.Observe(w.view())
}

// drive carries out what machine i's leader step asks until it waits.
func (w *World) drive(i int32) {
	m := w.machines[i]
	for {
		r := m.leader.Ready()
		if r.Plan != nil || r.Err != nil {
			w.stats.schedulerCalls++
			w.lastPlan = r.Plan
		}
		if r.Err != nil {
			w.violate("engine", "scheduler refused the view: "+r.Err.Error())
		}
		if r.Plan != nil {
			w.checkPlanTargets(r.Plan.Actions)
			w.leftOut = w.leftOut[:0]
			for _, bad := range m.leader.LeftOut() {
				w.leftOut = append(w.leftOut, bad.Unit)
			}
		}
		switch {
		case len(r.Bodies) > 0:
			if w.now < w.reg.timeoutUntil && w.rngLoss.Float64() < w.reg.timeoutRate {
				m.leader.BodiesLost(r.Bodies) // the read timed out: asked again at the next tick
				return
			}
			m.leader.AddBodies(w.bodies(r.Bodies))
		case r.Commit != nil:
			w.commits = append(w.commits, commit{from: i, inc: m.inc, term: w.reg.term, since: r.Commit.Since, changes: r.Commit.Changes})
			w.schedule(w.latency(), evCommitArrive, i, int32(len(w.commits)-1))
			return
		default:
			return
		}
	}
}

// bodies answers a leader's request for unit bodies.
func (w *World) bodies(hs []unit.Hash) []leader.Body {
	out := make([]leader.Body, len(hs))
	for k, h := range hs {
		out[k].Hash = h
		u, ok := w.byHash[h]
		switch {
		case ok && w.units[u].beh.CorruptBody:
			out[k].Err = fmt.Errorf("sim: unit body %s: corrupt record", h.Short())
		case ok:
			out[k].Options = w.units[u].opts
		default:
			out[k].Err = fmt.Errorf("sim: no unit body %s", h.Short())
		}
	}
	return out
}

// commitArrive applies a commit at the registry if its sender still holds
// the leader lease in the same term (a deposed leader's write fails, as an
// etcd transaction guarded by the election key would) and nothing that
// matters to scheduling changed since the view it was planned from; the
// sender learns the outcome.
func (w *World) commitArrive(k int32) {
	c := &w.commits[k]
	changes := c.changes
	c.changes = nil
	// A request that times out (commit-timeouts) either never reached the
	// store or reached it and lost its answer: the leader cannot tell.
	lost := w.now < w.reg.timeoutUntil && w.rngLoss.Float64() < w.reg.timeoutRate
	outcome, rev := leader.Applied, int64(0)
	switch {
	case lost && w.rngLoss.Float64() < 0.5:
		outcome = leader.Failed
	case w.reg.leader != c.from || c.term != w.reg.term || w.now >= w.reg.leaderUntil:
		w.stats.rejectedCommits++
		outcome = leader.NotLeader
	case w.reg.changed > c.since:
		w.stats.staleCommits++
		outcome = leader.Stale
	default:
		w.stats.commits++
		w.applyChanges(changes)
		w.reg.rev++
		rev = w.reg.rev
	}
	if lost {
		outcome, rev = leader.Failed, 0
		w.stats.timedOut++
	}
	if m := w.machines[c.from]; m.up && m.inc == c.inc && m.leader != nil {
		m.leader.Committed(outcome, rev)
	}
}

// applyChanges writes a commit's placements, wakes the agents of the
// machines it touched and checks them.
func (w *World) applyChanges(changes []leader.Change) {
	var order []int32
	touched := map[int32]bool{}
	for _, ch := range changes {
		u, uok := w.upos[ch.Unit]
		m, mok := w.mpos[ch.Machine]
		if !uok || !mok {
			w.violate("engine", fmt.Sprintf("commit names an unknown unit %q or machine %q", ch.Unit, ch.Machine))
			continue
		}
		if ch.Delete {
			w.reg.drop(m, u, w.units[u].global)
		} else {
			w.reg.put(m, u, ch.Port, uint8(ch.Desired), w.units[u].global)
		}
		if !touched[m] {
			touched[m] = true
			order = append(order, m)
		}
	}
	for _, m := range order {
		w.wake(m)
	}
	w.checkMachines(order)
}

// unitsByName returns unit positions in name order, sorted again only
// after units were added.
func (w *World) unitsByName() []int32 {
	if len(w.byName) != len(w.units) {
		w.byName = w.byName[:0]
		for i := range w.units {
			w.byName = append(w.byName, int32(i))
		}
		sort.Slice(w.byName, func(a, b int) bool { return w.units[w.byName[a]].name < w.units[w.byName[b]].name })
	}
	return w.byName
}

// machinesByID returns machine positions in ID order, and each machine's
// rank in it, sorted again only after machines were added.
func (w *World) machinesByID() ([]int32, []int32) {
	if len(w.byID) != len(w.machines) {
		w.byID = w.byID[:0]
		for i := range w.machines {
			w.byID = append(w.byID, int32(i))
		}
		sort.Slice(w.byID, func(a, b int) bool { return w.machines[w.byID[a]].id < w.machines[w.byID[b]].id })
		w.rank = make([]int32, len(w.machines))
		for r, i := range w.byID {
			w.rank[i] = int32(r)
		}
	}
	return w.byID, w.rank
}
