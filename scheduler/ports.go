package scheduler

import "github.com/fleetsim/fleet/unit"

// portTable records the ports given out on each machine.
type portTable struct {
	used [][]uint16 // per machine, unordered
}

func newPortTable(n int) *portTable { return &portTable{used: make([][]uint16, n)} }

func (t *portTable) taken(m int32, p uint16) bool {
	for _, q := range t.used[m] {
		if q == p {
			return true
		}
	}
	return false
}

func (t *portTable) take(m int32, p uint16) {
	if p != 0 {
		t.used[m] = append(t.used[m], p)
	}
}

func (t *portTable) release(m int32, p uint16) {
	u := t.used[m]
	for i, q := range u {
		if q == p {
			u[i] = u[len(u)-1]
			t.used[m] = u[:len(u)-1]
			return
		}
	}
}

// lowestFree returns the lowest port of rs not taken on m, or 0.
func (t *portTable) lowestFree(m int32, rs unit.PortRanges) uint16 {
	for _, r := range rs {
		for p := int(r.Lo); p <= int(r.Hi); p++ {
			if !t.taken(m, uint16(p)) {
				return uint16(p)
			}
		}
	}
	return 0
}

// hasFree reports whether some port of rs is free on m.
func (t *portTable) hasFree(m int32, rs unit.PortRanges) bool {
	if len(rs) == 0 {
		return true
	}
	if rs.Size() > len(t.used[m]) {
		return true
	}
	return t.lowestFree(m, rs) != 0
}
