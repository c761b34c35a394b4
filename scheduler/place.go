package scheduler

import "container/heap"

// maxPlacements bounds how often Replaces may make one unit move in a pass.
const maxPlacements = 3

// rankQueue is the queue of step 4: units by schedule rank.
type rankQueue struct{ h int32Heap }

func (q *rankQueue) push(rank int32) { heap.Push(&q.h, rank) }
func (q *rankQueue) pop() int32      { return heap.Pop(&q.h).(int32) }
func (q *rankQueue) len() int        { return q.h.Len() }

// place is step 4: every active non-global unit not in W, in schedule
// order, goes to the least-loaded machine passing checks 1-6.
func (p *pass) place() {
	p.queue = &rankQueue{}
	for rank, u := range p.order {
		if p.at[u] < 0 {
			p.queue.h = append(p.queue.h, int32(rank))
		}
	}
	heap.Init(&p.queue.h)
	for p.queue.len() > 0 {
		u := p.order[p.queue.pop()]
		in := &p.info[u]
		if p.at[u] >= 0 {
			continue
		}
		if in.placedThisPass >= maxPlacements {
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
	p.queue = nil
}

// choose returns the least-loaded machine (ties by ID) passing checks
// 1-6 for u, or -1.
func (p *pass) choose(u int32) int32 {
	in := &p.info[u]
	ok := func(m int32) bool { return p.feasible(nonGlobalChecks, u, m) }
	switch {
	case len(in.peers) > 0:
		m := int32(-1)
		if in.peers[0] >= 0 {
			m = p.at[in.peers[0]]
		}
		if m >= 0 && p.alive.has(m) && ok(m) {
			return m
		}
		return -1
	case in.idMachines != nil:
		return p.leastLoaded(in.idMachines, ok)
	}
	return p.loads.each(p.masks[in.metaMask], ok)
}

// leastLoaded returns the machine of ms with the smallest (load, position)
// that passes ok, or -1.
func (p *pass) leastLoaded(ms []int32, ok func(int32) bool) int32 {
	best := int32(-1)
	for _, m := range ms {
		if !p.alive.has(m) || !ok(m) {
			continue
		}
		if best < 0 || p.loads.load[m] < p.loads.load[best] || p.loads.load[m] == p.loads.load[best] && m < best {
			best = m
		}
	}
	return best
}
