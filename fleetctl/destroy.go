package fleetctl

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/api"
)

// destroyCmd is `fleetctl destroy UNIT...`.
type destroyCmd struct {
	block blockFlags
}

func newDestroyCmd() *command {
	c := &destroyCmd{}
	return &command{
		name:    "destroy",
		summary: "Destroy one or more units in the cluster",
		usage:   "UNIT...",
		desc: `Completely remove one or more running or submitted units from the cluster:
they are stopped and unloaded everywhere, a global unit on every machine.

Destroy a unit, or every unit a pattern matches (templates included):
	fleetctl destroy foo.service
	fleetctl destroy 'foo@*'`,
		minArgs: 1,
		maxArgs: -1,
		flags:   func(fs *pflag.FlagSet) { c.block.bind(fs, "destroyed") },
		run:     c.run,
	}
}

func (c *destroyCmd) run(ctx context.Context, s *session, args []string) error {
	if err := c.block.check("destroy"); err != nil {
		return err
	}
	cl, units, err := s.existingUnits(ctx, args, true)
	if err != nil {
		return err
	}
	var errs []error
	for _, u := range units {
		if err := cl.DestroyUnit(ctx, u.Name); err != nil && !api.IsNotFound(err) {
			errs = append(errs, &UnitError{Unit: u.Name, What: "could not be destroyed", Err: serverError{err}})
			continue
		}
		if err := c.waitGone(ctx, s, cl, u.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(s.out, "Destroyed %s\n", u.Name)
	}
	return errors.Join(errs...)
}

// waitGone waits until the unit is no longer in the cluster.
func (c *destroyCmd) waitGone(ctx context.Context, s *session, cl *conn, name string) error {
	if c.block.noBlock {
		return nil
	}
	for attempt := 1; ; attempt++ {
		u, err := lookupUnit(ctx, cl, name)
		if err != nil {
			return err
		}
		if u == nil {
			return nil
		}
		if c.block.attempts > 0 && attempt >= c.block.attempts {
			return &UnitError{Unit: name, What: fmt.Sprintf("is still in the cluster after %d attempts (--block-attempts)", attempt)}
		}
		if err := sleep(ctx, s.opts.poll); err != nil {
			return err
		}
	}
}
