package sim

import (
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestQueueOrder checks the calendar queue against a sorted list: any mix
// of pushes (now, within a bucket, across the ring, beyond its reach,
// bursts of thousands due at one instant) and pops up to a time hands out
// the same events in the same order.
func TestQueueOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var q eventQueue
		var ref []event
		var now time.Duration
		var seq uint64
		delays := rapid.OneOf(
			rapid.Just(int64(0)),
			rapid.Int64Range(0, 1<<bucketShift),
			rapid.Int64Range(0, 3*wheelSize<<bucketShift),
		)
		steps := rapid.IntRange(1, 300).Draw(t, "steps")
		for range steps {
			switch rapid.IntRange(0, 5).Draw(t, "op") {
			case 0, 1, 2:
				d := time.Duration(delays.Draw(t, "delay"))
				seq++
				e := event{at: now + d, seq: seq}
				q.push(e)
				ref = append(ref, e)
				continue
			case 3:
				d := time.Duration(delays.Draw(t, "burstDelay"))
				for range rapid.IntRange(bigSlot/2, 3*bigSlot).Draw(t, "burst") {
					seq++
					e := event{at: now + d, seq: seq}
					q.push(e)
					ref = append(ref, e)
				}
				continue
			}
			until := now + time.Duration(delays.Draw(t, "until"))
			slices.SortFunc(ref, func(x, y event) int {
				if x.before(&y) {
					return -1
				}
				return 1
			})
			for {
				got, ok := q.popUntil(until)
				want := len(ref) > 0 && ref[0].at <= until
				if ok != want {
					t.Fatalf("popUntil(%v) reported %v, want %v (queue %d, reference %d)", until, ok, want, q.len(), len(ref))
				}
				if !ok {
					break
				}
				if got != ref[0] {
					t.Fatalf("popped %+v, want %+v", got, ref[0])
				}
				ref = ref[1:]
				now = got.at
			}
			now = max(now, until)
			if q.len() != len(ref) {
				t.Fatalf("queue holds %d events, want %d", q.len(), len(ref))
			}
		}
	})
}

// TestQueuePushIntoThePastPanics checks that the queue refuses an event in
// a bucket it has already passed instead of losing its order.
func TestQueuePushIntoThePastPanics(t *testing.T) {
	var q eventQueue
	q.push(event{at: time.Minute, seq: 1})
	if _, ok := q.popUntil(time.Minute); !ok {
		t.Fatal("the event due at 1m was not handed out")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("pushing an event a second before the queue's time did not panic")
		}
	}()
	q.push(event{at: time.Minute - time.Second, seq: 2})
}
