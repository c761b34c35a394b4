package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The calls of this file go beyond fleet's API v1, and fleet's own
// clients never make them: fleet's fleetctl read a unit's status and
// journal by running systemctl and journalctl over SSH on the unit's
// machine. Here fleetd does it for its own machine, and forwards a
// request for another machine to that machine's fleetd:
//
//	GET /units/<name>/status?machineID=ID
//	    text/plain: what `systemctl status --no-pager --full <name>`
//	    prints on machine ID.
//	GET /units/<name>/journal?machineID=ID&lines=N&follow=true&output=MODE
//	    text/plain: what `journalctl --no-pager --unit=<name> --lines=N`
//	    prints there (N defaults to 10; output is a journalctl --output
//	    mode); with follow, new entries are streamed until the client
//	    goes away.
//
// machineID may be left out for a unit scheduled on one machine only. A
// unit that is not scheduled on the machine is a 404 naming both; a
// machine whose fleetd cannot be reached is a 502 or 503 naming it.

// ForwardedHeader marks a request that a fleetd forwarded to the fleetd of
// the machine it is about; its value is the forwarding machine's ID. A
// fleetd that receives such a request answers it for its own machine or
// refuses it (421): a request is never forwarded twice.
const ForwardedHeader = "Fleet-Forwarded-By"

// ErrorTrailer is the trailer that reports the failure of an answer cut
// short after its first bytes were sent (journalctl failing mid-way, the
// machine's fleetd going away): its value is the JSON of an *Error.
const ErrorTrailer = "Fleet-Error"

// DefaultJournalLines is how many journal entries are shown when the
// request does not say, as with fleet's fleetctl.
const DefaultJournalLines = 10

// MaxJournalLines bounds ?lines.
const MaxJournalLines = 1_000_000

// RemoteTimeout bounds a status call and a journal call that does not
// follow, on the machine and through forwarding.
const RemoteTimeout = time.Minute

// maxStatus bounds the size of a status answer.
const maxStatus = 4 << 20

// Inspector reads the systemd and the journal of the machine fleetd runs
// on. fleetd's real one runs systemctl and journalctl; tests use fakes.
// Unit names are valid (unit.ValidateName) when they reach it.
type Inspector interface {
	// Status returns what `systemctl status` prints of the unit.
	Status(ctx context.Context, unit string) (string, error)
	// Journal writes the unit's journal to w; with opts.Follow it goes
	// on writing new entries until ctx ends.
	Journal(ctx context.Context, unit string, opts JournalOptions, w io.Writer) error
}

// JournalOptions say which part of a journal to read, and how.
type JournalOptions struct {
	Lines  int    // the last Lines entries (journalctl --lines)
	Follow bool   // then wait for new ones (journalctl --follow)
	Output string // journalctl --output mode; "" for its default, short
}

// journalOutputs are journalctl's --output modes.
var journalOutputs = []string{
	"cat", "export", "json", "json-pretty", "json-seq", "json-sse", "short", "short-delta",
	"short-full", "short-iso", "short-iso-precise", "short-monotonic", "short-precise",
	"short-unix", "verbose", "with-unit",
}

// JournalOutputs returns journalctl's --output modes that a journal
// request may ask for.
func JournalOutputs() []string { return slices.Clone(journalOutputs) }

// remoteRequest is a checked status or journal request.
type remoteRequest struct {
	unit      string
	machine   string // the machine it is about, resolved from the schedule
	forwarded string // ForwardedHeader of the request: who forwarded it
	journal   bool
	opts      JournalOptions
}

// query is the query of the request, as forwarded.
func (r remoteRequest) query() string {
	q := url.Values{"machineID": {r.machine}}
	if r.journal {
		q.Set("lines", strconv.Itoa(r.opts.Lines))
		if r.opts.Follow {
			q.Set("follow", "true")
		}
		if r.opts.Output != "" {
			q.Set("output", r.opts.Output)
		}
	}
	return q.Encode()
}

// parseRemote reads a status (journal false) or journal request and
// finds its machine.
func (s *server) parseRemote(r *http.Request, journal bool) (remoteRequest, error) {
	name, err := unitName(r)
	if err != nil {
		return remoteRequest{}, err
	}
	q := r.URL.Query()
	req := remoteRequest{unit: name, forwarded: r.Header.Get(ForwardedHeader), journal: journal}
	if journal {
		if req.opts, err = parseJournalOptions(q.Get("lines"), q.Get("follow"), q.Get("output")); err != nil {
			return remoteRequest{}, err
		}
	}
	if req.machine, err = s.unitMachine(r.Context(), name, q.Get("machineID")); err != nil {
		return remoteRequest{}, err
	}
	if req.forwarded != "" && req.machine != s.opts.MachineID {
		return remoteRequest{}, errorf(http.StatusMisdirectedRequest,
			"request about machine %s, forwarded by %s, reached the fleetd of machine %q: a request is forwarded once only",
			req.machine, req.forwarded, s.opts.MachineID)
	}
	return req, nil
}

