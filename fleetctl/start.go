package fleetctl

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/unit"
)

// startCmd is `fleetctl start UNIT...`.
type startCmd struct {
	block   blockFlags
	replace bool
}

func newStartCmd() *command {
	c := &startCmd{}
	return &command{
		name:    "start",
		summary: "Instruct systemd to start one or more units in the cluster, first submitting and loading if necessary.",
		usage:   "UNIT...",
		desc: `Start one or more units in the cluster, first submitting and loading them
if necessary. Waits until every unit is launched (see --block-attempts,
--no-block); a unit the scheduler cannot place fails at once with its
reason. A global unit is only triggered.

Start a unit file, or a unit already submitted:
	fleetctl start foo.service

Start instances of a template, or every unit a pattern matches:
	fleetctl start 'foo@{1..3}.service'
	fleetctl start 'foo@*'`,
		minArgs: 1,
		maxArgs: -1,
		flags: func(fs *pflag.FlagSet) {
			c.block.bind(fs, "launched")
			bindReplace(fs, &c.replace)
		},
		run: c.run,
	}
}

func (c *startCmd) run(ctx context.Context, s *session, args []string) error {
	return s.activate(ctx, args, "start", unit.StateLaunched, c.block, c.replace)
}
