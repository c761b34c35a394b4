package fleetctl

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// restartCmd is `fleetctl restart UNIT...`.
type restartCmd struct {
	block blockFlags
}

func newRestartCmd() *command {
	c := &restartCmd{}
	return &command{
		name:    "restart",
		summary: "Instruct systemd to restart one or more units in the cluster.",
		usage:   "UNIT...",
		desc: `Stop, then start again, one or more units: each is stopped and waited for
(loaded), then started and waited for (launched). A unit that is not
running is just started; a global unit is stopped on every machine first.`,
		minArgs: 1,
		maxArgs: -1,
		flags:   func(fs *pflag.FlagSet) { c.block.bind(fs, "restarted") },
		run:     c.run,
	}
}

func (c *restartCmd) run(ctx context.Context, s *session, args []string) error {
	if err := c.block.check("restart"); err != nil {
		return err
	}
	cl, units, err := s.existingUnits(ctx, args, false)
	if err != nil {
		return err
	}
	var running []api.Unit
	for _, u := range units {
		if u.DesiredState == unit.StateLaunched.String() {
			running = append(running, u)
		}
	}
	stop := c.block
	stop.noBlock = false // the stop must be over before the start
	if err := s.setTargets(ctx, cl, running, "stop", unit.StateLoaded, stop, nil); err != nil {
		return err
	}
	if err := c.waitGlobalsStopped(ctx, s, cl, running); err != nil {
		return err
	}
	for i := range units {
		units[i].DesiredState = unit.StateLoaded.String()
	}
	return s.setTargets(ctx, cl, units, "start", unit.StateLaunched, c.block, nil)
}

// waitGlobalsStopped waits until no machine reports a global unit of
// units active.
func (c *restartCmd) waitGlobalsStopped(ctx context.Context, s *session, cl *conn, units []api.Unit) error {
	for _, u := range units {
		if !isGlobal(u) {
			continue
		}
		for attempt := 1; ; attempt++ {
			states, err := cl.UnitStates(ctx, api.StateFilter{UnitName: u.Name})
			if err != nil {
				return err
			}
			if !anyActive(states) {
				break
			}
			if c.block.attempts > 0 && attempt >= c.block.attempts {
				return &UnitError{Unit: u.Name, What: fmt.Sprintf("is still active after %d attempts (--block-attempts)", attempt)}
			}
			if err := sleep(ctx, s.opts.poll); err != nil {
				return err
			}
		}
	}
	return nil
}

func anyActive(states []api.UnitState) bool {
	for _, st := range states {
		if st.SystemdActiveState == "active" {
			return true
		}
	}
	return false
}
