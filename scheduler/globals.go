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
			p.placeGlobal(int32(g), m, 0)
		}
	}
}

// redoGlobals runs step 3 again after step 4 displaced units: a machine a
// displaced unit left may now take a global unit it blocked before. Every
// global placement is dropped and made again in name order, keeping the
// port it had when that port is still valid.
func (p *pass) redoGlobals() {
	had := make(map[int32][]globalPlacement)
	for g := range p.units {
		if len(p.gAt[g]) == 0 {
			continue
		}
		had[int32(g)] = append([]globalPlacement(nil), p.gAt[g]...)
		for _, gp := range had[int32(g)] {
			p.remove(int32(g), gp.m)
		}
	}
	for g := range p.units {
		in := &p.info[g]
		if !in.active || !in.global {
			continue
		}
		prev, i := had[int32(g)], 0
		for m := p.alive.next(0); m >= 0; m = p.alive.next(m + 1) {
			var pref uint16
			for i < len(prev) && prev[i].m < m {
				i++
			}
			if i < len(prev) && prev[i].m == m {
				pref = prev[i].port
			}
			p.placeGlobal(int32(g), m, pref)
		}
	}
}

// placeGlobal puts global unit g on m if the checks pass, with port pref
// (or else its input port) when valid, else the lowest free one.
func (p *pass) placeGlobal(g, m int32, pref uint16) {
	in := &p.info[g]
	prev, had := in.globalPrev[p.machines[m].ID]
	if r := p.firstFailure(globalChecks, g, m); r != ReasonNone {
		if had {
			p.setGlobalCause(g, m, cause{r, p.failureDetail(r, g, m)})
		}
		return
	}
	want := prev
	if pref != 0 {
		want = pref
	}
	port, _ := p.keptPort(g, m, want)
	if had && port != prev {
		p.setGlobalCause(g, m, cause{ReasonPortReassign, portChangeDetail(prev, port)})
	}
	p.add(g, m, port)
}
