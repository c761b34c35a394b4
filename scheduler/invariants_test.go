package scheduler

import (
	"fmt"
	"strings"

	"github.com/fleetsim/fleet/unit"
)

// propViolations checks the README's guarantees on the placements a pass
// ends with, independently of how either scheduler reaches them. It returns
// one line per broken rule; none means all hold.
func propViolations(snap *Snapshot, final []Placement) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	units := map[string]Unit{}
	for _, u := range snap.Units {
		units[u.Name] = u
	}
	machines := map[string]Machine{}
	for _, m := range snap.Machines {
		machines[m.ID] = m
	}
	on := map[string][]Placement{} // machine -> placements there
	count := map[string]int{}      // unit -> placements
	seen := map[[2]string]bool{}   // (unit, machine)
	for _, p := range final {
		u, ok := units[p.Unit]
		m, mok := machines[p.Machine]
		switch {
		case !ok:
			fail("%s is placed on %s but is not a unit", p.Unit, p.Machine)
			continue
		case !refActive(u):
			fail("%s is placed on %s but is not active (%s)", p.Unit, p.Machine, u.Desired)
		case !mok:
			fail("%s is placed on unknown machine %s", p.Unit, p.Machine)
			continue
		case !m.Alive:
			fail("%s is placed on dead machine %s", p.Unit, p.Machine)
		}
		if seen[[2]string{p.Unit, p.Machine}] {
			fail("%s is placed twice on %s", p.Unit, p.Machine)
		}
		seen[[2]string{p.Unit, p.Machine}] = true
		count[p.Unit]++
		on[p.Machine] = append(on[p.Machine], p)
		bad = append(bad, propPlacementViolations(u, m, p)...)
	}
	for name, n := range count {
		if n > 1 && !units[name].Req.Global {
			fail("non-global %s has %d placements", name, n)
		}
	}
	for id, ps := range on {
		bad = append(bad, propMachineViolations(units, id, ps)...)
	}
	for _, g := range snap.Units {
		if !g.Req.Global || !refActive(g) {
			continue
		}
		for _, m := range snap.Machines {
			if m.Alive && !seen[[2]string{g.Name, m.ID}] && propGlobalEligible(units, g, m, on[m.ID]) {
				fail("global %s is not on %s, where it is eligible", g.Name, m.ID)
			}
		}
	}
	return bad
}

// propPlacementViolations checks what one placement asks of its machine.
func propPlacementViolations(u Unit, m Machine, p Placement) []string {
	var bad []string
	if id := u.Req.MachineID; id != "" && id != m.ID && !(len(id) == 8 && strings.HasPrefix(m.ID, id)) {
		bad = append(bad, fmt.Sprintf("%s is on %s but has MachineID=%s", u.Name, m.ID, id))
	}
	if !u.Req.Metadata.Matches(m.Metadata) {
		bad = append(bad, fmt.Sprintf("%s is on %s whose metadata fails %s", u.Name, m.ID, u.Req.Metadata.FirstMismatch(m.Metadata)))
	}
	switch {
	case len(u.Req.Ports) == 0 && p.Port != 0:
		bad = append(bad, fmt.Sprintf("%s asks for no port but has %d on %s", u.Name, p.Port, m.ID))
	case len(u.Req.Ports) > 0 && !u.Req.Ports.Contains(p.Port):
		bad = append(bad, fmt.Sprintf("%s has port %d on %s, outside %s", u.Name, p.Port, m.ID, u.Req.Ports))
	}
	return bad
}

// propMachineViolations checks the placements that share one machine:
// Conflicts both ways, Replaces, MachineOf peers, ports.
func propMachineViolations(units map[string]Unit, id string, ps []Placement) []string {
	var bad []string
	here := map[string]bool{}
	ports := map[uint16]string{}
	for _, p := range ps {
		here[p.Unit] = true
		if p.Port == 0 {
			continue
		}
		if other, taken := ports[p.Port]; taken {
			bad = append(bad, fmt.Sprintf("port %d is used by %s and %s on %s", p.Port, other, p.Unit, id))
		}
		ports[p.Port] = p.Unit
	}
	for _, p := range ps {
		u := units[p.Unit]
		for _, peer := range u.Req.MachineOf {
			if !here[peer] {
				bad = append(bad, fmt.Sprintf("%s is on %s without its MachineOf peer %s", u.Name, id, peer))
			}
		}
		for _, q := range ps {
			if q.Unit == p.Unit {
				continue
			}
			if g, hit := unit.MatchAny(u.Req.Conflicts, q.Unit); hit {
				bad = append(bad, fmt.Sprintf("%s (Conflicts=%s) shares %s with %s", u.Name, g, id, q.Unit))
			}
			if g, hit := unit.MatchAny(u.Req.Replaces, q.Unit); hit {
				bad = append(bad, fmt.Sprintf("%s (Replaces=%s) shares %s with %s", u.Name, g, id, q.Unit))
			}
		}
	}
	return bad
}

