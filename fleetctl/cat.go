package fleetctl

import (
	"context"
	"fmt"
	"io"
)

// catCmd is `fleetctl cat UNIT...`.
type catCmd struct{}

func newCatCmd() *command {
	c := &catCmd{}
	return &command{
		name:    "cat",
		summary: "Output the contents of a submitted unit",
		usage:   "UNIT...",
		desc: `Output the unit file of one or more submitted units, as the cluster holds
it: sections in order, one "Name=Value" line per option.`,
		minArgs: 1,
		maxArgs: -1,
		run:     c.run,
	}
}

func (c *catCmd) run(ctx context.Context, s *session, args []string) error {
	_, units, err := s.existingUnits(ctx, args, true)
	if err != nil {
		return err
	}
	for i, u := range units {
		f := storedFile(u)
		if i > 0 {
			fmt.Fprintln(s.out)
		}
		if _, err := io.WriteString(s.out, f.Serialize()); err != nil {
			return fmt.Errorf("cat: %w", err)
		}
	}
	return nil
}
