package sim

import (
	"cmp"
	"slices"

	"github.com/fleetsim/fleet/engine/leader"
	"github.com/fleetsim/fleet/scheduler"
	"github.com/fleetsim/fleet/unit"
)

// view is the registry as a leader reads it: jobs by name, the machines
// whose record is there by ID, the schedule by (unit, machine).
func (w *World) view() leader.View {
	v := leader.View{Rev: w.reg.rev, Jobs: w.viewJobs()}
	byID, _ := w.machinesByID()
	for _, i := range byID {
		if w.reg.registered[i] {
			m := w.machines[i]
			v.Machines = append(v.Machines, leader.Machine{ID: m.id, Metadata: m.meta})
		}
	}
	v.Schedule = make([]leader.Placement, 0, w.placements())
	w.eachPlacement(func(u, m int32, e entry) {
		su := w.units[u]
		v.Schedule = append(v.Schedule, leader.Placement{Unit: su.name, Machine: w.machines[m].id,
			Port: e.port, Hash: su.hash, Desired: unit.State(e.desired)})
	})
	return v
}

// viewJobs returns the units as the leader reads them, in name order:
// the same array as last time while no unit changed.
func (w *World) viewJobs() []leader.Job {
	if w.jobs != nil && w.jobsBuilt == w.jobsVer {
		return w.jobs
	}
	jobs := make([]leader.Job, 0, len(w.units))
	for _, u := range w.unitsByName() {
		if su := w.units[u]; !su.removed {
			jobs = append(jobs, leader.Job{Name: su.name, Hash: su.hash, Desired: su.desired})
		}
	}
	w.jobs, w.jobsBuilt = jobs, w.jobsVer
	return jobs
}

// snapshot builds a scheduler input straight from the registry, every
// machine listed with whether it holds a lease: the liveness check's own
// view, apart from the leader's.
func (w *World) snapshot() *scheduler.Snapshot {
	s := &scheduler.Snapshot{Placements: make([]scheduler.Placement, 0, w.placements()),
		Machines: make([]scheduler.Machine, 0, len(w.machines)), Units: make([]scheduler.Unit, 0, len(w.units))}
	for i, m := range w.machines {
		s.Machines = append(s.Machines, scheduler.Machine{ID: m.id, Metadata: m.meta, Alive: w.reg.alive(int32(i), w.now)})
	}
	for _, i := range w.unitsByName() {
		if u := w.units[i]; !u.removed && !u.beh.CorruptBody { // the leader cannot read it
			s.Units = append(s.Units, scheduler.Unit{Name: u.name, Desired: u.desired, Req: u.req})
		}
	}
	w.eachPlacement(func(u, m int32, e entry) {
		s.Placements = append(s.Placements, scheduler.Placement{Unit: w.units[u].name, Machine: w.machines[m].id, Port: e.port})
	})
	return s
}

// eachPlacement calls f for every placement in (unit name, machine ID)
// order, by a counting sort over unit positions; the machines of one
// unit (a global unit's) are put in ID order by their rank.
func (w *World) eachPlacement(f func(u, m int32, e entry)) {
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
			buf[start[e.u]] = placed{m: int32(m), e: e}
			start[e.u]++
		}
	}
	_, rank := w.machinesByID()
	// start[u] now ends unit u's run; runs begin where the previous ended.
	for _, u := range w.unitsByName() {
		from := int32(0)
		if u > 0 {
			from = start[u-1]
		}
		run := buf[from:start[u]]
		if len(run) > 1 { // a global unit's machines
			slices.SortFunc(run, func(a, b placed) int { return cmp.Compare(rank[a.m], rank[b.m]) })
		}
		for _, pl := range run {
			f(u, pl.m, pl.e)
		}
	}
}

// placed is one placement of a unit during eachPlacement.
type placed struct {
	m int32
	e entry
}

// placements counts the schedule's entries.
func (w *World) placements() int {
	n := 0
	for _, es := range w.reg.sched {
		n += len(es)
	}
	return n
}
