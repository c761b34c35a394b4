package unit

import "fmt"

// State is a unit's desired or current state in the cluster, as fleet
// names them.
type State uint8

// The three states of fleet's lifecycle.
const (
	StateInactive State = iota // submitted, not on any machine
	StateLoaded                // unit file loaded into systemd, not started
	StateLaunched              // loaded and started
)

var stateNames = [...]string{"inactive", "loaded", "launched"}

// String returns "inactive", "loaded" or "launched".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Active reports whether a unit in state s should be on a machine.
func (s State) Active() bool { return s == StateLoaded || s == StateLaunched }

// ParseState reads "inactive", "loaded" or "launched".
func ParseState(s string) (State, error) {
	for i, n := range stateNames {
		if n == s {
			return State(i), nil
		}
	}
	return 0, fmt.Errorf("unit: unknown state %q: want inactive, loaded or launched", s)
}
