package fleetctl

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// listUnitFilesCmd is `fleetctl list-unit-files`.
type listUnitFilesCmd struct {
	list listFlags
}

func unitFileFields() []string {
	return []string{"unit", "hash", "dstate", "state", "target", "desc", "global"}
}

func newListUnitFilesCmd() *command {
	c := &listUnitFilesCmd{}
	return &command{
		name:    "list-unit-files",
		summary: "List the units that exist in the cluster.",
		desc: `List the units submitted to the cluster: their content hash, desired state
(DSTATE), current state (STATE) and the machine they are scheduled on
(TARGET). A global unit's target is "global" and its state counts the
machines that reached it: launched(2/3) is launched on 2 of the 3 machines
it should run on.`,
		flags: func(fs *pflag.FlagSet) {
			c.list.bind(fs, unitFileFields(), []string{"unit", "hash", "dstate", "state", "target"}, "Do not ellipsize fields on output (full machine IDs and hashes)")
		},
		run: c.run,
	}
}

// unitFileJSON is one row of list-unit-files -o json.
type unitFileJSON struct {
	Unit         string         `json:"unit"`
	Hash         string         `json:"hash"`
	DesiredState string         `json:"desiredState"`
	CurrentState string         `json:"currentState"`
	MachineID    string         `json:"machineID,omitempty"`
	Global       bool           `json:"global"`
	Description  string         `json:"description,omitempty"`
	Machines     *globalReached `json:"machines,omitempty"`
}

// globalReached counts, for a global unit, the machines it should be on
// and those where it reached its desired state.
type globalReached struct {
	Reached  int `json:"reached"`
	Eligible int `json:"eligible"`
}

func (c *listUnitFilesCmd) run(ctx context.Context, s *session, _ []string) error {
	fields, err := c.list.columns("list-unit-files", unitFileFields())
	if err != nil {
		return err
	}
	cl, err := s.cluster(ctx)
	if err != nil {
		return err
	}
	v, err := readView(ctx, cl, nil)
	if err != nil {
		return err
	}
	reached, err := globalsReached(v)
	if err != nil {
		return err
	}
	rows := make([]unitFileJSON, 0, len(v.units))
	for _, u := range v.units {
		rows = append(rows, unitFileRow(u, reached[u.Name]))
	}
	if c.list.output == outputJSON {
		return writeJSON(s.out, rows)
	}
	t := table{fields: fields}
	for _, r := range rows {
		t.add(c.cells(r, v.machines))
	}
	return t.write(s.out, c.list.noLegend)
}

func unitFileRow(u api.Unit, reached *globalReached) unitFileJSON {
	r := unitFileJSON{Unit: u.Name, DesiredState: u.DesiredState, CurrentState: u.CurrentState,
		MachineID: u.MachineID, Global: isGlobal(u), Machines: reached}
	f := storedFile(u)
	r.Hash, r.Description = f.Hash().String(), f.Description()
	return r
}

func (c *listUnitFilesCmd) cells(r unitFileJSON, ix machineIndex) map[string]string {
	cells := map[string]string{
		"unit": r.Unit, "hash": hashOf(r.Hash, c.list.full), "dstate": r.DesiredState,
		"state": r.CurrentState, "target": ix.legend(r.MachineID, c.list.full),
		"desc": r.Description, "global": strconv.FormatBool(r.Global),
	}
	if r.Global {
		cells["target"], cells["state"] = "global", r.DesiredState
		if r.Machines != nil {
			cells["state"] = fmt.Sprintf("%s(%d/%d)", r.DesiredState, r.Machines.Reached, r.Machines.Eligible)
		}
	}
	return cells
}

// globalsReached counts, for every active global unit, the machines the
// scheduler would put it on and those that report it in its desired
// state.
func globalsReached(v *view) (map[string]*globalReached, error) {
	var names []string
	for _, u := range v.units {
		if isGlobal(u) && u.DesiredState != unit.StateInactive.String() {
			names = append(names, u.Name)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	ex, err := explain(v.snapshot(nil, nil), names)
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	desired := map[string]string{}
	for _, u := range v.units {
		desired[u.Name] = u.DesiredState
	}
	out := make(map[string]*globalReached, len(ex))
	for _, e := range ex {
		on := map[string]bool{}
		for _, m := range e.Machines {
			on[m] = true
		}
		r := &globalReached{Eligible: len(e.Machines)}
		for _, st := range v.states {
			if st.Name == e.Unit && on[st.MachineID] && stateOf(st).String() == desired[e.Unit] {
				r.Reached++
			}
		}
		out[e.Unit] = r
	}
	return out, nil
}

// stateOf is the fleet state a machine's systemd report amounts to.
func stateOf(st api.UnitState) unit.State {
	switch {
	case st.SystemdActiveState == "active":
		return unit.StateLaunched
	case st.SystemdLoadState == "loaded":
		return unit.StateLoaded
	}
	return unit.StateInactive
}
