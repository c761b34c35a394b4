package api

import "github.com/fleetsim/fleet/unit"

// Unit is a unit as the API shows it.
//
// DesiredState is what the operator asked for: "inactive", "loaded" or
// "launched". CurrentState and MachineID are derived from the schedule
// and from what the machines report; clients cannot set them. A unit
// scheduled on machine M has MachineID M and CurrentState "launched" when
// M's systemd reports it active, "loaded" when it is loaded but not
// active, "inactive" otherwise; an unscheduled unit is "inactive" with no
// MachineID.
//
// A global unit runs on many machines, so it has no single MachineID
// (always ""); its CurrentState is the lowest state over the machines it
// is scheduled on ("inactive" when it is on none). Per-machine detail is
// in the unit's states (GET /state/<name>).
//
// Error goes beyond fleet's v1 (whose clients ignore it): set, the unit
// is broken, its job or its body being a record that does not decode or
// is missing from the registry. A broken unit is listed with what could
// be read of it (its desired state when only its body is broken, no
// options) and is not scheduled; destroy it and submit it again.
type Unit struct {
	Name         string        `json:"name"`
	Options      []unit.Option `json:"options"`
	DesiredState string        `json:"desiredState"`
	CurrentState string        `json:"currentState"`
	MachineID    string        `json:"machineID"`
	Error        string        `json:"error,omitempty"`
}

// UnitPage is one page of GET /units.
type UnitPage struct {
	Units         []Unit `json:"units"`
	NextPageToken string `json:"nextPageToken,omitempty"`
}

// Machine is a machine of the cluster: its ID, the IP other machines and
// fleetctl reach it on, and its metadata (its own, with the keys set at
// run time through PATCH /machines laid over it).
type Machine struct {
	ID        string            `json:"id"`
	PrimaryIP string            `json:"primaryIP"`
	Metadata  map[string]string `json:"metadata"`
}

// MachinePage is one page of GET /machines.
type MachinePage struct {
	Machines      []Machine `json:"machines"`
	NextPageToken string    `json:"nextPageToken,omitempty"`
}

// UnitState is what one machine's systemd reports for one unit.
//
// Port goes beyond fleet's v1 (whose clients ignore it): the port the
// scheduler gave the unit on that machine ([X-Fleet] Ports=), omitted
// when it has none.
type UnitState struct {
	Name               string `json:"name"`
	Hash               string `json:"hash"`
	MachineID          string `json:"machineID"`
	SystemdLoadState   string `json:"systemdLoadState"`
	SystemdActiveState string `json:"systemdActiveState"`
	SystemdSubState    string `json:"systemdSubState"`
	Port               uint16 `json:"port,omitempty"`
	// Reason is the agent's word on why the unit is not as desired (a
	// unit file it could not write, systemd would not load, a start job
	// that failed or is stuck); absent when there is none.
	Reason string `json:"reason,omitempty"`
}

// StatePage is one page of GET /state or GET /state/<name>.
type StatePage struct {
	States        []UnitState `json:"states"`
	NextPageToken string      `json:"nextPageToken,omitempty"`
}

// MachineOp is one operation of a PATCH /machines body, a JSON Patch
// (RFC 6902) restricted to machine metadata: Op is "add", "replace" or
// "remove", Path is "/<machineID>/metadata/<key>", and Value is the new
// value (required, non-empty, for add and replace; absent for remove).
type MachineOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value string `json:"value,omitempty"`
}

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error *Error `json:"error"`
}
