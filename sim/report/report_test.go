package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/scheduler"
	"github.com/fleetsim/fleet/sim"
)

func sampleResult() sim.Result {
	r := sim.Result{SimTime: 30 * time.Minute, Machines: 3, Units: 4}
	for t := time.Duration(0); t <= r.SimTime; t += 10 * time.Second {
		alive := 3
		if t >= 10*time.Minute {
			alive = 2
		}
		r.Series = append(r.Series, sim.Sample{At: t, UnitsRunning: int64(alive * 2), MachinesAlive: alive})
	}
	r.Faults = []sim.FaultMark{{At: 10 * time.Minute, Label: "kill m1"}, {At: 10 * time.Minute, Label: "kill m2"},
		{At: 12 * time.Minute, Label: "partition <m3>"}}
	r.Reschedule = sim.Latencies{Count: 3, P50: 21 * time.Second, P99: 25 * time.Second, Max: 25 * time.Second,
		Samples: []time.Duration{20 * time.Second, 21 * time.Second, 25 * time.Second}}
	r.Unscheduled = []scheduler.Unscheduled{{Unit: "web@3.service", Reason: scheduler.ReasonConflict, Detail: "on every machine"}}
	return r
}

func TestWriteIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	p := Page{Title: "fleetsim report", Subtitle: "a <test>", OK: false, Replay: "fleetsim --seed 1",
		Params:   []Field{{Name: "seed", Value: "1"}},
		Stats:    []Stat{{Label: "violations", Value: "1", Bad: true}, {Label: "trace hash", Value: "00ff", Mono: true}},
		Failures: []string{"1m safety: <script>alert(1)</script>"},
		Result:   sampleResult()}
	if err := Write(&b, p); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"<!DOCTYPE html>", "<svg", "Units running", "Machines alive", "Reschedule latency",
		"kill ×2", "partition &lt;m3&gt;", "web@3.service", "conflict: on every machine", "a &lt;test&gt;",
		"FAIL", "fleetsim --seed 1", "&lt;script&gt;", `class="stat bad"`, `class="bar"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Count(page, "<svg") != 3 {
		t.Errorf("%d charts, want 3", strings.Count(page, "<svg"))
	}
	// No script, no external asset: the only URL is the SVG namespace.
	for _, bad := range []string{"<script", "src=", "href=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
}

func TestWriteEmptyRun(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, Page{Title: "t", OK: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PASS", "No unit had to be rescheduled.", "None."} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestGroupFaults(t *testing.T) {
	got := groupFaults([]sim.FaultMark{{At: 1, Label: "kill a"}, {At: 1, Label: "kill b"}, {At: 2, Label: "heal a"},
		{At: 3, Label: "kill a"}, {At: 3, Label: "heal b"}})
	want := []faultGroup{{1, "kill ×2", "kill a, kill b"}, {2, "heal a", "heal a"}, {3, "2 operations", "kill a, heal b"}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		top  float64
		n    int
		want []float64
	}{
		{1089, 4, []float64{0, 500, 1000, 1500}},
		{100, 4, []float64{0, 50, 100}},
		{0, 4, []float64{0, 0.5, 1}},
		{7, 4, []float64{0, 2, 4, 6, 8}},
	} {
		got, top := niceTicks(c.top, c.n)
		if !slices.Equal(got, c.want) || top != c.want[len(c.want)-1] {
			t.Errorf("niceTicks(%v, %d) = %v, %v; want %v", c.top, c.n, got, top, c.want)
		}
	}
}

func TestTimeTicks(t *testing.T) {
	got, top := timeTicks(30*time.Minute, 8)
	if top != 30*time.Minute || len(got) != 7 || got[1] != 5*time.Minute {
		t.Fatalf("30m: %v, %v", got, top)
	}
	got, top = timeTicks(22*time.Second, 8)
	if top != 25*time.Second || got[1] != 5*time.Second {
		t.Fatalf("22s: %v, %v", got, top)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0", 250 * time.Millisecond: "250ms", 21500 * time.Millisecond: "21.5s", 20 * time.Minute: "20m",
		time.Hour: "1h", 90 * time.Minute: "1h30m", 61 * time.Second: "1m1s",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestThinKeepsTheEnds(t *testing.T) {
	var s []sim.Sample
	for i := 0; i < 5000; i++ {
		s = append(s, sim.Sample{At: time.Duration(i)})
	}
	got := thin(s, maxPoints)
	if len(got) > maxPoints+1 || got[0].At != 0 || got[len(got)-1].At != 4999 {
		t.Fatalf("%d samples from %v to %v", len(got), got[0].At, got[len(got)-1].At)
	}
}
