package sim

import "time"

// evKind names what an event does when it fires.
type evKind uint8

const (
	evHeartbeat       evKind = iota + 1 // machine a's agent sends a heartbeat
	evHeartbeatArrive                   // the registry receives machine a's heartbeat
	evAgentTick                         // machine a's periodic agent reconcile
	evAgentWake                         // machine a learns that its schedule changed
	evUnitStarted                       // unit b finishes starting on machine a (c: start generation)
	evUnitCrash                         // unit b crashes on machine a (c: start generation)
	evEngineTick                        // machine a's engine ticks (leader, or campaigning)
	evLeaseCheck                        // the leader lease may have expired
	evCommitArrive                      // commit b reaches the registry
	evRenewArrive                       // machine a's leader-lease renewal reaches the registry
	evOp                                // injected operation b
	evSample                            // sample the time series
	evLiveness                          // check liveness
)

// event is one entry of the queue. Events are ordered by (at, seq), seq
// being the order in which they were scheduled, so ties are deterministic.
type event struct {
	at   time.Duration
	seq  uint64
	kind evKind
	a, b int32
	c    uint32 // a start generation, for unit events
	inc  uint32 // machine a's incarnation when scheduled: stale events are dropped
}

func (e *event) before(o *event) bool {
	return e.at < o.at || e.at == o.at && e.seq < o.seq
}

// eventQueue is a 4-ary min-heap of events, by value: shallower than a
// binary heap, so a pop moves fewer events, and the four children of a
// node sit next to each other in memory.
type eventQueue []event

func (q *eventQueue) push(e event) {
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

func (q *eventQueue) pop() event {
	s := *q
	top := s[0]
	n := len(s) - 1
	last := s[n]
	s = s[:n]
	i := 0
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
		if !s[best].before(&last) {
			break
		}
		s[i] = s[best]
		i = best
	}
	if n > 0 {
		s[i] = last
	}
	*q = s
	return top
}
