package fleetctl

import (
	"context"

	"github.com/spf13/pflag"
)

// submitCmd is `fleetctl submit UNIT...`.
type submitCmd struct {
	replace bool
}

func newSubmitCmd() *command {
	c := &submitCmd{}
	return &command{
		name:    "submit",
		summary: "Upload one or more units to the cluster without starting them",
		usage:   "UNIT...",
		desc: `Upload one or more units to the cluster without starting them. Useful for
validating units before they are started. A UNIT is a path to a unit file
(its base name names the unit), or the name of an instance (foo@1.service)
whose template is in the cluster or beside it (foo@.service).

Submit a single unit:
	fleetctl submit foo.service

Submit a directory of units with glob matching:
	fleetctl submit myservice/*`,
		minArgs: 1,
		maxArgs: -1,
		flags:   func(fs *pflag.FlagSet) { bindReplace(fs, &c.replace) },
		run:     c.run,
	}
}

func (c *submitCmd) run(ctx context.Context, s *session, args []string) error {
	ua, err := s.unitArgs(args)
	if err != nil {
		return err
	}
	cl, err := s.cluster(ctx)
	if err != nil {
		return err
	}
	_, _, err = s.ensure(ctx, cl, ua, submitMode{verb: "submit", replace: c.replace})
	return err
}
