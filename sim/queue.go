package sim

import (
	"math/bits"
	"time"
)

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
	evUnitRestart                       // systemd restarts unit b on machine a (c: generation it ended in)
	evAgentRelist                       // machine a's agent lists its schedule again after losing its watch
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

// The queue is a calendar: a ring of buckets, each about 1 ms of virtual
// time, covering the next 34 s; events further out wait in a heap and move
// into the ring as it turns. Nearly every event of a run is a periodic
// heartbeat or reconcile due within one interval, so a push is an append.
// When the ring reaches a bucket, its events are put in order once (by
// time alone: a slot receives its events in sequence order, so ties are
// already right) and taken from its head; an event queued into that bucket
// ahead of its last one waits in a small heap beside it.
const (
	bucketShift = 20 // a bucket is 2^20 ns, about 1 ms
	wheelBits   = 15
	wheelSize   = 1 << wheelBits // 32768 buckets: about 34 s ahead
	wheelMask   = wheelSize - 1
)

// bucketOf returns the absolute bucket number of virtual time t.
func bucketOf(t time.Duration) int64 { return int64(t) >> bucketShift }

// eventQueue hands out events in (at, seq) order. Its zero value is empty
// and ready to use.
//
// Invariants: every event in the ring has a bucket in [cur, cur+wheelSize)
// and sits in slot bucket&wheelMask, or in late if its bucket is open; a
// slot holds its events in sequence order, except the open one, which is
// in (at, seq) order from index head; every event in far has a bucket of
// at least cur+wheelSize. Pushing an event before bucket cur is a caller's
// error: the clock never goes back.
type eventQueue struct {
	ring     [][]event // wheelSize slots, allocated on the first push
	occupied [wheelSize / 64]uint64
	inRing   int
	cur      int64     // the earliest bucket that may hold an event
	open     int64     // the bucket events are being taken from; -1 for none
	head     int       // the open slot's next event
	late     eventHeap // events queued into the open bucket out of order
	far      eventHeap
	scratch  []event // room for sorting a slot
	spare    []event // a large slot's array, kept for the next burst
}

// bigSlot is the capacity past which a drained slot gives its array back
// instead of keeping it for the ring's next turn: a burst of ticks due at
// one instant would otherwise leave an array that size in every slot it
// ever filled. A slot holds a few events at a time (a run's ticks are
// spread over their interval), and the ring's arrays are written a turn
// after they were last touched: kept small, more of them stay in the
// CPU's caches.
const bigSlot = 64

// len returns the number of events queued.
func (q *eventQueue) len() int { return q.inRing + len(q.far) }

// push queues e. Its time must not lie in a bucket the queue has passed.
func (q *eventQueue) push(e event) {
	if q.ring == nil {
		q.ring = make([][]event, wheelSize)
		q.open = -1
	}
	b := bucketOf(e.at)
	switch {
	case b < q.cur:
		panic("sim: event queued before the queue's current time")
	case b >= q.cur+wheelSize:
		q.far.push(e)
	default:
		q.put(b, e)
	}
}

// put adds e, whose bucket b lies within the ring, to its slot.
func (q *eventQueue) put(b int64, e event) {
	i := b & wheelMask
	s := q.ring[i]
	if b == q.open && q.head < len(s) && e.before(&s[len(s)-1]) {
		q.late.push(e)
	} else {
		if len(s) == cap(s) && len(s) >= bigSlot && cap(q.spare) > len(s) {
			s, q.spare = append(q.spare[:0], s...), nil
		}
		q.ring[i] = append(s, e)
	}
	q.occupied[i/64] |= 1 << (i % 64)
	q.inRing++
}

// popUntil removes and returns the least event if it is due at or before
// t; otherwise it reports false and leaves the queue as it was, apart
// from turning the ring up to t.
func (q *eventQueue) popUntil(t time.Duration) (event, bool) {
	if q.len() == 0 {
		return event{}, false
	}
	b := q.first()
	if limit := bucketOf(t); b > limit {
		q.turn(limit)
		return event{}, false
	}
	q.turn(b)
	i := b & wheelMask
	s := q.ring[i]
	if q.open != b {
		q.open, q.head = b, 0
		q.sortSlot(s, b)
	}
	var e event
	if q.head < len(s) && (len(q.late) == 0 || s[q.head].before(&q.late[0])) {
		if e = s[q.head]; e.at > t {
			return event{}, false
		}
		q.head++
		if q.head == len(s) {
			q.ring[i], q.head = q.drained(s), 0
		}
	} else {
		if q.late[0].at > t {
			return event{}, false
		}
		e = q.late.pop()
	}
	q.inRing--
	if len(q.ring[i]) == 0 && len(q.late) == 0 {
		q.occupied[i/64] &^= 1 << (i % 64)
	}
	return e, true
}

// drained returns what a slot whose events were all taken from array s
// keeps: s emptied, or nothing if s is big, which becomes the spare.
func (q *eventQueue) drained(s []event) []event {
	if cap(s) < bigSlot {
		return s[:0]
	}
	if cap(s) > cap(q.spare) {
		q.spare = s[:0]
	}
	return nil
}

// sortSlot puts the events of bucket b, held in s in sequence order, in
// (at, seq) order: a stable sort by time.
func (q *eventQueue) sortSlot(s []event, b int64) {
	if len(s) <= 16 {
		for k := 1; k < len(s); k++ {
			for j := k; j > 0 && s[j].at < s[j-1].at; j-- {
				s[j], s[j-1] = s[j-1], s[j]
			}
		}
		return
	}
	sorted := true
	for k := 1; k < len(s) && sorted; k++ {
		sorted = s[k].at >= s[k-1].at
	}
	if sorted {
		return // a burst of events due at one instant, queued in turn
	}
	// Least significant digit first, two digits of the time within the
	// bucket: each pass is stable, so the second leaves ties in order.
	const digitBits = bucketShift / 2
	const digitMask = 1<<digitBits - 1
	if cap(q.scratch) < len(s) {
		q.scratch = make([]event, len(s))
	}
	src, dst := s, q.scratch[:len(s)]
	base := time.Duration(b << bucketShift)
	for shift := 0; shift < bucketShift; shift += digitBits {
		var count [1 << digitBits]int32
		for k := range src {
			count[uint64(src[k].at-base)>>shift&digitMask]++
		}
		sum := int32(0)
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for k := range src {
			d := uint64(src[k].at-base) >> shift & digitMask
			dst[count[d]] = src[k]
			count[d]++
		}
		src, dst = dst, src
	}
}

// first returns the bucket of the least event of a queue that is not
// empty.
func (q *eventQueue) first() int64 {
	if q.inRing == 0 {
		return bucketOf(q.far[0].at)
	}
	start := q.cur & wheelMask
	for n := int64(0); n < wheelSize; {
		i := (start + n) & wheelMask
		word := q.occupied[i/64] >> (i % 64)
		if word != 0 {
			return q.cur + n + int64(bits.TrailingZeros64(word))
		}
		n += 64 - i%64
	}
	panic("sim: event queue ring counts events it does not hold")
}

// turn moves the ring forward to bucket b, taking in the far events that
// come within its reach.
func (q *eventQueue) turn(b int64) {
	if b <= q.cur {
		return
	}
	q.cur = b
	for len(q.far) > 0 {
		fb := bucketOf(q.far[0].at)
		if fb >= q.cur+wheelSize {
			break
		}
		q.put(fb, q.far.pop())
	}
}
