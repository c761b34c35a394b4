package scheduler

import (
	"sort"
	"strings"

	"github.com/fleetsim/fleet/unit"
)

// This file is the naive reference scheduler: README.md's algorithm written
// with plain loops over plain slices, no indexes and no cleverness, so that
// it is easy to check by reading. Property tests compare the fast scheduler
// against it. Where the README leaves room, the reading taken is noted at
// the place it matters.

// refMaxPlacements is how many times step 4 may place one unit in a pass.
const refMaxPlacements = 3

// refPass is the state of one reference pass.
type refPass struct {
	machines []Machine   // sorted by ID
	units    []Unit      // sorted by name
	w        []Placement // the working state W
}

// referencePlan runs the README's algorithm on snap. It returns W at the end
// of the pass, sorted by (Unit, Machine), and the sorted names of the active
// units left without any placement. It assumes a valid snapshot.
//
// Reading: a global unit placed on no machine at all is an active unit
// left without a machine, so it is unscheduled too.
func referencePlan(snap *Snapshot) (final []Placement, unscheduled []string) {
	s := &refPass{
		machines: append([]Machine(nil), snap.Machines...),
		units:    append([]Unit(nil), snap.Units...),
	}
	sort.Slice(s.machines, func(i, j int) bool { return s.machines[i].ID < s.machines[j].ID })
	sort.Slice(s.units, func(i, j int) bool { return s.units[i].Name < s.units[j].Name })

	current := s.stale(snap.Placements)
	order := s.scheduleOrder()
	s.keep(order, current)
	s.globals(current)
	s.place(order, current)

	final = append([]Placement(nil), s.w...)
	refSortPlacements(final)
	for _, u := range s.units {
		if refActive(u) && !s.placed(u.Name) {
			unscheduled = append(unscheduled, u.Name)
		}
	}
	return final, unscheduled
}

// refActive: desired loaded or launched, and not a template.
func refActive(u Unit) bool {
	if !u.Desired.Active() {
		return false
	}
	n, err := unit.ParseName(u.Name)
	return err != nil || !n.IsTemplate()
}

func refSortPlacements(ps []Placement) {
	sort.Slice(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Unit != b.Unit {
			return a.Unit < b.Unit
		}
		if a.Machine != b.Machine {
			return a.Machine < b.Machine
		}
		return a.Port < b.Port
	})
}

func (s *refPass) unit(name string) (Unit, bool) {
	for _, u := range s.units {
		if u.Name == name {
			return u, true
		}
	}
	return Unit{}, false
}

func (s *refPass) machine(id string) (Machine, bool) {
	for _, m := range s.machines {
		if m.ID == id {
			return m, true
		}
	}
	return Machine{}, false
}

func (s *refPass) placed(name string) bool {
	for _, p := range s.w {
		if p.Unit == name {
			return true
		}
	}
	return false
}

func (s *refPass) placedOn(name, machine string) bool {
	for _, p := range s.w {
		if p.Unit == name && p.Machine == machine {
			return true
		}
	}
	return false
}

func (s *refPass) load(machine string) int {
	n := 0
	for _, p := range s.w {
		if p.Machine == machine {
			n++
		}
	}
	return n
}

func (s *refPass) portUsed(machine string, port uint16) bool {
	for _, p := range s.w {
		if p.Machine == machine && p.Port == port {
			return true
		}
	}
	return false
}

// lowestFreePort is the lowest port of u's ranges not used on machine in
// W, or 0 when none is free (or u asks for no port).
func (s *refPass) lowestFreePort(u Unit, machine string) uint16 {
	for _, r := range u.Req.Ports {
		for p := int(r.Lo); p <= int(r.Hi); p++ {
			if !s.portUsed(machine, uint16(p)) {
				return uint16(p)
			}
		}
	}
	return 0
}

// stale is step 1. It returns the placements that survive it: active
// units on alive machines, one per non-global unit (the first in machine-ID
// order) and one per (global unit, machine).
//
// Reading: two placements of a unit on the same machine with different
// ports keep the one with the lowest port.
func (s *refPass) stale(in []Placement) []Placement {
	ps := append([]Placement(nil), in...)
	refSortPlacements(ps)
	var out []Placement
	for _, p := range ps {
		u, ok := s.unit(p.Unit)
		if !ok || !refActive(u) {
			continue
		}
		m, ok := s.machine(p.Machine)
		if !ok || !m.Alive {
			continue
		}
		dup := false
		for _, q := range out {
			if q.Unit == p.Unit && (!u.Req.Global || q.Machine == p.Machine) {
				dup = true
			}
		}
		if !dup {
			out = append(out, p)
		}
	}
	return out
}

