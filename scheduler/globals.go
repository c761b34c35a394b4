package scheduler

// Step 3: each active global unit, in name order, goes on every alive
// machine that passes checks 2, 4, 5 and 6.
func (p *pass) globals() {
	for g := range p.units {
		in := &p.info[g]
		if !in.active || !in.global {
			continue
		}
		for m := p.alive.next(0); m >= 0; m = p.alive.next(m + 1) {
			p.placeGlobal(int32(g), m)
		}
	}
}

func (p *pass) placeGlobal(g, m int32) {
	in := &p.info[g]
	prev, had := in.globalPrev[p.machines[m].ID]
	if r := p.firstFailure(globalChecks, g, m); r != ReasonNone {
		if had {
			p.setGlobalCause(g, m, cause{r, p.failureDetail(r, g, m)})
		}
		return
	}
	port, _ := p.keptPort(g, m, prev)
	if had && port != prev {
		p.setGlobalCause(g, m, cause{ReasonPortReassign, portChangeDetail(prev, port)})
	}
	p.add(g, m, port)
}
