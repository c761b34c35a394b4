package parity

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/scheduler"
	"github.com/fleetsim/fleet/sim"
	"github.com/fleetsim/fleet/unit"
)

// Outcome is one scenario replayed on the real stack.
type Outcome struct {
	Name string
	// Skipped is why the scenario could not run on the real stack ("" if
	// it ran).
	Skipped string
	// Sim and Real are the final placements of the simulator and of the
	// real stack; Same says they are equal.
	Sim, Real []sim.Placement
	Same      bool
	// Failed are the asserts the real stack failed; Unmeasured the asserts
	// on what it does not measure (latencies, counts of commits or events).
	Failed     []error
	Unmeasured []string
	Violations []string
}

// measured are the metrics a replay measures.
var measured = map[string]bool{"running": true, "violations": true, "unscheduled": true, "left_out": true, "liveness": true}

// Replay runs sc in the simulator, then on the real stack over the etcd at
// endpoint under key prefix, with every duration multiplied by scale.
func Replay(sc *sim.Scenario, endpoint, prefix string, scale float64) (*Outcome, error) {
	out := &Outcome{Name: sc.Name}
	if why := unsupported(sc); why != "" {
		out.Skipped = why
		return out, nil
	}
	w, err := sc.World()
	if err != nil {
		return nil, err
	}
	w.RunUntil(sc.Until)
	out.Sim = w.Placements()

	c := &cluster{endpoint: endpoint, prefix: prefix, t: scaled(sc.Config, scale), machines: map[string]*machine{},
		victims: w.KilledLeaders()}
	for _, u := range sc.Units() {
		if u.Behaviour.Start == sim.StartHangs {
			c.hangs = append(c.hangs, u.Name)
		}
	}
	defer c.close()
	if err := c.run(sc, scale); err != nil {
		return nil, err
	}
	r, err := c.result()
	if err != nil {
		return nil, err
	}
	out.Real = r.placements
	out.Same = slices.Equal(out.Sim, out.Real)
	out.Failed, out.Unmeasured = sc.CheckMeasured(r.Result, func(m string) bool { return measured[m] })
	out.Violations = r.violations
	return out, nil
}

// scaled returns fleetd's timings for sc's Config; etcd leases count in
// whole seconds, so TTLs are at least one.
func scaled(cfg sim.Config, scale float64) timings {
	d := func(v time.Duration) time.Duration { return time.Duration(float64(v) * scale) }
	return timings{
		agentTTL:       max(d(cfg.AgentTTL), time.Second),
		agentInterval:  max(d(cfg.AgentInterval), 20*time.Millisecond),
		engineInterval: max(d(cfg.EngineInterval), 20*time.Millisecond),
		leaderTTL:      max(d(cfg.LeaderTTL), time.Second),
	}
}

// unsupported says why sc cannot run on the real stack, "" if it can.
func unsupported(sc *sim.Scenario) string {
	cfg, def := sc.Config, sim.DefaultConfig()
	switch {
	case cfg.HeartbeatLoss > 0:
		return "heartbeat-loss: etcd's keep-alives cannot be dropped at a rate"
	case cfg.StartFailProb > 0 || cfg.CrashPerHour > 0:
		return "start-fail, crash-per-hour: the in-memory systemd's units neither fail nor crash"
	case cfg.Latency > def.Latency || cfg.LatencyJitter > def.LatencyJitter:
		return "latency: the real registry's latency is its own"
	}
	for _, u := range sc.Units() {
		b := u.Behaviour
		if b.Start != sim.StartRuns && b.Start != sim.StartHangs || b.Restart != sim.RestartNo || b.RefuseLoad || b.CorruptBody {
			return fmt.Sprintf("unit %s %s: the in-memory systemd only runs units or hangs their start", u.Name, b)
		}
	}
	for _, o := range sc.Ops() {
		switch o.Op.Kind {
		case sim.OpSkew:
			return "skew: a real clock cannot be slowed"
		case sim.OpRegistrySlow, sim.OpCommitTimeouts:
			return o.Op.Kind.String() + ": etcd's answers cannot be slowed or lost on demand"
		case sim.OpLoseHeartbeats:
			return "lose-heartbeats: etcd's keep-alives cannot be dropped at a rate"
		case sim.OpLoseWatch:
			return "lose-watch: a watch cannot be compacted away on demand"
		case sim.OpStallWatch:
			return "stall-watch: a watch cannot be silenced on demand"
		}
	}
	return ""
}

// run boots the machines, submits the units and plays the operations at
// their scaled times, then waits until the scaled end and for the
// cluster to settle.
func (c *cluster) run(sc *sim.Scenario, scale float64) error {
	for _, m := range sc.Machines() {
		if err := c.add(m.ID, m.Metadata); err != nil {
			return err
		}
	}
	reg := c.machines[c.order[0]].reg
	ctx := context.Background()
	for _, u := range sc.Units() {
		opts := append([]unit.Option{{Section: "Service", Name: "ExecStart", Value: "/bin/true " + u.Name}}, u.Options...)
		f, err := unit.NewFile(opts)
		if err != nil {
			return fmt.Errorf("parity: unit %s: %w", u.Name, err)
		}
		if err := reg.CreateUnit(ctx, u.Name, f, u.State); err != nil {
			return fmt.Errorf("parity: %w", err)
		}
	}
	start := time.Now()
	at := func(d time.Duration) time.Time { return start.Add(time.Duration(float64(d) * scale)) }
	for _, o := range sc.Ops() {
		time.Sleep(time.Until(at(o.At)))
		if err := c.apply(ctx, reg, o.Op); err != nil {
			return err
		}
	}
	time.Sleep(time.Until(at(sc.Until)))
	return c.settle(ctx, reg)
}

