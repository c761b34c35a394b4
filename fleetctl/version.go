package fleetctl

import (
	"context"
	"fmt"
	"io"
)

// versionCmd is `fleetctl version`.
type versionCmd struct{}

func newVersionCmd() *command {
	c := &versionCmd{}
	return &command{
		name:    "version",
		summary: "Print the version of fleetctl and of the fleetd it talks to",
		desc: `Print fleetctl's version, then the version of the fleetd at --endpoint (from
its API's Server header). With --driver=etcd there is no fleetd to ask.
--version prints fleetctl's version alone, without asking anything.`,
		run: c.run,
	}
}

func (c *versionCmd) run(ctx context.Context, s *session, _ []string) error {
	if err := printVersionLine(s.out); err != nil {
		return err
	}
	cl, err := s.cluster(ctx)
	if err != nil {
		return err
	}
	if cl.serverVersion == nil {
		_, err := fmt.Fprintf(s.out, "fleetd version unknown (--driver=%s reads the registry without fleetd)\n", s.g.driver)
		return err
	}
	v, err := cl.serverVersion(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.out, "fleetd version %s\n", v)
	return err
}

// printVersionLine prints fleetctl's own version, as fleet did.
func printVersionLine(w io.Writer) error {
	_, err := fmt.Fprintf(w, "fleetctl version %s\n", Version)
	return err
}
