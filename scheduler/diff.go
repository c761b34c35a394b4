package scheduler

import "sort"

// diff is step 5: it turns W against the input into actions.
func (p *pass) diff() {
	for u := range p.units {
		in := &p.info[u]
		switch {
		case !in.active:
		case in.global:
			p.diffGlobal(int32(u))
		default:
			p.diffUnit(int32(u))
		}
	}
}

func (p *pass) diffUnit(u int32) {
	in := &p.info[u]
	name := p.units[u].Name
	m, port := p.at[u], p.port[u]
	if m < 0 {
		why := p.summarize(u)
		p.unsched = append(p.unsched, why)
		if in.hasPrev {
			r, d := in.cause, in.causeDetail
			if r == ReasonNone {
				r, d = why.Reason, why.Detail
			}
			p.actions = append(p.actions, Action{Kind: Unschedule, Unit: name, From: in.prevMachine, Reason: r, Detail: d})
		}
		return
	}
	to := p.machines[m].ID
	switch {
	case !in.hasPrev:
		p.actions = append(p.actions, Action{Kind: Schedule, Unit: name, To: to, Port: port,
			Reason: ReasonNewUnit, Detail: p.choiceDetail(u)})
	case in.prevMachine != to || in.prevPort != port:
		p.actions = append(p.actions, Action{Kind: Move, Unit: name, From: in.prevMachine, To: to, Port: port,
			Reason: in.cause, Detail: in.causeDetail})
	}
}

func (p *pass) diffGlobal(g int32) {
	in := &p.info[g]
	name := p.units[g].Name
	if len(p.gAt[g]) == 0 {
		p.unsched = append(p.unsched, p.summarizeChecks(g, globalChecks))
	}
	now := make(map[string]bool, len(p.gAt[g]))
	for _, gp := range p.gAt[g] {
		id := p.machines[gp.m].ID
		now[id] = true
		prev, had := in.globalPrev[id]
		switch {
		case !had:
			p.actions = append(p.actions, Action{Kind: Schedule, Unit: name, To: id, Port: gp.port,
				Reason: ReasonGlobal, Detail: id + " is eligible"})
		case prev != gp.port:
			c := in.globalPrevDetail[id]
			p.actions = append(p.actions, Action{Kind: Move, Unit: name, From: id, To: id, Port: gp.port, Reason: c.reason, Detail: c.detail})
		}
	}
	for _, id := range sortedKeys(in.globalPrev) {
		if now[id] {
			continue
		}
		c, ok := in.globalPrevDetail[id]
		if !ok {
			c.reason, c.detail = p.machineState(id)
		}
		p.actions = append(p.actions, Action{Kind: Unschedule, Unit: name, From: id, Reason: c.reason, Detail: c.detail})
	}
}

// choiceDetail says how a new unit's machine was chosen.
func (p *pass) choiceDetail(u int32) string {
	switch in := &p.info[u]; {
	case len(in.peers) > 0:
		return "where its MachineOf peers are"
	case in.idMachines != nil:
		return "the machine MachineID names"
	}
	return "least-loaded eligible machine"
}

func sortedKeys(m map[string]uint16) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sortActions orders actions by unit, then machine (To, else From).
func sortActions(as []Action) {
	sort.SliceStable(as, func(i, j int) bool {
		if as[i].Unit != as[j].Unit {
			return as[i].Unit < as[j].Unit
		}
		return actionMachine(as[i]) < actionMachine(as[j])
	})
}

func actionMachine(a Action) string {
	if a.To != "" {
		return a.To
	}
	return a.From
}
