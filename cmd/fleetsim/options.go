package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/internal/shortdur"
	"github.com/fleetsim/fleet/sim"
)

// usageErr is an error in the command line: exit code 2.
type usageErr struct{ err error }

func (e usageErr) Error() string { return e.err.Error() }
func (e usageErr) Unwrap() error { return e.err }

// usageError formats an error in the command line (%w allowed).
func usageError(format string, args ...any) error {
	return usageErr{fmt.Errorf(format, args...)}
}

// options is the parsed command line.
type options struct {
	machines, units int
	seed            uint64
	kill            float64 // fraction of the machines, from --kill N%
	killAt          time.Duration
	duration        time.Duration
	scenario        string
	swarm           bool
	json            bool
	report          string
	quiet           bool
	cpuProfile      string
	memProfile      string
	emitScenario    string
	cfg             sim.Config // knobs; fields not set stay as the run's own
	help            bool

	flags *pflag.FlagSet
}

// changed reports whether the flag called name was given.
func (o *options) changed(name string) bool { return o.flags.Changed(name) }

// mode names what runs: the generated workload, a scenario file or a swarm.
func (o *options) mode() string {
	switch {
	case o.scenario != "":
		return "scenario"
	case o.swarm:
		return "swarm"
	}
	return "workload"
}

// newFlags defines the flags, in the order usage and replay print them.
func newFlags(o *options) *pflag.FlagSet {
	fs := pflag.NewFlagSet("fleetsim", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(io.Discard)
	def := sim.DefaultConfig()
	fs.IntVar(&o.machines, "machines", 10000, "machines in the generated workload (or the swarm)")
	fs.IntVar(&o.units, "units", 100000, "units in the generated workload (or the swarm)")
	fs.Uint64Var(&o.seed, "seed", 7, "seed of every random choice; overrides a scenario's seed when given")
	fs.String("kill", "10%", "`PERCENT` of the machines that crash at --kill-at, as 10% (0 for none)")
	fs.DurationVar(&o.killAt, "kill-at", 20*time.Minute, "virtual time of the kill wave")
	fs.DurationVar(&o.duration, "duration", time.Hour, "virtual time to simulate (overrides a scenario's run time when given)")
	fs.StringVar(&o.scenario, "scenario", "", "run the scenario `FILE` and check its asserts")
	fs.BoolVar(&o.swarm, "swarm", false, "run a random swarm scenario of --machines and --units from --seed")
	fs.DurationVar(&o.cfg.AgentTTL, "agent-ttl", def.AgentTTL, "machine lease TTL (fleet's agent_ttl)")
	fs.DurationVar(&o.cfg.HeartbeatInterval, "heartbeat", def.HeartbeatInterval, "how often an agent renews its lease")
	fs.DurationVar(&o.cfg.EngineInterval, "reconcile", def.EngineInterval, "engine reconcile interval (engine_reconcile_interval)")
	fs.DurationVar(&o.cfg.AgentInterval, "agent-interval", def.AgentInterval, "periodic agent reconcile interval")
	fs.DurationVar(&o.cfg.LeaderTTL, "leader-ttl", def.LeaderTTL, "engine leader lease TTL")
	fs.DurationVar(&o.cfg.Latency, "latency", def.Latency, "one-way registry latency")
	fs.DurationVar(&o.cfg.LatencyJitter, "latency-jitter", def.LatencyJitter, "uniform extra registry latency")
	fs.Float64Var(&o.cfg.HeartbeatLoss, "heartbeat-loss", def.HeartbeatLoss, "probability that a heartbeat is lost")
	fs.DurationVar(&o.cfg.StartTime, "start-time", def.StartTime, "time a unit takes to become active")
	fs.DurationVar(&o.cfg.StartJitter, "start-jitter", def.StartJitter, "uniform extra start time")
	fs.Float64Var(&o.cfg.StartFailProb, "start-fail", def.StartFailProb, "probability that a unit's start fails")
	fs.Float64Var(&o.cfg.CrashPerHour, "crash-rate", def.CrashPerHour, "crashes per hour of a running unit")
	fs.DurationVar(&o.cfg.SampleInterval, "sample", def.SampleInterval, "time series sampling interval")
	fs.BoolVar(&o.json, "json", false, "print the summary as one JSON object")
	fs.StringVar(&o.report, "report", "", "write an HTML report to `FILE`")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress line, and no summary unless the run fails")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to `FILE`")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile at the end of the run to `FILE` (what the world holds, and what it allocated)")
	fs.StringVar(&o.emitScenario, "emit-scenario", "", "write the scenario that runs (a swarm's, or a file's with the flags' changes) to `FILE`, to replay it or keep it as a test")
	fs.BoolVarP(&o.help, "help", "h", false, "show this help")
	return fs
}

