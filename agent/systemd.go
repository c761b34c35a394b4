package agent

import (
	"context"

	"github.com/fleetsim/fleet/unit"
)

// Systemd is what an agent needs from its machine's init system. The real
// implementation talks to systemd over D-Bus; tests and the simulator use
// in-memory ones. Names are validated unit names.
type Systemd interface {
	// Units returns the units fleet installed, with systemd's states.
	Units(ctx context.Context) ([]CurrentUnit, error)
	// Load installs the unit file (and its port, if any) and links it.
	Load(ctx context.Context, name string, f *unit.File, port uint16) error
	// Unload removes a unit installed by Load.
	Unload(ctx context.Context, name string) error
	// DaemonReload makes systemd read changed unit files.
	DaemonReload(ctx context.Context) error
	// Start and Stop queue a start or stop job (mode "replace") and
	// return once it is queued, without waiting for it: its result comes
	// later on Jobs. An error means no job was queued.
	Start(ctx context.Context, name string) error
	Stop(ctx context.Context, name string) error
	// Jobs delivers the results of the jobs Start and Stop queued.
	Jobs() <-chan JobResult
	// Changed signals (coalesced) that a unit's state changed.
	Changed() <-chan struct{}
}

// JobResult is how a start or stop job ended: Result is "done" or
// systemd's word for what went wrong ("failed", "canceled", "timeout",
// "dependency", "skipped", ...).
type JobResult struct {
	Unit   string
	Kind   TaskKind // TaskStart or TaskStop
	Result string
}
