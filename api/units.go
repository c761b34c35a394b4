package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/unit"
)

// unitName reads and checks the {name} of the path. Clients may send '@'
// as it is or percent-encoded; the path value is already unescaped.
func unitName(r *http.Request) (string, error) {
	name := r.PathValue("name")
	if err := unit.ValidateName(name); err != nil {
		return "", errorf(http.StatusBadRequest, "%w", err)
	}
	return name, nil
}

// listedUnit is a unit of a listing: its job, or the corrupt record
// that stands for it.
type listedUnit struct {
	name   string
	job    registry.Job
	broken error
}

// listUnits answers GET /units: a page of units sorted by name, broken
// ones included.
func (s *server) listUnits(w http.ResponseWriter, r *http.Request) error {
	p, err := parsePage(r, tokenUnits, s.opts.PageSize)
	if err != nil {
		return err
	}
	if s.opts.Lister != nil {
		return s.listUnitsFrom(w, r, p)
	}
	jobs, corrupt, err := s.b.ListJobs(r.Context())
	if err != nil {
		return fmt.Errorf("api: list units: %w", err)
	}
	all := make([]listedUnit, 0, len(jobs)+len(corrupt))
	for _, j := range jobs {
		all = append(all, listedUnit{name: j.Name, job: j})
	}
	for _, c := range corrupt {
		all = append(all, listedUnit{name: c.Name, broken: c.Err})
	}
	page, next := pageOf(all, func(u listedUnit) string { return u.name }, p, tokenUnits)
	view, err := s.readView(r.Context())
	if err != nil {
		return err
	}
	units, err := s.unitsOf(r.Context(), page, view)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, UnitPage{Units: units, NextPageToken: next})
}

// getUnit answers GET /units/<name>; a unit whose job does not decode is
// answered as a broken unit.
func (s *server) getUnit(w http.ResponseWriter, r *http.Request) error {
	name, err := unitName(r)
	if err != nil {
		return err
	}
	if s.opts.Lister != nil {
		return s.getUnitFrom(w, r, name)
	}
	u := listedUnit{name: name}
	u.job, err = s.b.Job(r.Context(), name)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return errorf(http.StatusNotFound, "unit %s not found", name)
	case errors.Is(err, registry.ErrCorrupt):
		u.broken = err
	case err != nil:
		return fmt.Errorf("api: get unit %s: %w", name, err)
	}
	view, err := s.readView(r.Context())
	if err != nil {
		return err
	}
	units, err := s.unitsOf(r.Context(), []listedUnit{u}, view)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, units[0])
}

// deleteUnit answers DELETE /units/<name>: 204, or 404 if there is no
// such unit. The engine then takes it off its machines.
func (s *server) deleteUnit(w http.ResponseWriter, r *http.Request) error {
	name, err := unitName(r)
	if err != nil {
		return err
	}
	err = s.b.DestroyUnit(r.Context(), name)
	if errors.Is(err, registry.ErrNotFound) {
		return errorf(http.StatusNotFound, "unit %s not found", name)
	}
	if err != nil {
		return fmt.Errorf("api: destroy unit %s: %w", name, err)
	}
	return writeEmpty(w, http.StatusNoContent)
}
