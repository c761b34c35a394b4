package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/unit"
)

// listStates answers GET /state: unit states sorted by (unit, machine),
// only those of ?machineID and of ?unitName when given.
func (s *server) listStates(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	name := q.Get("unitName")
	if name != "" {
		if err := unit.ValidateName(name); err != nil {
			return errorf(http.StatusBadRequest, "unitName: %w", err)
		}
	}
	return s.writeStates(w, r, name, q.Get("machineID"))
}

// unitStates answers GET /state/<name>: the states of one unit, an empty
// list when no machine reports it (never a 404: fleet's own client
// failed on one).
func (s *server) unitStates(w http.ResponseWriter, r *http.Request) error {
	name, err := unitName(r)
	if err != nil {
		return err
	}
	return s.writeStates(w, r, name, r.URL.Query().Get("machineID"))
}

// writeStates answers a page of the states of unit name on machine; an
// empty name or machine matches all.
func (s *server) writeStates(w http.ResponseWriter, r *http.Request, name, machine string) error {
	p, err := parsePage(r, tokenStates, s.opts.PageSize)
	if err != nil {
		return err
	}
	if s.opts.Lister != nil {
		return s.writeStatesFrom(w, r, p, name, machine)
	}
	all, err := s.b.States(r.Context())
	if err != nil {
		return fmt.Errorf("api: list unit states: %w", err)
	}
	var match []registry.UnitState
	for _, st := range all {
		if (name == "" || st.Unit == name) && (machine == "" || st.Machine == machine) {
			match = append(match, st)
		}
	}
	key := func(st registry.UnitState) string { return st.Unit + "\x00" + st.Machine }
	page, next := pageOf(match, key, p, tokenStates)
	ports, err := s.ports(r.Context())
	if err != nil {
		return err
	}
	out := make([]UnitState, 0, len(page))
	for _, st := range page {
		out = append(out, UnitState{
			Name:               st.Unit,
			Hash:               st.Hash,
			MachineID:          st.Machine,
			SystemdLoadState:   st.LoadState,
			SystemdActiveState: st.ActiveState,
			SystemdSubState:    st.SubState,
			Port:               ports[stateKey{st.Unit, st.Machine}],
			Reason:             st.Reason,
		})
	}
	return writeJSON(w, http.StatusOK, StatePage{States: out, NextPageToken: next})
}

// ports returns the port of every placement that has one.
func (s *server) ports(ctx context.Context) (map[stateKey]uint16, error) {
	sched, err := s.b.Schedule(ctx)
	if err != nil {
		return nil, fmt.Errorf("api: read the schedule: %w", err)
	}
	out := make(map[stateKey]uint16)
	for _, p := range sched {
		if p.Port != 0 {
			out[stateKey{p.Unit, p.Machine}] = p.Port
		}
	}
	return out, nil
}