// configFlags are the flags that set sim.Config fields.
var configFlags = []string{"agent-ttl", "heartbeat", "reconcile", "agent-interval", "leader-ttl", "latency",
	"latency-jitter", "heartbeat-loss", "start-time", "start-jitter", "start-fail", "crash-rate", "sample"}

// parseArgs reads the command line. Every error is a usageErr naming
// the flag at fault.
func parseArgs(args []string) (*options, error) {
	o := &options{}
	o.flags = newFlags(o)
	if err := o.flags.Parse(args); err != nil {
		return nil, usageError("%v", err)
	}
	if o.help {
		return o, nil
	}
	if n := o.flags.NArg(); n > 0 {
		return nil, usageError("unexpected argument %q (flags only)", o.flags.Arg(0))
	}
	kill, err := parsePercent(o.flags.Lookup("kill").Value.String())
	if err != nil {
		return nil, usageError("--kill: %v", err)
	}
	o.kill = kill
	if err := o.check(); err != nil {
		return nil, err
	}
	return o, nil
}

// parsePercent reads "10%", "2.5%" or "0" as a fraction.
func parsePercent(s string) (float64, error) {
	if s == "0" {
		return 0, nil
	}
	num, ok := strings.CutSuffix(s, "%")
	if !ok {
		return 0, fmt.Errorf("%q is not a percentage (write it like 10%%)", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || v > 100 {
		return 0, fmt.Errorf("%q is not a percentage between 0%% and 100%%", s)
	}
	return v / 100, nil
}

// check rejects values the run cannot use, and flags that do not go
// together.
func (o *options) check() error {
	switch {
	case o.machines < 1:
		return usageError("--machines %d: want at least 1", o.machines)
	case o.units < 0:
		return usageError("--units %d: want 0 or more", o.units)
	case o.duration <= 0:
		return usageError("--duration %v: want a positive duration", o.duration)
	case o.killAt < 0:
		return usageError("--kill-at %v: want 0 or later", o.killAt)
	case o.kill > 0 && o.killAt > o.duration && o.mode() == "workload":
		return usageError("--kill-at %v is after the end of the run (--duration %v)", o.killAt, o.duration)
	case o.scenario != "" && o.swarm:
		return usageError("--scenario and --swarm: choose one")
	}
	if o.mode() != "workload" {
		for _, name := range []string{"kill", "kill-at"} {
			if o.changed(name) {
				return usageError("--%s applies to the generated workload, not to --%s", name, o.mode())
			}
		}
	}
	if o.mode() == "scenario" {
		for _, name := range []string{"machines", "units"} {
			if o.changed(name) {
				return usageError("--%s: a scenario file sets its own machines and units", name)
			}
		}
	}
	return o.checkConfig()
}

// checkConfig checks the Config knobs, naming the flags.
func (o *options) checkConfig() error {
	for _, name := range configFlags {
		f := o.flags.Lookup(name)
		if f.Value.Type() != "duration" {
			continue
		}
		if d, err := time.ParseDuration(f.Value.String()); err == nil && d < 0 {
			return usageError("--%s %v: want 0 or more", name, d)
		}
	}
	c := o.cfg
	switch {
	case c.HeartbeatLoss < 0 || c.HeartbeatLoss > 1:
		return usageError("--heartbeat-loss %v: want a probability in [0, 1]", c.HeartbeatLoss)
	case c.StartFailProb < 0 || c.StartFailProb > 1:
		return usageError("--start-fail %v: want a probability in [0, 1]", c.StartFailProb)
	case c.CrashPerHour < 0:
		return usageError("--crash-rate %v: want 0 or more", c.CrashPerHour)
	}
	if o.mode() == "workload" {
		if err := o.workloadConfig().Validate(); err != nil {
			return usageError("--heartbeat and --agent-ttl: %v", err)
		}
	}
	return nil
}

// workloadConfig is the Config of a generated-workload run.
func (o *options) workloadConfig() sim.Config {
	c := o.cfg
	c.Seed = o.seed
	return c
}

// override sets on c the seed and the knobs given on the command line,
// for a scenario or a swarm that brings its own Config.
func (o *options) override(c sim.Config) sim.Config {
	if o.changed("seed") {
		c.Seed = o.seed
	}
	set := map[string]func(){
		"agent-ttl":      func() { c.AgentTTL = o.cfg.AgentTTL },
		"heartbeat":      func() { c.HeartbeatInterval = o.cfg.HeartbeatInterval },
		"reconcile":      func() { c.EngineInterval = o.cfg.EngineInterval },
		"agent-interval": func() { c.AgentInterval = o.cfg.AgentInterval },
		"leader-ttl":     func() { c.LeaderTTL = o.cfg.LeaderTTL },
		"latency":        func() { c.Latency = o.cfg.Latency },
		"latency-jitter": func() { c.LatencyJitter = o.cfg.LatencyJitter },
		"heartbeat-loss": func() { c.HeartbeatLoss = o.cfg.HeartbeatLoss },
		"start-time":     func() { c.StartTime = o.cfg.StartTime },
		"start-jitter":   func() { c.StartJitter = o.cfg.StartJitter },
		"start-fail":     func() { c.StartFailProb = o.cfg.StartFailProb },
		"crash-rate":     func() { c.CrashPerHour = o.cfg.CrashPerHour },
		"sample":         func() { c.SampleInterval = o.cfg.SampleInterval },
	}
	for _, name := range configFlags {
		if o.changed(name) {
			set[name]()
		}
	}
	return c
}

// outputFlags change what is printed or written, not what runs.
var outputFlags = map[string]bool{"json": true, "report": true, "quiet": true, "cpuprofile": true, "memprofile": true, "emit-scenario": true, "help": true}

// modeFlags choose what runs; replay puts them first.
var modeFlags = map[string]bool{"scenario": true, "swarm": true}

// replay returns the command that runs the same simulation again: the
// flags that shape the run, the seed always.
func (o *options) replay(seed uint64) string {
	always := map[string]bool{"seed": true}
	switch o.mode() {
	case "workload":
		for _, n := range []string{"machines", "units", "kill", "kill-at", "duration"} {
			always[n] = true
		}
	case "swarm":
		always["machines"], always["units"] = true, true
	}
	parts := []string{"fleetsim"}
	if o.scenario != "" {
		parts = append(parts, "--scenario", shellQuote(o.scenario))
	}
	if o.swarm {
		parts = append(parts, "--swarm")
	}
	o.flags.VisitAll(func(f *pflag.Flag) {
		if outputFlags[f.Name] || modeFlags[f.Name] || !f.Changed && !always[f.Name] {
			return
		}
		v := f.Value.String()
		switch {
		case f.Name == "seed":
			v = strconv.FormatUint(seed, 10)
		case f.Value.Type() == "bool":
			parts = append(parts, "--"+f.Name)
			return
		case f.Value.Type() == "duration":
			if d, err := time.ParseDuration(v); err == nil {
				v = shortdur.Format(d)
			}
		}
		parts = append(parts, "--"+f.Name, shellQuote(v))
	})
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./%:=+,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// usage prints the help text.
func usage(w io.Writer) {
	fmt.Fprint(w, `fleetsim: simulate a fleet cluster in virtual time, deterministically.

Usage:
  fleetsim [flags]                  generated workload with a kill wave
  fleetsim --scenario FILE [flags]  a scenario file, its asserts checked
  fleetsim --swarm [flags]          a random scenario drawn from --seed

Flags:
`)
	fs := newFlags(&options{})
	fs.SetOutput(w)
	fmt.Fprint(w, fs.FlagUsages())
	fmt.Fprint(w, `
Exit codes: 0 the run passed; 1 violations or failed asserts; 2 bad flags
or a bad scenario file; 3 a file could not be written.
`)
}
