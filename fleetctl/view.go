package fleetctl

import (
	"context"
	"strings"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/scheduler"
	"github.com/fleetsim/fleet/unit"
)

// view is one read of the cluster: its units, machines, unit states and,
// with the etcd driver, the schedule itself.
type view struct {
	units    []api.Unit
	machines machineIndex
	states   []api.UnitState
	schedule []registry.Placement // nil with the API driver
}

// readView reads the cluster; units is read too unless given.
func readView(ctx context.Context, c *conn, units []api.Unit) (*view, error) {
	v := &view{units: units}
	var err error
	if v.units == nil {
		if v.units, err = c.Units(ctx); err != nil {
			return nil, err
		}
	}
	ms, err := c.Machines(ctx)
	if err != nil {
		return nil, err
	}
	v.machines = indexMachines(ms)
	if v.states, err = c.UnitStates(ctx, api.StateFilter{}); err != nil {
		return nil, err
	}
	if c.schedule != nil {
		if v.schedule, err = c.schedule(ctx); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// snapshot is the scheduler's input for the cluster as read, with extra
// units added (or put in place of those of the same name), and the units
// in launch asked to be launched.
func (v *view) snapshot(extra []api.Unit, launch map[string]bool) *scheduler.Snapshot {
	snap := &scheduler.Snapshot{}
	for _, m := range v.machines.list {
		snap.Machines = append(snap.Machines, scheduler.Machine{ID: m.ID, IP: m.PrimaryIP, Metadata: m.Metadata, Alive: true})
	}
	global := map[string]bool{}
	for _, u := range mergeUnits(v.units, extra) {
		req, _, err := unit.ParseRequirements(u.Name, u.Options)
		if err != nil {
			continue // the API checks bodies; one that does not parse cannot be reasoned about
		}
		desired, err := unit.ParseState(u.DesiredState)
		if err != nil || launch[u.Name] {
			desired = unit.StateLaunched
		}
		global[u.Name] = req.Global
		snap.Units = append(snap.Units, scheduler.Unit{Name: u.Name, Desired: desired, Req: req})
	}
	snap.Placements = v.placements(global)
	return snap
}

// placements are where units are now: the schedule when the driver reads
// it; else a unit's machineID, and for a global unit the machines that
// report it.
func (v *view) placements(global map[string]bool) []scheduler.Placement {
	var out []scheduler.Placement
	if v.schedule != nil {
		for _, p := range v.schedule {
			out = append(out, scheduler.Placement{Unit: p.Unit, Machine: p.Machine, Port: p.Port})
		}
		return out
	}
	for _, u := range v.units {
		if u.MachineID != "" && !global[u.Name] {
			out = append(out, scheduler.Placement{Unit: u.Name, Machine: u.MachineID})
		}
	}
	seen := map[[2]string]bool{}
	for _, st := range v.states {
		k := [2]string{st.Name, st.MachineID}
		if global[st.Name] && !seen[k] {
			seen[k] = true
			out = append(out, scheduler.Placement{Unit: st.Name, Machine: st.MachineID})
		}
	}
	return out
}

// mergeUnits returns base with extra laid over it by name.
func mergeUnits(base, extra []api.Unit) []api.Unit {
	if len(extra) == 0 {
		return base
	}
	over := make(map[string]api.Unit, len(extra))
	for _, u := range extra {
		over[u.Name] = u
	}
	out := make([]api.Unit, 0, len(base)+len(extra))
	for _, u := range base {
		if e, ok := over[u.Name]; ok {
			u = e
			delete(over, u.Name)
		}
		out = append(out, u)
	}
	for _, u := range extra {
		if _, ok := over[u.Name]; ok {
			out = append(out, u)
			delete(over, u.Name)
		}
	}
	return out
}

// explain runs the scheduler over snap for the named units.
func explain(snap *scheduler.Snapshot, names []string) ([]scheduler.Explanation, error) {
	_, ex, err := scheduler.New().Explain(snap, names)
	return ex, err
}

// machineIndex holds the machines by ID, and in ID order.
type machineIndex struct {
	byID map[string]api.Machine
	list []api.Machine
}

func indexMachines(ms []api.Machine) machineIndex {
	ix := machineIndex{byID: make(map[string]api.Machine, len(ms)), list: ms}
	for _, m := range ms {
		ix.byID[m.ID] = m
	}
	return ix
}

// legend names a machine as fleet did: "<first 8 of its ID>.../<IP>",
// the whole ID when full; "-" for none.
func (ix machineIndex) legend(id string, full bool) string {
	if id == "" {
		return "-"
	}
	s := id
	if !full {
		s = shortID(id) + "..."
	}
	if m, ok := ix.byID[id]; ok && m.PrimaryIP != "" {
		s += "/" + m.PrimaryIP
	}
	return s
}

// shorten replaces every full machine ID in text with its short form.
func (ix machineIndex) shorten(text string) string {
	for _, m := range ix.list {
		if len(m.ID) > 8 {
			text = strings.ReplaceAll(text, m.ID, shortID(m.ID)+"...")
		}
	}
	return text
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
