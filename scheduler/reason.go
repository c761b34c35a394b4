package scheduler

// Reason names why the scheduler took an action or left a unit unplaced.
// Reasons are data: the simulator, fleetctl and logs all print the same
// text for the same cause.
type Reason uint8

// Reasons for actions.
const (
	ReasonNone           Reason = iota
	ReasonNewUnit               // an active unit had no machine
	ReasonGlobal                // a global unit runs on every eligible machine
	ReasonUnitGone              // the unit is no longer in the registry
	ReasonInactive              // the unit's desired state is inactive
	ReasonMachineDead           // the unit's machine lost its lease
	ReasonMachineGone           // the unit's machine is not in the cluster
	ReasonDuplicate             // the unit was placed on more than one machine
	ReasonReplaced              // a unit that Replaces this one took its machine
	ReasonPeerMoved             // a MachineOf peer is no longer on this machine
	ReasonPortReassign          // the unit's port was invalid or taken
	ReasonMachineID             // the machine is not the one MachineID names
	ReasonMetadata              // the machine's metadata does not match
	ReasonMachineOf             // a MachineOf peer is not on the machine
	ReasonConflict              // a conflicting unit is on the machine
	ReasonReplacedBy            // a unit on the machine Replaces this one
	ReasonPortsUsedUp           // no port of the unit's range is free there
	ReasonNoMachines            // no machine is alive
	ReasonTemplate              // a template unit cannot be placed
	ReasonMachineOfCycle        // MachineOf peers name each other in a cycle
	ReasonReplaceLoop           // Replaces displaced the unit too many times
)

var reasonNames = [...]string{
	ReasonNone:           "none",
	ReasonNewUnit:        "new-unit",
	ReasonGlobal:         "global",
	ReasonUnitGone:       "unit-gone",
	ReasonInactive:       "inactive",
	ReasonMachineDead:    "machine-dead",
	ReasonMachineGone:    "machine-gone",
	ReasonDuplicate:      "duplicate",
	ReasonReplaced:       "replaced",
	ReasonPeerMoved:      "peer-moved",
	ReasonPortReassign:   "port-reassign",
	ReasonMachineID:      "machine-id",
	ReasonMetadata:       "metadata",
	ReasonMachineOf:      "machine-of",
	ReasonConflict:       "conflict",
	ReasonReplacedBy:     "replaced-by",
	ReasonPortsUsedUp:    "ports-used-up",
	ReasonNoMachines:     "no-machines",
	ReasonTemplate:       "template",
	ReasonMachineOfCycle: "machine-of-cycle",
	ReasonReplaceLoop:    "replace-loop",
}

// String returns the reason's short name, such as "machine-dead".
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}
