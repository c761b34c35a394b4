package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/sim"
)

// tiny is a run small enough for every test: 20 machines, 200 units, two
// killed at two minutes, ten minutes simulated.
var tiny = []string{"--machines", "20", "--units", "200", "--seed", "3", "--kill", "10%", "--kill-at", "2m", "--duration", "10m"}

// fleetsim runs the command with args and returns its exit code, stdout
// and stderr.
func fleetsim(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, env{stdout: &out, stderr: &errOut})
	return code, out.String(), errOut.String()
}

func runJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	code, out, errOut := fleetsim(t, append(args, "--json")...)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("--json printed something else: %v\n%s", err, out)
	}
	return m
}

func TestSummaryOfATinyRun(t *testing.T) {
	code, out, errOut := fleetsim(t, tiny...)
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if want := "fleetsim: 20 machines, 200 units, seed 3, kill 10% at 2m, 10m simulated"; lines[0] != want {
		t.Errorf("headline %q, want %q", lines[0], want)
	}
	// Every figure, in this order; then PASS.
	labels := []string{"events", "reschedule", "double-run", "scheduler calls", "commits", "elections",
		"registry writes", "units running", "liveness", "violations", "unscheduled", "trace hash", "wall", "peak memory"}
	k := 0
	for _, l := range lines[1:] {
		if k < len(labels) && strings.HasPrefix(l, "  "+labels[k]+" ") {
			k++
		}
	}
	if k != len(labels) {
		t.Errorf("summary lacks %q (or has it out of order):\n%s", labels[k], out)
	}
	for _, want := range []string{"  violations        0\n", "  liveness          checked\n", " rescheduled, 0 pending)", "  double-run        0.0 unit-seconds\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if lines[len(lines)-1] != "PASS" {
		t.Errorf("last line %q, want PASS", lines[len(lines)-1])
	}
}

func TestJSONHasTheKeys(t *testing.T) {
	m := runJSON(t, tiny...)
	for _, key := range []string{"trace_hash", "events", "wall_seconds", "sim_seconds", "violations", "unscheduled",
		"reschedule_p50_s", "reschedule_p99_s", "reschedule_max_s", "double_run_unit_seconds", "events_per_s",
		"scheduler_calls", "commits", "elections", "peak_heap_bytes", "replay", "ok", "config"} {
		if _, ok := m[key]; !ok {
			t.Errorf("JSON lacks %q", key)
		}
	}
	if m["sim_seconds"] != 600.0 || m["violations"] != 0.0 || m["ok"] != true || m["machines"] != 20.0 {
		t.Errorf("unexpected values: %v", m)
	}
	if h, _ := m["trace_hash"].(string); len(h) != 16 {
		t.Errorf("trace_hash %q is not 16 hex digits", h)
	}
}

func TestSameSeedSameTraceHash(t *testing.T) {
	a, b := runJSON(t, tiny...), runJSON(t, tiny...)
	if a["trace_hash"] != b["trace_hash"] || a["events"] != b["events"] {
		t.Fatalf("same command, different runs: %v %v", a["trace_hash"], b["trace_hash"])
	}
	other := append(append([]string{}, tiny...), "--seed", "4")
	if c := runJSON(t, other...); c["trace_hash"] == a["trace_hash"] {
		t.Fatal("another seed gave the same trace")
	}
}

// The replay line, run again, gives the same trace.
func TestReplayReproduces(t *testing.T) {
	a := runJSON(t, tiny...)
	replay, _ := a["replay"].(string)
	args := strings.Fields(replay)
	if len(args) == 0 || args[0] != "fleetsim" {
		t.Fatalf("replay %q", replay)
	}
	if b := runJSON(t, args[1:]...); b["trace_hash"] != a["trace_hash"] {
		t.Fatalf("replay %q gave another trace", replay)
	}
}

func TestBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"--machines", "ten"}, "--machines"},
		{[]string{"--machines", "0"}, "--machines 0"},
		{[]string{"--units", "-1"}, "--units -1"},
		{[]string{"--kill", "10"}, `--kill: "10" is not a percentage`},
		{[]string{"--kill", "150%"}, "--kill"},
		{[]string{"--duration", "-5m"}, "--duration -5m0s"},
		{[]string{"--kill-at", "2h"}, "--kill-at 2h0m0s is after the end of the run"},
		{[]string{"--agent-ttl", "-1s"}, "--agent-ttl -1s"},
		{[]string{"--heartbeat", "1m"}, "--heartbeat and --agent-ttl"},
		{[]string{"--heartbeat-loss", "2"}, "--heartbeat-loss 2"},
		{[]string{"--start-fail", "x"}, "--start-fail"},
		{[]string{"--scenario", "a", "--swarm"}, "--scenario and --swarm"},
		{[]string{"--swarm", "--kill", "5%"}, "--kill applies to the generated workload"},
		{[]string{"--scenario", "/nonexistent/x.scn"}, "--scenario: open /nonexistent/x.scn"},
		{[]string{"--report", "/nonexistent/dir/r.html"}, "--report: open /nonexistent/dir/r.html"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		code, out, errOut := fleetsim(t, c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and %q", c.args, code, errOut, out, c.want)
		}
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := fleetsim(t, "--help")
	if code != exitOK || !strings.Contains(out, "--machines") || !strings.Contains(out, "Exit codes") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestReportIsWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.html")
	code, _, errOut := fleetsim(t, append(tiny, "--report", path, "--quiet")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "kill ×2", "PASS", "fleetsim --machines 20"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestQuietPrintsNothingOnSuccess(t *testing.T) {
	code, out, errOut := fleetsim(t, append(tiny, "--quiet")...)
	if code != exitOK || out != "" || errOut != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, true, time.Minute)
	p.begin()
	p.lastDraw = time.Time{} // as if the last redraw were long ago
	p.update(sim.Progress{Now: 30 * time.Second, Events: 1000})
	p.end()
	line := b.String()
	if !strings.HasPrefix(line, "\r\x1b[K") || !strings.Contains(line, "30s of 1m   50.0%") || !strings.HasSuffix(line, "\r\x1b[K") {
		t.Fatalf("progress line %q", line)
	}
	if p.mem.PeakHeap == 0 || p.mem.Sys == 0 {
		t.Fatalf("memory not sampled: %+v", p.mem)
	}
}

// writeScenario writes a scenario file into a temporary folder.
func writeScenario(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.sim")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// threeWebs kills one of three machines under three mutually conflicting
// units: one of them cannot run any more.
const threeWebs = `cluster machines=3
unit web@{1..3}.service Conflicts=web@*
at 1m kill m2
run until 5m
assert unscheduled == 1
`

func TestScenarioPasses(t *testing.T) {
	path := writeScenario(t, threeWebs)
	code, out, errOut := fleetsim(t, "--scenario", path)
	if code != exitOK || !strings.Contains(out, "fleetsim: scenario "+path+", 3 machines, 3 units") ||
		!strings.Contains(out, "asserts failed    0") || !strings.HasSuffix(out, "PASS\n") {
		t.Fatalf("exit %d, stderr %q:\n%s", code, errOut, out)
	}
}

func TestFailedAssertExits1WithReplay(t *testing.T) {
	path := writeScenario(t, threeWebs+"assert running == 3\n")
	code, out, errOut := fleetsim(t, "--scenario", path, "--seed", "11")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1:\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"FAIL with seed 11: 1 failed assert", path + ":6: assert running == 3: got 2",
		"replay: fleetsim --scenario " + path + " --seed 11\n"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.HasSuffix(out, "FAIL: 1 failed assert\n") {
		t.Errorf("summary does not end in FAIL:\n%s", out)
	}
}

func TestBadScenarioExits2WithTheLine(t *testing.T) {
	path := writeScenario(t, "cluster machines=3\nbogus directive\n")
	code, out, errOut := fleetsim(t, "--scenario", path)
	if code != exitUsage || out != "" || !strings.Contains(errOut, path+":2: ") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 naming %s:2", code, out, errOut, path)
	}
	code, _, errOut = fleetsim(t, "--scenario", path, "--machines", "5")
	if code != exitUsage || !strings.Contains(errOut, "--machines: a scenario file sets its own") {
		t.Fatalf("--machines with --scenario: exit %d, %q", code, errOut)
	}
}

func TestSwarmIsDeterministic(t *testing.T) {
	args := []string{"--swarm", "--seed", "5", "--machines", "8", "--units", "40"}
	var hashes []any
	for range 2 {
		code, out, errOut := fleetsim(t, append(args, "--json")...)
		if code == exitUsage || code == exitError {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatal(err)
		}
		if m["mode"] != "swarm" {
			t.Fatalf("mode %v", m["mode"])
		}
		hashes = append(hashes, m["trace_hash"])
	}
	if hashes[0] != hashes[1] {
		t.Fatalf("same swarm, different traces: %v", hashes)
	}
}

// A swarm written out with --emit-scenario runs as a scenario file with
// the same trace: a failing seed becomes a test.
func TestEmittedSwarmReplaysAsAScenario(t *testing.T) {
	path := filepath.Join(t.TempDir(), "swarm-9.sim")
	swarm := runJSON(t, "--swarm", "--seed", "9", "--machines", "8", "--units", "40", "--emit-scenario", path)
	file := runJSON(t, "--scenario", path)
	if swarm["trace_hash"] != file["trace_hash"] || swarm["events"] != file["events"] {
		t.Fatalf("swarm %v/%v events, its file %v/%v", swarm["trace_hash"], swarm["events"], file["trace_hash"], file["events"])
	}
	code, _, errOut := fleetsim(t, "--machines", "5", "--units", "5", "--emit-scenario", path)
	if code != exitUsage || !strings.Contains(errOut, "--emit-scenario") {
		t.Fatalf("--emit-scenario with the workload: exit %d, %q", code, errOut)
	}
}
