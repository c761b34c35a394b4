package fleetctl

import (
	"context"
	"io"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/registry"
)

// Cluster is what fleetctl asks of fleet: the calls of API v1.
// *api.Client implements it, over fleetd or over the registry in process.
type Cluster interface {
	// Units returns every unit, sorted by name.
	Units(ctx context.Context) ([]api.Unit, error)
	// Unit returns one unit; a missing one is a 404 *api.Error.
	Unit(ctx context.Context, name string) (*api.Unit, error)
	// CreateUnit submits a new unit.
	CreateUnit(ctx context.Context, u *api.Unit) error
	// SetUnitTargetState sets a unit's desired state.
	SetUnitTargetState(ctx context.Context, name, desired string) error
	// DestroyUnit removes a unit.
	DestroyUnit(ctx context.Context, name string) error
	// Machines returns the machines, sorted by ID.
	Machines(ctx context.Context) ([]api.Machine, error)
	// UnitStates returns what the machines' systemds report.
	UnitStates(ctx context.Context, f api.StateFilter) ([]api.UnitState, error)
	// Status returns what systemctl status prints of a unit on a machine
	// (fleetd's extension of the API).
	Status(ctx context.Context, name, machineID string) (string, error)
	// Journal writes a unit's journal on a machine to w as it comes
	// (fleetd's extension of the API).
	Journal(ctx context.Context, name, machineID string, opts api.JournalOptions, w io.Writer) error
}

// conn is fleetctl's connection to the cluster through one driver.
type conn struct {
	Cluster
	endpoint string
	// schedule returns every placement with its port, when the driver can
	// read the schedule (etcd); nil otherwise.
	schedule func(ctx context.Context) ([]registry.Placement, error)
	// serverVersion returns fleetd's version (API driver); nil otherwise.
	serverVersion func(ctx context.Context) (string, error)
	close         func() error
}

// reachable wraps a Cluster so that a transport failure names the
// endpoint (a ReachError) while the server's answers pass through.
type reachable struct {
	c        Cluster
	endpoint string
	what     string // "fleetd" or "etcd"
}

func (r reachable) wrap(err error) error { return reachability(r.endpoint, r.what, err) }

func (r reachable) Units(ctx context.Context) ([]api.Unit, error) {
	us, err := r.c.Units(ctx)
	return us, r.wrap(err)
}

func (r reachable) Unit(ctx context.Context, name string) (*api.Unit, error) {
	u, err := r.c.Unit(ctx, name)
	return u, r.wrap(err)
}

func (r reachable) CreateUnit(ctx context.Context, u *api.Unit) error {
	return r.wrap(r.c.CreateUnit(ctx, u))
}

func (r reachable) SetUnitTargetState(ctx context.Context, name, desired string) error {
	return r.wrap(r.c.SetUnitTargetState(ctx, name, desired))
}

func (r reachable) DestroyUnit(ctx context.Context, name string) error {
	return r.wrap(r.c.DestroyUnit(ctx, name))
}

func (r reachable) Machines(ctx context.Context) ([]api.Machine, error) {
	ms, err := r.c.Machines(ctx)
	return ms, r.wrap(err)
}

func (r reachable) UnitStates(ctx context.Context, f api.StateFilter) ([]api.UnitState, error) {
	st, err := r.c.UnitStates(ctx, f)
	return st, r.wrap(err)
}

func (r reachable) Status(ctx context.Context, name, machineID string) (string, error) {
	out, err := r.c.Status(ctx, name, machineID)
	return out, r.wrap(err)
}

func (r reachable) Journal(ctx context.Context, name, machineID string, opts api.JournalOptions, w io.Writer) error {
	return r.wrap(r.c.Journal(ctx, name, machineID, opts, w))
}

// lookupUnit returns the unit called name, or nil if there is none.
func lookupUnit(ctx context.Context, c Cluster, name string) (*api.Unit, error) {
	u, err := c.Unit(ctx, name)
	if api.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}
