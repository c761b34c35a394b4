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
	// Start and Stop start and stop a unit (mode "replace").
	Start(ctx context.Context, name string) error
	Stop(ctx context.Context, name string) error
	// Changed signals (coalesced) that a unit's state changed.
	Changed() <-chan struct{}
}
