package scheduler

// Step 2: in schedule order, each unit still placed on an alive machine
// stays there if checks 1-5 pass; its port is kept or reassigned.
func (p *pass) keep() {
	for _, u := range p.order {
		in := &p.info[u]
		if !in.hasPrev || in.cause != ReasonNone {
			continue
		}
		m := p.mpos[in.prevMachine]
		if r := p.firstFailure(keepChecks, u, m); r != ReasonNone {
			in.cause, in.causeDetail = r, p.failureDetail(r, u, m)
			continue
		}
		port, ok := p.keptPort(u, m, in.prevPort)
		if !ok {
			in.cause, in.causeDetail = ReasonPortsUsedUp, p.failureDetail(ReasonPortsUsedUp, u, m)
			continue
		}
		if port != in.prevPort {
			in.cause, in.causeDetail = ReasonPortReassign, portChangeDetail(in.prevPort, port)
		}
		p.add(u, m, port)
		p.displaceReplaced(u, m)
	}
}

// keptPort returns the port unit u keeps on m: prev when it is in the
// unit's ranges and free, else the lowest free one. ok is false when the
// unit needs a port and none is free.
func (p *pass) keptPort(u, m int32, prev uint16) (port uint16, ok bool) {
	rs := p.units[u].Req.Ports
	if len(rs) == 0 {
		return 0, true
	}
	if prev != 0 && rs.Contains(prev) && !p.ports.taken(m, prev) {
		return prev, true
	}
	port = p.ports.lowestFree(m, rs)
	return port, port != 0
}
