package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestSwarm runs generated scenarios (5-8 machines, 10-30 units, faults
// over eight virtual minutes, then healed; 20 minutes in all): nothing is
// violated and liveness is checked. A failure saves the scenario and
// prints the command that replays it.
func TestSwarm(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		machines, units := 5+int(seed%4), 10+int(seed*7%21)
		s := Swarm(seed, machines, units)
		r, failed, err := s.Run()
		if err != nil {
			t.Fatalf("swarm %d: %v", seed, err)
		}
		if len(failed) > 0 {
			path := saveScenario(t, s)
			t.Errorf("Swarm(%d, %d, %d): %v\nreplay: go run ./cmd/fleetsim --swarm --seed %d --machines %d --units %d\n(or go run ./cmd/fleetsim --scenario %s, saved from:)\n%s",
				seed, machines, units, failed, seed, machines, units, path, s)
		}
		if r.Events == 0 {
			t.Fatalf("swarm %d: nothing happened", seed)
		}
	}
}

// saveScenario writes a failing scenario where it outlives the test.
func saveScenario(t *testing.T, s *Scenario) string {
	path := filepath.Join(os.TempDir(), "fleetsim-"+s.Name+".sim")
	if err := os.WriteFile(path, []byte(s.String()), 0o644); err != nil {
		t.Logf("cannot save the scenario: %v", err)
	}
	return path
}

// TestSwarmIsDeterministic: the same arguments give the same scenario and
// the same run; String writes it back faithfully.
func TestSwarmIsDeterministic(t *testing.T) {
	a, b := Swarm(7, 6, 20), Swarm(7, 6, 20)
	if a.String() != b.String() {
		t.Fatalf("Swarm(7) twice gave two scenarios:\n%s\n%s", a, b)
	}
	if Swarm(8, 6, 20).String() == a.String() {
		t.Fatal("Swarm(7) and Swarm(8) are the same scenario: the seed is not used")
	}
	checkRoundTrip(t, a)
	if a.Until != 20*time.Minute || len(a.asserts) != 2 {
		t.Fatalf("Swarm runs %v with %d asserts, want 20m and 2", a.Until, len(a.asserts))
	}
}

// TestSwarmCoversEveryOperation: across a few seeds the generator uses
// every operation and every [X-Fleet] option it promises.
func TestSwarmCoversEveryOperation(t *testing.T) {
	var all strings.Builder
	for seed := uint64(1); seed <= 40; seed++ {
		all.WriteString(Swarm(seed, 6, 30).String())
	}
	text := all.String()
	for _, want := range []string{" kill m", " rejoin m", " partition m", " heal m", " kill-leader",
		" registry-slow +", " lose-heartbeats m", " skew m", " join m", " metadata m", " start ", " stop ", " unload ",
		"Conflicts=", "MachineOf=", "MachineMetadata=", "!=", ">=", "Global=true", "Replaces=", "Ports=", " loaded", " inactive"} {
		if !strings.Contains(text, want) {
			t.Errorf("40 swarms never wrote %q", want)
		}
	}
}

// rapidChooser makes the swarm generator draw from rapid, so that a
// failing scenario shrinks: fewer machines, units and faults, earlier
// choices.
type rapidChooser struct{ t *rapid.T }

func (c rapidChooser) IntN(n int) int { return rapid.IntRange(0, n-1).Draw(c.t, "choice") }

// TestSwarmProperty: small generated scenarios (1-5 machines, up to 8
// units, up to 5 faults in four minutes, all healed) break no safety
// property and pass the liveness check. A failure prints the shrunk
// scenario in the grammar, ready to save as a .sim file.
func TestSwarmProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		seed := rapid.Uint64Range(0, 1<<20).Draw(t, "seed")
		c := rapidChooser{t}
		g := newSwarmGen(c, 1+c.IntN(5))
		g.addUnits(c.IntN(9))
		g.addFaults(c.IntN(6), 4*time.Minute)
		s := g.scenario(fmt.Sprintf("rapid-%d", seed), seed, 5*time.Minute)
		_, failed, err := s.Run()
		if err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
		if len(failed) > 0 {
			t.Fatalf("%v\nsave this as bug.sim and replay it with go run ./cmd/fleetsim --scenario bug.sim:\n%s", failed, s)
		}
	})
}
