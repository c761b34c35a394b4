package sim

import (
	"sort"
	"time"

	"github.com/fleetsim/fleet/scheduler"
)

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// stats are the counters and measures of a run.
type stats struct {
	events          uint64
	schedulerCalls  uint64
	commits         uint64
	rejectedCommits uint64
	staleCommits    uint64
	elections       uint64
	published       uint64        // unit states the agents published or removed
	agentStarts     uint64        // start jobs the agents queued
	restarts        uint64        // starts systemd made on its own (Restart=)
	timedOut        uint64        // commits whose answer was lost
	extraCopies     int64         // copies running beyond one, summed over units
	doubleRun       time.Duration // integral of extraCopies over time
	running         int64         // (unit, machine) pairs active
	reschedule      []time.Duration
	violations      []Violation
	violationCount  int
	series          []Sample
	liveness        bool
	livenessNote    string // why liveness was not checked, when it was due
}

// Violation is a broken safety or liveness property.
type Violation struct {
	At     time.Duration
	Kind   string // "safety", "liveness", "engine"
	Detail string
}

// Sample is one point of the time series.
type Sample struct {
	At            time.Duration
	UnitsRunning  int64 // (unit, machine) pairs active
	MachinesAlive int   // machines whose fleetd runs
}

// FaultMark is an injected operation, for reports.
type FaultMark struct {
	At    time.Duration
	Label string
}

// maxViolations bounds how many violations a result keeps in full.
const maxViolations = 100

func (w *World) violate(kind, detail string) {
	w.stats.violationCount++
	if len(w.stats.violations) < maxViolations {
		w.stats.violations = append(w.stats.violations, Violation{At: w.now, Kind: kind, Detail: detail})
	}
}

// unitUp records that unit u became active on one more machine.
func (w *World) unitUp(u int32) {
	su := w.units[u]
	su.running++
	w.stats.running++
	if su.running > 1 && !su.global {
		w.stats.extraCopies++
	}
	if su.lost {
		su.lost = false
		w.stats.reschedule = append(w.stats.reschedule, w.now-su.lostAt)
	}
}

// unitDown records that unit u stopped on one machine; died says its
// machine crashed under it, which starts the reschedule clock.
func (w *World) unitDown(u int32, died bool) {
	su := w.units[u]
	if su.running > 1 && !su.global {
		w.stats.extraCopies--
	}
	su.running--
	w.stats.running--
	if died && !su.global && su.running == 0 && !su.lost {
		su.lost, su.lostAt = true, w.now
	}
}

func (w *World) sample() {
	alive := 0
	for _, m := range w.machines {
		if m.up {
			alive++
		}
	}
	w.stats.series = append(w.stats.series, Sample{At: w.now, UnitsRunning: w.stats.running, MachinesAlive: alive})
	w.schedule(w.cfg.SampleInterval, evSample, -1, 0)
}

// fold adds an event to the trace hash.
func (w *World) fold(e *event) {
	h := w.trace
	for _, x := range [...]uint64{uint64(e.at), uint64(e.kind), uint64(uint32(e.a)), uint64(uint32(e.b)), uint64(e.c)} {
		h = (h ^ x) * fnvPrime
	}
	w.trace = h
}

// Result is what a run measured.
type Result struct {
	TraceHash            uint64
	Events               uint64
	SimTime              time.Duration
	Machines, Units      int
	SchedulerCalls       uint64
	Commits              uint64
	RejectedCommits      uint64 // from a leader no longer in its term
	StaleCommits         uint64 // planned from a registry that changed since
	Elections            uint64
	RegistryWrites       uint64
	UnitsRunning         int64 // (unit, machine) pairs active at the end
	DoubleRunUnitSeconds float64
	Reschedule           Latencies
	Violations           []Violation // the first 100
	ViolationCount       int
	LivenessChecked      bool
	LivenessNote         string                  // why liveness was not checked though it was due
	Unscheduled          []scheduler.Unscheduled // from the last plan
	LeftOut              []string                // units the last plan left out: a body that does not decode or parse
	AgentStarts          uint64                  // start jobs the agents queued
	TimedOutCommits      uint64                  // commits whose answer was lost (commit-timeouts)
	Restarts             uint64                  // starts systemd made on its own, as units' Restart= asked
	Series               []Sample
	Faults               []FaultMark
}

// Latencies summarizes reschedule latencies: from the crash of a unit's
// machine to the unit active elsewhere.
type Latencies struct {
	Count         int
	P50, P99, Max time.Duration
	Samples       []time.Duration // sorted
	Pending       int             // units whose machine died that never ran again
}

// Result returns what the run measured so far.
func (w *World) Result() Result {
	r := Result{
		TraceHash: w.trace, Events: w.stats.events, SimTime: w.now,
		Machines: len(w.machines), Units: len(w.units),
		SchedulerCalls: w.stats.schedulerCalls, Commits: w.stats.commits,
		RejectedCommits: w.stats.rejectedCommits, StaleCommits: w.stats.staleCommits, Elections: w.stats.elections,
		RegistryWrites: w.reg.writes, UnitsRunning: w.stats.running,
		DoubleRunUnitSeconds: w.stats.doubleRun.Seconds(),
		Violations:           append([]Violation(nil), w.stats.violations...),
		ViolationCount:       w.stats.violationCount, LivenessChecked: w.stats.liveness,
		LivenessNote: w.stats.livenessNote,
		Series:       append([]Sample(nil), w.stats.series...),
		Faults:       append([]FaultMark(nil), w.faults...),
	}
	if p := w.lastPlan; p != nil {
		r.Unscheduled = append(r.Unscheduled, p.Unscheduled...)
	}
	r.LeftOut = w.leftOut
	r.AgentStarts, r.Restarts, r.TimedOutCommits = w.stats.agentStarts, w.stats.restarts, w.stats.timedOut
	r.Reschedule = summarize(w.stats.reschedule)
	for _, u := range w.units {
		if u.lost && !u.removed {
			r.Reschedule.Pending++
		}
	}
	return r
}

func summarize(ds []time.Duration) Latencies {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	l := Latencies{Count: len(s), Samples: s}
	if len(s) > 0 {
		l.P50 = s[(len(s)-1)*50/100]
		l.P99 = s[(len(s)-1)*99/100]
		l.Max = s[len(s)-1]
	}
	return l
}
