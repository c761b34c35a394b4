// Package engine is fleetd's leader loop, a thin driver: one engine among
// all fleetd instances wins an etcd election, keeps a copy of the cluster
// current from a watch, and hands every view and every tick to the pure
// leader step (engine/leader), carrying out what it asks: bodies read,
// plans committed in transactions guarded by the leadership and by the
// revision they were planned from. Every decision is the step's and the
// scheduler's, the same ones the simulator runs; this package only moves
// data between etcd and them.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/fleetsim/fleet/engine/leader"
	"github.com/fleetsim/fleet/internal/ctxtime"
	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/scheduler"
)

// Config sets an engine's identity and timings.
type Config struct {
	MachineID string        // this fleetd's machine, the election value
	Interval  time.Duration // engine_reconcile_interval
	LeaderTTL time.Duration // lease of the leadership; a dead leader is replaced after it
	// Logger is where the engine logs, with component=engine; nil
	// discards.
	Logger *slog.Logger
	// Observer is told what the engine does, for metrics; nil observes
	// nothing.
	Observer Observer
}

// Engine is one fleetd's engine: the driver of a leader step
// (engine/leader), which makes every decision. New does no I/O; Run does
// the work.
type Engine struct {
	reg *registry.Etcd
	cfg Config
	log *slog.Logger

	mu       sync.Mutex // guards the step and what other goroutines read
	step     *leader.Leader
	lastPlan *scheduler.Plan
	leftOut  []leader.InvalidUnit
	leading  bool
}

// New returns an engine over reg.
func New(reg *registry.Etcd, cfg Config) *Engine {
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.LeaderTTL <= 0 {
		cfg.LeaderTTL = 10 * time.Second
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{reg: reg, cfg: cfg, step: leader.New(nil), log: cfg.Logger.With("component", "engine")}
}

// Leading reports whether this engine leads now.
func (e *Engine) Leading() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leading
}

// LeftOut returns the units the last plan left out (a body that does not
// decode, an [X-Fleet] that does not parse).
func (e *Engine) LeftOut() []leader.InvalidUnit {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leftOut
}

// LastPlan returns the last plan this engine made, or nil.
func (e *Engine) LastPlan() *scheduler.Plan {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastPlan
}

// Run campaigns for leadership and, while leading, reconciles. It returns
// when ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := e.term(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("leadership ended or not won; campaigning again", "err", err)
			if ctxtime.Sleep(ctx, e.cfg.Interval) != nil {
				break
			}
		}
	}
	return nil
}

// term is one leadership: campaign, lead until the session or ctx ends.
func (e *Engine) term(ctx context.Context) error {
	ttl := int(e.cfg.LeaderTTL / time.Second)
	s, err := concurrency.NewSession(e.reg.Client(), concurrency.WithTTL(max(ttl, 1)), concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("engine: session: %w", err)
	}
	defer s.Close()
	el := concurrency.NewElection(s, e.reg.ElectionKey())
	if err := campaign(ctx, el, e.cfg.MachineID); err != nil {
		return err
	}
	guard := registry.Guard{Key: el.Key(), Rev: el.Rev()}
	e.setLeading(true)
	defer e.setLeading(false)
	e.log.Info("leading", "machine", e.cfg.MachineID)
	if n, err := e.reg.CollectOrphanBodies(ctx); err != nil {
		e.log.Warn("collecting unit bodies no job refers to", "err", err)
	} else if n > 0 {
		e.log.Info("collected unit bodies no job refers to", "bodies", n)
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.Done():
			cancel()
		case <-lctx.Done():
		}
	}()
	err = e.lead(lctx, guard)
	if ctx.Err() == nil {
		rctx, rcancel := context.WithTimeout(context.Background(), time.Second)
		defer rcancel()
		if rerr := el.Resign(rctx); rerr != nil {
			err = errors.Join(err, fmt.Errorf("engine: resign: %w", rerr))
		}
	}
	return err
}

// campaign waits to lead, or for ctx to end. A campaign interrupted by
// ctx resigns with the client's own context, which with etcd unreachable
// would block until the client closes: it is left to finish then, so
// that stopping fleetd never hangs on an unreachable etcd.
func campaign(ctx context.Context, el *concurrency.Election, id string) error {
	done := make(chan error, 1)
	go func() { done <- el.Campaign(ctx, id) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("engine: campaign: %w", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// setLeading tells the step the leadership was won or lost.
func (e *Engine) setLeading(v bool) {
	e.cfg.Observer.Leading(v)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.leading = v
	if v {
		e.step.Elected()
	} else {
		e.step.Deposed()
	}
}

// lead keeps the cluster copy current and hands every new view, and
// every tick, to the step, carrying out what it asks, until ctx ends or
// the watch cannot be resumed.
func (e *Engine) lead(ctx context.Context, guard registry.Guard) error {
	c, err := e.reg.LoadCluster(ctx)
	if err != nil {
		return err
	}
	watchErr := make(chan error, 1)
	go func() { watchErr <- e.reg.FollowCluster(ctx, c) }()
	tick := time.NewTicker(e.cfg.Interval)
	defer tick.Stop()
	seen := int64(-1)
	for {
		if v := c.View(); v.Rev != seen {
			seen = v.Rev
			e.mu.Lock()
			e.step.Observe(toView(v, e.reg.Prefix()))
			e.mu.Unlock()
		}
		_, err := e.drive(ctx, guard)
		switch {
		case err == nil, errors.Is(err, registry.ErrStale):
			// Stale: the watch brings the change, and a new plan.
		case errors.Is(err, registry.ErrNotLeader) || ctx.Err() != nil:
			return err
		default:
			e.log.Error("reconcile", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-watchErr:
			return err
		case <-c.Changed():
		case <-tick.C:
			e.mu.Lock()
			e.step.Tick()
			e.mu.Unlock()
		}
	}
}
