package sim

import (
	"sort"
	"time"

	"github.com/fleetsim/fleet/scheduler"
)

// engineState is what the engines hold between ticks.
type engineState struct {
	believer []bool // machines whose engine believes it leads
	planRev  uint64 // registry revision of the last plan
	planKey  uint64 // alive-set fingerprint of the last plan
	planned  bool
	inflight bool // a commit is on its way: plan again only once it has landed
	snap     scheduler.Snapshot
	lastPlan *scheduler.Plan
}

// believes records whether machine i's engine thinks it leads.
func (e *engineState) believes(i int32, yes bool) {
	for int(i) >= len(e.believer) {
		e.believer = append(e.believer, false)
	}
	e.believer[i] = yes
}

func (e *engineState) leads(i int32) bool { return int(i) < len(e.believer) && e.believer[i] }

// commit is a plan on its way from a leader to the registry, with the
// leadership term it was made in (an etcd transaction guarded by the
// election key's revision: a later term of the same machine is another key).
type commit struct {
	from    int32
	term    uint64
	rev     uint64 // registry revision the plan was made from
	actions []scheduler.Action
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
	w.engine.believes(best, true)
	w.engine.planned, w.engine.inflight = false, false // a new leader reads everything afresh
	w.schedule(bestAt-w.now, evEngineTick, best, 0)
	w.schedule(w.reg.leaderUntil-w.now, evLeaseCheck, -1, 0)
}

// nextTick returns the first tick of m's engine strictly after now.
func (w *World) nextTick(m *machine) time.Duration {
	iv := m.scaled(w.cfg.EngineInterval)
	k := (w.now-m.phase)/iv + 1
	return m.phase + k*iv
}

// engineTick is a leading engine's reconcile: renew the lease, and plan
// when the cluster changed since the last plan.
func (w *World) engineTick(i int32) {
	m := w.machines[i]
	if !m.up || !w.engine.leads(i) {
		return
	}
	if !m.cut {
		if w.reg.leader != i {
			w.engine.believes(i, false) // deposed: it reads who leads now
			return
		}
		w.schedule(w.latency(), evRenewArrive, i, 0)
		w.maybePlan(i)
	}
	w.schedule(m.scaled(w.cfg.EngineInterval), evEngineTick, i, 0)
}

func (w *World) renewArrive(i int32) {
	if w.reg.leader == i && w.now < w.reg.leaderUntil {
		w.reg.leaderUntil = w.now + w.cfg.LeaderTTL
		w.reg.writes++
	}
}

// maybePlan plans when units or the alive set changed since the last plan.
func (w *World) maybePlan(i int32) {
	if w.engine.inflight {
		return // planning now would not see the commit on its way
	}
	key := w.aliveKey()
	if w.engine.planned && w.engine.planRev == w.reg.rev && w.engine.planKey == key {
		return
	}
	w.engine.planned, w.engine.planRev, w.engine.planKey = true, w.reg.rev, key
	snap := w.snapshot()
	plan, err := w.sched.Plan(snap)
	w.stats.schedulerCalls++
	if err != nil {
		w.violate("engine", "scheduler refused the snapshot: "+err.Error())
		return
	}
	w.engine.lastPlan = plan
	w.checkPlanTargets(snap, plan)
	if len(plan.Actions) == 0 {
		return
	}
	w.commits = append(w.commits, commit{from: i, term: w.reg.term, rev: w.reg.rev, actions: plan.Actions})
	w.engine.inflight = true
	w.schedule(w.latency(), evCommitArrive, i, int32(len(w.commits)-1))
}

// aliveKey fingerprints the set of machines holding a lease.
func (w *World) aliveKey() uint64 {
	h := uint64(fnvOffset)
	for i := range w.machines {
		if w.reg.alive(int32(i), w.now) {
			h = (h ^ uint64(i)) * fnvPrime
		}
	}
	return h
}

// snapshot builds the scheduler's input from the registry.
func (w *World) snapshot() *scheduler.Snapshot {
	s := &w.engine.snap
	s.Machines = s.Machines[:0]
	for i, m := range w.machines {
		s.Machines = append(s.Machines, scheduler.Machine{ID: m.id, Metadata: m.meta, Alive: w.reg.alive(int32(i), w.now)})
	}
	s.Units = s.Units[:0]
	for _, i := range w.unitsByName() { // sorted, so the scheduler need not sort
		if u := w.units[i]; !u.removed {
			s.Units = append(s.Units, scheduler.Unit{Name: u.name, Desired: u.desired, Req: u.req})
		}
	}
	s.Placements = w.placementsByUnit(s.Placements[:0])
	return s
}

// placementsByUnit lists the registry's placements in unit-name order
// (machines in order within a unit), by a counting sort over unit
// positions: the scheduler then walks them beside the units.
func (w *World) placementsByUnit(out []scheduler.Placement) []scheduler.Placement {
	n := len(w.units)
	if cap(w.placeStart) < n+1 {
		w.placeStart = make([]int32, n+1)
	}
	start := w.placeStart[:n+1]
	clear(start)
	total := 0
	for _, es := range w.reg.sched {
		for _, e := range es {
			start[e.u+1]++
			total++
		}
	}
	for i := 1; i <= n; i++ {
		start[i] += start[i-1]
	}
	if cap(w.placeBuf) < total {
		w.placeBuf = make([]placed, total)
	}
	buf := w.placeBuf[:total]
	for m, es := range w.reg.sched {
		for _, e := range es {
			buf[start[e.u]] = placed{m: int32(m), port: e.port}
			start[e.u]++
		}
	}
	// start[u] now ends unit u's run; runs begin where the previous ended.
	for _, u := range w.unitsByName() {
		from := int32(0)
		if u > 0 {
			from = start[u-1]
		}
		for _, pl := range buf[from:start[u]] {
			out = append(out, scheduler.Placement{Unit: w.units[u].name, Machine: w.machines[pl.m].id, Port: pl.port})
		}
	}
	return out
}

// placed is one placement of a unit during placementsByUnit.
type placed struct {
	m    int32
	port uint16
}

// commitArrive applies a plan at the registry if its sender still holds
// the leader lease in the same term (a deposed leader's write fails, as an
// etcd transaction guarded by the election key would) and the registry
// has not changed under the plan since it was made.
func (w *World) commitArrive(k int32) {
	c := &w.commits[k]
	actions := c.actions
	c.actions = nil
	if c.term == w.reg.term {
		// The leader learns the outcome and plans again from what the
		// registry holds now: the cluster may have changed meanwhile.
		w.engine.inflight, w.engine.planned = false, false
	}
	if w.reg.leader != c.from || c.term != w.reg.term || w.now >= w.reg.leaderUntil {
		w.stats.rejectedCommits++
		return
	}
	if c.rev != w.reg.rev {
		// Units, desired states, metadata or membership changed since the
		// plan was made: the write is conditioned on the revision it read.
		w.stats.staleCommits++
		return
	}
	w.stats.commits++
	touched := map[int32]bool{}
	var order []int32
	touch := func(m int32) {
		if !touched[m] {
			touched[m] = true
			order = append(order, m)
		}
	}
	for _, a := range actions {
		u, ok := w.upos[a.Unit]
		if !ok {
			continue
		}
		global := w.units[u].global
		if from, ok := w.mpos[a.From]; ok && a.Kind != scheduler.Schedule {
			w.reg.drop(from, u, global)
			touch(from)
		}
		if to, ok := w.mpos[a.To]; ok && a.Kind != scheduler.Unschedule {
			w.reg.put(to, u, a.Port, global)
			touch(to)
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
