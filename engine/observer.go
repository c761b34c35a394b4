package engine

import (
	"time"

	"github.com/fleetsim/fleet/engine/leader"
	"github.com/fleetsim/fleet/scheduler"
)

// Observer is told what the engine does, for metrics: fleetd implements
// it with Prometheus, and this package stays free of metric types. Its
// methods are called from the engine's loop and must not block.
type Observer interface {
	// Reconciled is told how long one pass of the loop took: the step
	// asked until it had nothing more to ask (bodies read, plans
	// committed).
	Reconciled(took time.Duration)
	// Planned is told of every plan the step made.
	Planned(p *scheduler.Plan)
	// Committed is told what became of every commit.
	Committed(o leader.Outcome)
	// Leading is told when this engine wins or loses the leadership.
	Leading(leading bool)
}

// nopObserver observes nothing.
type nopObserver struct{}

func (nopObserver) Reconciled(time.Duration) {}
func (nopObserver) Planned(*scheduler.Plan)  {}
func (nopObserver) Committed(leader.Outcome) {}
func (nopObserver) Leading(bool)             {}
