package registry

import (
	"errors"

	"github.com/fleetsim/fleet/unit"
)

// Errors the registry returns; callers test them with errors.Is.
var (
	ErrNotFound  = errors.New("registry: not found")
	ErrExists    = errors.New("registry: already exists")
	ErrNotLeader = errors.New("registry: write refused: not the engine leader")
	ErrStale     = errors.New("registry: write refused: the cluster changed since the plan was made")
)

// Job is a unit in the registry: its name, content hash and desired state.
type Job struct {
	Name    string
	Hash    unit.Hash
	Desired unit.State
}

// Machine is a machine that holds a lease. APIURL is where its fleetd
// serves the HTTP API (http://HOST:PORT), for other fleetds to forward
// requests that only this machine can answer (a unit's status and
// journal); "" when its fleetd listens on a unix socket only.
type Machine struct {
	ID       string            `json:"id"`
	PublicIP string            `json:"publicIP"`
	Metadata map[string]string `json:"metadata"`
	APIURL   string            `json:"apiURL,omitempty"`
}

// Placement puts a unit on a machine, with its port (0 if none). The
// engine also copies the unit's hash and desired state into it, so that
// an agent needs to watch nothing but its own machine's schedule.
type Placement struct {
	Unit    string
	Machine string
	Port    uint16
	Hash    unit.Hash
	Desired unit.State
}

// Change is one schedule write: put or delete a placement.
type Change struct {
	Delete bool
	Placement
}

// UnitState is what one machine's systemd reports for one unit.
type UnitState struct {
	Unit        string `json:"name"`
	Machine     string `json:"machineID"`
	Hash        string `json:"hash"`
	LoadState   string `json:"systemdLoadState"`
	ActiveState string `json:"systemdActiveState"`
	SubState    string `json:"systemdSubState"`
	// Reason is the agent's word on why the unit is not as desired (a
	// file it could not write, a job that failed or is stuck); "" if none.
	Reason string `json:"reason,omitempty"`
}

// Guard makes a write conditional on the engine's leadership: the key the
// election created for the leader must still exist at its creation
// revision. With Since set, it is also conditional on no unit, desired
// state, metadata or machine registration having been written after
// revision Since (the one the plan was made from); every such write
// touches one key for this. The zero Guard writes unconditionally.
type Guard struct {
	Key   string
	Rev   int64
	Since int64
}

// jobJSON is a job as stored.
type jobJSON struct {
	Hash    string `json:"hash"`
	Desired string `json:"desiredState"`
}

// bodyJSON is a unit body as stored.
type bodyJSON struct {
	Options []unit.Option `json:"options"`
}

// placementJSON is a schedule entry as stored.
type placementJSON struct {
	Port    uint16 `json:"port,omitempty"`
	Hash    string `json:"hash"`
	Desired string `json:"desiredState"`
}
