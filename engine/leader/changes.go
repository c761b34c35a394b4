package leader

import (
	"slices"
	"sort"
	"strings"

	"github.com/fleetsim/fleet/scheduler"
)

// Changes turns a plan into schedule writes, and refreshes the hash and
// desired state copied into placements the plan leaves in place. There is
// at most one write per (unit, machine), the last decided: etcd refuses a
// transaction that touches a key twice. current is sorted by (unit,
// machine) and jobs by name; placements of units not in jobs are left
// alone.
func Changes(plan *scheduler.Plan, current []Placement, jobs []Job) []Change {
	var (
		out = make([]Change, 0, len(plan.Actions)+len(plan.Actions)/2)
		at  = make(map[[2]string]int, len(plan.Actions)+len(plan.Actions)/2)
	)
	set := func(c Change) {
		k := [2]string{c.Unit, c.Machine}
		if i, ok := at[k]; ok {
			out[i] = c
			return
		}
		at[k] = len(out)
		out = append(out, c)
	}
	put := func(j Job, m string, port uint16) {
		set(Change{Placement: Placement{Unit: j.Name, Machine: m, Port: port, Hash: j.Hash, Desired: j.Desired}})
	}
	for _, a := range plan.Actions {
		if a.Kind == scheduler.Unschedule || a.Kind == scheduler.Move {
			set(Change{Delete: true, Placement: Placement{Unit: a.Unit, Machine: a.From}})
		}
		if a.Kind != scheduler.Unschedule {
			put(findJob(jobs, a.Unit), a.To, a.Port)
		}
	}
	k := 0
	for _, p := range current {
		for k < len(jobs) && jobs[k].Name < p.Unit {
			k++
		}
		if k == len(jobs) || jobs[k].Name != p.Unit {
			continue
		}
		if j := jobs[k]; p.Hash != j.Hash || p.Desired != j.Desired {
			if _, touched := at[[2]string{p.Unit, p.Machine}]; !touched {
				put(j, p.Machine, p.Port)
			}
		}
	}
	return out
}

// findJob returns the job named name from jobs sorted by name (the zero
// Job with that name if there is none, which the scheduler never plans).
func findJob(jobs []Job, name string) Job {
	i := sort.Search(len(jobs), func(i int) bool { return jobs[i].Name >= name })
	if i < len(jobs) && jobs[i].Name == name {
		return jobs[i]
	}
	return Job{Name: name}
}

// sortedView returns v with sorted copies of its lists.
func sortedView(v View) View {
	v.Jobs = slices.Clone(v.Jobs)
	slices.SortFunc(v.Jobs, func(a, b Job) int { return strings.Compare(a.Name, b.Name) })
	v.Machines = slices.Clone(v.Machines)
	slices.SortFunc(v.Machines, func(a, b Machine) int { return strings.Compare(a.ID, b.ID) })
	v.Schedule = slices.Clone(v.Schedule)
	slices.SortFunc(v.Schedule, func(a, b Placement) int { return comparePlacement(&a, &b) })
	v.Unsorted = false
	return v
}
