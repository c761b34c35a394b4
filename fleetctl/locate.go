package fleetctl

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fleetsim/fleet/api"
)

// place is one machine to read a unit's status or journal on.
type place struct {
	unit    string
	machine string // its ID
	legend  string // "<short ID>.../<IP>", as list-units shows it
	header  string // the line before its output; "" for none
}

// locate finds where to read each unit: a unit's own machine, or, for a
// global unit, every machine that reports it, each under a header of its
// own. --machine (machine, when not "") picks one machine for all, and
// no header is printed then. A unit on no machine is a UnitError whose
// What is notThere, as fleet's was ("does not appear to be running").
func locate(ctx context.Context, c *conn, units []api.Unit, machine, notThere string) ([]place, error) {
	ms, err := c.Machines(ctx)
	if err != nil {
		return nil, err
	}
	ix := indexMachines(ms)
	if machine != "" {
		if machine, err = ix.resolve(machine); err != nil {
			return nil, err
		}
	}
	var (
		out  []place
		errs []error
	)
	for _, u := range units {
		ps, err := unitPlaces(ctx, c, ix, u, machine, notThere)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, ps...)
	}
	return out, errors.Join(errs...)
}

// unitPlaces are the places of one unit.
func unitPlaces(ctx context.Context, c *conn, ix machineIndex, u api.Unit, machine, notThere string) ([]place, error) {
	at := func(id, header string) place {
		return place{unit: u.Name, machine: id, legend: ix.legend(id, false), header: header}
	}
	switch {
	case machine != "":
		return []place{at(machine, "")}, nil
	case !isGlobal(u) && u.MachineID == "":
		return nil, &UnitError{Unit: u.Name, What: notThere}
	case !isGlobal(u):
		return []place{at(u.MachineID, "")}, nil
	}
	states, err := c.UnitStates(ctx, api.StateFilter{UnitName: u.Name})
	if err != nil {
		return nil, err
	}
	if len(states) == 0 {
		return nil, &UnitError{Unit: u.Name, What: notThere + " on any machine"}
	}
	out := make([]place, 0, len(states))
	for _, st := range states {
		out = append(out, at(st.MachineID, fmt.Sprintf("=== %s on %s ===", u.Name, ix.legend(st.MachineID, false))))
	}
	return out, nil
}

// resolve reads --machine: a machine's ID, a unique prefix of it (as
// fleetctl prints it: "0acdd9bf..." or "0acdd9bf.../10.0.2.15" will do),
// or its IP.
func (ix machineIndex) resolve(arg string) (string, error) {
	found := ix.matches(arg)
	switch len(found) {
	case 0:
		return "", fmt.Errorf("--machine=%s: no such machine in the cluster (see 'fleetctl list-machines')", arg)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("--machine=%s: %d machines match (%s): give more of the ID", arg, len(found), strings.Join(found, ", "))
}

// matches returns the IDs of the machines arg may name (see resolve):
// the one whose ID it is, else all those whose ID starts with it or
// whose IP it is.
func (ix machineIndex) matches(arg string) []string {
	prefix, _, _ := strings.Cut(arg, "/")
	prefix = strings.TrimSuffix(prefix, "...")
	var found []string
	for _, m := range ix.list {
		if m.ID == prefix {
			return []string{m.ID}
		}
		if (prefix != "" && strings.HasPrefix(m.ID, prefix)) || m.PrimaryIP == arg {
			found = append(found, m.ID)
		}
	}
	return found
}

// remoteError names the unit and machine of a failed status or journal
// call, with what the server said; failures to reach fleetd at all, and
// interruptions, pass as they are.
func remoteError(p place, what string, err error) error {
	var ae *api.Error
	if !errors.As(err, &ae) {
		return err
	}
	return &UnitError{Unit: p.unit, What: what + " on " + p.legend + " failed", Err: serverError{err}}
}
