package fleetctl

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"
)

// helpCmd is `fleetctl help [COMMAND]`.
type helpCmd struct{}

func newHelpCmd() *command {
	c := &helpCmd{}
	return &command{
		name:    "help",
		summary: "Show a list of commands or help for one command",
		usage:   "[COMMAND]",
		maxArgs: 1,
		run:     c.run,
	}
}

func (c *helpCmd) run(_ context.Context, s *session, args []string) error {
	if len(args) == 0 {
		return writeUsage(s.out, s.gfs)
	}
	cmd := findCommand(args[0])
	if cmd == nil {
		return unknownCommand(args[0])
	}
	return writeCommandUsage(s.out, cmd)
}

// writeUsage writes fleetctl's help: the commands and the global flags.
func writeUsage(w io.Writer, gfs *pflag.FlagSet) error {
	var b strings.Builder
	b.WriteString("NAME:\n\tfleetctl - fleetctl is a command-line interface to fleet, the cluster-wide CoreOS init system.\n\n")
	b.WriteString("USAGE:\n\tfleetctl [global options] <command> [command options] [arguments...]\n\n")
	b.WriteString("VERSION:\n\t" + Version + "\n\nCOMMANDS:\n")
	tw := tabwriter.NewWriter(&b, 0, 8, 1, '\t', 0)
	for _, c := range commands() {
		if !c.hidden {
			fmt.Fprintf(tw, "\t%s\t%s\n", c.name, c.summary)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("help: %w", err)
	}
	b.WriteString("\nGLOBAL OPTIONS:\n" + gfs.FlagUsages())
	b.WriteString("\nGlobal options can also be configured via upper-case environment variables prefixed by \"" + envPrefix + "\"\n")
	b.WriteString("For example, \"some-flag\" => \"" + envPrefix + "SOME_FLAG\"\n\n")
	b.WriteString("Run \"fleetctl help <command>\" for more details on a specific command.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeCommandUsage writes one command's help: its own flags, not the
// global ones.
func writeCommandUsage(w io.Writer, c *command) error {
	own := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	if c.flags != nil {
		c.flags(own)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "NAME:\n\tfleetctl %s - %s\n\n", c.name, c.summary)
	fmt.Fprintf(&b, "USAGE:\n\t%s\n", strings.Join(strings.Fields("fleetctl "+c.name+" "+optionsWord(own)+" "+c.usage), " "))
	if c.desc != "" {
		b.WriteString("\nDESCRIPTION:\n")
		for _, line := range strings.Split(strings.TrimRight(c.desc, "\n"), "\n") {
			if line != "" {
				b.WriteString("\t" + line)
			}
			b.WriteString("\n")
		}
	}
	if own.HasFlags() {
		b.WriteString("\nOPTIONS:\n" + own.FlagUsages())
	}
	b.WriteString("\nGlobal options (fleetctl help) apply to every command.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func optionsWord(fs *pflag.FlagSet) string {
	if fs.HasFlags() {
		return "[command options]"
	}
	return ""
}
