package sim

import (
	"sort"
	"time"

	"github.com/fleetsim/fleet/unit"
)

// The parts of a scenario, for drivers that run it on another stack (the
// parity run replays every scenario on fleetd's own engine, agent and
// registry over a real etcd).

// ScenarioMachine is a machine present from the start.
type ScenarioMachine struct {
	ID       string
	Metadata map[string]string
}

// ScenarioUnit is a unit submitted at the start.
type ScenarioUnit struct {
	Name      string
	State     unit.State
	Options   []unit.Option // [X-Fleet] options
	Behaviour Behaviour
}

// ScenarioOp is an operation at a virtual time.
type ScenarioOp struct {
	At time.Duration
	Op Op
}

// Machines returns the machines present from the start, in order.
func (s *Scenario) Machines() []ScenarioMachine {
	out := make([]ScenarioMachine, len(s.machines))
	for i, m := range s.machines {
		out[i] = ScenarioMachine{ID: m.id, Metadata: copyMeta(m.meta)}
	}
	return out
}

// Units returns the units, in order.
func (s *Scenario) Units() []ScenarioUnit {
	out := make([]ScenarioUnit, len(s.units))
	for i, u := range s.units {
		out[i] = ScenarioUnit{Name: u.name, State: u.state, Options: append([]unit.Option(nil), u.opts...), Behaviour: u.beh}
	}
	return out
}

// Ops returns the operations, in time order.
func (s *Scenario) Ops() []ScenarioOp {
	out := make([]ScenarioOp, len(s.ops))
	for i, o := range s.ops {
		out[i] = ScenarioOp{At: o.at, Op: o.op}
	}
	return out
}

// CheckMeasured evaluates the asserts whose metric measured says was
// measured, and returns the failures and the asserts it left out.
func (s *Scenario) CheckMeasured(r Result, measured func(metric string) bool) (failed []error, skipped []string) {
	for _, a := range s.asserts {
		name := "liveness"
		switch a.kind {
		case assertUnscheduled:
			name = "unscheduled"
		case assertMetric:
			name = a.metric.name
		}
		if !measured(name) {
			skipped = append(skipped, a.String())
			continue
		}
		if got, ok := a.eval(&r); !ok {
			failed = append(failed, s.errAt(a.line, errorString(a.String()+": "+got)))
		}
	}
	return failed, skipped
}

type errorString string

func (e errorString) Error() string { return string(e) }

// Placement is a unit on a machine.
type Placement struct {
	Unit, Machine string
}

// Placements returns the registry's schedule, sorted by unit then
// machine.
func (w *World) Placements() []Placement {
	var out []Placement
	for m, es := range w.reg.sched {
		for _, e := range es {
			out = append(out, Placement{Unit: w.units[e.u].name, Machine: w.machines[m].id})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Unit < out[j].Unit || out[i].Unit == out[j].Unit && out[i].Machine < out[j].Machine
	})
	return out
}
