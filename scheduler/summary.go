package scheduler

import (
	"fmt"
	"sort"
	"strings"
)

// failureDetail says in words why check r fails for unit u on machine m.
func (p *pass) failureDetail(r Reason, u, m int32) string {
	id, req := p.machines[m].ID, &p.units[u].Req
	switch r {
	case ReasonMachineID:
		return fmt.Sprintf("MachineID %s does not name %s", req.MachineID, id)
	case ReasonMetadata:
		return fmt.Sprintf("%s does not match %s", id, req.Metadata.FirstMismatch(p.machines[m].Metadata))
	case ReasonMachineOf:
		return p.machineOfDetail(u) + " on " + id
	case ReasonConflict:
		return fmt.Sprintf("conflicts with %s on %s", strings.Join(p.conflictingOn(u, m), ", "), id)
	case ReasonReplacedBy:
		return fmt.Sprintf("replaced by %s on %s", strings.Join(p.replacersOn(u, m), ", "), id)
	case ReasonPortsUsedUp:
		return fmt.Sprintf("ports %s are used up on %s", req.Ports, id)
	}
	return r.String()
}

func portChangeDetail(from, to uint16) string {
	return fmt.Sprintf("port %d is no longer valid, now %d", from, to)
}

// machineOfDetail names the first MachineOf peer that is not where u
// could go.
func (p *pass) machineOfDetail(u int32) string {
	in := &p.info[u]
	for i, peer := range in.peers {
		name := in.u.Req.MachineOf[i]
		if peer < 0 {
			return "MachineOf peer " + name + " " + p.unusablePeer(name)
		}
		if p.at[peer] < 0 {
			return "MachineOf peer " + name + " is not scheduled"
		}
	}
	return "MachineOf peers " + strings.Join(in.u.Req.MachineOf, ", ") + " are not all on one machine"
}

func (p *pass) unusablePeer(name string) string {
	v, ok := p.upos[name]
	switch {
	case !ok:
		return "is not in the registry"
	case p.info[v].global:
		return "is a global unit and cannot be followed"
	}
	return "is not active"
}

// conflictingOn lists the units on m that conflict with u, by name.
func (p *pass) conflictingOn(u, m int32) []string {
	var out []string
	for _, v := range p.onM[m] {
		if v != u && p.conflict(u, v) {
			out = append(out, p.units[v].Name)
		}
	}
	sort.Strings(out)
	return out
}

func (p *pass) conflict(u, v int32) bool {
	return intersects(p.info[u].conflicts, p.info[v].matches) || intersects(p.info[v].conflicts, p.info[u].matches)
}

func (p *pass) replacersOn(u, m int32) []string {
	var out []string
	for _, v := range p.onM[m] {
		if intersects(p.info[v].replaces, p.info[u].matches) {
			out = append(out, p.units[v].Name)
		}
	}
	sort.Strings(out)
	return out
}

// summarize explains why no machine passes for u: checks run in order over
// the machines that passed the previous ones, and the check that removes
// the last candidates gives the reason.
func (p *pass) summarize(u int32) Unscheduled {
	name := p.units[u].Name
	if p.info[u].rank < 0 {
		return Unscheduled{name, ReasonMachineOfCycle, "MachineOf peers form a cycle: " + strings.Join(p.units[u].Req.MachineOf, ", ")}
	}
	if p.info[u].placedThisPass >= maxPlacements {
		return Unscheduled{name, ReasonReplaceLoop, "Replaces moved it too many times in one pass"}
	}
	return p.summarizeChecks(u, nonGlobalChecks)
}

// summarizeChecks runs checks over the alive machines as summarize says.
func (p *pass) summarizeChecks(u int32, checks []checker) Unscheduled {
	name := p.units[u].Name
	var survivors []int32
	for m := p.alive.next(0); m >= 0; m = p.alive.next(m + 1) {
		survivors = append(survivors, m)
	}
	if len(survivors) == 0 {
		return Unscheduled{name, ReasonNoMachines, "no machine is alive"}
	}
	for _, c := range checks {
		var next []int32
		for _, m := range survivors {
			if c.ok(p, u, m) {
				next = append(next, m)
			}
		}
		if len(next) == 0 {
			return Unscheduled{name, c.reason, p.summaryDetail(c.reason, u, survivors)}
		}
		survivors = next
	}
	return Unscheduled{name, ReasonNone, "no machine chosen"}
}

func (p *pass) summaryDetail(r Reason, u int32, last []int32) string {
	req := &p.units[u].Req
	switch r {
	case ReasonMachineID:
		return "machine " + req.MachineID + " (MachineID) " + p.machineIDState(req.MachineID)
	case ReasonMetadata:
		return "no machine matches " + req.Metadata.String()
	case ReasonMachineOf:
		return p.machineOfDetail(u)
	case ReasonConflict:
		return "conflicts with " + p.namesOn(last, func(m int32) []string { return p.conflictingOn(u, m) }) + " on every eligible machine"
	case ReasonReplacedBy:
		return "replaced by " + p.namesOn(last, func(m int32) []string { return p.replacersOn(u, m) }) + " on every eligible machine"
	case ReasonPortsUsedUp:
		return "ports " + req.Ports.String() + " are used up on every eligible machine"
	}
	return r.String()
}

func (p *pass) machineIDState(id string) string {
	if ms := p.machineIDMatches(id); len(ms) > 0 {
		return "is not alive"
	}
	return "is not in the cluster"
}

// namesOn lists the distinct names that names(m) gives over ms, at most
// three, with a count of the rest.
func (p *pass) namesOn(ms []int32, names func(int32) []string) string {
	var all []string
	for _, m := range ms {
		all = append(all, names(m)...)
	}
	sort.Strings(all)
	all = dedupStrings(all)
	if len(all) > 3 {
		return fmt.Sprintf("%s and %d more", strings.Join(all[:3], ", "), len(all)-3)
	}
	return strings.Join(all, ", ")
}

func dedupStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
