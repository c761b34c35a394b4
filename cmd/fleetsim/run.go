package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/fleetsim/fleet/internal/shortdur"
	"github.com/fleetsim/fleet/sim"
)

// Exit codes.
const (
	exitOK     = 0 // the run passed
	exitFailed = 1 // violations, or failed asserts
	exitUsage  = 2 // bad flags, or a bad scenario file
	exitError  = 3 // a file could not be written, or the run could not be built
)

// env is the outside world of one invocation.
type env struct {
	stdout, stderr io.Writer
	terminal       bool // stderr is a terminal: draw the progress line
}

// job is a simulation ready to run.
type job struct {
	world    *sim.World
	until    time.Duration
	name     string                   // scenario name, "" for the workload
	check    func(sim.Result) []error // the scenario's asserts, if any
	scenario *sim.Scenario            // the scenario that runs, nil for the workload
	build    time.Duration            // wall time to build the world
	killNote string                   // "10% at 20m", for the workload
}

// run is the whole command: parse, build, run, print, write. It returns
// the exit code.
func run(args []string, e env) int {
	o, err := parseArgs(args)
	if err != nil {
		return e.fail(err)
	}
	if o.help {
		usage(e.stdout)
		return exitOK
	}
	j, err := prepare(o)
	if err != nil {
		return e.fail(err)
	}
	if err := emit(o, j); err != nil { // before the run: a failing run keeps its file
		return e.fail(err)
	}
	var report *os.File
	if o.report != "" { // created before the run, so that a bad path fails fast
		if report, err = os.Create(o.report); err != nil {
			return e.fail(usageError("--report: %w", err))
		}
		defer report.Close()
	}
	m, err := execute(j, o, e)
	if err != nil {
		return e.fail(err)
	}
	r := j.world.Result()
	var asserts []error
	if j.check != nil {
		asserts = j.check(r)
	}
	s := newSummary(o, j, &r, m, asserts)
	code := exitOK
	if !s.OK {
		code = exitFailed
	}
	if err := e.print(o, s); err != nil {
		return e.fail(err)
	}
	if report != nil {
		if err := writeReport(report, o, j, s, &r); err != nil {
			return e.fail(err)
		}
		if err := report.Close(); err != nil {
			return e.fail(fmt.Errorf("--report: %w", err))
		}
	}
	return code
}

// fail prints err and returns its exit code.
func (e env) fail(err error) int {
	fmt.Fprintf(e.stderr, "fleetsim: %v\n", err)
	var u usageErr
	switch {
	case errors.As(err, &u):
		fmt.Fprintln(e.stderr, "Run 'fleetsim --help' for the flags.")
		return exitUsage
	case errors.Is(err, sim.ErrScenario):
		return exitUsage
	}
	return exitError
}

// print writes the summary: text or JSON on stdout, and for a failing run
// the failures, the seed and the replay command on stderr.
func (e env) print(o *options, s *summary) error {
	var err error
	switch {
	case o.json:
		err = s.writeJSON(e.stdout)
	case !o.quiet || !s.OK:
		err = s.writeText(e.stdout)
	}
	if err != nil {
		return fmt.Errorf("writing the summary: %w", err)
	}
	if !s.OK {
		fmt.Fprintf(e.stderr, "fleetsim: FAIL with seed %d: %s\n", s.Seed, strings.Join(s.failureCounts(), ", "))
		for _, a := range s.AssertsFailed {
			fmt.Fprintf(e.stderr, "  %s\n", a)
		}
		fmt.Fprintf(e.stderr, "replay: %s\n", s.Replay)
		if o.swarm && o.emitScenario == "" {
			fmt.Fprintf(e.stderr, "keep it as a scenario file: %s --emit-scenario swarm-%d.sim\n", s.Replay, s.Seed)
		}
	}
	return nil
}

// emit writes the scenario of --emit-scenario.
func emit(o *options, j *job) error {
	if o.emitScenario == "" {
		return nil
	}
	if j.scenario == nil {
		return usageError("--emit-scenario: only a scenario file or a swarm is a scenario")
	}
	if err := os.WriteFile(o.emitScenario, []byte(j.scenario.String()), 0o644); err != nil {
		return fmt.Errorf("--emit-scenario: %w", err)
	}
	return nil
}

// prepare builds the world the options ask for.
func prepare(o *options) (*job, error) {
	start := time.Now()
	var (
		j   *job
		err error
	)
	switch o.mode() {
	case "scenario":
		j, err = prepareScenario(o)
	case "swarm":
		j, err = fromScenario(o, sim.Swarm(o.seed, o.machines, o.units))
	default:
		j, err = prepareWorkload(o)
	}
	if err != nil {
		return nil, err
	}
	j.build = time.Since(start)
	return j, nil
}

func prepareWorkload(o *options) (*job, error) {
	w, err := sim.New(o.workloadConfig())
	if err != nil {
		return nil, usageError("%w", err)
	}
	wl := sim.Workload{Seed: o.seed, Machines: o.machines, Units: o.units, KillFraction: o.kill, KillAt: o.killAt}
	if err := wl.Populate(w); err != nil {
		return nil, fmt.Errorf("building the workload: %w", err)
	}
	j := &job{world: w, until: o.duration}
	if o.kill > 0 {
		j.killNote = fmt.Sprintf("%s at %s", o.flags.Lookup("kill").Value.String(), shortdur.Format(o.killAt))
	}
	return j, nil
}

func prepareScenario(o *options) (*job, error) {
	f, err := os.Open(o.scenario)
	if err != nil {
		return nil, usageError("--scenario: %w", err)
	}
	defer f.Close()
	sc, err := sim.ParseScenario(o.scenario, f)
	if err != nil {
		return nil, err
	}
	return fromScenario(o, sc)
}

// fromScenario builds a scenario's world with the command line's seed,
// knobs and duration, when given, in place of its own.
func fromScenario(o *options, sc *sim.Scenario) (*job, error) {
	sc.Config = o.override(sc.Config)
	if o.changed("duration") {
		sc.Until = o.duration
	}
	if sc.Until <= 0 {
		sc.Until = o.duration
	}
	w, err := sc.World()
	if err != nil {
		return nil, err
	}
	return &job{world: w, until: sc.Until, name: sc.Name, check: sc.Check, scenario: sc}, nil
}

// measure is what the command measured around the simulation.
type measure struct {
	build, run time.Duration
	cpu        time.Duration // CPU time of the run, 0 where unknown
	mem        memory
}

// execute runs the job to its end, drawing progress and sampling memory.
func execute(j *job, o *options, e env) (measure, error) {
	stop, err := startProfile(o.cpuProfile)
	if err != nil {
		return measure{}, err
	}
	p := newProgress(e.stderr, e.terminal && !o.quiet, j.until)
	j.world.OnProgress(progressEvery, p.update)
	p.begin()
	j.world.RunUntil(j.until)
	p.end()
	if err := stop(); err != nil {
		return measure{}, err
	}
	if err := writeHeapProfile(o.memProfile); err != nil {
		return measure{}, err
	}
	return measure{build: j.build, run: p.elapsed(), cpu: p.cpu, mem: p.mem}, nil
}

// writeHeapProfile writes the heap profile of --memprofile, if asked,
// after a collection: what is live is what the world holds at its end.
func writeHeapProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return usageError("--memprofile: %w", err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--memprofile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	return nil
}

// startProfile starts the CPU profile of --cpuprofile, if asked, and
// returns what stops it and closes its file.
func startProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, usageError("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		return nil
	}, nil
}
