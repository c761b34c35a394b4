package parity

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/fleetsim/fleet/registry/etcdtest"
	"github.com/fleetsim/fleet/sim"
)

// scale is how much faster than the scenario the real stack runs
// (PARITY_SCALE, a fraction: 0.1 runs a minute in six seconds). The
// default keeps the leader's lease (10s in a scenario) at etcd's shortest,
// one second, so that elections take the share of time they take in the
// simulator: the final placements depend on it.
func scale(t *testing.T) float64 {
	s := os.Getenv("PARITY_SCALE")
	if s == "" {
		return 1.0 / 10
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 1 {
		t.Fatalf("PARITY_SCALE=%q: want a fraction in (0, 1]", s)
	}
	return f
}

// TestParity replays every scenario of sim/testdata on the real stack
// (PARITY=1 runs it; PARITY_RUN=pattern narrows the scenarios) and ends with
// "parity: N scenarios, M same". A scenario the real stack cannot run is
// named with its reason; one that ran must pass the asserts the real
// stack measures, with no violation, and reach the simulator's final
// placements.
func TestParity(t *testing.T) {
	if os.Getenv("PARITY") == "" {
		t.Skip("set PARITY=1 (make parity): replays every scenario in real time, about two minutes")
	}
	files, err := filepath.Glob("../sim/testdata/*.sim")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files: %v", err)
	}
	srv := etcdtest.Start(t)
	sc := scale(t)
	var (
		mu        sync.Mutex
		ran, same int
		skipped   []string
	)
	t.Cleanup(func() {
		for _, s := range skipped {
			t.Logf("cannot run on the real stack: %s", s)
		}
		fmt.Printf("parity: %d scenarios, %d same\n", ran, same)
	})
	for k, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".sim")
		if pat := os.Getenv("PARITY_RUN"); pat != "" && !strings.Contains(name, pat) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each on its own key prefix and machines: they mostly wait
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			scn, err := sim.ParseScenario(path, f)
			if err != nil {
				t.Fatal(err)
			}
			o, err := Replay(scn, srv.Endpoint, fmt.Sprintf("/parity/%d/", k), sc)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if o.Skipped != "" {
				skipped = append(skipped, name+": "+o.Skipped)
				t.Skip(o.Skipped)
			}
			ran++
			for _, v := range o.Violations {
				t.Errorf("violation: %s", v)
			}
			for _, e := range o.Failed {
				t.Errorf("assert: %v", e)
			}
			if len(o.Unmeasured) > 0 {
				t.Logf("not measured on the real stack: %s", strings.Join(o.Unmeasured, "; "))
			}
			if !o.Same {
				t.Errorf("final placements differ:\n  sim:  %v\n  real: %v", o.Sim, o.Real)
				return
			}
			same++
		})
	}
}
