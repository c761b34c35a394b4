package fleetd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// Commands is the api.Inspector of a real machine: it runs systemctl and
// journalctl, as fleet's fleetctl did over SSH, but from fleetd and never
// through a shell: the unit's name is one argument of its own, checked
// first. The zero value runs the programs found in PATH.
type Commands struct {
	Systemctl  string // the systemctl program; "systemctl" when empty
	Journalctl string // the journalctl program; "journalctl" when empty
}

var _ api.Inspector = Commands{}

// waitDelay is how long a command may hold its output open after it is
// killed, before Wait gives up on it.
const waitDelay = 2 * time.Second

// maxStderr bounds what is kept of a command's stderr, for its error.
const maxStderr = 8 << 10

// Status returns what `systemctl status --no-pager --full -- <name>`
// prints. systemctl exits 1 to 3 for a unit that is not running, and
// still prints its status: that is an answer, not a failure.
func (c Commands) Status(ctx context.Context, name string) (string, error) {
	if err := unit.ValidateName(name); err != nil {
		return "", fmt.Errorf("fleetd: status: %w", err)
	}
	var out bytes.Buffer
	errOut := &tailBuffer{max: maxStderr}
	cmd := exec.CommandContext(ctx, program(c.Systemctl, "systemctl"), "status", "--no-pager", "--full", "--", name)
	cmd.Stdout, cmd.Stderr, cmd.WaitDelay = &out, errOut, waitDelay
	err := cmd.Run()
	var exit *exec.ExitError
	if err == nil || (errors.As(err, &exit) && exit.ExitCode() >= 1 && exit.ExitCode() <= 3 && out.Len() > 0) {
		return out.String(), nil
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("fleetd: %s: %w", strings.Join(cmd.Args, " "), ctx.Err())
	}
	return "", commandError(cmd, err, errOut)
}

// Journal runs `journalctl --no-pager --unit=<name> --lines=N`, with
// --output and --follow as opts asks, writing its output to w as it
// comes. A followed journal ends when ctx does: journalctl is killed.
func (c Commands) Journal(ctx context.Context, name string, opts api.JournalOptions, w io.Writer) error {
	if err := unit.ValidateName(name); err != nil {
		return fmt.Errorf("fleetd: journal: %w", err)
	}
	if opts.Lines < 0 {
		return fmt.Errorf("fleetd: journal of %s: negative line count %d", name, opts.Lines)
	}
	args := []string{"--no-pager", "--unit=" + name, "--lines=" + strconv.Itoa(opts.Lines)}
	if opts.Output != "" {
		args = append(args, "--output="+opts.Output)
	}
	if opts.Follow {
		args = append(args, "--follow")
	}
	errOut := &tailBuffer{max: maxStderr}
	cmd := exec.CommandContext(ctx, program(c.Journalctl, "journalctl"), args...)
	cmd.Stdout, cmd.Stderr, cmd.WaitDelay = w, errOut, waitDelay
	err := cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("fleetd: %s: %w", strings.Join(cmd.Args, " "), ctx.Err())
	}
	if err != nil {
		return commandError(cmd, err, errOut)
	}
	return nil
}

func program(p, def string) string {
	if p == "" {
		return def
	}
	return p
}

// commandError names the command, its failure and what it said on stderr.
func commandError(cmd *exec.Cmd, err error, stderr *tailBuffer) error {
	msg := strings.TrimSpace(stderr.String())
	if msg == "" {
		return fmt.Errorf("fleetd: %s: %w", strings.Join(cmd.Args, " "), err)
	}
	return fmt.Errorf("fleetd: %s: %w: %s", strings.Join(cmd.Args, " "), err, msg)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
