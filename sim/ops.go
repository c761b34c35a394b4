package sim

import (
	"fmt"
	"time"

	"github.com/fleetsim/fleet/unit"
)

// OpKind names an operation injected into a run: a fault, or a change an
// operator makes.
type OpKind uint8

// The operations a run can be given.
const (
	OpKill           OpKind = iota + 1 // machine crashes
	OpRejoin                           // a crashed machine boots again
	OpPartition                        // machine is cut off from the registry
	OpHeal                             // machine reaches the registry again
	OpKillLeader                       // the engine leader's machine crashes
	OpRegistrySlow                     // registry latency grows by Extra for For
	OpLoseHeartbeats                   // machine loses heartbeats with probability Rate for For
	OpSkew                             // machine's intervals stretch by Rate (a slow clock; negative: fast)
	OpJoin                             // a new machine joins, with Metadata
	OpSetState                         // unit's desired state becomes State
	OpSetMetadata                      // machine's metadata becomes Metadata
	OpCommitTimeouts                   // commits' answers are lost with probability Rate for For
	OpLoseWatch                        // machine's schedule watch is lost (compaction): it lists again
	OpStallWatch                       // machine's schedule watch goes quiet for For, without an error
)

var opNames = [...]string{"", "kill", "rejoin", "partition", "heal", "kill-leader", "registry-slow",
	"lose-heartbeats", "skew", "join", "set-state", "metadata", "commit-timeouts", "lose-watch",
	"stall-watch"}

// String returns the operation's name as scenario files write it.
func (k OpKind) String() string {
	if int(k) < len(opNames) {
		return opNames[k]
	}
	return "unknown"
}

// Op is one injected operation.
type Op struct {
	Kind     OpKind
	Machine  string            // the machine concerned, if any
	Unit     string            // the unit concerned (OpSetState)
	State    unit.State        // OpSetState
	Extra    time.Duration     // OpRegistrySlow: added latency
	For      time.Duration     // OpRegistrySlow, OpLoseHeartbeats, OpStallWatch: how long
	Rate     float64           // OpLoseHeartbeats, OpCommitTimeouts: probability; OpSkew: fraction
	Metadata map[string]string // OpJoin, OpSetMetadata
	IsFault  bool              // counts as a fault for the liveness check
}

// Label is a short text for reports ("kill m3").
func (o Op) Label() string {
	switch {
	case o.Machine != "":
		return o.Kind.String() + " " + o.Machine
	case o.Unit != "":
		return o.Kind.String() + " " + o.Unit
	}
	return o.Kind.String()
}

// At schedules op at virtual time t. Ops given before the first RunUntil
// are checked against the machines and units known then.
func (w *World) At(t time.Duration, op Op) error {
	if t < w.now {
		return fmt.Errorf("sim: %s at %v is in the past (now %v)", op.Label(), t, w.now)
	}
	if err := w.checkOp(t, op); err != nil {
		return err
	}
	w.ops = append(w.ops, op)
	if end := t + op.For; end > w.lastOp {
		w.lastOp = end // liveness is judged once every operation has settled
	}
	w.opAt = append(w.opAt, t)
	w.seq++
	w.queue.push(event{at: t, seq: w.seq, kind: evOp, a: -1, b: int32(len(w.ops) - 1)})
	w.faults = append(w.faults, FaultMark{At: t, Label: op.Label()})
	return nil
}

func (w *World) checkOp(t time.Duration, op Op) error {
	needsMachine := op.Kind != OpKillLeader && op.Kind != OpRegistrySlow && op.Kind != OpSetState && op.Kind != OpCommitTimeouts
	if op.Kind == 0 || int(op.Kind) >= len(opNames) {
		return fmt.Errorf("sim: unknown operation %d", op.Kind)
	}
	if needsMachine && op.Kind != OpJoin {
		if _, ok := w.mpos[op.Machine]; !ok && !w.joinsBy(op.Machine, t) {
			return fmt.Errorf("sim: %s: no machine %q at %v", op.Kind, op.Machine, t)
		}
	}
	if op.Kind == OpJoin {
		if _, ok := w.mpos[op.Machine]; ok || op.Machine == "" || w.joinsBy(op.Machine, 1<<62) {
			return fmt.Errorf("sim: join: machine %q exists already or has no ID", op.Machine)
		}
	}
	if op.Kind == OpSetState {
		if _, ok := w.upos[op.Unit]; !ok {
			return fmt.Errorf("sim: %s: no unit %q", op.Kind, op.Unit)
		}
	}
	return nil
}

// joinsBy reports whether an OpJoin already scheduled adds id at or
// before t.
func (w *World) joinsBy(id string, t time.Duration) bool {
	for k, o := range w.ops {
		if o.Kind == OpJoin && o.Machine == id && w.opAt[k] <= t {
			return true
		}
	}
	return false
}

func (w *World) applyOp(k int32) {
	op := w.ops[k]
	i, known := w.mpos[op.Machine]
	if !known && op.Kind != OpJoin && op.Kind != OpKillLeader && op.Kind != OpRegistrySlow && op.Kind != OpSetState && op.Kind != OpCommitTimeouts {
		w.violate("engine", "operation "+op.Label()+" names an unknown machine") // At checks this: a bug if seen
		return
	}
	switch op.Kind {
	case OpKill:
		w.crash(i)
	case OpRejoin:
		if !w.machines[i].up {
			w.boot(i)
		}
	case OpPartition:
		w.machines[i].cut = true
	case OpHeal:
		w.machines[i].cut = false
		w.wake(i) // its watch is back: it reads its schedule
	case OpKillLeader:
		victim := ""
		if w.reg.leader >= 0 {
			victim = w.machines[w.reg.leader].id
			w.crash(w.reg.leader)
		}
		w.killedLeaders = append(w.killedLeaders, victim)
	case OpRegistrySlow:
		w.reg.slowExtra, w.reg.slowUntil = op.Extra, w.now+op.For
	case OpLoseHeartbeats:
		w.machines[i].lossRate, w.machines[i].lossUntil = op.Rate, w.now+op.For
	case OpSkew:
		w.machines[i].skew = op.Rate
	case OpJoin:
		if !known {
			_ = w.AddMachine(op.Machine, op.Metadata) // checked unique when the join was scheduled
		}
	case OpSetState:
		w.setState(w.upos[op.Unit], op.State)
	case OpSetMetadata:
		w.machines[i].meta = copyMeta(op.Metadata)
		w.reg.bump()
	case OpCommitTimeouts:
		w.reg.timeoutRate, w.reg.timeoutUntil = op.Rate, w.now+op.For
	case OpLoseWatch:
		w.loseWatch(i)
	case OpStallWatch:
		w.machines[i].stallUntil = w.now + op.For
	}
}

// setState changes a unit's desired state in its job: the leader then
// refreshes the unit's placements, which wakes their agents.
func (w *World) setState(u int32, s unit.State) {
	if s == unit.StateLaunched && w.units[u].desired != unit.StateLaunched {
		w.units[u].launches++
	}
	w.units[u].desired = s
	w.jobsVer++
	w.reg.bump()
}

// KilledLeaders returns, for each kill-leader applied so far in order,
// the machine it crashed ("" when no machine led).
func (w *World) KilledLeaders() []string { return append([]string(nil), w.killedLeaders...) }
