package leader

import (
	"fmt"

	"github.com/fleetsim/fleet/unit"
)

// Job is a unit as the registry holds it: name, content hash and desired
// state. Err is set for a job whose record does not decode: the unit is
// left out, with its placements, as one whose body cannot be read.
type Job struct {
	Name    string
	Hash    unit.Hash
	Desired unit.State
	Err     error
}

// Machine is a machine that holds a lease, with its metadata (run-time
// metadata laid over its own).
type Machine struct {
	ID       string
	Metadata map[string]string
}

// Placement puts a unit on a machine, with its port (0 if none), and the
// hash and desired state copied from the unit's job for the agents.
type Placement struct {
	Unit    string
	Machine string
	Port    uint16
	Hash    unit.Hash
	Desired unit.State
}

// View is the cluster at one revision. Jobs are sorted by name, Machines
// by ID, Schedule by (unit, machine); a driver that cannot promise the
// order says so with Unsorted, and the step sorts a copy.
type View struct {
	Rev      int64
	Jobs     []Job
	Machines []Machine
	Schedule []Placement
	Unsorted bool
}

// Change is one schedule write: put or delete a placement.
type Change struct {
	Delete bool
	Placement
}

// Body is a unit body the step asked for. Err is set when it could not be
// read (missing, or a record that does not decode): the units that use it
// are left out until a later view.
type Body struct {
	Hash    unit.Hash
	Options []unit.Option
	Err     error
}

// Commit is a batch of schedule writes. The driver writes it guarded by
// the leadership and by no scheduling change after revision Since, and
// reports the outcome with Committed.
type Commit struct {
	Since   int64
	Changes []Change
}

// Outcome is what became of a commit.
type Outcome uint8

// The outcomes of a commit.
const (
	Applied   Outcome = iota + 1 // written; Rev is its revision
	Stale                        // refused: the cluster changed since the plan was made
	NotLeader                    // refused: the leadership is gone
	Failed                       // not known to be written (timeout, unreachable store)
)

var outcomeNames = [...]string{"", "applied", "stale", "not-leader", "failed"}

// String returns "applied", "stale", "not-leader" or "failed".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) && o > 0 {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Wait says what a leader that has nothing to do waits for.
type Wait uint8

// The things a leader waits for.
const (
	WaitNothing  Wait = iota // it has work in this Ready, or is idle with an up-to-date plan
	WaitFollower             // it does not lead
	WaitView                 // no view yet, or one older than its last commit
	WaitBodies               // bodies it asked for
	WaitCommit               // the outcome of the commit in flight
	WaitTick                 // a failed commit is retried at the next tick
)

var waitNames = [...]string{"nothing", "follower", "view", "bodies", "commit", "tick"}

// String returns the wait's short name.
func (w Wait) String() string {
	if int(w) < len(waitNames) {
		return waitNames[w]
	}
	return fmt.Sprintf("Wait(%d)", uint8(w))
}

// InvalidUnit is a unit left out of planning: its [X-Fleet] section does
// not parse, or its body cannot be read.
type InvalidUnit struct {
	Unit string
	Hash unit.Hash
	Err  error
}

func (u InvalidUnit) String() string {
	return fmt.Sprintf("unit %s (%s): %v", u.Unit, u.Hash.Short(), u.Err)
}
