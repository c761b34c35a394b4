package fleetctl

import (
	"context"
	"fmt"
)

// verifyCmd is `fleetctl verify`, which fleet deprecated with unit
// signing.
type verifyCmd struct{}

func newVerifyCmd() *command {
	c := &verifyCmd{}
	return &command{
		name:    "verify",
		summary: "DEPRECATED - No longer works",
		usage:   "[UNIT...]",
		desc: `fleet once signed units and verify checked their signatures; signing was
removed, so there is nothing to verify. To check a unit file before
submitting it, use "fleetctl plan FILE".`,
		maxArgs: -1,
		run:     c.run,
	}
}

func (c *verifyCmd) run(_ context.Context, s *session, _ []string) error {
	_, err := fmt.Fprintln(s.err, "WARNING: The verify command is deprecated: fleet no longer signs units, so there is nothing to verify. To check a unit file, run 'fleetctl plan FILE'.")
	return err
}
