package scheduler

import "sort"

// Step 1: placements of gone, inactive or template units are unscheduled;
// for each remaining unit the previous placement is recorded, duplicates
// are unscheduled, and placements on dead or missing machines are dropped.
// Placements are grouped by unit through the unit index rather than by a
// sort of the whole list: a unit has one or a few.
func (p *pass) stale(in []Placement) {
	perUnit := make([][]Placement, len(p.units))
	var unknown []Placement
	for _, pl := range in {
		if u, ok := p.upos[pl.Unit]; ok {
			perUnit[u] = append(perUnit[u], pl)
		} else {
			unknown = append(unknown, pl)
		}
	}
	for _, ps := range perUnit {
		if len(ps) > 0 {
			p.staleUnit(sortedPlacements(ps))
		}
	}
	ps := sortedPlacements(unknown)
	for i := 0; i < len(ps); {
		j := i + 1
		for j < len(ps) && ps[j].Unit == ps[i].Unit {
			j++
		}
		p.staleUnit(ps[i:j])
		i = j
	}
}

// sortedPlacements sorts by (unit, machine, port) and drops exact
// duplicates of (unit, machine), keeping the lowest port.
func sortedPlacements(in []Placement) []Placement {
	if len(in) <= 1 {
		return in
	}
	ps := append([]Placement(nil), in...)
	sort.Slice(ps, func(i, j int) bool { return placementLess(ps[i], ps[j]) })
	out := ps[:0]
	for i, pl := range ps {
		if i > 0 && pl.Unit == ps[i-1].Unit && pl.Machine == ps[i-1].Machine {
			continue
		}
		out = append(out, pl)
	}
	return out
}

func placementLess(a, b Placement) bool {
	if a.Unit != b.Unit {
		return a.Unit < b.Unit
	}
	if a.Machine != b.Machine {
		return a.Machine < b.Machine
	}
	return a.Port < b.Port
}

func (p *pass) staleUnit(ps []Placement) {
	u, known := p.upos[ps[0].Unit]
	var r Reason
	var detail string
	switch {
	case !known:
		r, detail = ReasonUnitGone, "unit is no longer in the registry"
	case p.info[u].template:
		r, detail = ReasonTemplate, "a template unit cannot run"
	case !p.info[u].active:
		r, detail = ReasonInactive, "desired state is inactive"
	}
	if r != ReasonNone {
		for _, pl := range ps {
			p.actions = append(p.actions, Action{Kind: Unschedule, Unit: pl.Unit, From: pl.Machine, Reason: r, Detail: detail})
		}
		return
	}
	in := &p.info[u]
	if in.global {
		in.globalPrev = make(map[string]uint16, len(ps))
		for _, pl := range ps {
			in.globalPrev[pl.Machine] = pl.Port
		}
		return
	}
	primary := 0
	for i, pl := range ps {
		if m, ok := p.mpos[pl.Machine]; ok && p.alive.has(m) {
			primary = i
			break
		}
	}
	for i, pl := range ps {
		if i != primary {
			p.actions = append(p.actions, Action{Kind: Unschedule, Unit: pl.Unit, From: pl.Machine,
				Reason: ReasonDuplicate, Detail: "also placed on " + ps[primary].Machine})
		}
	}
	in.hasPrev, in.prevMachine, in.prevPort = true, ps[primary].Machine, ps[primary].Port
	in.cause, in.causeDetail = p.machineState(in.prevMachine)
}

// machineState returns why a placement on machine id cannot stay:
// machine-gone, machine-dead, or ReasonNone when the machine is alive.
func (p *pass) machineState(id string) (Reason, string) {
	m, ok := p.mpos[id]
	switch {
	case !ok:
		return ReasonMachineGone, "machine " + id + " is not in the cluster"
	case !p.alive.has(m):
		return ReasonMachineDead, "machine " + id + " is dead"
	}
	return ReasonNone, ""
}