// apply carries out one operation.
func (c *cluster) apply(ctx context.Context, reg *registry.Etcd, op sim.Op) error {
	m := c.machines[op.Machine]
	switch op.Kind {
	case sim.OpKill:
		c.stop(m)
	case sim.OpRejoin:
		if !m.up {
			c.boot(m, true)
		}
	case sim.OpKillLeader:
		// Which engine wins an election is a race in etcd: the machine
		// the simulator's leader ran on dies, so that the same machines
		// are left.
		if len(c.victims) > 0 {
			v := c.victims[0]
			c.victims = c.victims[1:]
			if m := c.machines[v]; m != nil {
				c.stop(m)
				return nil
			}
		}
		if l := c.leader(); l != nil {
			c.stop(l)
		}
	case sim.OpPartition:
		m.proxy.Cut()
	case sim.OpHeal:
		if err := m.proxy.Heal(); err != nil {
			return fmt.Errorf("parity: %w", err)
		}
	case sim.OpJoin:
		return c.add(op.Machine, op.Metadata)
	case sim.OpSetMetadata:
		// The operator edits fleet.conf and restarts fleetd: the units
		// keep running.
		c.stop(m)
		m.meta = op.Metadata
		c.boot(m, false)
	case sim.OpSetState:
		if err := reg.SetDesired(ctx, op.Unit, op.State); err != nil {
			return fmt.Errorf("parity: %s: %w", op.Label(), err)
		}
	default:
		return fmt.Errorf("parity: %s cannot be replayed", op.Label())
	}
	return nil
}

// settle waits until the schedule and what runs stay the same for a
// while (or a bound passes).
func (c *cluster) settle(ctx context.Context, reg *registry.Etcd) error {
	const quiet, bound = 500 * time.Millisecond, 10 * time.Second
	var last string
	since, deadline := time.Now(), time.Now().Add(bound)
	for time.Now().Before(deadline) {
		sched, err := reg.Schedule(ctx)
		if err != nil {
			return fmt.Errorf("parity: %w", err)
		}
		now := fmt.Sprint(sched, c.running())
		if now != last {
			last, since = now, time.Now()
		} else if time.Since(since) >= quiet {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// realResult is what the real stack ended with.
type realResult struct {
	sim.Result
	placements []sim.Placement
	violations []string
}

// result reads the end state: placements, what runs, the leader's last
// plan, and the safety of both.
func (c *cluster) result() (*realResult, error) {
	reg := c.machines[c.order[0]].reg
	sched, err := reg.Schedule(context.Background())
	if err != nil {
		return nil, fmt.Errorf("parity: %w", err)
	}
	r := &realResult{Result: sim.Result{LivenessChecked: true}}
	placedOn := map[string][]string{}
	for _, p := range sched {
		r.placements = append(r.placements, sim.Placement{Unit: p.Unit, Machine: p.Machine})
		placedOn[p.Unit] = append(placedOn[p.Unit], p.Machine)
	}
	global := c.globals(reg)
	for u, ms := range c.running() {
		r.UnitsRunning += int64(len(ms))
		for _, m := range ms {
			if !slices.Contains(placedOn[u], m) {
				r.violations = append(r.violations, fmt.Sprintf("%s runs on %s, where it is not scheduled", u, m))
			}
		}
		if len(ms) > 1 && !global[u] {
			r.violations = append(r.violations, fmt.Sprintf("%s runs on %s at once", u, strings.Join(ms, ", ")))
		}
	}
	for u, ms := range placedOn {
		if len(ms) > 1 && !global[u] {
			r.violations = append(r.violations, fmt.Sprintf("%s is scheduled on %s at once", u, strings.Join(ms, ", ")))
		}
	}
	slices.Sort(r.violations)
	r.ViolationCount = len(r.violations)
	if l := c.leader(); l != nil {
		if p := l.eng.LastPlan(); p != nil {
			r.Unscheduled = append([]scheduler.Unscheduled(nil), p.Unscheduled...)
		}
		for _, bad := range l.eng.LeftOut() {
			r.LeftOut = append(r.LeftOut, bad.Unit)
		}
	}
	return r, nil
}

// globals returns the units whose [X-Fleet] says Global=true.
func (c *cluster) globals(reg *registry.Etcd) map[string]bool {
	out := map[string]bool{}
	jobs, err := reg.Jobs(context.Background())
	if err != nil {
		return out
	}
	for _, j := range jobs {
		if f, err := reg.File(context.Background(), j.Hash); err == nil {
			if req, _, err := unit.ParseRequirements(j.Name, f.Options); err == nil && req.Global {
				out[j.Name] = true
			}
		}
	}
	return out
}
