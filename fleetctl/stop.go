package fleetctl

import (
	"context"
	"errors"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/unit"
)

// stopCmd is `fleetctl stop UNIT...`.
type stopCmd struct {
	block blockFlags
}

func newStopCmd() *command {
	c := &stopCmd{}
	return &command{
		name:    "stop",
		summary: "Instruct systemd to stop one or more units in the cluster.",
		usage:   "UNIT...",
		desc: `Stop one or more units in the cluster: they stay loaded on their machine.
Waits until every unit is loaded again (see --block-attempts, --no-block).

Stop a unit, or every unit a pattern matches:
	fleetctl stop foo.service
	fleetctl stop 'foo@*'`,
		minArgs: 1,
		maxArgs: -1,
		flags:   func(fs *pflag.FlagSet) { c.block.bind(fs, "stopped") },
		run:     c.run,
	}
}

func (c *stopCmd) run(ctx context.Context, s *session, args []string) error {
	if err := c.block.check("stop"); err != nil {
		return err
	}
	cl, units, err := s.existingUnits(ctx, args, false)
	if err != nil {
		return err
	}
	var errs []error
	for _, u := range units {
		if !isGlobal(u) && u.DesiredState == unit.StateInactive.String() {
			errs = append(errs, &UnitError{Unit: u.Name, What: "cannot be stopped: it is inactive (load or start it first)"})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return s.setTargets(ctx, cl, units, "stop", unit.StateLoaded, c.block, nil)
}
