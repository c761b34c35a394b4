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

// listUnits answers GET /units: a page of units sorted by name.
func (s *server) listUnits(w http.ResponseWriter, r *http.Request) error {
	p, err := parsePage(r, tokenUnits, s.opts.PageSize)
	if err != nil {
		return err
	}
	jobs, err := s.b.Jobs(r.Context())
	if err != nil {
		return fmt.Errorf("api: list units: %w", err)
	}
	page, next := pageOf(jobs, func(j registry.Job) string { return j.Name }, p, tokenUnits)
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

// getUnit answers GET /units/<name>.
func (s *server) getUnit(w http.ResponseWriter, r *http.Request) error {
	name, err := unitName(r)
	if err != nil {
		return err
	}
	j, err := s.b.Job(r.Context(), name)
	if errors.Is(err, registry.ErrNotFound) {
		return errorf(http.StatusNotFound, "unit %s not found", name)
	}
	if err != nil {
		return fmt.Errorf("api: get unit %s: %w", name, err)
	}
	view, err := s.readView(r.Context())
	if err != nil {
		return err
	}
	units, err := s.unitsOf(r.Context(), []registry.Job{j}, view)
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
