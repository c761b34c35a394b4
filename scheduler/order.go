package scheduler

import "container/heap"

// int32Heap is a min-heap of unit positions (positions follow name order).
type int32Heap []int32

func (h int32Heap) Len() int           { return len(h) }
func (h int32Heap) Less(i, j int) bool { return h[i] < h[j] }
func (h int32Heap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }

// Push implements heap.Interface.
func (h *int32Heap) Push(x any) { *h = append(*h, x.(int32)) }

// Pop implements heap.Interface.
func (h *int32Heap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// scheduleOrder sorts active non-global units so that every MachineOf
// peer comes before the units naming it, ties by name (Kahn's algorithm
// with a min-heap). Units in or behind a cycle get no rank.
func (p *pass) scheduleOrder() {
	n := len(p.units)
	indegree := make([]int32, n)
	followers := make([][]int32, n)
	ready := &int32Heap{}
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
			*ready = append(*ready, u)
		}
	}
	heap.Init(ready)
	for ready.Len() > 0 {
		u := heap.Pop(ready).(int32)
		p.info[u].rank = int32(len(p.order))
		p.order = append(p.order, u)
		for _, f := range followers[u] {
			if indegree[f]--; indegree[f] == 0 {
				heap.Push(ready, f)
			}
		}
	}
}
