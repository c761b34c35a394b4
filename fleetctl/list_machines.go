package fleetctl

import (
	"context"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/api"
)

// listMachinesCmd is `fleetctl list-machines`.
type listMachinesCmd struct {
	list listFlags
}

func machineFields() []string { return []string{"machine", "ip", "metadata"} }

func newListMachinesCmd() *command {
	c := &listMachinesCmd{}
	return &command{
		name:    "list-machines",
		summary: "Enumerate the current hosts in the cluster",
		desc: `List the machines of the cluster: ID, IP and metadata (k=v,k2=v2, sorted
by key).`,
		flags: func(fs *pflag.FlagSet) {
			c.list.bind(fs, machineFields(), machineFields(), "Do not ellipsize fields on output (full machine IDs)")
		},
		run: c.run,
	}
}

func (c *listMachinesCmd) run(ctx context.Context, s *session, _ []string) error {
	fields, err := c.list.columns("list-machines", machineFields())
	if err != nil {
		return err
	}
	cl, err := s.cluster(ctx)
	if err != nil {
		return err
	}
	ms, err := cl.Machines(ctx)
	if err != nil {
		return err
	}
	if c.list.output == outputJSON {
		if ms == nil {
			ms = []api.Machine{}
		}
		return writeJSON(s.out, ms)
	}
	t := table{fields: fields}
	for _, m := range ms {
		id := m.ID
		if !c.list.full {
			id = shortID(id) + "..."
		}
		t.add(map[string]string{"machine": id, "ip": m.PrimaryIP, "metadata": formatMetadata(m.Metadata)})
	}
	return t.write(s.out, c.list.noLegend)
}

// formatMetadata renders metadata as fleet did: k=v pairs sorted, joined
// with commas.
func formatMetadata(md map[string]string) string {
	pairs := make([]string, 0, len(md))
	for k, v := range md {
		pairs = append(pairs, k+"="+v)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}
