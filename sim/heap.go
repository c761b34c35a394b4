package sim

// eventHeap is a 4-ary min-heap of events, by value: shallower than a
// binary heap, so a pop moves fewer events, and the four children of a
// node sit next to each other in memory.
type eventHeap []event

func (q *eventHeap) push(e event) {
	*q = append(*q, e)
	s := *q
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !e.before(&s[p]) {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = e
}

func (q *eventHeap) pop() event {
	s := *q
	top := s[0]
	n := len(s) - 1
	last := s[n]
	*q = s[:n]
	if n > 0 {
		q.down(0, last)
	}
	return top
}

// init orders the events of q as a heap.
func (q *eventHeap) init() {
	s := *q
	for i := (len(s) - 2) / 4; i >= 0; i-- {
		q.down(i, s[i])
	}
}

// down places e, which replaces the event at i, at or below i.
func (q *eventHeap) down(i int, e event) {
	s := *q
	n := len(s)
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		best := c
		for k := c + 1; k < c+4 && k < n; k++ {
			if s[k].before(&s[best]) {
				best = k
			}
		}
		if !s[best].before(&e) {
			break
		}
		s[i] = s[best]
		i = best
	}
	s[i] = e
}
