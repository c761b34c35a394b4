// Package demo walks the story the project's seeds tell, on a running
// local lab, with the real fleetctl: a unit's whole life (submit, load,
// start, stop, unload, destroy), template instances spread by
// Conflicts, a Global unit, MachineMetadata, a template with Ports=, and
// a machine crash with its units relaunched elsewhere, timed. Every
// command is printed with its output, as a transcript.
package demo

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/lab/cluster"
)

// units are the demo's unit files.
//
//go:embed units/*.service
var units embed.FS

// Options say where the lab and the tools are.
type Options struct {
	// Fleetctl is the fleetctl binary to run.
	Fleetctl string
	// Dir is the lab's state directory (cluster.ReadState reads it).
	Dir string
	// Out gets the transcript.
	Out io.Writer
}

// demo is one walk through the story.
type demo struct {
	Options
	ctx      context.Context
	work     string // the unit files are here; fleetctl runs here
	endpoint string
	client   *api.Client
	st       *cluster.State
	start    time.Time

	helloStarted time.Time // when fleetctl start hello.service returned
	remote       bool      // fleetctl status and journal work
}

// Run walks the story on the lab in o.Dir, which must have at least
// three machines up.
func Run(ctx context.Context, o Options) error {
	st, err := cluster.ReadState(o.Dir)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if len(st.Machines) < 3 {
		return fmt.Errorf("demo: the story needs at least 3 machines, the lab has %d", len(st.Machines))
	}
	work, err := os.MkdirTemp("", "fleetlab-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(work)
	if err := writeUnits(work); err != nil {
		return err
	}
	d := &demo{Options: o, ctx: ctx, work: work, st: st, endpoint: st.Machines[0].Endpoint, start: time.Now()}
	d.client, err = api.NewClient(d.endpoint, &http.Client{Timeout: 3 * time.Second})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return d.story()
}

// writeUnits copies the demo's unit files into dir.
func writeUnits(dir string) error {
	return fs.WalkDir(units, "units", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := units.ReadFile(path)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		return nil
	})
}

// act prints the title of a part of the story, in bold on a terminal.
func (d *demo) act(title string, lines ...string) {
	bold, plain := "", ""
	if f, ok := d.Out.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			bold, plain = "\033[1m", "\033[0m"
		}
	}
	fmt.Fprintf(d.Out, "\n%s== %s%s  [%s]\n", bold, title, plain, d.elapsed())
	for _, l := range lines {
		fmt.Fprintf(d.Out, "   %s\n", l)
	}
}

// note prints a remark of the narrator.
func (d *demo) note(format string, args ...any) {
	fmt.Fprintf(d.Out, "   # %s\n", fmt.Sprintf(format, args...))
}

func (d *demo) elapsed() string {
	return fmt.Sprintf("%5.1fs", time.Since(d.start).Seconds())
}

// fleetctl runs fleetctl with args, printing the command and its output.
func (d *demo) fleetctl(args ...string) (string, error) {
	fmt.Fprintf(d.Out, "$ fleetctl %s\n", strings.Join(args, " "))
	ctx, cancel := context.WithTimeout(d.ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.Fleetctl, args...)
	cmd.Dir = d.work
	cmd.Env = append(os.Environ(), "FLEETCTL_ENDPOINT="+d.endpoint)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	fmt.Fprint(d.Out, indentOutput(out.String()))
	if err != nil {
		return out.String(), fmt.Errorf("demo: fleetctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// must runs fleetctl and stops the story if it fails.
func (d *demo) must(args ...string) error {
	_, err := d.fleetctl(args...)
	return err
}

// onMachine runs a command inside a machine, printed as the fleetlab
// command that does the same.
func (d *demo) onMachine(hostname string, args ...string) error {
	fmt.Fprintf(d.Out, "$ bin/fleetlab exec %s %s\n", hostname, strings.Join(args, " "))
	m, err := d.st.Machine(hostname)
	if err != nil {
		return err
	}
	cmd, err := m.Command(args...)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	fmt.Fprint(d.Out, indentOutput(out.String()))
	if err != nil {
		return fmt.Errorf("demo: on %s: %s: %w", hostname, strings.Join(args, " "), err)
	}
	return nil
}

// indentOutput returns a command's output as printed: as it is, with a
// final newline and a blank line after.
func indentOutput(s string) string {
	if s == "" {
		return "\n"
	}
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s + "\n"
}

// hostOf returns the hostname of the machine with that ID.
func (d *demo) hostOf(id string) string {
	for _, m := range d.st.Machines {
		if m.ID == id {
			return m.Hostname
		}
	}
	return id
}

// states returns the unit states fleet reports, unit -> hostnames.
func (d *demo) states() (map[string][]string, map[string]api.UnitState, error) {
	ss, err := d.client.UnitStates(d.ctx, api.StateFilter{})
	if err != nil {
		return nil, nil, err
	}
	where := map[string][]string{}
	byKey := map[string]api.UnitState{}
	for _, s := range ss {
		where[s.Name] = append(where[s.Name], d.hostOf(s.MachineID))
		byKey[s.Name+"@"+d.hostOf(s.MachineID)] = s
	}
	return where, byKey, nil
}

// waitActive waits until every named unit reports active/running on
// some machine (want of them, for a Global unit), quietly, and prints
// how long it took.
func (d *demo) waitActive(want map[string]int) error {
	start := time.Now()
	err := cluster.Poll(d.ctx, "units to be active", func(context.Context) (bool, error) {
		_, byKey, err := d.states()
		if err != nil {
			return false, err
		}
		count := map[string]int{}
		for _, s := range byKey {
			if s.SystemdActiveState == "active" && s.SystemdSubState == "running" {
				count[s.Name]++
			}
		}
		for name, n := range want {
			if count[name] < n {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		d.note("all active/running %v later", took.Round(10*time.Millisecond))
	}
	return nil
}

// notThereYet reports whether fleetctl said a command is not available
// in it yet.
func notThereYet(out string, err error) bool {
	return err != nil && (strings.Contains(out, "not there yet") || strings.Contains(out, "not available"))
}
