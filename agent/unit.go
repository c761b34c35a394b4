package agent

import "github.com/fleetsim/fleet/unit"

// DesiredUnit is a unit the cluster wants on this machine, as the schedule
// says.
type DesiredUnit struct {
	Name string
	// Hash is the content hash of the unit file to install.
	Hash unit.Hash
	// State is unit.StateLoaded or unit.StateLaunched. Any other state
	// (unit.StateInactive) means the unit is not wanted here: Plan treats
	// it as absent.
	State unit.State
	// Port is the port the scheduler gave the unit (Ports=), 0 if none. It
	// is installed as a drop-in, so a change of port is a change of what
	// is installed.
	Port uint16
}

// CurrentUnit is what this machine has: a unit file fleet installed, and
// systemd's view of it.
type CurrentUnit struct {
	Name string
	// Hash is the content hash of the installed unit file.
	Hash unit.Hash
	// Port is the port in the installed drop-in, 0 if none.
	Port uint16
	// LoadState is systemd's load state: "loaded", "not-found", "error",
	// "masked", ...
	LoadState string
	// ActiveState is systemd's active state: "active", "reloading",
	// "inactive", "failed", "activating", "deactivating". Only "inactive"
	// and "failed" count as not running; any other value, including an
	// empty or unknown one, counts as running.
	ActiveState string
	// SubState is systemd's sub-state ("running", "dead", "exited", ...).
	// Plan reports nothing from it; it is carried for callers that
	// publish unit states.
	SubState string
}

// The systemd states Plan reasons about.
const (
	loadStateLoaded     = "loaded"
	activeStateInactive = "inactive"
	activeStateFailed   = "failed"
)

// running reports whether a unit in systemd active state s may have
// processes and so must be stopped before it is unloaded. Unknown states
// count as running: a stop is harmless, leaving a process behind is not.
func running(s string) bool {
	return s != activeStateInactive && s != activeStateFailed
}
