package scheduler

// This file holds the working state W: adding and removing placements and
// the indexes that follow them.

// add places unit u on machine m with port in W.
func (p *pass) add(u, m int32, port uint16) {
	in := &p.info[u]
	if in.global {
		p.gAt[u] = append(p.gAt[u], globalPlacement{m: m, port: port})
	} else {
		p.at[u], p.port[u] = m, port
	}
	p.onM[m] = append(p.onM[m], u)
	p.loads.shift(m, 1)
	p.ports.take(m, port)
	count(p.hosts, in.matches, m, 1)
	count(p.holders, in.conflicts, m, 1)
	count(p.replacers, in.replaces, m, 1)
}

// remove takes unit u off machine m in W.
func (p *pass) remove(u, m int32) {
	in := &p.info[u]
	var port uint16
	if in.global {
		gs := p.gAt[u]
		for i, g := range gs {
			if g.m == m {
				port = g.port
				p.gAt[u] = append(gs[:i], gs[i+1:]...)
				break
			}
		}
	} else {
		port = p.port[u]
		p.at[u], p.port[u] = -1, 0
	}
	on := p.onM[m]
	for i, v := range on {
		if v == u {
			p.onM[m] = append(on[:i], on[i+1:]...)
			break
		}
	}
	p.loads.shift(m, -1)
	p.ports.release(m, port)
	count(p.hosts, in.matches, m, -1)
	count(p.holders, in.conflicts, m, -1)
	count(p.replacers, in.replaces, m, -1)
}

// displaceReplaced removes from m every unit that u Replaces, and the
// units that follow those through MachineOf.
func (p *pass) displaceReplaced(u, m int32) {
	if len(p.info[u].replaces) == 0 {
		return
	}
	victims := []int32{}
	for _, v := range p.onM[m] {
		if v != u && intersects(p.info[u].replaces, p.info[v].matches) {
			victims = append(victims, v)
		}
	}
	for _, v := range victims {
		p.displace(v, m, cause{ReasonReplaced, "replaced by " + p.units[u].Name})
	}
}

// displace removes v from m for cause c, then its MachineOf followers on
// m. A displaced non-global unit is queued to be placed again.
func (p *pass) displace(v, m int32, c cause) {
	if !p.onMachine(v, m) {
		return
	}
	p.remove(v, m)
	in := &p.info[v]
	if p.queue != nil {
		p.displaced = true // globals are redone and unplaced units retried
	}
	if in.global {
		p.setGlobalCause(v, m, c)
		return
	}
	in.cause, in.causeDetail = c.reason, c.detail
	if p.queue != nil {
		p.queue.push(in.rank)
	}
	for _, f := range append([]int32(nil), p.onM[m]...) {
		if containsInt32(p.info[f].peers, v) {
			p.displace(f, m, cause{ReasonPeerMoved, "MachineOf peer " + p.units[v].Name + " left " + p.machines[m].ID})
		}
	}
}

func (p *pass) onMachine(u, m int32) bool {
	for _, v := range p.onM[m] {
		if v == u {
			return true
		}
	}
	return false
}

func (p *pass) setGlobalCause(g, m int32, c cause) {
	in := &p.info[g]
	if in.globalPrevDetail == nil {
		in.globalPrevDetail = map[string]cause{}
	}
	in.globalPrevDetail[p.machines[m].ID] = c
}

// intersects reports whether two ascending id lists share an element.
func intersects(a, b []int32) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			return true
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return false
}

func containsInt32(s []int32, x int32) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
