package sim

import "time"

// registry is the simulated registry: machine leases, the schedule kept
// per machine, the engine leader lease. Agents and engines reach it only
// through events that carry a latency.
type registry struct {
	leaseUntil []time.Duration // per machine: its lease holds while now < leaseUntil
	sched      [][]entry       // per machine: its schedule, sorted by unit
	where      []int32         // per non-global unit: its machine, -1 if none

	leader      int32 // machine holding the leader lease, -1 if none
	leaderUntil time.Duration
	term        uint64 // bumped at every election: a commit carries the term it was made in

	rev       uint64 // bumped by changes that matter to scheduling
	writes    uint64
	slowUntil time.Duration
	slowExtra time.Duration
}

// entry is one unit of a machine's schedule.
type entry struct {
	u    int32
	port uint16
}

func (r *registry) addMachine() {
	r.leaseUntil = append(r.leaseUntil, 0)
	r.sched = append(r.sched, nil)
}

func (r *registry) addUnit() { r.where = append(r.where, -1) }

// alive reports whether machine m holds a lease at time now.
func (r *registry) alive(m int32, now time.Duration) bool { return now < r.leaseUntil[m] }

// put schedules unit u on m with port, keeping the list sorted.
func (r *registry) put(m, u int32, port uint16, global bool) {
	s := r.sched[m]
	i := 0
	for i < len(s) && s[i].u < u {
		i++
	}
	if i < len(s) && s[i].u == u {
		s[i].port = port
	} else {
		s = append(s, entry{})
		copy(s[i+1:], s[i:])
		s[i] = entry{u: u, port: port}
		r.sched[m] = s
	}
	if !global {
		r.where[u] = m
	}
	r.writes++
}

// drop removes unit u from m's schedule.
func (r *registry) drop(m, u int32, global bool) {
	s := r.sched[m]
	for i, e := range s {
		if e.u == u {
			r.sched[m] = append(s[:i], s[i+1:]...)
			break
		}
	}
	if !global && r.where[u] == m {
		r.where[u] = -1
	}
	r.writes++
}
