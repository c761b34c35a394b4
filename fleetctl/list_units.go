package fleetctl

import (
	"context"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/api"
)

func unitFields() []string {
	return []string{"unit", "machine", "active", "sub", "load", "hash", "port"}
}

// listUnitsCmd is `fleetctl list-units`.
type listUnitsCmd struct {
	list listFlags
}

func newListUnitsCmd() *command {
	c := &listUnitsCmd{}
	return &command{
		name:    "list-units",
		summary: "List the current state of units in the cluster",
		desc: `List what each machine's systemd reports of the units fleet put there: one
row per unit and machine, so a global unit has a row on every machine it
runs on. The port column is the port the scheduler gave a unit that asks
for one ([X-Fleet] Ports=) on that machine, with either driver.`,
		flags: func(fs *pflag.FlagSet) {
			c.list.bind(fs, unitFields(), []string{"unit", "machine", "active", "sub"}, "Do not ellipsize fields on output (full machine IDs and hashes)")
		},
		run: c.run,
	}
}

// unitStateJSON is one row of list-units -o json.
type unitStateJSON struct {
	Unit      string `json:"unit"`
	MachineID string `json:"machineID"`
	PrimaryIP string `json:"primaryIP"`
	Load      string `json:"load"`
	Active    string `json:"active"`
	Sub       string `json:"sub"`
	Hash      string `json:"hash"`
	Port      uint16 `json:"port,omitempty"`
}

func (c *listUnitsCmd) run(ctx context.Context, s *session, _ []string) error {
	fields, err := c.list.columns("list-units", unitFields())
	if err != nil {
		return err
	}
	cl, err := s.cluster(ctx)
	if err != nil {
		return err
	}
	v, err := readView(ctx, cl, []api.Unit{}) // the units themselves are not needed
	if err != nil {
		return err
	}
	if c.list.output == outputJSON {
		rows := make([]unitStateJSON, 0, len(v.states))
		for _, st := range v.states {
			rows = append(rows, unitStateJSON{Unit: st.Name, MachineID: st.MachineID, PrimaryIP: v.machines.byID[st.MachineID].PrimaryIP,
				Load: st.SystemdLoadState, Active: st.SystemdActiveState, Sub: st.SystemdSubState, Hash: st.Hash, Port: st.Port})
		}
		return writeJSON(s.out, rows)
	}
	t := table{fields: fields}
	for _, st := range v.states {
		port := ""
		if st.Port != 0 {
			port = strconv.Itoa(int(st.Port))
		}
		t.add(map[string]string{
			"unit": st.Name, "machine": v.machines.legend(st.MachineID, c.list.full),
			"active": st.SystemdActiveState, "sub": st.SystemdSubState, "load": st.SystemdLoadState,
			"hash": hashOf(st.Hash, c.list.full), "port": port,
		})
	}
	return t.write(s.out, c.list.noLegend)
}
