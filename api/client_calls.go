package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/fleetsim/fleet/unit"
)

// Units returns every unit, sorted by name.
func (c *Client) Units(ctx context.Context) ([]Unit, error) {
	return collect(ctx, c, "/units", nil, func(p *UnitPage) ([]Unit, string) { return p.Units, p.NextPageToken })
}

// Unit returns one unit; a unit that does not exist is an *Error with
// code 404 (see IsNotFound).
func (c *Client) Unit(ctx context.Context, name string) (*Unit, error) {
	var u Unit
	if err := c.do(ctx, call{method: http.MethodGet, path: "/units/" + escapeName(name), out: &u}); err != nil {
		return nil, err
	}
	return &u, nil
}

// unitRequest is the body of PUT /units/<name>.
type unitRequest struct {
	Name         string        `json:"name"`
	Options      []unit.Option `json:"options,omitempty"`
	DesiredState string        `json:"desiredState,omitempty"`
}

// CreateUnit submits a new unit: u's name, options and desired state
// ("" for inactive). A unit of that name with the same options only has
// its desired state set; with other options it is refused (409).
func (c *Client) CreateUnit(ctx context.Context, u *Unit) error {
	in := unitRequest{Name: u.Name, Options: u.Options, DesiredState: u.DesiredState}
	return c.do(ctx, call{method: http.MethodPut, path: "/units/" + escapeName(u.Name), in: in})
}

// SetUnitTargetState sets the desired state of an existing unit:
// "inactive", "loaded" or "launched".
func (c *Client) SetUnitTargetState(ctx context.Context, name, desired string) error {
	in := unitRequest{Name: name, DesiredState: desired}
	return c.do(ctx, call{method: http.MethodPut, path: "/units/" + escapeName(name), in: in})
}

// DestroyUnit removes a unit from the cluster.
func (c *Client) DestroyUnit(ctx context.Context, name string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/units/" + escapeName(name)})
}

// Machines returns every machine of the cluster, sorted by ID.
func (c *Client) Machines(ctx context.Context) ([]Machine, error) {
	return collect(ctx, c, "/machines", nil, func(p *MachinePage) ([]Machine, string) { return p.Machines, p.NextPageToken })
}

// SetMachineMetadata sets the metadata key of machine id to value.
func (c *Client) SetMachineMetadata(ctx context.Context, id, key, value string) error {
	return c.PatchMachines(ctx, []MachineOp{{Op: "add", Path: metadataPath(id, key), Value: value}})
}

// DeleteMachineMetadata removes a metadata key set at run time.
func (c *Client) DeleteMachineMetadata(ctx context.Context, id, key string) error {
	return c.PatchMachines(ctx, []MachineOp{{Op: "remove", Path: metadataPath(id, key)}})
}

// PatchMachines sends metadata operations in one request: the server
// checks them all before it applies any.
func (c *Client) PatchMachines(ctx context.Context, ops []MachineOp) error {
	return c.do(ctx, call{method: http.MethodPatch, path: "/machines", in: ops})
}

func metadataPath(id, key string) string { return "/" + id + "/metadata/" + key }

// StateFilter selects unit states; empty fields match all.
type StateFilter struct {
	MachineID string
	UnitName  string
}

// UnitStates returns the unit states that f selects, sorted by unit and
// then machine.
func (c *Client) UnitStates(ctx context.Context, f StateFilter) ([]UnitState, error) {
	q := url.Values{}
	if f.MachineID != "" {
		q.Set("machineID", f.MachineID)
	}
	if f.UnitName != "" {
		q.Set("unitName", f.UnitName)
	}
	return collect(ctx, c, "/state", q, func(p *StatePage) ([]UnitState, string) { return p.States, p.NextPageToken })
}
