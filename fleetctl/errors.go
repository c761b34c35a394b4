package fleetctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/fleetsim/fleet/api"
)

// Exit codes Main returns.
const (
	ExitOK    = 0 // the command did what was asked
	ExitError = 1 // it failed at run time: a unit, a machine, the cluster
	ExitUsage = 2 // the command line is wrong: unknown command or flag, missing argument
)

// UsageError is a mistake on the command line; Main exits with ExitUsage.
type UsageError struct {
	Cmd string // the command concerned, "" for the global part
	Err error
}

// Error returns the message, naming what is wrong.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(cmd, format string, args ...any) error {
	return &UsageError{Cmd: cmd, Err: fmt.Errorf(format, args...)}
}

// UnitError is a failure that concerns one unit. Its message starts with
// the unit, as fleet's did: "Unit hello.service not found".
type UnitError struct {
	Unit string // the unit's name
	What string // what went wrong, e.g. "not found", "cannot be scheduled"
	Err  error  // the cause, if any
}

// Error returns "Unit <name> <what>[: <cause>]".
func (e *UnitError) Error() string {
	s := "Unit " + e.Unit + " " + e.What
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *UnitError) Unwrap() error { return e.Err }

func notFound(name string) error { return &UnitError{Unit: name, What: "not found"} }

// ReachError says that fleetctl could not talk to the endpoint at all.
type ReachError struct {
	Endpoint string // as given with --endpoint
	What     string // "fleetd" or "etcd"
	Err      error
}

// Error returns "cannot reach fleetd at <endpoint>: <cause>", the cause
// cut down to the network's own words.
func (e *ReachError) Error() string {
	cause := e.Err.Error()
	var op *net.OpError
	var ne net.Error
	switch {
	case errors.As(e.Err, &op):
		cause = op.Error()
	case errors.As(e.Err, &ne) && ne.Timeout(), errors.Is(e.Err, context.DeadlineExceeded):
		cause = "no answer within the request timeout (--request-timeout)"
	}
	return fmt.Sprintf("cannot reach %s at %s: %s%s", e.What, e.Endpoint, cause, tlsFlagHint(cause))
}

// tlsFlagHint names the flag that answers a refused TLS handshake,
// unless the cause names it already.
func tlsFlagHint(cause string) string {
	switch {
	case strings.Contains(cause, "--"):
		return ""
	case strings.Contains(cause, "certificate required"):
		return " (the server requires a client certificate: --cert-file and --key-file)"
	case strings.Contains(cause, "certificate signed by unknown authority"):
		return " (give the server's CA with --ca-file)"
	}
	return ""
}

// Unwrap returns the cause.
func (e *ReachError) Unwrap() error { return e.Err }

// ExitStatusError is the exit status of a command that ran on a machine
// (fleetctl ssh) and failed: Main exits with it, as ssh does, and prints
// nothing more, the command having said what went wrong itself.
type ExitStatusError struct {
	Status int // 1 to 255
}

// Error returns "remote command exited with status N".
func (e *ExitStatusError) Error() string {
	return fmt.Sprintf("remote command exited with status %d", e.Status)
}

// exitCode reports err on w and returns the exit code it calls for.
func exitCode(w io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	var es *ExitStatusError
	if errors.As(err, &es) {
		return es.Status
	}
	fmt.Fprintln(w, strings.TrimRight(err.Error(), "\n"))
	var ue *UsageError
	if errors.As(err, &ue) {
		if ue.Cmd != "" {
			fmt.Fprintf(w, "Run 'fleetctl help %s' for usage.\n", ue.Cmd)
		} else {
			fmt.Fprintln(w, "Run 'fleetctl help' for usage.")
		}
		return ExitUsage
	}
	return ExitError
}

// reachability turns a transport failure into a ReachError; the server's
// own answers (*api.Error) pass through.
func reachability(endpoint, what string, err error) error {
	if err == nil {
		return nil
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted: %w", err)
	}
	return &ReachError{Endpoint: endpoint, What: what, Err: err}
}

// serverMessage returns what the server said in err, without the
// "api: 400 Bad Request:" preamble, or err's text.
func serverMessage(err error) string {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}

// serverError shows what the server said, without the API's preamble,
// and wraps the whole error.
type serverError struct{ err error }

func (e serverError) Error() string { return serverMessage(e.err) }
func (e serverError) Unwrap() error { return e.err }
