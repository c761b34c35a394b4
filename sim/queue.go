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

// eventQueue is a binary min-heap of events, by value.
type eventQueue []event

func (q *eventQueue) push(e event) {
	*q = append(*q, e)
	s := *q
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].before(&s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (q *eventQueue) pop() event {
	s := *q
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l, r, small := 2*i+1, 2*i+2, i
		if l < n && s[l].before(&s[small]) {
			small = l
		}
		if r < n && s[r].before(&s[small]) {
			small = r
		}
		if small == i {
			break
		}
		s[i], s[small] = s[small], s[i]
		i = small
	}
	*q = s
	return top
}
