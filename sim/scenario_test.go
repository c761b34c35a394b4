package sim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/unit"
)

// TestScenarioFiles runs every testdata/*.sim (grammar: see Scenario)
// twice with its own seed, checks that both runs leave the same trace
// hash, and checks its asserts; then runs it with a few other seeds, so
// that an assert that holds only by one seed's luck is caught. A failure
// names the file and line of the assert, the seed and the command that
// replays it.
func TestScenarioFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/*.sim")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s := loadScenario(t, f)
			seed := s.Config.Seed
			a := runScenario(t, f, s)
			b, _, err := s.Run()
			if err != nil || a.TraceHash != b.TraceHash {
				t.Errorf("%s: same seed %d, different trace hashes %x and %x (%v): the run is not deterministic", f, seed, a.TraceHash, b.TraceHash, err)
			}
			for k := uint64(1); k <= 4 && !t.Failed(); k++ {
				s.Config.Seed = seed + 1000*k
				runScenario(t, f, s)
			}
		})
	}
}

func loadScenario(t *testing.T, path string) *Scenario {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := ParseScenario(path, f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runScenario runs s and reports its failed asserts with a replay command.
func runScenario(t *testing.T, path string, s *Scenario) Result {
	t.Helper()
	r, failed, err := s.Run()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range failed {
		t.Errorf("%v", e)
	}
	if len(failed) > 0 {
		t.Logf("seed %d; replay: go run ./cmd/fleetsim --scenario sim/%s --seed %d", s.Config.Seed, filepath.ToSlash(path), s.Config.Seed)
	}
	return r
}

// TestScenarioRoundTrip: String writes a scenario that parses back to the
// same text and runs to the same trace.
func TestScenarioRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.sim")
	for _, f := range files {
		s := loadScenario(t, f)
		checkRoundTrip(t, s)
	}
}

// everyDirective uses every directive, key, operation and assert form.
const everyDirective = `# a comment
cluster machines=2 seed=9 ttl=20s heartbeat=5s reconcile=1s agent=3s leader-ttl=8s latency=1ms jitter=0s start=500ms start-jitter=0s sample=5s start-fail=1% heartbeat-loss=0.5% crash-per-hour=0.25 metadata=region:eu|us,disk:ssd
machine db{1,2} disk=hdd "note=two words"
unit web@{1..3}.service Conflicts=web@* MachineMetadata="region=eu region=us"
unit db.service loaded MachineID=db1
unit cache.service MachineOf=web@1.service   # after its peer
unit agent.service Global=true Ports=9100
unit new.service inactive Replaces=db.service
unit tmpl@.service inactive
at 10s kill m1
at 20s rejoin m1
at 30s partition db{1,2}
at 40s heal db1
at 40s heal db2
at 50s kill-leader
at 1m registry-slow +2s for 30s
at 1m lose-heartbeats m2 50% for 1m
at 1m10s skew m2 -5%
at 1m20s join m9 region=eu
at 1m30s metadata m9 region=us disk=ssd
at 1m40s metadata m9
at 2m start new.service
at 2m10s load db.service
at 2m20s stop db.service
at 2m30s unload new.service
run until 10m
assert running >= 1
assert violations == 0
assert unscheduled != 99
assert pending < 10
assert rescheduled > 0
assert reschedule_p50 <= 1m
assert reschedule_p99 <= 1m30s
assert reschedule_max <= 2m
assert double_run <= 90
assert double_run <= 1m30s
assert elections >= 1
assert commits >= 1
assert commits_rejected == 0
assert scheduler_calls > 0
assert events > 0
assert unscheduled web@{2,3}.service
assert unscheduled cache.service machine-of
assert liveness checked
`

func TestScenarioEveryDirective(t *testing.T) {
	s, err := ParseScenario("every.sim", strings.NewReader(everyDirective))
	if err != nil {
		t.Fatal(err)
	}
	checkRoundTrip(t, s)
	if len(s.machines) != 4 || len(s.units) != 8 || len(s.ops) != 17 || len(s.asserts) != 19 {
		t.Fatalf("got %d machines, %d units, %d ops, %d asserts; want 4, 8, 17, 19",
			len(s.machines), len(s.units), len(s.ops), len(s.asserts))
	}
	if m := s.machines[3]; m.id != "db2" || m.meta["note"] != "two words" || m.meta["disk"] != "hdd" {
		t.Fatalf("machine line: %+v", m)
	}
	if u := s.units[0]; u.opts[1].Value != "region=eu region=us" {
		t.Fatalf("quoted value: %+v", u.opts)
	}
	if s.Config.StartFailProb != 0.01 || s.Config.HeartbeatLoss != 0.005 || s.Config.LeaderTTL != 8*time.Second {
		t.Fatalf("config: %+v", s.Config)
	}
	faults := 0
	for _, o := range s.ops {
		if o.op.IsFault {
			faults++
		}
	}
	if faults != 10 {
		t.Fatalf("%d ops are faults, want 10 (kill to skew)", faults)
	}
}

func checkRoundTrip(t *testing.T, s *Scenario) {
	t.Helper()
	text := s.String()
	back, err := ParseScenario(s.Name, strings.NewReader(text))
	if err != nil {
		t.Fatalf("%s: String does not parse back: %v\n%s", s.Name, err, text)
	}
	if again := back.String(); again != text {
		t.Fatalf("%s: String is not stable\n--- first\n%s--- second\n%s", s.Name, text, again)
	}
	r1, _, err1 := s.Run()
	r2, _, err2 := back.Run()
	if err1 != nil || err2 != nil || r1.TraceHash != r2.TraceHash {
		t.Fatalf("%s: the written scenario runs differently (%v, %v, %x, %x)", s.Name, err1, err2, r1.TraceHash, r2.TraceHash)
	}
}

const badHead = "cluster machines=3\nunit a.service\n" // lines 1-2 of most bad inputs

// badScenarios are inputs ParseScenario rejects, and what it must say.
var badScenarios = []struct{ in, want string }{
	{"", "t.sim:1: no cluster line"},
	{"unit a.service\ncluster machines=1\n", "t.sim:1: unit before the cluster line"},
	{"cluster machines=3\ncluster machines=3\n", "t.sim:2: a second cluster line (the first is on line 1)"},
	{"cluster\n", "t.sim:1: cluster: machines= is missing"},
	{"cluster machines=3 color=red\n", `t.sim:1: cluster: unknown key "color"`},
	{"cluster machines=3 ttl=30\n", `t.sim:1: cluster: ttl=30: bad duration`},
	{"cluster machines=3 ttl=0s\n", `t.sim:1: cluster: ttl=0s: want a duration above 0`},
	{"cluster machines=3 heartbeat=40s\n", "t.sim:1: cluster: sim: heartbeat interval 40s must be shorter than the agent TTL 30s"},
	{"cluster machines=3 start-fail=2\n", "t.sim:1: cluster: start-fail=2: 2 is not between 0 and 100%"},
	{"cluster machines=3 metadata=region\n", `cluster: metadata=region: "region": want key:value|value`},
	{"cluster machines=3 machines=4\n", "t.sim:1: cluster: machines given twice"},
	{"cluster machines=x\n", `t.sim:1: cluster: machines=x: strconv.Atoi`},
	{badHead + "explode m1\n", `t.sim:3: unknown directive "explode"`},
	{badHead + "unit a.service\nrun until 1m\n", "t.sim:3: unit a.service is already defined on line 2"},
	{badHead + "unit b.service MachineOf=b.service\n", "t.sim:3: unit b.service: unit: invalid [X-Fleet] section: MachineOf names the unit itself"},
	{badHead + "unit b.service Conflicts=x Replaces=y\n", "t.sim:3: unit b.service: unit: invalid [X-Fleet] section: "},
	{badHead + "unit b.service Colour=red\n", `t.sim:3: unit b.service: unknown [X-Fleet] key "Colour"`},
	{badHead + "unit b.service running\n", `t.sim:3: unit b.service: "running" is neither a state`},
	{badHead + "unit b.service Global\n", `t.sim:3: unit b.service: "Global" is neither a state`},
	{badHead + "unit b.service loaded Global\n", `t.sim:3: unit b.service: "Global" is not Key=Value`},
	{badHead + "unit bad\n", "t.sim:3: unit bad: unit: invalid unit name"},
	{badHead + "unit web@.service\n", "t.sim:3: unit web@.service: a template unit is never loaded or launched"},
	{badHead + "unit b{1..}.service\n", `t.sim:3: unit: "b{1..}.service": {1..}: want {LOW..HIGH}`},
	{badHead + "unit b{1,2.service\n", `t.sim:3: unit: "b{1,2.service": { without }`},
	{badHead + "unit \"b.service\n", "t.sim:3: unterminated quote"},
	{badHead + "machine m1\n", "t.sim:3: machine m1 is already defined on line 1"},
	{badHead + "machine db1 disk\n", `t.sim:3: machine db1: "disk" is not k=v`},
	{badHead + "at 10s kill m9\nrun until 1m\n", `t.sim:3: at 10s kill: no machine "m9"`},
	{badHead + "at 10s kill m1\n", "t.sim:3: at without a run until after it"},
	{badHead + "at 10s kill m1 m2\nrun until 1m\n", `t.sim:3: at 10s kill: unexpected "m2"`},
	{badHead + "at 10s kill-leader now\nrun until 1m\n", `t.sim:3: at 10s kill-leader: unexpected "now"`},
	{badHead + "at 10s explode m1\nrun until 1m\n", `t.sim:3: at: unknown operation "explode"`},
	{badHead + "at 10 kill m1\nrun until 1m\n", `t.sim:3: at: bad duration`},
	{badHead + "at 0s kill m1\nrun until 1m\n", "t.sim:3: at 0s: operations come after time 0"},
	{badHead + "at 20s kill m1\nat 10s kill m2\nrun until 1m\n", "t.sim:4: at 10s comes before the at on line 3 (20s)"},
	{badHead + "at 10s start b.service\nrun until 1m\n", `t.sim:3: at 10s start: no unit "b.service"`},
	{badHead + "at 10s start web@.service\nrun until 1m\n", `t.sim:3: at 10s start: no unit "web@.service"`},
	{badHead + "unit web@.service inactive\nat 10s start web@.service\nrun until 1m\n", "t.sim:4: at 10s start: web@.service is a template unit: it is never loaded or launched"},
	{badHead + "at 10s join m1\nrun until 1m\n", "t.sim:3: at 10s join: machine m1 already exists (line 1)"},
	{badHead + "at 10s kill m4\nat 20s join m4\nrun until 1m\n", `t.sim:3: at 10s kill: no machine "m4" (define it, or join it on an earlier line)`},
	{badHead + "at 10s skew m1 2000%\nrun until 1m\n", "t.sim:3: at 10s skew: skew 2000% is not between -90% and 900%"},
	{badHead + "at 10s lose-heartbeats m1 150% for 1m\nrun until 2m\n", "t.sim:3: at 10s lose-heartbeats: 150% is not between 0 and 100%"},
	{badHead + "at 10s registry-slow +2s\nrun until 1m\n", "t.sim:3: at 10s registry-slow: want ... for DURATION"},
	{badHead + "at 10s registry-slow +2s for 1m later\nrun until 2m\n", `t.sim:3: at 10s registry-slow: unexpected "later"`},
	{badHead + "at 2m kill m1\nrun until 1m\n", "t.sim:4: run until 1m ends before the at on line 3 (2m)"},
	{badHead + "run until 1m\nat 2m kill m1\n", "t.sim:4: at after run until: only assert lines may follow it"},
	{badHead + "run until 1m\nrun until 2m\n", "t.sim:4: run after run until"},
	{badHead + "run until 1m now\n", "t.sim:3: run: want run until TIME"},
	{badHead + "run 1m\n", "t.sim:3: run: want run until TIME"},
	{badHead + "assert running == 1\nrun until 1m\n", "t.sim:3: assert before run until"},
	{badHead + "run until 1m\nassert happiness == 1\n", `t.sim:4: assert: unknown metric "happiness"`},
	{badHead + "run until 1m\nassert running == 1 2\n", `t.sim:4: assert running: unexpected "2" after the value`},
	{badHead + "run until 1m\nassert running =< 1\n", `t.sim:4: assert running: unknown operator "=<"`},
	{badHead + "run until 1m\nassert running == many\n", `t.sim:4: assert running: "many" is not a count`},
	{badHead + "run until 1m\nassert reschedule_max <= 40\n", "t.sim:4: assert reschedule_max: bad duration"},
	{badHead + "run until 1m\nassert double_run <= soon\n", `t.sim:4: assert double_run: "soon" is neither unit-seconds nor a duration`},
	{badHead + "run until 1m\nassert unscheduled b.service\n", `t.sim:4: assert unscheduled: no unit "b.service"`},
	{badHead + "run until 1m\nassert unscheduled a.service bored\n", `t.sim:4: assert unscheduled a.service: unknown reason "bored"`},
	{badHead + "run until 1m\nassert unscheduled a.service conflict now\n", `t.sim:4: assert unscheduled: unexpected "now" after the reason`},
	{badHead + "run until 1m\nassert liveness\n", `t.sim:4: assert: unknown metric "liveness"`},
	{badHead, "t.sim:2: no run until line"},
}

// TestScenarioErrors: bad input gives an error that names the line and
// the problem, and wraps ErrScenario.
func TestScenarioErrors(t *testing.T) {
	for _, tc := range badScenarios {
		_, err := ParseScenario("t.sim", strings.NewReader(tc.in))
		if err == nil {
			t.Errorf("%q: no error, want %q", tc.in, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got  %v\n want %s", tc.in, err, tc.want)
		}
		if !errors.Is(err, ErrScenario) {
			t.Errorf("%q: %v does not wrap ErrScenario", tc.in, err)
		}
	}
}

func TestScenarioErrorsWrapTheirCause(t *testing.T) {
	_, err := ParseScenario("t.sim", strings.NewReader("cluster machines=1\nunit a.service MachineOf=a.service\n"))
	if !errors.Is(err, unit.ErrInvalidRequirements) || !errors.Is(err, ErrScenario) {
		t.Fatalf("%v: want both ErrScenario and unit.ErrInvalidRequirements", err)
	}
}

// TestScenarioCheckNamesLines: a failed assert names its file and line,
// the assert and what the run gave.
func TestScenarioCheckNamesLines(t *testing.T) {
	const in = `cluster machines=2
unit a{1..3}.service
unit web@{1..3}.service Conflicts=web@*
at 1m30s heal m1   # a fault that changes nothing, too late for the liveness check
run until 2m
assert running == 5
assert running == 99   # wrong on purpose
assert unscheduled web@3.service ports-used-up
assert unscheduled web@3.service
assert unscheduled a1.service
assert reschedule_max > 1s
assert liveness checked
`
	s, err := ParseScenario("x.sim", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	_, failed, err := s.Run()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range failed {
		got = append(got, e.Error())
	}
	want := []string{
		"x.sim:7: assert running == 99: got 5",
		"x.sim:8: assert unscheduled web@3.service ports-used-up: unscheduled for conflict (",
		"x.sim:10: assert unscheduled a1.service: the last plan did not leave it unscheduled",
		"x.sim:11: assert reschedule_max > 1s: got 0s",
		"x.sim:12: assert liveness checked: not checked: the last operation settles at 1m30s; plus the liveness bound (51.04s) is after run until 2m",
	}
	if len(got) != len(want) {
		t.Fatalf("failed asserts:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("got  %s\nwant %s...", got[i], want[i])
		}
	}
}

func TestExpandBraces(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"web.service", "web.service"},
		{"web@{1..3}.service", "web@1.service web@2.service web@3.service"},
		{"m{a,b}{1..2}", "ma1 ma2 mb1 mb2"},
		{"x{7..7}", "x7"},
	} {
		got, err := expandBraces(tc.in)
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("expandBraces(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"a{1..0}", "a{b}", "a}b", "a{1,,2}", "a{x..3}", "a{0..999999}"} {
		if _, err := expandBraces(bad); err == nil {
			t.Errorf("expandBraces(%q): no error", bad)
		}
	}
}

func TestSplitWords(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"  unit a.service  # a comment", "unit|a.service"},
		{`unit a.service MachineMetadata="region=eu disk=ssd"`, "unit|a.service|MachineMetadata=region=eu disk=ssd"},
		{`# all comment`, ""},
		{"assert x#y", "assert|x#y"},
		{`a "" b`, "a||b"},
	} {
		got, err := splitWords(tc.in)
		if err != nil || strings.Join(got, "|") != tc.want {
			t.Errorf("splitWords(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// ExampleParseScenario shows a scenario file and what String writes back.
func ExampleParseScenario() {
	s, err := ParseScenario("example.sim", strings.NewReader(`
cluster machines=3 ttl=20s metadata=region:eu|us
unit web@{1..2}.service Conflicts=web@*
at 1m kill m1
at 3m rejoin m1
run until 5m
assert violations == 0
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(s)
	// Output:
	// cluster machines=3 seed=1 ttl=20s metadata=region:eu|us
	// unit web@1.service Conflicts=web@*
	// unit web@2.service Conflicts=web@*
	// at 1m kill m1
	// at 3m rejoin m1
	// run until 5m
	// assert violations == 0
}