// propGlobalEligible reports whether global unit g could run on alive
// machine m next to the placements ps there (README step 3: metadata,
// Conflicts both ways, no unit there Replacing g, a free port).
func propGlobalEligible(units map[string]Unit, g Unit, m Machine, ps []Placement) bool {
	if !g.Req.Metadata.Matches(m.Metadata) {
		return false
	}
	used := map[uint16]bool{}
	for _, p := range ps {
		if p.Unit == g.Name {
			continue
		}
		v := units[p.Unit]
		used[p.Port] = true
		if _, hit := unit.MatchAny(g.Req.Conflicts, v.Name); hit {
			return false
		}
		if _, hit := unit.MatchAny(v.Req.Conflicts, g.Name); hit {
			return false
		}
		if _, hit := unit.MatchAny(v.Req.Replaces, g.Name); hit {
			return false
		}
	}
	if len(g.Req.Ports) == 0 {
		return true
	}
	for _, r := range g.Req.Ports {
		for p := int(r.Lo); p <= int(r.Hi); p++ {
			if !used[uint16(p)] {
				return true
			}
		}
	}
	return false
}

// propPlanViolations checks the plan itself: every action and every
// unscheduled unit explained, actions and unscheduled units sorted, and
// every active unit either placed (in final) or unscheduled, never both.
// Unplaced global units must be listed only when globals is set.
func propPlanViolations(snap *Snapshot, plan *Plan, final []Placement, globals bool) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	for i, a := range plan.Actions {
		if a.Reason == ReasonNone || a.Detail == "" {
			fail("action %d (%s %s %s->%s) has reason %q and detail %q", i, a.Kind, a.Unit, a.From, a.To, a.Reason, a.Detail)
		}
		switch {
		case a.Kind == Schedule && (a.From != "" || a.To == ""),
			a.Kind == Unschedule && (a.From == "" || a.To != ""),
			a.Kind == Move && (a.From == "" || a.To == ""),
			a.Kind < Schedule || a.Kind > Move:
			fail("action %d is malformed: %+v", i, a)
		}
		if i > 0 && plan.Actions[i-1].Unit > a.Unit {
			fail("actions not sorted by unit: %s before %s", plan.Actions[i-1].Unit, a.Unit)
		}
	}
	unscheduled := map[string]bool{}
	for i, u := range plan.Unscheduled {
		if u.Reason == ReasonNone || u.Detail == "" {
			fail("unscheduled %s has reason %q and detail %q", u.Unit, u.Reason, u.Detail)
		}
		if i > 0 && plan.Unscheduled[i-1].Unit >= u.Unit {
			fail("unscheduled not sorted or repeated: %s before %s", plan.Unscheduled[i-1].Unit, u.Unit)
		}
		unscheduled[u.Unit] = true
	}
	placed := map[string]bool{}
	for _, p := range final {
		placed[p.Unit] = true
	}
	for _, u := range snap.Units {
		switch active := refActive(u); {
		case active && placed[u.Name] && unscheduled[u.Name]:
			fail("%s is both placed and unscheduled", u.Name)
		case active && !placed[u.Name] && !unscheduled[u.Name] && (globals || !u.Req.Global):
			fail("active %s is neither placed nor unscheduled", u.Name)
		case !active && unscheduled[u.Name]:
			fail("%s is not active but listed as unscheduled", u.Name)
		}
		delete(unscheduled, u.Name)
	}
	for name := range unscheduled {
		fail("unscheduled %s is not a unit of the snapshot", name)
	}
	return bad
}
