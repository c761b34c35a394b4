package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fleetsim/fleet/internal/shortdur"
	"github.com/fleetsim/fleet/sim"
	"github.com/fleetsim/fleet/sim/report"
)

// listed is how many violations and unscheduled units the summary names.
const listed = 5

// summary is what a run printed, as text or as one JSON object.
type summary struct {
	OK       bool   `json:"ok"`
	Mode     string `json:"mode"`
	Scenario string `json:"scenario,omitempty"`
	Seed     uint64 `json:"seed"`
	Machines int    `json:"machines"`
	Units    int    `json:"units"`
	Kill     string `json:"kill,omitempty"`

	TraceHash    string  `json:"trace_hash"`
	Events       uint64  `json:"events"`
	EventsPerSec float64 `json:"events_per_s"`
	SimSeconds   float64 `json:"sim_seconds"`
	SimToWall    float64 `json:"sim_to_wall"`
	WallSeconds  float64 `json:"wall_seconds"`
	BuildSeconds float64 `json:"build_seconds"`
	RunSeconds   float64 `json:"run_seconds"`
	RunCPU       float64 `json:"run_cpu_seconds,omitempty"`

	RescheduleCount   int     `json:"reschedule_count"`
	ReschedulePending int     `json:"reschedule_pending"`
	RescheduleP50     float64 `json:"reschedule_p50_s"`
	RescheduleP99     float64 `json:"reschedule_p99_s"`
	RescheduleMax     float64 `json:"reschedule_max_s"`
	DoubleRun         float64 `json:"double_run_unit_seconds"`

	SchedulerCalls  uint64 `json:"scheduler_calls"`
	Commits         uint64 `json:"commits"`
	RejectedCommits uint64 `json:"rejected_commits"`
	Elections       uint64 `json:"elections"`
	RegistryWrites  uint64 `json:"registry_writes"`
	UnitsRunning    int64  `json:"units_running"`
	LivenessChecked bool   `json:"liveness_checked"`

	Violations       int             `json:"violations"`
	FirstViolations  []violationLine `json:"first_violations,omitempty"`
	Unscheduled      int             `json:"unscheduled"`
	FirstUnscheduled []unscheduled   `json:"first_unscheduled,omitempty"`
	AssertsFailed    []string        `json:"asserts_failed,omitempty"`

	PeakHeapBytes uint64 `json:"peak_heap_bytes"`
	SysBytes      uint64 `json:"sys_bytes"`
	PeakRSSBytes  uint64 `json:"peak_rss_bytes,omitempty"`

	Config map[string]string `json:"config"`
	Replay string            `json:"replay"`
}

type violationLine struct {
	AtSeconds float64 `json:"at_s"`
	Kind      string  `json:"kind"`
	Detail    string  `json:"detail"`
}

type unscheduled struct {
	Unit   string `json:"unit"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

func newSummary(o *options, j *job, r *sim.Result, m measure, asserts []error) *summary {
	cfg := j.world.Config()
	s := &summary{
		Mode: o.mode(), Scenario: j.name, Seed: cfg.Seed, Machines: r.Machines, Units: r.Units, Kill: j.killNote,
		TraceHash: fmt.Sprintf("%016x", r.TraceHash), Events: r.Events,
		SimSeconds: r.SimTime.Seconds(), WallSeconds: (m.build + m.run).Seconds(),
		BuildSeconds: m.build.Seconds(), RunSeconds: m.run.Seconds(), RunCPU: m.cpu.Seconds(),
		RescheduleCount: r.Reschedule.Count, ReschedulePending: r.Reschedule.Pending,
		RescheduleP50: r.Reschedule.P50.Seconds(), RescheduleP99: r.Reschedule.P99.Seconds(),
		RescheduleMax: r.Reschedule.Max.Seconds(), DoubleRun: r.DoubleRunUnitSeconds,
		SchedulerCalls: r.SchedulerCalls, Commits: r.Commits, RejectedCommits: r.RejectedCommits,
		Elections: r.Elections, RegistryWrites: r.RegistryWrites, UnitsRunning: r.UnitsRunning,
		LivenessChecked: r.LivenessChecked,
		Violations:      r.ViolationCount, Unscheduled: len(r.Unscheduled),
		PeakHeapBytes: m.mem.PeakHeap, SysBytes: m.mem.Sys, PeakRSSBytes: m.mem.PeakRSS,
		Config: configMap(cfg),
		Replay: o.replay(cfg.Seed),
	}
	if secs := m.run.Seconds(); secs > 0 {
		s.EventsPerSec = float64(r.Events) / secs
		s.SimToWall = r.SimTime.Seconds() / secs
	}
	for _, v := range r.Violations[:min(listed, len(r.Violations))] {
		s.FirstViolations = append(s.FirstViolations, violationLine{AtSeconds: v.At.Seconds(), Kind: v.Kind, Detail: v.Detail})
	}
	for _, u := range r.Unscheduled[:min(listed, len(r.Unscheduled))] {
		s.FirstUnscheduled = append(s.FirstUnscheduled, unscheduled{Unit: u.Unit, Reason: u.Reason.String(), Detail: u.Detail})
	}
	for _, err := range asserts {
		s.AssertsFailed = append(s.AssertsFailed, err.Error())
	}
	s.OK = s.Violations == 0 && len(s.AssertsFailed) == 0
	return s
}

// configMap is the Config in force, as the flags would write it.
func configMap(c sim.Config) map[string]string {
	d := shortdur.Format
	f := func(v float64) string { return fmt.Sprint(v) }
	return map[string]string{
		"agent-ttl": d(c.AgentTTL), "heartbeat": d(c.HeartbeatInterval), "reconcile": d(c.EngineInterval),
		"agent-interval": d(c.AgentInterval), "leader-ttl": d(c.LeaderTTL), "latency": d(c.Latency),
		"latency-jitter": d(c.LatencyJitter), "heartbeat-loss": f(c.HeartbeatLoss), "start-time": d(c.StartTime),
		"start-jitter": d(c.StartJitter), "start-fail": f(c.StartFailProb), "crash-rate": f(c.CrashPerHour),
		"sample": d(c.SampleInterval),
	}
}

// failureCounts says what failed: "2 violations", "1 failed assert".
func (s *summary) failureCounts() []string {
	var out []string
	if s.Violations > 0 {
		out = append(out, plural(s.Violations, "violation"))
	}
	if n := len(s.AssertsFailed); n > 0 {
		out = append(out, plural(n, "failed assert"))
	}
	return out
}

func (s *summary) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// headline describes the run in one line.
func (s *summary) headline() string {
	var parts []string
	switch s.Mode {
	case "scenario":
		parts = append(parts, "scenario "+s.Scenario)
	case "swarm":
		parts = append(parts, "swarm")
	}
	parts = append(parts, commas(uint64(s.Machines))+" machines", commas(uint64(s.Units))+" units",
		fmt.Sprintf("seed %d", s.Seed))
	if s.Kill != "" {
		parts = append(parts, "kill "+s.Kill)
	}
	parts = append(parts, report.Duration(time.Duration(s.SimSeconds*float64(time.Second)))+" simulated")
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// commas prints n with thousands separators: 13,624,046.
func commas(n uint64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// compactCount prints a count or a rate: 950, 12.3k, 2.41M.
func compactCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// mib prints a byte count in MiB.
func mib(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// seconds prints a duration given in seconds for the summary.
func seconds(s float64) string {
	return report.Duration(time.Duration(s * float64(time.Second)))
}
