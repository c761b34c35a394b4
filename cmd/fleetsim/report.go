package main

import (
	"fmt"
	"io"

	"github.com/fleetsim/fleet/sim"
	"github.com/fleetsim/fleet/sim/report"
)

// writeReport renders the run as the HTML page of --report.
func writeReport(w io.Writer, o *options, j *job, s *summary, r *sim.Result) error {
	p := report.Page{
		Title:    "fleetsim report",
		Subtitle: s.headline(),
		OK:       s.OK,
		Replay:   s.Replay,
		Result:   *r,
	}
	p.Params = []report.Field{
		{Name: "mode", Value: s.Mode}, {Name: "seed", Value: fmt.Sprint(s.Seed)},
		{Name: "machines", Value: commas(uint64(s.Machines))}, {Name: "units", Value: commas(uint64(s.Units))},
	}
	if s.Kill != "" {
		p.Params = append(p.Params, report.Field{Name: "kill", Value: s.Kill})
	}
	p.Params = append(p.Params, report.Field{Name: "simulated", Value: seconds(s.SimSeconds)})
	for _, name := range configFlags {
		p.Params = append(p.Params, report.Field{Name: name, Value: s.Config[name]})
	}
	p.Stats = []report.Stat{
		{Label: "events", Value: commas(s.Events), Note: compactCount(s.EventsPerSec) + " events/s"},
		{Label: "sim / wall", Value: compactCount(s.SimToWall) + "×", Note: fmt.Sprintf("%.2fs wall", s.WallSeconds)},
		{Label: "reschedule p50", Value: seconds(s.RescheduleP50), Note: commas(uint64(s.RescheduleCount)) + " rescheduled"},
		{Label: "reschedule p99", Value: seconds(s.RescheduleP99), Note: "max " + seconds(s.RescheduleMax)},
		{Label: "double-run", Value: fmt.Sprintf("%.1f", s.DoubleRun), Note: "unit-seconds"},
		{Label: "violations", Value: commas(uint64(s.Violations)), Bad: s.Violations > 0},
		{Label: "unscheduled", Value: commas(uint64(s.Unscheduled)), Note: fmt.Sprintf("%d pending", s.ReschedulePending)},
		{Label: "scheduler calls", Value: commas(s.SchedulerCalls), Note: plural(int(s.Commits), "commit") + ", " + plural(int(s.Elections), "election")},
		{Label: "units running", Value: commas(uint64(max(s.UnitsRunning, 0))), Note: "at the end"},
		{Label: "peak memory", Value: mib(max(s.PeakRSSBytes, s.PeakHeapBytes)), Note: "sys " + mib(s.SysBytes)},
		{Label: "trace hash", Value: s.TraceHash, Mono: true},
	}
	if s.Mode != "workload" {
		p.Stats = append(p.Stats, report.Stat{Label: "asserts failed", Value: fmt.Sprint(len(s.AssertsFailed)), Bad: len(s.AssertsFailed) > 0})
	}
	p.Failures = append(p.Failures, s.AssertsFailed...)
	for _, v := range r.Violations {
		p.Failures = append(p.Failures, fmt.Sprintf("%s %s: %s", seconds(v.At.Seconds()), v.Kind, v.Detail))
	}
	if err := report.Write(w, p); err != nil {
		return fmt.Errorf("--report %s: %w", o.report, err)
	}
	return nil
}
