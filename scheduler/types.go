package scheduler

import (
	"github.com/fleetsim/fleet/unit"
)

// Machine is one machine of the cluster as the scheduler sees it.
type Machine struct {
	ID       string            // full machine ID
	IP       string            // public IP, for messages only
	Metadata map[string]string // k=v metadata
	Alive    bool              // holds a live lease
}

// Unit is one unit in the registry as the scheduler sees it.
type Unit struct {
	Name    string            // validated unit name
	Desired unit.State        // inactive units are never placed
	Req     unit.Requirements // the parsed [X-Fleet] section
}

// Placement puts a unit on a machine. A non-global unit has at most one;
// a global unit has one per machine it runs on. Port is 0 unless the unit
// asks for Ports.
type Placement struct {
	Unit    string
	Machine string
	Port    uint16
}

// Snapshot is the whole input of one scheduling pass. Order does not
// matter: the scheduler sorts what it needs.
type Snapshot struct {
	Machines   []Machine
	Units      []Unit
	Placements []Placement
}

// ActionKind says what an Action does.
type ActionKind uint8

// The kinds of action a plan holds.
const (
	Schedule   ActionKind = iota + 1 // put Unit on To
	Unschedule                       // take Unit off From
	Move                             // take Unit off From, put it on To (From may equal To when only the port changes)
)

var actionNames = [...]string{"", "schedule", "unschedule", "move"}

// String returns "schedule", "unschedule" or "move".
func (k ActionKind) String() string { return actionNames[k] }

// Action is one decision of a plan, with the reason it was taken.
type Action struct {
	Kind   ActionKind
	Unit   string
	From   string // machine the unit leaves; "" for Schedule
	To     string // machine the unit goes to; "" for Unschedule
	Port   uint16 // port on To, 0 if none
	Reason Reason
	Detail string // the reason in words, naming units and machines
}

// Unscheduled is an active unit the pass could not place, and why.
type Unscheduled struct {
	Unit   string
	Reason Reason
	Detail string
}

// Plan is the output of one pass: actions sorted by unit then machine, and
// the active units left without a machine, sorted by unit.
type Plan struct {
	Actions     []Action
	Unscheduled []Unscheduled
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Actions) == 0 }
