package fleetctl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/api"
)

// journalCmd is `fleetctl journal UNIT`.
type journalCmd struct {
	lines   int
	follow  bool
	sudo    bool
	output  string
	machine string
}

func newJournalCmd() *command {
	c := &journalCmd{}
	return &command{
		name:    "journal",
		summary: "Print the journal of a unit in the cluster to stdout",
		usage:   "UNIT",
		desc: `Print the last lines of a unit's journal, as journalctl does on the machine
the unit runs on; fleetd reads it there and hands it over through its API,
so no SSH is needed. With -f, go on printing new entries until interrupted.

Read the last 10 lines:
	fleetctl journal foo.service
Read the last 100 lines, then follow:
	fleetctl journal --lines 100 -f foo.service

A global unit's journal is shown for every machine that runs it, each
under a line "=== UNIT on MACHINE ===" (followed: every line starts with
its machine); --machine shows one machine only (its ID, an ID prefix, or
its IP).`,
		minArgs: 1,
		maxArgs: 1,
		flags: func(fs *pflag.FlagSet) {
			fs.IntVar(&c.lines, "lines", api.DefaultJournalLines, "Number of recent log lines to return")
			fs.BoolVarP(&c.follow, "follow", "f", false, "Continuously print new entries as they are appended to the journal.")
			fs.BoolVar(&c.sudo, "sudo", false, "Accepted for fleet's scripts; no effect: fleetd reads the journal itself")
			fs.StringVar(&c.output, "output", "short", "Output mode, passed to journalctl on the unit's machine: "+strings.Join(api.JournalOutputs(), ", "))
			fs.StringVar(&c.machine, "machine", "", "For a global unit: the machine whose journal to print (ID, ID prefix or IP)")
		},
		run: c.run,
	}
}

func (c *journalCmd) run(ctx context.Context, s *session, args []string) error {
	if c.lines < 0 || c.lines > api.MaxJournalLines {
		return usageErrorf("journal", "--lines=%d: want a number from 0 to %d", c.lines, api.MaxJournalLines)
	}
	if !slices.Contains(api.JournalOutputs(), c.output) {
		return usageErrorf("journal", "--output=%s: want one of %s", c.output, strings.Join(api.JournalOutputs(), ", "))
	}
	cl, units, err := s.existingUnits(ctx, args, false)
	if err != nil {
		return err
	}
	if len(units) > 1 {
		return usageErrorf("journal", "journal shows one unit: %q matches %d units", args[0], len(units))
	}
	places, err := locate(ctx, cl, units, c.machine, "does not appear to be running")
	if err != nil {
		return err
	}
	opts := api.JournalOptions{Lines: c.lines, Follow: c.follow, Output: c.output}
	if c.follow && len(places) > 1 {
		err = followAll(ctx, cl, places, opts, s.stdio)
	} else {
		err = journals(ctx, cl, places, opts, s.out)
	}
	if c.follow && ctx.Err() != nil {
		return nil // interrupted: how a followed journal ends
	}
	return err
}

// journals prints each place's journal in turn, under its header.
func journals(ctx context.Context, cl *conn, places []place, opts api.JournalOptions, out io.Writer) error {
	var errs []error
	for i, p := range places {
		if p.header != "" {
			if i > 0 {
				fmt.Fprintln(out)
			}
			fmt.Fprintln(out, p.header)
		}
		if err := cl.Journal(ctx, p.unit, p.machine, opts, out); err != nil {
			errs = append(errs, remoteError(p, "journal", err))
		}
	}
	return errors.Join(errs...)
}

// followAll follows the journals of several places at once, each line
// prefixed with its machine. A machine whose stream fails is reported on
// stderr at once; the others go on until ctx ends.
func followAll(ctx context.Context, cl *conn, places []place, opts api.JournalOptions, sio stdio) error {
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		failed []string
	)
	for _, p := range places {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &prefixWriter{prefix: "[" + p.legend + "] ", out: sio.out, mu: &mu}
			err := cl.Journal(ctx, p.unit, p.machine, opts, w)
			if cerr := w.close(); err == nil {
				err = cerr
			}
			if err == nil || ctx.Err() != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintln(sio.err, remoteError(p, "journal", err))
			failed = append(failed, p.legend)
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		return fmt.Errorf("journal of %s: following failed on %d of %d machines (%s)",
			places[0].unit, len(failed), len(places), strings.Join(failed, ", "))
	}
	return nil
}

// prefixWriter writes whole lines to out, each after prefix, holding mu
// so that lines of several writers do not mix.
type prefixWriter struct {
	prefix string
	out    io.Writer
	mu     *sync.Mutex
	part   []byte // an unfinished line
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.part = append(w.part, p...)
	end := bytes.LastIndexByte(w.part, '\n')
	if end < 0 {
		return len(p), nil
	}
	lines := w.part[:end+1]
	var b bytes.Buffer
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		b.WriteString(w.prefix)
		b.Write(lines[:i+1])
		lines = lines[i+1:]
	}
	w.part = append(w.part[:0], w.part[end+1:]...)
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.out.Write(b.Bytes()); err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	return len(p), nil
}

// close writes what is left of an unfinished line.
func (w *prefixWriter) close() error {
	if len(w.part) == 0 {
		return nil
	}
	_, err := w.Write([]byte("\n"))
	return err
}
