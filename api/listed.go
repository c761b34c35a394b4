package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/unit"
)

// The listings served from a Lister: each page is read at one revision
// and costs its own length, and its token is the same as the one the
// Backend's pages hand out (the key of the page's last item), so a
// client may page across either.

// listUnitsFrom answers GET /units from the Lister.
func (s *server) listUnitsFrom(w http.ResponseWriter, r *http.Request, p pageRequest) error {
	listed, more, err := s.opts.Lister.Units(r.Context(), p.after, p.size)
	if err != nil {
		return fmt.Errorf("api: list units: %w", err)
	}
	page := UnitPage{Units: make([]Unit, 0, len(listed))}
	for _, u := range listed {
		page.Units = append(page.Units, listedAPIUnit(u))
	}
	if more && len(listed) > 0 {
		page.NextPageToken = encodeToken(tokenUnits, listed[len(listed)-1].Name)
	}
	return writeJSON(w, http.StatusOK, page)
}

// getUnitFrom answers GET /units/<name> from the Lister.
func (s *server) getUnitFrom(w http.ResponseWriter, r *http.Request, name string) error {
	u, err := s.opts.Lister.Unit(r.Context(), name)
	if errors.Is(err, registry.ErrNotFound) {
		return errorf(http.StatusNotFound, "unit %s not found", name)
	}
	if err != nil {
		return fmt.Errorf("api: get unit %s: %w", name, err)
	}
	return writeJSON(w, http.StatusOK, listedAPIUnit(u))
}

// writeStatesFrom answers a page of unit states from the Lister.
func (s *server) writeStatesFrom(w http.ResponseWriter, r *http.Request, p pageRequest, name, machine string) error {
	// The token holds the last state's unit and machine joined by a NUL,
	// as the Backend's pages write it: the Lister's key is the same.
	listed, more, err := s.opts.Lister.States(r.Context(), p.after, p.size, name, machine)
	if err != nil {
		return fmt.Errorf("api: list unit states: %w", err)
	}
	page := StatePage{States: make([]UnitState, 0, len(listed))}
	for _, ls := range listed {
		st := ls.State
		page.States = append(page.States, UnitState{Name: st.Unit, Hash: st.Hash, MachineID: st.Machine,
			SystemdLoadState: st.LoadState, SystemdActiveState: st.ActiveState, SystemdSubState: st.SubState, Port: ls.Port,
			Reason: st.Reason})
	}
	if more && len(listed) > 0 {
		last := listed[len(listed)-1].State
		page.NextPageToken = encodeToken(tokenStates, registry.StateKey(last.Unit, last.Machine))
	}
	return writeJSON(w, http.StatusOK, page)
}

// listedAPIUnit is the API's view of a listed unit: its currentState and
// machineID derived as clusterView.current does.
func listedAPIUnit(u registry.ListedUnit) Unit {
	if u.Err != nil {
		desired := ""
		if u.Job.Name != "" {
			desired = u.Job.Desired.String()
		}
		return brokenUnit(u.Name, desired, u.Err)
	}
	v := clusterView{placements: map[string][]string{}, states: make(map[stateKey]registry.UnitState, len(u.States))}
	for _, p := range u.Placements {
		v.placements[u.Name] = append(v.placements[u.Name], p.Machine)
	}
	for _, st := range u.States {
		v.states[stateKey{st.Unit, st.Machine}] = st
	}
	cur, machine := v.current(u.Name, isGlobal(u.Name, u.File))
	opts := u.File.Options
	if opts == nil {
		opts = []unit.Option{}
	}
	return Unit{Name: u.Name, Options: opts, DesiredState: u.Job.Desired.String(), CurrentState: cur.String(), MachineID: machine}
}
