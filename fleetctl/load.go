package fleetctl

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/unit"
)

// loadCmd is `fleetctl load UNIT...`.
type loadCmd struct {
	block   blockFlags
	replace bool
}

func newLoadCmd() *command {
	c := &loadCmd{}
	return &command{
		name:    "load",
		summary: "Schedule one or more units in the cluster, first submitting them if necessary.",
		usage:   "UNIT...",
		desc: `Schedule one or more units in the cluster, first submitting them if
necessary: each goes to a machine, whose systemd loads it without starting
it. Waits until every unit is loaded (see --block-attempts, --no-block);
a unit the scheduler cannot place fails at once with its reason.

Load a unit file, or one already submitted:
	fleetctl load foo.service

Load instances of a template:
	fleetctl load 'foo@{1..3}.service'`,
		minArgs: 1,
		maxArgs: -1,
		flags: func(fs *pflag.FlagSet) {
			c.block.bind(fs, "loaded")
			bindReplace(fs, &c.replace)
		},
		run: c.run,
	}
}

func (c *loadCmd) run(ctx context.Context, s *session, args []string) error {
	return s.activate(ctx, args, "load", unit.StateLoaded, c.block, c.replace)
}

// activate is load and start: make sure the units are submitted, then
// set them to target and wait.
func (s *session) activate(ctx context.Context, args []string, verb string, target unit.State, b blockFlags, replace bool) error {
	if err := b.check(verb); err != nil {
		return err
	}
	ua, err := s.unitArgs(args)
	if err != nil {
		return err
	}
	c, err := s.cluster(ctx)
	if err != nil {
		return err
	}
	units, replaced, err := s.ensure(ctx, c, ua, submitMode{verb: verb, replace: replace, noBlock: b.noBlock, target: target.String()})
	if err != nil {
		return err
	}
	return s.setTargets(ctx, c, units, verb, target, b, replaced)
}