// scheduleOrder returns the active non-global units such that every
// MachineOf peer (itself active and non-global) comes before the unit naming
// it, choosing the smallest name among the units whose peers are all
// ordered. Units on a MachineOf cycle, or naming a unit on one, are left
// out: they can never be placed.
func (s *refPass) scheduleOrder() []Unit {
	var pending []Unit
	for _, u := range s.units {
		if refActive(u) && !u.Req.Global {
			pending = append(pending, u)
		}
	}
	inSet := func(name string) bool {
		for _, u := range pending {
			if u.Name == name {
				return true
			}
		}
		return false
	}
	var order []Unit
	done := func(name string) bool {
		for _, u := range order {
			if u.Name == name {
				return true
			}
		}
		return false
	}
	for {
		next := -1
		for i, u := range pending { // pending stays sorted by name
			if done(u.Name) {
				continue
			}
			ready := true
			for _, peer := range u.Req.MachineOf {
				if inSet(peer) && !done(peer) {
					ready = false
				}
			}
			if ready {
				next = i
				break
			}
		}
		if next < 0 {
			return order
		}
		order = append(order, pending[next])
	}
}

// check runs the given checkers (README numbering, 1-6) for u on m against
// W and reports whether all pass.
func (s *refPass) check(u Unit, m Machine, checkers ...int) bool {
	for _, c := range checkers {
		if !s.checker(c, u, m) {
			return false
		}
	}
	return true
}

func (s *refPass) checker(c int, u Unit, m Machine) bool {
	switch c {
	case 1:
		id := u.Req.MachineID
		return id == "" || id == m.ID || (len(id) == 8 && strings.HasPrefix(m.ID, id))
	case 2:
		return u.Req.Metadata.Matches(m.Metadata)
	case 3:
		// Reading: a global peer is never followed. Literally it is "placed on
		// m in W" from step 3 on, but step 2 runs before step 3, so following
		// it would drop and re-place the unit on every pass.
		for _, peer := range u.Req.MachineOf {
			if v, ok := s.unit(peer); (ok && v.Req.Global) || !s.placedOn(peer, m.ID) {
				return false
			}
		}
		return true
	case 4, 5:
		for _, p := range s.w {
			if p.Machine != m.ID || p.Unit == u.Name {
				continue
			}
			v, _ := s.unit(p.Unit)
			if c == 4 {
				if _, hit := unit.MatchAny(u.Req.Conflicts, v.Name); hit {
					return false
				}
				if _, hit := unit.MatchAny(v.Req.Conflicts, u.Name); hit {
					return false
				}
			} else if _, hit := unit.MatchAny(v.Req.Replaces, u.Name); hit {
				return false
			}
		}
		return true
	case 6:
		// Reading: checkers see W as it is, so the ports of units u
		// Replaces count as used; they are displaced only after u lands.
		return len(u.Req.Ports) == 0 || s.lowestFreePort(u, m.ID) != 0
	}
	panic("reference: no such checker")
}

// keepPort is the port u keeps on machine when it had port: the old one when
// it is in u's ranges and free in W, else the lowest free one (0 with none
// free). A unit without Ports always gets 0.
func (s *refPass) keepPort(u Unit, machine string, port uint16) (uint16, bool) {
	if len(u.Req.Ports) == 0 {
		return 0, true
	}
	if u.Req.Ports.Contains(port) && !s.portUsed(machine, port) {
		return port, true
	}
	p := s.lowestFreePort(u, machine)
	return p, p != 0
}

// keep is step 2. A kept unit's port is settled before it displaces the
// units it Replaces (the README's order of sentences).
func (s *refPass) keep(order []Unit, current []Placement) {
	for _, u := range order {
		for _, p := range current {
			if p.Unit != u.Name {
				continue
			}
			m, _ := s.machine(p.Machine)
			if !s.check(u, m, 1, 2, 3, 4, 5) {
				continue
			}
			port, ok := s.keepPort(u, m.ID, p.Port)
			if !ok {
				continue
			}
			s.w = append(s.w, Placement{Unit: u.Name, Machine: m.ID, Port: port})
			s.displace(u, m.ID)
		}
	}
}

