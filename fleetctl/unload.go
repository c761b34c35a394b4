package fleetctl

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/unit"
)

// unloadCmd is `fleetctl unload UNIT...`.
type unloadCmd struct {
	block blockFlags
}

func newUnloadCmd() *command {
	c := &unloadCmd{}
	return &command{
		name:    "unload",
		summary: "Unschedule one or more units in the cluster.",
		usage:   "UNIT...",
		desc: `Unschedule one or more units: they are stopped and unloaded from their
machine, and stay submitted. Waits until every unit is inactive (see
--block-attempts, --no-block).`,
		minArgs: 1,
		maxArgs: -1,
		flags:   func(fs *pflag.FlagSet) { c.block.bind(fs, "unloaded") },
		run:     c.run,
	}
}

func (c *unloadCmd) run(ctx context.Context, s *session, args []string) error {
	if err := c.block.check("unload"); err != nil {
		return err
	}
	cl, units, err := s.existingUnits(ctx, args, false)
	if err != nil {
		return err
	}
	return s.setTargets(ctx, cl, units, "unload", unit.StateInactive, c.block, nil)
}
