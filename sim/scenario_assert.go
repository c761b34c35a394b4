package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fleetsim/fleet/scheduler"
)

// assertKind says which form an assert line has.
type assertKind uint8

const (
	assertMetric      assertKind = iota // METRIC OP VALUE
	assertUnscheduled                   // unscheduled UNIT [REASON]
	assertLiveness                      // liveness checked
)

// scAssert is one assert (one per expanded unit for unscheduled).
type scAssert struct {
	line     int
	kind     assertKind
	metric   *metric
	cmp      string
	want     float64
	wantText string
	unit     string
	reason   string // "" for any reason
}

// metricKind says how a metric's values are written.
type metricKind uint8

const (
	countMetric       metricKind = iota // a whole number
	durationMetric                      // a duration; values are nanoseconds
	unitSecondsMetric                   // unit-seconds: 90 or 1m30s
)

// metric is a number a run measures, as assert lines name it.
type metric struct {
	name string
	kind metricKind
	get  func(r *Result) float64
}

var metrics = []metric{
	{"running", countMetric, func(r *Result) float64 { return float64(r.UnitsRunning) }},
	{"violations", countMetric, func(r *Result) float64 { return float64(r.ViolationCount) }},
	{"unscheduled", countMetric, func(r *Result) float64 { return float64(len(r.Unscheduled)) }},
	{"pending", countMetric, func(r *Result) float64 { return float64(r.Reschedule.Pending) }},
	{"rescheduled", countMetric, func(r *Result) float64 { return float64(r.Reschedule.Count) }},
	{"reschedule_p50", durationMetric, func(r *Result) float64 { return float64(r.Reschedule.P50) }},
	{"reschedule_p99", durationMetric, func(r *Result) float64 { return float64(r.Reschedule.P99) }},
	{"reschedule_max", durationMetric, func(r *Result) float64 { return float64(r.Reschedule.Max) }},
	{"double_run", unitSecondsMetric, func(r *Result) float64 { return r.DoubleRunUnitSeconds }},
	{"elections", countMetric, func(r *Result) float64 { return float64(r.Elections) }},
	{"commits", countMetric, func(r *Result) float64 { return float64(r.Commits) }},
	{"commits_rejected", countMetric, func(r *Result) float64 { return float64(r.RejectedCommits) }},
	{"scheduler_calls", countMetric, func(r *Result) float64 { return float64(r.SchedulerCalls) }},
	{"events", countMetric, func(r *Result) float64 { return float64(r.Events) }},
	{"agent_starts", countMetric, func(r *Result) float64 { return float64(r.AgentStarts) }},
	{"restarts", countMetric, func(r *Result) float64 { return float64(r.Restarts) }},
	{"commits_timed_out", countMetric, func(r *Result) float64 { return float64(r.TimedOutCommits) }},
	{"left_out", countMetric, func(r *Result) float64 { return float64(len(r.LeftOut)) }},
}

func findMetric(name string) *metric {
	for i := range metrics {
		if metrics[i].name == name {
			return &metrics[i]
		}
	}
	return nil
}

func metricNames() string {
	names := make([]string, len(metrics))
	for i, m := range metrics {
		names[i] = m.name
	}
	return strings.Join(names, ", ")
}

// parse reads an assert's value for this metric.
func (m *metric) parse(s string) (float64, error) {
	switch m.kind {
	case durationMetric:
		d, err := parseDuration(s)
		return float64(d), err
	case unitSecondsMetric:
		if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 {
			return f, nil
		}
		d, err := parseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q is neither unit-seconds nor a duration", s)
		}
		return d.Seconds(), nil
	}
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("%q is not a count", s)
	}
	return float64(n), nil
}

// format writes a measured value for an error message.
func (m *metric) format(v float64) string {
	switch m.kind {
	case durationMetric:
		return time.Duration(v).String()
	case unitSecondsMetric:
		return strconv.FormatFloat(v, 'f', 1, 64) + " unit-seconds"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

var comparisons = []string{"==", "!=", "<", "<=", ">", ">="}

func isComparison(s string) bool {
	for _, c := range comparisons {
		if c == s {
			return true
		}
	}
	return false
}

func compare(got float64, cmp string, want float64) bool {
	switch cmp {
	case "==":
		return got == want
	case "!=":
		return got != want
	case "<":
		return got < want
	case "<=":
		return got <= want
	case ">":
		return got > want
	}
	return got >= want
}

// isReason reports whether s names a scheduler reason.
func isReason(s string) bool {
	for r := scheduler.Reason(1); r.String() != "unknown"; r++ {
		if r.String() == s {
			return true
		}
	}
	return false
}

// eval checks the assert against r; when it fails, it says what r holds.
func (a *scAssert) eval(r *Result) (string, bool) {
	switch a.kind {
	case assertLiveness:
		return "not checked", r.LivenessChecked
	case assertUnscheduled:
		for _, u := range r.Unscheduled {
			if u.Unit == a.unit {
				if a.reason == "" || u.Reason.String() == a.reason {
					return "", true
				}
				return fmt.Sprintf("unscheduled for %s (%s)", u.Reason, u.Detail), false
			}
		}
		return "the last plan did not leave it unscheduled (it has a machine, or is inactive)", false
	}
	got := a.metric.get(r)
	if compare(got, a.cmp, a.want) {
		return "", true
	}
	msg := "got " + a.metric.format(got)
	if a.metric.name == "violations" && len(r.Violations) > 0 {
		v := r.Violations[0]
		msg += fmt.Sprintf(" (first at %v, %s: %s)", v.At, v.Kind, v.Detail)
	}
	return msg, false
}

// String writes the assert as a scenario file does.
func (a *scAssert) String() string {
	switch a.kind {
	case assertLiveness:
		return "assert liveness checked"
	case assertUnscheduled:
		return strings.TrimSpace("assert unscheduled " + a.unit + " " + a.reason)
	}
	return "assert " + a.metric.name + " " + a.cmp + " " + a.wantText
}
