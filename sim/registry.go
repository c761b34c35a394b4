package sim

import "time"

// registry is the simulated registry, kept as etcd keeps fleet's keys:
// machine records under leases, the schedule kept per machine with the
// hash and desired state the engine copies into placements, the engine
// leader lease, a revision bumped by every write the engine watches, and
// the revision of the last write that matters to scheduling (the key a
// commit is conditioned on). Agents and engines reach it only through
// events that carry a latency.
type registry struct {
	leaseUntil []time.Duration // per machine: its lease holds while now < leaseUntil
	registered []bool          // per machine: its record is there (removed lazily when the lease ran out)
	sched      [][]entry       // per machine: its schedule, sorted by unit
	schedVer   []int64         // per machine: bumped at every change of its schedule
	where      []int32         // per non-global unit: its machine, -1 if none

	leader      int32 // machine holding the leader lease, -1 if none
	leaderUntil time.Duration
	term        uint64 // bumped at every election: a commit carries the term it was made in

	rev       int64 // bumped by every write in the engine's watched range
	changed   int64 // revision of the last change that matters to scheduling
	writes    uint64
	slowUntil time.Duration
	slowExtra time.Duration
	// commits' answers are lost with timeoutRate until timeoutUntil
	timeoutRate  float64
	timeoutUntil time.Duration
}

// entry is one unit of a machine's schedule, with the desired state the
// engine copied into it (the hash is the unit's own: simulated units
// never change content).
type entry struct {
	u       int32
	port    uint16
	desired uint8 // a unit.State
}

func (r *registry) addMachine() {
	r.leaseUntil = append(r.leaseUntil, 0)
	r.registered = append(r.registered, false)
	r.sched = append(r.sched, nil)
	r.schedVer = append(r.schedVer, 0)
}

func (r *registry) addUnit() { r.where = append(r.where, -1) }

// alive reports whether machine m holds a lease at time now.
func (r *registry) alive(m int32, now time.Duration) bool { return now < r.leaseUntil[m] }

// bump records a write that matters to scheduling (a unit, a desired
// state, metadata, a machine registering).
func (r *registry) bump() {
	r.rev++
	r.changed = r.rev
	r.writes++
}

// register renews machine m's lease, writing its record again if the
// lease had run out.
func (r *registry) register(m int32, now, ttl time.Duration) {
	if !r.alive(m, now) {
		if r.registered[m] {
			r.rev++ // the lapsed record goes first
		}
		r.registered[m] = true
		r.bump()
	}
	r.leaseUntil[m] = now + ttl
	r.writes++
}

// expire removes the records of machines whose lease ran out, as etcd
// does when a lease expires: what a reader at now sees.
func (r *registry) expire(now time.Duration) {
	for m, reg := range r.registered {
		if reg && !r.alive(int32(m), now) {
			r.registered[m] = false
			r.rev++
		}
	}
}

// put schedules unit u on m with port and desired state, keeping the list
// sorted.
func (r *registry) put(m, u int32, port uint16, desired uint8, global bool) {
	s := r.sched[m]
	i := 0
	for i < len(s) && s[i].u < u {
		i++
	}
	if i < len(s) && s[i].u == u {
		s[i].port, s[i].desired = port, desired
	} else {
		s = append(s, entry{})
		copy(s[i+1:], s[i:])
		s[i] = entry{u: u, port: port, desired: desired}
		r.sched[m] = s
	}
	if !global {
		r.where[u] = m
	}
	r.schedVer[m]++
	r.writes++
}

// drop removes unit u from m's schedule.
func (r *registry) drop(m, u int32, global bool) {
	s := r.sched[m]
	for i, e := range s {
		if e.u == u {
			r.sched[m] = append(s[:i], s[i+1:]...)
			r.schedVer[m]++
			break
		}
	}
	if !global && r.where[u] == m {
		r.where[u] = -1
	}
	r.writes++
}
