package fleetctl

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/api"
)

// statusCmd is `fleetctl status UNIT...`.
type statusCmd struct {
	machine string
}

func newStatusCmd() *command {
	c := &statusCmd{}
	return &command{
		name:    "status",
		summary: "Output the status of one or more units in the cluster",
		usage:   "UNIT...",
		desc: `Output what 'systemctl status' says of one or more units, on the machine
each runs on. fleetd reads it there and hands it over through its API: no
SSH is needed (fleet ran systemctl over SSH). Globs match the cluster's
units: fleetctl status 'web@*'.

A global unit is shown on every machine that runs it, each under a line
"=== UNIT on MACHINE ==="; --machine shows one machine only (its ID, an
ID prefix, or its IP).

A machine's fleetd must serve its API over http:// (api_listen) for
another fleetd to reach it.`,
		minArgs: 1,
		maxArgs: -1,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&c.machine, "machine", "", "Show the units on this machine only (ID, ID prefix or IP); for global units")
		},
		run: c.run,
	}
}

func (c *statusCmd) run(ctx context.Context, s *session, args []string) error {
	cl, units, err := s.existingUnits(ctx, args, false)
	if err != nil {
		return err
	}
	places, err := locate(ctx, cl, units, c.machine, "does not appear to be loaded")
	if err != nil {
		return err
	}
	var errs []error
	for i, p := range places {
		// A blank line between two statuses, as systemctl prints them.
		if i > 0 {
			fmt.Fprintln(s.out)
		}
		if p.header != "" {
			fmt.Fprintln(s.out, p.header)
		}
		out, err := cl.Status(ctx, p.unit, p.machine)
		if err != nil {
			errs = append(errs, remoteError(p, "status", err))
			continue
		}
		if _, err := io.WriteString(s.out, out); err != nil {
			return fmt.Errorf("status: %w", err)
		}
		if err := writeReason(ctx, s.out, cl, p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// writeReason prints the agent's word on the unit's trouble on that
// machine, if it has any ("fleet: start job not done after 2m0s"): what
// systemctl cannot tell, such as a unit file that could not be written.
func writeReason(ctx context.Context, w io.Writer, cl *conn, p place) error {
	states, err := cl.UnitStates(ctx, api.StateFilter{UnitName: p.unit, MachineID: p.machine})
	if err != nil {
		return fmt.Errorf("status %s: %w", p.unit, err)
	}
	for _, st := range states {
		if st.MachineID == p.machine && st.Reason != "" {
			if _, err := fmt.Fprintf(w, "fleet: %s\n", st.Reason); err != nil {
				return fmt.Errorf("status: %w", err)
			}
		}
	}
	return nil
}
