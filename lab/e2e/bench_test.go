package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/fleetsim/fleet/api"
)

// The lab's figures for benchmarks/RESULTS.md: they run only with
// LAB_BENCH=1 (make lab-bench), on the tests' lab.

// needBench skips unless LAB_BENCH=1.
func needBench(t *testing.T) {
	t.Helper()
	need(t)
	if os.Getenv("LAB_BENCH") != "1" {
		t.Skip("a figure for benchmarks/RESULTS.md: run with LAB_BENCH=1 (make lab-bench)")
	}
}

// activeCount counts the units of names that are active somewhere.
func activeCount(names []string) (int, error) {
	ss, err := lab.Client().UnitStates(context.Background(), api.StateFilter{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range ss {
		if s.SystemdActiveState == "active" && slices.Contains(names, s.Name) {
			n++
		}
	}
	return n, nil
}

// TestBenchStartHundred times `fleetctl start` of 100 units until it
// returns (every unit launched) and until all 100 are active.
func TestBenchStartHundred(t *testing.T) {
	needBench(t)
	for round := 1; round <= 3; round++ {
		prefix := fmt.Sprintf("hundred%d", round)
		u := newUnits(t, map[string]string{prefix + "@.service": loop})
		var names []string
		for i := 1; i <= 100; i++ {
			names = append(names, fmt.Sprintf("%s@%d.service", prefix, i))
		}
		start := time.Now()
		u.ctl("start", prefix+"@{1..100}.service")
		launched := time.Since(start)
		waitFor(t, "100 units active", 2*time.Minute, func() (bool, error) {
			n, err := activeCount(names)
			return n == 100, err
		})
		t.Logf("round %d: fleetctl start of 100 units returned (all launched) after %v; all 100 active after %v",
			round, launched.Round(10*time.Millisecond), time.Since(start).Round(10*time.Millisecond))
		u.destroy([]string{prefix + "*"})
	}
}

// TestBenchFailover crashes the busiest machine three times (booting it
// again in between) and times its units' relaunch elsewhere.
func TestBenchFailover(t *testing.T) {
	needBench(t)
	_, at := startSpread(t, "fo", 24)
	for round := 1; round <= 3; round++ {
		victim, moving := busiest(t, at)
		t0 := time.Now()
		if err := victim.Kill(); err != nil {
			t.Fatal(err)
		}
		var first, gone time.Duration
		waitFor(t, "the units relaunched", time.Minute, func() (bool, error) {
			ms, err := lab.Client().Machines(context.Background())
			if err != nil {
				return false, err
			}
			if gone == 0 && !slices.ContainsFunc(ms, func(m api.Machine) bool { return m.ID == victim.ID }) {
				gone = time.Since(t0)
			}
			moved := 0
			for _, n := range moving {
				if hosts, err := where(n); err == nil && len(hosts) == 1 && hosts[0] != victim.Hostname {
					moved++
				}
			}
			if moved > 0 && first == 0 {
				first = time.Since(t0)
			}
			return moved == len(moving), nil
		})
		t.Logf("round %d: %s crashed with %d units; out of the machine list after %v; first unit active elsewhere after %v, all after %v",
			round, victim.Hostname, len(moving), gone.Round(10*time.Millisecond), first.Round(10*time.Millisecond),
			time.Since(t0).Round(10*time.Millisecond))
		restore(t, victim)
		at = waitActiveAll(t, at)
	}
}

// waitActiveAll waits until every unit of at is active once, and
// returns where.
func waitActiveAll(t *testing.T, at map[string]string) map[string]string {
	t.Helper()
	var names []string
	for n := range at {
		names = append(names, n)
	}
	return waitActive(t, 30*time.Second, names...)
}