// displace removes from machine the units that u Replaces, then, again and
// again, the units there naming a removed unit in MachineOf. It returns the
// names of the units removed, global ones included.
//
// Reading: the MachineOf cascade is transitive, and it may remove u itself
// (when u names, through peers, a unit it Replaces): otherwise u would stay
// without its peer.
func (s *refPass) displace(u Unit, machine string) []string {
	var gone []string
	isGone := func(name string) bool {
		for _, g := range gone {
			if g == name {
				return true
			}
		}
		return false
	}
	for _, p := range s.w {
		if p.Machine != machine || p.Unit == u.Name {
			continue
		}
		if _, hit := unit.MatchAny(u.Req.Replaces, p.Unit); hit {
			gone = append(gone, p.Unit)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	for changed := true; changed; {
		changed = false
		for _, p := range s.w {
			if p.Machine != machine || isGone(p.Unit) {
				continue
			}
			v, _ := s.unit(p.Unit)
			for _, peer := range v.Req.MachineOf {
				if isGone(peer) {
					gone = append(gone, v.Name)
					changed = true
					break
				}
			}
		}
	}
	var kept []Placement
	for _, p := range s.w {
		if p.Machine != machine || !isGone(p.Unit) {
			kept = append(kept, p)
		}
	}
	s.w = kept
	return gone
}

// globals is step 3: each active global unit, in name order, on every alive
// machine passing checkers 2, 4, 5 and 6, with its port in prev (else in
// current) when still valid, else the lowest free one. Global placements
// already in W are dropped first (the redo after a round of step 4
// displaced units; prev holds their ports).
func (s *refPass) globals(current []Placement) {
	var prev, rest []Placement
	for _, p := range s.w {
		if v, _ := s.unit(p.Unit); v.Req.Global {
			prev = append(prev, p)
		} else {
			rest = append(rest, p)
		}
	}
	s.w = rest
	for _, g := range s.units {
		if !refActive(g) || !g.Req.Global {
			continue
		}
		for _, m := range s.machines {
			if !m.Alive || !s.check(g, m, 2, 4, 5, 6) {
				continue
			}
			port, had := uint16(0), false
			for _, p := range prev {
				if p.Unit == g.Name && p.Machine == m.ID {
					port, had = p.Port, true
				}
			}
			for _, p := range current {
				if p.Unit == g.Name && p.Machine == m.ID && !had {
					port = p.Port
				}
			}
			port, _ = s.keepPort(g, m.ID, port)
			s.w = append(s.w, Placement{Unit: g.Name, Machine: m.ID, Port: port})
		}
	}
}

// place is step 4, in rounds: each round queues the units of order not in
// W and places them in rank order (a unit displaced during the round is
// queued again at its rank). A round that displaced any unit (global ones
// included) is followed by a redo of step 3 and another round.
//
// Reading: the cap counts the placements made by this step over all rounds
// (keeping a placement in step 2 is not placing); a unit popped after three
// of them stays unplaced.
func (s *refPass) place(order []Unit, current []Placement) {
	count := map[string]int{}
	for s.placeRound(order, count) {
		s.globals(current)
	}
}

// placeRound runs one round of step 4 and reports whether it displaced
// any unit.
func (s *refPass) placeRound(order []Unit, count map[string]int) bool {
	var queue []int // ranks in order
	for rank, u := range order {
		if !s.placed(u.Name) {
			queue = append(queue, rank)
		}
	}
	displaced := false
	for len(queue) > 0 {
		best := 0
		for i := range queue {
			if queue[i] < queue[best] {
				best = i
			}
		}
		u := order[queue[best]]
		queue = append(queue[:best:best], queue[best+1:]...)
		if s.placed(u.Name) || count[u.Name] >= refMaxPlacements {
			continue
		}
		chosen, found := Machine{}, false
		for _, m := range s.machines {
			if !m.Alive || !s.check(u, m, 1, 2, 3, 4, 5, 6) {
				continue
			}
			if !found || s.load(m.ID) < s.load(chosen.ID) {
				chosen, found = m, true
			}
		}
		if !found {
			continue
		}
		count[u.Name]++
		s.w = append(s.w, Placement{Unit: u.Name, Machine: chosen.ID, Port: s.lowestFreePort(u, chosen.ID)})
		for _, name := range s.displace(u, chosen.ID) {
			displaced = true
			for rank, v := range order {
				if v.Name == name && !refContains(queue, rank) {
					queue = append(queue, rank)
				}
			}
		}
	}
	return displaced
}

func refContains(list []int, x int) bool {
	for _, v := range list {
		if v == x {
			return true
		}
	}
	return false
}
