package scheduler

import "sort"

// Step 1: placements of gone, inactive or template units are unscheduled;
// for each remaining unit the previous placement is recorded, duplicates
// are unscheduled, and placements on dead or missing machines are dropped.
// Placements already in unit order (the simulator and the engine keep
// them so) are walked beside the units; others are grouped through the
// unit index. Neither sorts the whole list.
func (p *pass) stale(in []Placement) {
	if inUnitOrder(in) {
		p.staleMerged(in)
		return
	}
	perUnit := make([][]Placement, len(p.units))
	var unknown []Placement
	for _, pl := range in {
		if u, ok := p.upos[pl.Unit]; ok {
			perUnit[u] = append(perUnit[u], pl)
		} else {
			unknown = append(unknown, pl)
		}
	}
	for u, ps := range perUnit {
		if len(ps) > 0 {
			p.staleUnit(int32(u), sortedPlacements(ps))
		}
	}
	p.staleGroups(sortedPlacements(unknown), func([]Placement) int32 { return -1 })
}

func inUnitOrder(in []Placement) bool {
	for i := 1; i < len(in); i++ {
		if in[i].Unit < in[i-1].Unit {
			return false
		}
	}
	return true
}

// staleMerged walks placements in unit order beside the units, which
// are in name order: no look-up by name.
func (p *pass) staleMerged(in []Placement) {
	u := 0
	p.staleGroups(in, func(g []Placement) int32 {
		for u < len(p.units) && p.units[u].Name < g[0].Unit {
			u++
		}
		if u < len(p.units) && p.units[u].Name == g[0].Unit {
			return int32(u)
		}
		return -1
	})
}

// staleGroups hands each run of placements of one unit to staleUnit, with
// the unit's position (-1 when the unit is not in the snapshot).
func (p *pass) staleGroups(ps []Placement, unitOf func([]Placement) int32) {
	for i := 0; i < len(ps); {
		j := i + 1
		for j < len(ps) && ps[j].Unit == ps[i].Unit {
			j++
		}
		g := ps[i:j]
		p.staleUnit(unitOf(g), sortedPlacements(g))
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

func (p *pass) staleUnit(u int32, ps []Placement) {
	known := u >= 0
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
