package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/unit"
)

// putRequest is a checked PUT /units/<name> body.
type putRequest struct {
	name       string
	file       *unit.File // nil when the body has no options
	desired    unit.State
	hasDesired bool
}

// putUnit answers PUT /units/<name>, fleet's one call to create a unit
// and to change its desired state:
//
//   - a new unit with options is created (201), inactive unless the body
//     asks otherwise; without options it cannot be (409);
//   - an existing unit gets the body's desiredState (204); without one
//     there is nothing to do (409), and options that differ from the
//     stored ones are refused (409): a unit's content is not changed in
//     place, it is destroyed and submitted again.
//
// Everything about the body is checked before the registry is touched.
func (s *server) putUnit(w http.ResponseWriter, r *http.Request) error {
	name, err := unitName(r)
	if err != nil {
		return err
	}
	var body Unit
	if err := s.readJSON(w, r, &body, '{', "application/json"); err != nil {
		return err
	}
	req, err := checkPut(name, body)
	if err != nil {
		return err
	}
	j, err := s.b.Job(r.Context(), name)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return s.createUnit(w, r, req)
	case errors.Is(err, registry.ErrCorrupt):
		return errorf(http.StatusConflict, "unit %s is broken (%w): destroy it before submitting it again", name, err)
	case err != nil:
		return fmt.Errorf("api: get unit %s: %w", name, err)
	}
	return s.updateUnit(w, r, j, req)
}

// checkPut checks a PUT body against the unit name of the URL. A
// reserved name (unit.CheckSubmittable) is refused whatever the body, and
// options pass unit.CheckSubmission, the check fleetctl makes too: 400
// naming the option at fault, or 413 for a body over the stored-size
// limit (which etcd would refuse).
func checkPut(name string, body Unit) (putRequest, error) {
	req := putRequest{name: name}
	if body.Name != "" && body.Name != name {
		return req, errorf(http.StatusBadRequest, "the name in the body (%q) differs from the name in the URL (%q)", body.Name, name)
	}
	if body.CurrentState != "" || body.MachineID != "" {
		return req, errorf(http.StatusBadRequest, "currentState and machineID are set by the cluster, not by clients (to pin a unit to a machine, use [X-Fleet] MachineID=)")
	}
	if body.DesiredState != "" {
		st, err := unit.ParseState(body.DesiredState)
		if err != nil {
			return req, errorf(http.StatusBadRequest, "desiredState: %w", err)
		}
		req.desired, req.hasDesired = st, true
	}
	if err := unit.CheckSubmittable(name); err != nil {
		return req, errorf(http.StatusBadRequest, "%w", err)
	}
	if len(body.Options) > 0 {
		// fleet 1.0's fleetctl sends a value written over several lines
		// with its backslash-newlines: read it as systemd would.
		f, _, err := unit.CheckSubmission(name, unit.JoinContinuations(body.Options))
		if errors.Is(err, unit.ErrTooLarge) {
			return req, errorf(http.StatusRequestEntityTooLarge, "options: %w", err)
		}
		if err != nil {
			return req, errorf(http.StatusBadRequest, "options: %w", err)
		}
		req.file = f
	}
	if n, _ := unit.ParseName(name); n.IsTemplate() && req.desired.Active() {
		return req, errorf(http.StatusBadRequest, "unit %s is a template: it can be submitted but not %s; %s an instance such as %s@1%s instead",
			name, req.desired, verbOf(req.desired), n.Prefix, n.Suffix)
	}
	return req, nil
}

// verbOf names the fleetctl command that asks for state s.
func verbOf(s unit.State) string {
	if s == unit.StateLaunched {
		return "start"
	}
	return "load"
}

// createUnit answers a PUT for a unit that does not exist yet.
func (s *server) createUnit(w http.ResponseWriter, r *http.Request, req putRequest) error {
	if req.file == nil {
		return errorf(http.StatusConflict, "unit %s does not exist, and the request has no options to create it from", req.name)
	}
	err := s.b.CreateUnit(r.Context(), req.name, req.file, req.desired)
	if errors.Is(err, registry.ErrExists) {
		return errorf(http.StatusConflict, "unit %s was created by another request meanwhile", req.name)
	}
	if err != nil {
		return fmt.Errorf("api: create unit %s: %w", req.name, err)
	}
	w.Header().Set("Location", unitPath(req.name))
	return writeEmpty(w, http.StatusCreated)
}

// updateUnit answers a PUT for an existing unit: only its desired state
// may change.
func (s *server) updateUnit(w http.ResponseWriter, r *http.Request, j registry.Job, req putRequest) error {
	if req.file != nil && req.file.Hash() != j.Hash {
		return errorf(http.StatusConflict, "unit %s already exists with other content (hash %s, the request's is %s): destroy it before submitting it again",
			req.name, j.Hash.Short(), req.file.Hash().Short())
	}
	if !req.hasDesired {
		return errorf(http.StatusConflict, "unit %s already exists: give a desiredState to change its state", req.name)
	}
	if req.desired == j.Desired {
		return writeEmpty(w, http.StatusNoContent)
	}
	err := s.b.SetDesired(r.Context(), req.name, req.desired)
	if errors.Is(err, registry.ErrNotFound) {
		return errorf(http.StatusNotFound, "unit %s was destroyed by another request meanwhile", req.name)
	}
	if err != nil {
		return fmt.Errorf("api: set unit %s %s: %w", req.name, req.desired, err)
	}
	return writeEmpty(w, http.StatusNoContent)
}

// unitPath is the API path of a unit, with '@' percent-encoded as
// fleet's clients send it.
func unitPath(name string) string {
	return BasePath + "/units/" + escapeName(name)
}
