package main

import (
	"fmt"
	"io"
	"strings"
)

// writeText prints the summary for a person: one figure a line, the
// first violations and unscheduled units, and PASS or FAIL.
func (s *summary) writeText(w io.Writer) error {
	var b strings.Builder
	line := func(name, format string, args ...any) {
		fmt.Fprintf(&b, "  %-17s %s\n", name, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "fleetsim: %s\n\n", s.headline())
	line("events", "%s  (%s/s, %s× real time)", commas(s.Events), compactCount(s.EventsPerSec), compactCount(s.SimToWall))
	if s.RescheduleCount > 0 {
		line("reschedule", "p50 %s  p99 %s  max %s  (%s rescheduled, %d pending)", seconds(s.RescheduleP50),
			seconds(s.RescheduleP99), seconds(s.RescheduleMax), commas(uint64(s.RescheduleCount)), s.ReschedulePending)
	} else {
		line("reschedule", "none  (%d pending)", s.ReschedulePending)
	}
	line("double-run", "%.1f unit-seconds", s.DoubleRun)
	line("scheduler calls", "%s", commas(s.SchedulerCalls))
	line("commits", "%s  (%s rejected)", commas(s.Commits), commas(s.RejectedCommits))
	line("elections", "%s", commas(s.Elections))
	line("registry writes", "%s", commas(s.RegistryWrites))
	line("units running", "%s", commas(uint64(max(s.UnitsRunning, 0))))
	line("liveness", "%s", map[bool]string{true: "checked", false: "not checked (faults too close to the end)"}[s.LivenessChecked])
	line("violations", "%d", s.Violations)
	for _, v := range s.FirstViolations {
		fmt.Fprintf(&b, "      %s %s: %s\n", seconds(v.AtSeconds), v.Kind, v.Detail)
	}
	more(&b, s.Violations-len(s.FirstViolations))
	line("unscheduled", "%d", s.Unscheduled)
	for _, u := range s.FirstUnscheduled {
		fmt.Fprintf(&b, "      %s: %s%s\n", u.Unit, u.Reason, colonDetail(u.Detail))
	}
	more(&b, s.Unscheduled-len(s.FirstUnscheduled))
	if s.Mode != "workload" {
		line("asserts failed", "%d", len(s.AssertsFailed))
		for _, a := range s.AssertsFailed {
			fmt.Fprintf(&b, "      %s\n", a)
		}
	}
	line("trace hash", "%s", s.TraceHash)
	line("wall", "%.2fs  (build %.2fs, run %.2fs, run CPU %.2fs)", s.WallSeconds, s.BuildSeconds, s.RunSeconds, s.RunCPU)
	mem := fmt.Sprintf("heap %s, sys %s", mib(s.PeakHeapBytes), mib(s.SysBytes))
	if s.PeakRSSBytes > 0 {
		mem += ", rss " + mib(s.PeakRSSBytes)
	}
	line("peak memory", "%s", mem)
	if s.OK {
		b.WriteString("\nPASS\n")
	} else {
		fmt.Fprintf(&b, "\nFAIL: %s\n", strings.Join(s.failureCounts(), ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func more(b *strings.Builder, n int) {
	if n > 0 {
		fmt.Fprintf(b, "      and %d more\n", n)
	}
}

func colonDetail(d string) string {
	if d == "" {
		return ""
	}
	return " (" + d + ")"
}
