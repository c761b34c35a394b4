package fleetctl

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// blockFlags are --block-attempts and --no-block of the commands that
// wait for units.
type blockFlags struct {
	attempts int
	noBlock  bool
}

// bind defines the flags; what is the state waited for ("launched").
func (b *blockFlags) bind(fs *pflag.FlagSet, what string) {
	fs.IntVar(&b.attempts, "block-attempts", 0, "Wait until the units are "+what+", performing up to N attempts before giving up. A value of 0 indicates no limit. Does not apply to global units.")
	fs.BoolVar(&b.noBlock, "no-block", false, "Do not wait until the units have been "+what+" before exiting. Always the case for global units.")
}

// check refuses a negative --block-attempts.
func (b blockFlags) check(cmd string) error {
	if b.attempts < 0 {
		return usageErrorf(cmd, "--block-attempts=%d: want 0 (no limit) or more", b.attempts)
	}
	return nil
}

// replaceFlag is --replace of submit, load and start.
func bindReplace(fs *pflag.FlagSet, replace *bool) {
	fs.BoolVar(replace, "replace", false, "Replace the old scheduled units in the cluster with new versions.")
}

// setTargets sets the desired state of units, then waits for the
// non-global ones to get there (those in fresh with that content hash);
// a global unit is only triggered, as fleet did ("Triggered global unit
// X start").
func (s *session) setTargets(ctx context.Context, c *conn, units []api.Unit, verb string, target unit.State, b blockFlags, fresh map[string]string) error {
	var wait []string
	for _, u := range units {
		if u.DesiredState != target.String() {
			if err := c.SetUnitTargetState(ctx, u.Name, target.String()); err != nil {
				return &UnitError{Unit: u.Name, What: "could not be set to " + target.String(), Err: serverError{err}}
			}
		}
		if isGlobal(u) {
			fmt.Fprintf(s.out, "Triggered global unit %s %s\n", u.Name, verb)
			continue
		}
		wait = append(wait, u.Name)
	}
	if b.noBlock || len(wait) == 0 {
		return nil
	}
	return s.waitFor(ctx, c, wait, target, b.attempts, fresh)
}

// existingUnits resolves arguments to units already in the cluster.
func (s *session) existingUnits(ctx context.Context, args []string, withTemplates bool) (*conn, []api.Unit, error) {
	ua, err := s.unitArgs(args)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.cluster(ctx)
	if err != nil {
		return nil, nil, err
	}
	all, err := c.Units(ctx)
	if err != nil {
		return nil, nil, err
	}
	us, err := existing(all, ua, withTemplates)
	return c, us, err
}
