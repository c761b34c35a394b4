package scheduler

import "slices"

// minHeap is a min-heap of int32 (unit positions or ranks), written out
// so that pushing and popping allocate nothing per element.
type minHeap []int32

func (h *minHeap) push(x int32) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if s[parent] <= s[i] {
			break
		}
		s[parent], s[i] = s[i], s[parent]
		i = parent
	}
}

func (h *minHeap) pop() int32 {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < len(s) && s[l] < s[small] {
			small = l
		}
		if r < len(s) && s[r] < s[small] {
			small = r
		}
		if small == i {
			break
		}
		s[i], s[small] = s[small], s[i]
		i = small
	}
	*h = s
	return top
}

func (h minHeap) len() int { return len(h) }

// scheduleOrder sorts active non-global units so that every MachineOf
// peer comes before the units naming it, ties by name (Kahn's algorithm
// with a min-heap over positions, which follow name order). Units in or
// behind a cycle get no rank.
func (p *pass) scheduleOrder() {
	n := len(p.units)
	p.order = make([]int32, 0, n)
	if !p.anyPeers() { // no MachineOf to follow: name order
		for u := int32(0); int(u) < n; u++ {
			if in := &p.info[u]; in.active && !in.global {
				in.rank = int32(len(p.order))
				p.order = append(p.order, u)
			}
		}
		return
	}
	indegree := make([]int32, n)
	followers := make([][]int32, n)
	ready := &minHeap{}
	for u := int32(0); int(u) < n; u++ {
		in := &p.info[u]
		if !in.active || in.global {
			continue
		}
		for _, peer := range in.peers {
			if peer >= 0 {
				indegree[u]++
				followers[peer] = append(followers[peer], u)
			}
		}
		if indegree[u] == 0 {
			*ready = append(*ready, u) // ascending already: a valid heap
		}
	}
	for ready.len() > 0 {
		u := ready.pop()
		p.info[u].rank = int32(len(p.order))
		p.order = append(p.order, u)
		for _, f := range followers[u] {
			if indegree[f]--; indegree[f] == 0 {
				ready.push(f)
			}
		}
	}
}

// anyPeers reports whether an active non-global unit has a MachineOf
// peer to follow.
func (p *pass) anyPeers() bool {
	for u := range p.info {
		in := &p.info[u]
		if in.active && !in.global && slices.ContainsFunc(in.peers, func(v int32) bool { return v >= 0 }) {
			return true
		}
	}
	return false
}
