package scheduler

import (
	"fmt"
	"sort"
)

// Verdict is one machine's answer for one unit.
type Verdict struct {
	Machine  string
	Placed   bool   // the plan puts the unit here
	Eligible bool   // every check passes here
	Reason   Reason // the first check that fails, when not eligible
	Detail   string
}

// Explanation says where a unit goes, or why nowhere, and what every
// machine of the cluster answered: fleetctl plan prints it.
type Explanation struct {
	Unit        string
	Found       bool         // the unit is in the snapshot
	Global      bool         // the unit is global
	Machines    []string     // where the plan puts it, by ID
	Unscheduled *Unscheduled // why it has no machine, if so
	Verdicts    []Verdict    // one per machine, by ID
}

// Explain plans snap and explains each named unit. A machine's verdict
// for a unit is judged against the planned state without that unit, so
// it says whether the unit could go there.
func (s *Scheduler) Explain(snap *Snapshot, units []string) (*Plan, []Explanation, error) {
	p, err := s.run(snap)
	if err != nil {
		return nil, nil, err
	}
	out := make([]Explanation, 0, len(units))
	for _, name := range units {
		out = append(out, p.explain(name))
	}
	return p.plan(), out, nil
}

func (p *pass) explain(name string) Explanation {
	e := Explanation{Unit: name}
	u, ok := p.upos[name]
	if !ok {
		return e
	}
	in := &p.info[u]
	e.Found, e.Global = true, in.global
	for i := range p.unsched {
		if p.unsched[i].Unit == name {
			e.Unscheduled = &p.unsched[i]
		}
	}
	placed := p.placedOn(u)
	for _, m := range placed {
		e.Machines = append(e.Machines, p.machines[m.m].ID)
	}
	sort.Strings(e.Machines)
	for _, pl := range placed { // judge every machine without the unit
		p.remove(u, pl.m)
	}
	for m := range p.machines {
		e.Verdicts = append(e.Verdicts, p.verdict(u, int32(m), placed))
	}
	for _, pl := range placed {
		p.add(u, pl.m, pl.port)
	}
	return e
}

// placedOn lists where W has unit u.
func (p *pass) placedOn(u int32) []globalPlacement {
	if p.info[u].global {
		return append([]globalPlacement(nil), p.gAt[u]...)
	}
	if p.at[u] >= 0 {
		return []globalPlacement{{m: p.at[u], port: p.port[u]}}
	}
	return nil
}

func (p *pass) verdict(u, m int32, placed []globalPlacement) Verdict {
	v := Verdict{Machine: p.machines[m].ID}
	for _, pl := range placed {
		v.Placed = v.Placed || pl.m == m
	}
	in := &p.info[u]
	switch {
	case !p.alive.has(m):
		v.Reason, v.Detail = ReasonMachineDead, "machine is dead"
		return v
	case !in.active:
		v.Reason, v.Detail = ReasonInactive, "desired state is inactive"
		return v
	case in.template:
		v.Reason, v.Detail = ReasonTemplate, "a template unit cannot run"
		return v
	}
	checks := nonGlobalChecks
	if in.global {
		checks = globalChecks
	}
	if r := p.firstFailure(checks, u, m); r != ReasonNone {
		v.Reason, v.Detail = r, p.failureDetail(r, u, m)
		return v
	}
	v.Eligible = true
	v.Detail = fmt.Sprintf("eligible, %d units there", p.loads.load[m])
	return v
}
