package fleetctl

import (
	"context"
	"errors"

	"github.com/spf13/pflag"
)

// sshCmd is `fleetctl ssh`: a shell on a machine of the cluster, over
// SSH. This fleetctl does not have that path yet, so it says so. (status
// and journal, which fleet also ran over SSH, go through fleetd's API.)
type sshCmd struct {
	machine string
	unit    string
	agent   bool
}

func newSSHCmd() *command {
	c := &sshCmd{}
	return &command{
		name:    "ssh",
		summary: "Open interactive shell on a machine in the cluster",
		usage:   "[MACHINE|UNIT] [COMMAND...]",
		desc: `Not available yet in this fleetctl: it needs SSH to the machines. For a
unit's status and journal, which need no SSH, see 'fleetctl status' and
'fleetctl journal'.`,
		maxArgs: -1,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&c.machine, "machine", "", "Open SSH connection to a specific machine.")
			fs.StringVar(&c.unit, "unit", "", "Open SSH connection to machine running provided unit.")
			fs.BoolVarP(&c.agent, "forward-agent", "A", false, "Forward local ssh-agent to target machine.")
		},
		run: c.run,
	}
}

func (c *sshCmd) run(context.Context, *session, []string) error {
	return errors.New("ssh is not available in this fleetctl yet: it needs SSH to the machines; 'fleetctl status' and 'fleetctl journal' read a unit's machine through fleetd instead")
}
