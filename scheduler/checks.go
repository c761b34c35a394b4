package scheduler

// The checkers, one per [X-Fleet] concern. Each answers for unit u on
// alive machine m against the working state W.

// checker is one feasibility check and the reason it gives when it fails.
type checker struct {
	reason Reason
	ok     func(p *pass, u, m int32) bool
}

// nonGlobalChecks are checks 1-6 of the README, in order.
var nonGlobalChecks = []checker{
	{ReasonMachineID, (*pass).checkMachineID},
	{ReasonMetadata, (*pass).checkMetadata},
	{ReasonMachineOf, (*pass).checkMachineOf},
	{ReasonConflict, (*pass).checkConflicts},
	{ReasonReplacedBy, (*pass).checkReplacedBy},
	{ReasonPortsUsedUp, (*pass).checkPorts},
}

// keepChecks are the checks a kept placement must still pass (1-5).
var keepChecks = nonGlobalChecks[:5]

// globalChecks are the checks for a global unit (2, 4, 5, 6).
var globalChecks = []checker{
	nonGlobalChecks[1], nonGlobalChecks[3], nonGlobalChecks[4], nonGlobalChecks[5],
}

// checkMachineID: MachineID unset, or naming m.
func (p *pass) checkMachineID(u, m int32) bool {
	in := &p.info[u]
	return in.idMachines == nil || containsInt32(in.idMachines, m)
}

// checkMetadata: m's metadata satisfies u's MachineMetadata.
func (p *pass) checkMetadata(u, m int32) bool {
	return p.masks[p.info[u].metaMask].has(m)
}

// checkMachineOf: every MachineOf peer is placed on m.
func (p *pass) checkMachineOf(u, m int32) bool {
	for _, peer := range p.info[u].peers {
		if peer < 0 || p.at[peer] != m {
			return false
		}
	}
	return true
}

// checkConflicts: nothing on m matches u's Conflicts, and u matches no
// Conflicts of a unit on m.
func (p *pass) checkConflicts(u, m int32) bool {
	in := &p.info[u]
	return !anyOn(p.hosts, in.conflicts, m) && !anyOn(p.holders, in.matches, m)
}

// checkReplacedBy: no unit on m Replaces u.
func (p *pass) checkReplacedBy(u, m int32) bool {
	return !anyOn(p.replacers, p.info[u].matches, m)
}

// checkPorts: a port of u's ranges is free on m (or u needs none).
func (p *pass) checkPorts(u, m int32) bool {
	return p.ports.hasFree(m, p.units[u].Req.Ports)
}

// firstFailure runs checks in order and returns the first that fails, or
// ReasonNone.
func (p *pass) firstFailure(checks []checker, u, m int32) Reason {
	for _, c := range checks {
		if !c.ok(p, u, m) {
			return c.reason
		}
	}
	return ReasonNone
}

// feasible reports whether every check passes.
func (p *pass) feasible(checks []checker, u, m int32) bool {
	return p.firstFailure(checks, u, m) == ReasonNone
}