// parseJournalOptions reads ?lines, ?follow and ?output.
func parseJournalOptions(lines, follow, output string) (JournalOptions, error) {
	opts := JournalOptions{Lines: DefaultJournalLines, Output: output}
	if lines != "" {
		n, err := strconv.Atoi(lines)
		if err != nil || n < 0 || n > MaxJournalLines {
			return opts, errorf(http.StatusBadRequest, "lines=%s: want a number from 0 to %d", lines, MaxJournalLines)
		}
		opts.Lines = n
	}
	if follow != "" {
		f, err := strconv.ParseBool(follow)
		if err != nil {
			return opts, errorf(http.StatusBadRequest, "follow=%s: want true or false", follow)
		}
		opts.Follow = f
	}
	if output != "" && !slices.Contains(journalOutputs, output) {
		return opts, errorf(http.StatusBadRequest, "output=%s: want one of %s", output, strings.Join(journalOutputs, ", "))
	}
	return opts, nil
}

// unitMachine checks that unit name is scheduled on machine, or, when
// machine is "", returns the one machine it is scheduled on.
func (s *server) unitMachine(ctx context.Context, name, machine string) (string, error) {
	sched, err := s.b.Schedule(ctx)
	if err != nil {
		return "", fmt.Errorf("api: read the schedule: %w", err)
	}
	var on []string
	for _, p := range sched {
		if p.Unit != name {
			continue
		}
		if p.Machine == machine {
			return machine, nil
		}
		on = append(on, p.Machine)
	}
	switch {
	case machine != "":
		return "", errorf(http.StatusNotFound, "unit %s is not scheduled on machine %s", name, machine)
	case len(on) == 0:
		return "", errorf(http.StatusNotFound, "unit %s is not scheduled on any machine", name)
	case len(on) > 1:
		return "", errorf(http.StatusBadRequest, "unit %s is scheduled on %d machines (%s): say which with ?machineID",
			name, len(on), strings.Join(on, ", "))
	}
	return on[0], nil
}

// unitStatus answers GET /units/<name>/status.
func (s *server) unitStatus(w http.ResponseWriter, r *http.Request) error {
	req, err := s.parseRemote(r, false)
	if err != nil {
		return err
	}
	if req.machine != s.opts.MachineID {
		return s.forward(w, r, req)
	}
	in, err := s.inspector(req.machine)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), RemoteTimeout)
	defer cancel()
	out, err := in.Status(ctx, req.unit)
	if err != nil {
		return fmt.Errorf("api: status of %s on machine %s: %w", req.unit, req.machine, err)
	}
	if len(out) > maxStatus {
		out = out[:maxStatus]
	}
	return writeText(w, http.StatusOK, out)
}

// unitJournal answers GET /units/<name>/journal.
func (s *server) unitJournal(w http.ResponseWriter, r *http.Request) error {
	req, err := s.parseRemote(r, true)
	if err != nil {
		return err
	}
	if req.opts.Follow {
		release, err := s.follow(w)
		if err != nil {
			return err
		}
		defer release()
	}
	if req.machine != s.opts.MachineID {
		return s.forward(w, r, req)
	}
	in, err := s.inspector(req.machine)
	if err != nil {
		return err
	}
	ctx, cancel, stopped := s.remoteContext(r, req.opts.Follow)
	defer cancel()
	sw := newStreamWriter(w)
	if req.opts.Follow {
		// A followed journal may stay silent: the client must not wait
		// for the first entry to learn that the request was accepted.
		if err := sw.followed(s.opts.StreamIdle); err != nil {
			return err
		}
	}
	err = in.Journal(ctx, req.unit, req.opts, sw)
	if err != nil {
		err = fmt.Errorf("api: journal of %s on machine %s: %w", req.unit, req.machine, err)
	}
	return sw.end(r.Context(), stopped, err)
}

// inspector returns the Inspector of this server's machine.
func (s *server) inspector(machine string) (Inspector, error) {
	if s.opts.Inspector == nil {
		return nil, errorf(http.StatusNotImplemented, "the fleetd of machine %s cannot read its systemd (it has no inspector)", machine)
	}
	return s.opts.Inspector, nil
}

// remoteContext is the context of a status or journal call: bounded by
// RemoteTimeout unless it follows; a followed one ends when the server
// stops (Options.Stopping), which stopped then reports.
func (s *server) remoteContext(r *http.Request, follow bool) (context.Context, context.CancelFunc, func() bool) {
	if !follow {
		ctx, cancel := context.WithTimeout(r.Context(), RemoteTimeout)
		return ctx, cancel, func() bool { return false }
	}
	ctx, cancel := context.WithCancel(r.Context())
	if s.opts.Stopping == nil {
		return ctx, cancel, func() bool { return false }
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-s.opts.Stopping:
			cancel()
		case <-ctx.Done():
		}
		close(done)
	}()
	stopped := func() bool {
		select {
		case <-s.opts.Stopping:
			return true
		default:
			return false
		}
	}
	return ctx, func() { cancel(); <-done }, stopped
}

// writeText answers code with text as a plain-text body.
func writeText(w http.ResponseWriter, code int, text string) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(text)))
	w.WriteHeader(code)
	if _, err := io.WriteString(w, text); err != nil {
		return fmt.Errorf("api: write answer: %w", err)
	}
	return nil
}
