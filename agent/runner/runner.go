// Package runner is fleetd's agent loop, a thin driver of the pure agent
// step (agent.Step): it holds the machine's lease, watches only this
// machine's part of the schedule, hands the step the schedule, systemd's
// states, job results and the time, and carries out what the step asks:
// files written, jobs queued (never waited on), states published. Losing
// etcd leaves units running; once back, units moved away in the meantime
// are stopped here.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fleetsim/fleet/agent"
	"github.com/fleetsim/fleet/internal/ctxtime"
	"github.com/fleetsim/fleet/registry"
)

// Config sets an agent's identity and timings.
type Config struct {
	Machine  registry.Machine // ID, public IP and metadata to register
	TTL      time.Duration    // agent_ttl: the machine's lease
	Interval time.Duration    // periodic schedule read and reconcile; 0: 5s, or TTL/5 if shorter
	Purge    bool             // on shutdown, stop and unload every unit
	Step     agent.StepConfig // job deadline, file retry backoff
	// Logger is where the agent logs, with component=agent and the
	// machine; nil discards.
	Logger *slog.Logger
	// Observer is told what the agent does, for metrics; nil observes
	// nothing.
	Observer Observer
}

// Runner is one machine's agent. New does no I/O; Run does the work.
type Runner struct {
	reg   *registry.Etcd
	sd    agent.Systemd
	cfg   Config
	log   *slog.Logger
	start time.Time // the step's time is measured from here

	mu         sync.Mutex // guards step and what other goroutines read
	step       *agent.Step
	lease      clientv3.LeaseID
	registered bool
	started    bool                 // registered at least once
	queued     map[jobKey]time.Time // when each job in flight was queued
}

// jobKey names a job in flight: its unit and kind.
type jobKey struct {
	unit string
	kind agent.TaskKind
}

// New returns an agent for the machine in cfg.
func New(reg *registry.Etcd, sd agent.Systemd, cfg Config) *Runner {
	if cfg.TTL <= 0 {
		cfg.TTL = 30 * time.Second
	}
	if cfg.Interval <= 0 {
		cfg.Interval = min(5*time.Second, cfg.TTL/5)
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	log := cfg.Logger.With("component", "agent", "machine", cfg.Machine.ID)
	return &Runner{reg: reg, sd: sd, cfg: cfg, log: log, step: agent.NewStep(cfg.Step), queued: map[jobKey]time.Time{}}
}

// Started reports whether the machine has registered at least once:
// fleetd is up, though its lease may be between sessions now.
func (r *Runner) Started() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.started
}

// Registered reports whether the machine holds its lease now.
func (r *Runner) Registered() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.registered
}

// Run registers the machine and reconciles until ctx ends. Errors from
// etcd are retried: the units keep running meanwhile.
func (r *Runner) Run(ctx context.Context) error {
	r.start = time.Now()
	for ctx.Err() == nil {
		err := r.session(ctx)
		r.setRegistered(false)
		if ctx.Err() != nil {
			break
		}
		r.log.Warn("session ended; units keep running, retrying", "err", err)
		if ctxtime.Sleep(ctx, time.Second) != nil {
			break
		}
	}
	if r.cfg.Purge {
		return r.purge()
	}
	return nil
}

// session is one lease: register, then reconcile on schedule changes,
// unit state changes, job results and every interval, until the lease is
// lost. The schedule is read again at every interval besides: a watch
// on an etcd member cut off from the others goes quiet without an error,
// and must not hold a unit back longer than that.
func (r *Runner) session(ctx context.Context) error {
	cli := r.reg.Client()
	gctx, gcancel := context.WithTimeout(ctx, r.cfg.TTL)
	g, err := cli.Grant(gctx, int64(max(r.cfg.TTL/time.Second, 1)))
	gcancel()
	if err != nil {
		return fmt.Errorf("agent: lease: %w", err)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ka, err := cli.KeepAlive(sctx, g.ID)
	if err != nil {
		return fmt.Errorf("agent: keep lease alive: %w", err)
	}
	if err := r.reg.RegisterMachine(ctx, r.cfg.Machine, g.ID); err != nil {
		return err
	}
	r.mu.Lock()
	r.lease, r.registered, r.started = g.ID, true, true
	r.step.Restarted() // states were under the old lease: publish them all again
	r.mu.Unlock()
	rev, err := r.readSchedule(ctx)
	if err != nil {
		return err
	}
	wch := r.reg.WatchMachineSchedule(sctx, r.cfg.Machine.ID, rev+1)
	tick := time.NewTicker(r.cfg.Interval)
	defer tick.Stop()
	for {
		if err := r.Reconcile(ctx); err != nil {
			r.log.Error("reconcile", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-ka:
			if !ok {
				return errors.New("agent: lease lost")
			}
			continue // a renewal: nothing to reconcile
		case resp, ok := <-wch:
			if !ok || resp.Err() != nil {
				return fmt.Errorf("agent: schedule watch ended: %v", resp.Err())
			}
			r.refresh(ctx)
		case j := <-r.sd.Jobs():
			r.jobDone(j)
		case <-r.sd.Changed():
		case <-tick.C:
			r.refresh(ctx)
		}
	}
}

// readSchedule hands the step this machine's schedule and returns the
// revision it was read at.
func (r *Runner) readSchedule(ctx context.Context) (int64, error) {
	sched, rev, err := r.reg.MachineSchedule(ctx, r.cfg.Machine.ID)
	if err != nil {
		return 0, err
	}
	desired := make([]agent.DesiredUnit, 0, len(sched))
	for _, p := range sched {
		desired = append(desired, agent.DesiredUnit{Name: p.Unit, Hash: p.Hash, State: p.Desired, Port: p.Port})
	}
	r.mu.Lock()
	r.step.SetSchedule(desired)
	r.mu.Unlock()
	return rev, nil
}

// refresh reads the schedule again; a read that fails is logged, and
// the next interval reads again.
func (r *Runner) refresh(ctx context.Context) {
	if _, err := r.readSchedule(ctx); err != nil {
		r.log.Error("read schedule; read again at the next interval", "err", err)
	}
}

func (r *Runner) jobDone(j agent.JobResult) {
	if j.Result != "done" {
		r.log.Warn("job did not succeed", "unit", j.Unit, "job", j.Kind.String(), "result", j.Result)
	}
	r.mu.Lock()
	r.step.JobDone(j.Unit, j.Kind, j.Result)
	var took time.Duration
	k := jobKey{j.Unit, j.Kind}
	if at, ok := r.queued[k]; ok {
		took = time.Since(at)
		delete(r.queued, k)
	}
	r.mu.Unlock()
	r.cfg.Observer.JobDone(j.Kind, j.Result, took)
}

func (r *Runner) setRegistered(v bool) {
	r.mu.Lock()
	r.registered = v
	r.mu.Unlock()
}
