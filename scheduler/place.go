package scheduler

import "math/bits"

// maxPlacements bounds how often Replaces may make one unit move in a pass.
const maxPlacements = 3

// rankQueue is the queue of step 4: units by schedule rank.
type rankQueue = minHeap

// place is step 4: every active non-global unit not in W, in schedule
// order, goes to the least-loaded machine passing checks 1-6. When a
// round displaced units (Replaces), globals are redone and every unit
// still unplaced is tried again, until a round displaces nothing.
func (p *pass) place() {
	p.queue = &rankQueue{}
	for {
		for rank, u := range p.order {
			if p.at[u] < 0 {
				*p.queue = append(*p.queue, int32(rank)) // ascending: a valid heap
			}
		}
		p.displaced = false
		p.drain()
		if !p.displaced {
			break
		}
		p.redoGlobals()
	}
	p.queue = nil
}

// drain places the queued units in rank order.
func (p *pass) drain() {
	for p.queue.len() > 0 {
		u := p.order[p.queue.pop()]
		in := &p.info[u]
		if p.at[u] >= 0 || in.placedThisPass >= maxPlacements {
			continue
		}
		m := p.choose(u)
		if m < 0 {
			continue
		}
		in.placedThisPass++
		p.add(u, m, p.ports.lowestFree(m, p.units[u].Req.Ports))
		p.displaceReplaced(u, m)
	}
}

// choose returns the least-loaded machine (ties by ID) passing checks
// 1-6 for u, or -1.
func (p *pass) choose(u int32) int32 {
	in := &p.info[u]
	switch {
	case len(in.peers) > 0:
		m := int32(-1)
		if in.peers[0] >= 0 {
			m = p.at[in.peers[0]]
		}
		if m >= 0 && p.alive.has(m) && p.feasible(nonGlobalChecks, u, m) {
			return m
		}
		return -1
	case in.idMachines != nil:
		return p.leastLoaded(u, in.idMachines)
	}
	return p.firstByLoad(u, p.masks[in.metaMask])
}

// firstByLoad walks the machines of mask in (load, position) order and
// returns the first passing checks 1-6, or -1. Whole words of machines
// outside the mask or the bucket are skipped at once.
func (p *pass) firstByLoad(u int32, mask bitset) int32 {
	for l, b := range p.loads.buckets {
		if p.loads.size[l] == 0 {
			continue
		}
		for w := range b {
			word := b[w] & mask[w]
			for word != 0 {
				m := int32(w<<6 + bits.TrailingZeros64(word))
				if p.feasible(nonGlobalChecks, u, m) {
					return m
				}
				word &= word - 1
			}
		}
	}
	return -1
}

// leastLoaded returns the machine of ms with the smallest (load, position)
// that passes checks 1-6 for u, or -1.
func (p *pass) leastLoaded(u int32, ms []int32) int32 {
	best := int32(-1)
	load := p.loads.load
	for _, m := range ms {
		if !p.alive.has(m) || !p.feasible(nonGlobalChecks, u, m) {
			continue
		}
		if best < 0 || load[m] < load[best] || load[m] == load[best] && m < best {
			best = m
		}
	}
	return best
}
