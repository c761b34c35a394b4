package sim

import (
	"fmt"
	"strings"
	"time"
)

// Behaviour is how a unit behaves in the simulated world: what its
// program does when started, what its Restart= asks of systemd, and the
// trouble around it (a file systemd will not load, a body in the registry
// that does not decode). The agent and the leader know none of it: they
// see only what systemd and the registry report, as on real machines.
type Behaviour struct {
	Start   StartBehaviour
	Restart RestartPolicy
	// RefuseLoad: systemd will not load the unit file (load state error).
	RefuseLoad bool
	// CorruptBody: the unit's body in the registry does not decode.
	CorruptBody bool
}

// StartBehaviour is what a unit's program does when started.
type StartBehaviour uint8

// What a started unit does.
const (
	StartRuns  StartBehaviour = iota // starts in the start time and runs
	StartHangs                       // the start job never completes
	StartSlow                        // the start job completes after SlowStart
	StartExits                       // starts, then exits at once with success
	StartFails                       // the start job fails
)

// RestartPolicy is a unit's Restart= as systemd applies it.
type RestartPolicy uint8

// The Restart= values the simulated systemd applies.
const (
	RestartNo        RestartPolicy = iota // Restart=no: the default
	RestartOnFailure                      // Restart=on-failure
	RestartAlways                         // Restart=always
)

// systemd's defaults for restarts: RestartSec= (restartDelay), and the
// start limit (StartLimitIntervalSec=, StartLimitBurst=).
const (
	restartDelay    = 100 * time.Millisecond
	startLimitEvery = 10 * time.Second
	startLimitBurst = 5
)

// SlowStart is how long a StartSlow unit's start job takes: longer than
// the agents' job deadline.
const SlowStart = 3 * time.Minute

var (
	startNames   = [...]string{"runs", "hangs", "slow", "exits", "fails"}
	restartNames = [...]string{"no", "on-failure", "always"}
)

// String returns the words a scenario file writes for b ("" for the
// default behaviour).
func (b Behaviour) String() string {
	var w []string
	if b.Start != StartRuns {
		w = append(w, "sim="+startNames[b.Start])
	}
	if b.RefuseLoad {
		w = append(w, "sim=refused")
	}
	if b.CorruptBody {
		w = append(w, "sim=corrupt")
	}
	if b.Restart != RestartNo {
		w = append(w, "Restart="+restartNames[b.Restart])
	}
	return strings.Join(w, " ")
}

// set applies one scenario word (sim=... or Restart=...) to b; it
// reports whether the word was one of its own.
func (b *Behaviour) set(key, value string) (bool, error) {
	switch key {
	case "sim":
		switch value {
		case "refused":
			b.RefuseLoad = true
		case "corrupt":
			b.CorruptBody = true
		default:
			k := indexOf(startNames[:], value)
			if k < 0 {
				return true, fmt.Errorf("sim=%s: want runs, hangs, slow, exits, fails, refused or corrupt", value)
			}
			b.Start = StartBehaviour(k)
		}
		return true, nil
	case "Restart":
		k := indexOf(restartNames[:], value)
		if k < 0 {
			return true, fmt.Errorf("restart policy %q: want Restart=no, on-failure or always", value)
		}
		b.Restart = RestartPolicy(k)
		return true, nil
	}
	return false, nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// restarts reports whether systemd restarts a unit with policy p that
// ended, failed or not.
func (p RestartPolicy) restarts(failed bool) bool {
	return p == RestartAlways || p == RestartOnFailure && failed
}

// SetBehaviour sets how unit name behaves. Call it before the first
// RunUntil.
func (w *World) SetBehaviour(name string, b Behaviour) error {
	u, ok := w.upos[name]
	if !ok {
		return fmt.Errorf("sim: no unit %s", name)
	}
	if w.started {
		return fmt.Errorf("sim: unit %s: behaviour set after the run started", name)
	}
	w.units[u].beh = b
	return nil
}
