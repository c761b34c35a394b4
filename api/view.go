package api

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/unit"
)

// clusterView is the schedule and the unit states, read once per request,
// from which a unit's currentState and machineID are derived.
type clusterView struct {
	placements map[string][]string // unit -> machines it is scheduled on, sorted
	states     map[stateKey]registry.UnitState
}

type stateKey struct{ unit, machine string }

// readView reads the schedule and the unit states.
func (s *server) readView(ctx context.Context) (clusterView, error) {
	sched, err := s.b.Schedule(ctx)
	if err != nil {
		return clusterView{}, fmt.Errorf("api: read the schedule: %w", err)
	}
	states, err := s.b.States(ctx)
	if err != nil {
		return clusterView{}, fmt.Errorf("api: read unit states: %w", err)
	}
	v := clusterView{
		placements: make(map[string][]string, len(sched)),
		states:     make(map[stateKey]registry.UnitState, len(states)),
	}
	for _, p := range sched {
		v.placements[p.Unit] = append(v.placements[p.Unit], p.Machine)
	}
	for _, ms := range v.placements {
		sort.Strings(ms)
	}
	for _, st := range states {
		v.states[stateKey{st.Unit, st.Machine}] = st
	}
	return v, nil
}

// stateOn is the fleet state of unit name on machine, from what its
// systemd reports: launched when active, loaded when loaded, else
// inactive (nothing reported counts as inactive).
func (v clusterView) stateOn(name, machine string) unit.State {
	st, ok := v.states[stateKey{name, machine}]
	switch {
	case !ok:
		return unit.StateInactive
	case st.ActiveState == "active":
		return unit.StateLaunched
	case st.LoadState == "loaded":
		return unit.StateLoaded
	}
	return unit.StateInactive
}

// current derives a unit's currentState and machineID.
//
// A unit is normally scheduled on one machine. While it moves it may
// briefly be on two: the one where it has got furthest wins, ties going
// to the lower machine ID. A global unit has no machineID and is as far
// as its slowest machine.
func (v clusterView) current(name string, global bool) (unit.State, string) {
	machines := v.placements[name]
	if len(machines) == 0 {
		return unit.StateInactive, ""
	}
	if global {
		lowest := unit.StateLaunched
		for _, m := range machines {
			lowest = min(lowest, v.stateOn(name, m))
		}
		return lowest, ""
	}
	best, where := v.stateOn(name, machines[0]), machines[0]
	for _, m := range machines[1:] {
		if st := v.stateOn(name, m); st > best {
			best, where = st, m
		}
	}
	return best, where
}

// isGlobal reports whether the unit's [X-Fleet] section makes it global.
// Units are checked when they are submitted, so the requirements of a
// stored unit parse; one written past the API that does not is shown as
// an ordinary unit rather than failing every listing it is part of.
func isGlobal(name string, f *unit.File) bool {
	req, _, err := unit.ParseRequirements(name, f.Options)
	return err == nil && req.Global
}

// unitsOf builds the API view of units, reading each distinct body
// once. A unit whose job or body is corrupt or missing is shown broken.
func (s *server) unitsOf(ctx context.Context, units []listedUnit, v clusterView) ([]Unit, error) {
	files := make(map[unit.Hash]*unit.File)
	out := make([]Unit, 0, len(units))
	for _, u := range units {
		if u.broken != nil {
			out = append(out, brokenUnit(u.name, "", u.broken))
			continue
		}
		j := u.job
		f, ok := files[j.Hash]
		if !ok {
			var err error
			f, err = s.b.File(ctx, j.Hash)
			if errors.Is(err, registry.ErrCorrupt) || errors.Is(err, registry.ErrNotFound) {
				out = append(out, brokenUnit(j.Name, j.Desired.String(), err))
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("api: read the body of unit %s: %w", j.Name, err)
			}
			files[j.Hash] = f
		}
		cur, machine := v.current(j.Name, isGlobal(j.Name, f))
		opts := f.Options
		if opts == nil {
			opts = []unit.Option{}
		}
		out = append(out, Unit{
			Name:         j.Name,
			Options:      opts,
			DesiredState: j.Desired.String(),
			CurrentState: cur.String(),
			MachineID:    machine,
		})
	}
	return out, nil
}

// brokenUnit is how a unit whose records cannot be read is shown.
func brokenUnit(name, desired string, err error) Unit {
	return Unit{Name: name, Options: []unit.Option{}, DesiredState: desired,
		Error: fmt.Sprintf("broken unit: %v; destroy it and submit it again", err)}
}
