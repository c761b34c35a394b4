package fleetctl

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"
)

// remoteCmd is status, journal and ssh: commands that read a machine's
// own systemd or open a shell there. fleet did it over SSH; this
// fleetctl does not have that path yet, and fleetd's API has no call for
// it either, so they say so.
type remoteCmd struct {
	name    string
	lines   int
	follow  bool
	sudo    bool
	output  string
	machine string
	unit    string
	agent   bool
}

func newStatusCmd() *command {
	c := &remoteCmd{name: "status"}
	return c.command("Output the status of one or more units in the cluster", "UNIT...", 1, nil)
}

func newJournalCmd() *command {
	c := &remoteCmd{name: "journal"}
	return c.command("Print the journal of a unit in the cluster to stdout", "UNIT", 1, func(fs *pflag.FlagSet) {
		fs.IntVar(&c.lines, "lines", 10, "Number of recent log lines to return")
		fs.BoolVarP(&c.follow, "follow", "f", false, "Continuously print new entries as they are appended to the journal.")
		fs.BoolVar(&c.sudo, "sudo", false, "Execute journal command with sudo")
		fs.StringVar(&c.output, "output", "short", "Output mode. This will be passed unaltered to journalctl on the remote host")
		fs.StringVar(&c.machine, "machine", "", "For a global unit: the machine whose journal to print")
	})
}

func newSSHCmd() *command {
	c := &remoteCmd{name: "ssh"}
	return c.command("Open interactive shell on a machine in the cluster", "[MACHINE|UNIT] [COMMAND...]", 0, func(fs *pflag.FlagSet) {
		fs.StringVar(&c.machine, "machine", "", "Open SSH connection to a specific machine.")
		fs.StringVar(&c.unit, "unit", "", "Open SSH connection to machine running provided unit.")
		fs.BoolVarP(&c.agent, "forward-agent", "A", false, "Forward local ssh-agent to target machine.")
	})
}

func (c *remoteCmd) command(summary, usage string, minArgs int, flags func(*pflag.FlagSet)) *command {
	return &command{
		name:    c.name,
		summary: summary,
		usage:   usage,
		desc:    "Not available yet in this fleetctl: it needs SSH to the machines, or a fleetd API call that reads a machine's systemd and journal.",
		minArgs: minArgs,
		maxArgs: -1,
		flags:   flags,
		run:     c.run,
	}
}

func (c *remoteCmd) run(context.Context, *session, []string) error {
	return fmt.Errorf("%s is not available in this fleetctl yet: it needs SSH to the machines (or fleetd's API to read a machine's systemd and journal); use 'fleetctl list-units' for the units' states", c.name)
}
