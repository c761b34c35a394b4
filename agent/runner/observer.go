package runner

import (
	"time"

	"github.com/fleetsim/fleet/agent"
)

// Observer is told what the agent does, for metrics: fleetd implements
// it with Prometheus, and this package stays free of metric types. Its
// methods are called from the agent's loop and must not block.
type Observer interface {
	// JobDone is told of every job's result: systemd's ("done",
	// "failed", "timeout", ...) or the error that kept it from being
	// queued. took is how long systemd took since the job was queued,
	// 0 when it was not.
	JobDone(kind agent.TaskKind, result string, took time.Duration)
	// Units is told what systemd reports of this machine's units, each
	// time the agent reads it.
	Units(units []agent.CurrentUnit)
	// PublishFailed is told of every state the agent could not publish
	// or remove.
	PublishFailed()
}

// nopObserver observes nothing.
type nopObserver struct{}

func (nopObserver) JobDone(agent.TaskKind, string, time.Duration) {}
func (nopObserver) Units([]agent.CurrentUnit)                     {}
func (nopObserver) PublishFailed()                                {}
