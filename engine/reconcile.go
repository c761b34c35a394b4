package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/fleetsim/fleet/engine/leader"
	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/scheduler"
	"github.com/fleetsim/fleet/unit"
)

// bulkBodies is how many unknown bodies make one read of all bodies
// cheaper than reading them one by one.
const bulkBodies = 16

// Reconcile gives the step view (leading under guard, taking the
// leadership if the step did not hold it) and carries out what it asks
// until it waits: bodies read, plans committed. It returns the last plan
// made, and ErrStale or ErrNotLeader when a commit was refused.
func (e *Engine) Reconcile(ctx context.Context, view registry.View, guard registry.Guard) (*scheduler.Plan, error) {
	e.mu.Lock()
	if !e.step.Leading() {
		e.step.Elected()
	}
	e.step.Observe(toView(view, e.reg.Prefix()))
	e.mu.Unlock()
	return e.drive(ctx, guard)
}

// drive carries out the step's Ready until it has nothing to ask.
func (e *Engine) drive(ctx context.Context, guard registry.Guard) (*scheduler.Plan, error) {
	defer func(start time.Time) { e.cfg.Observer.Reconciled(time.Since(start)) }(time.Now())
	var last *scheduler.Plan
	for {
		e.mu.Lock()
		r := e.step.Ready()
		e.lastPlan, e.leftOut = e.step.LastPlan(), e.step.LeftOut()
		e.mu.Unlock()
		for _, bad := range r.Invalid {
			e.log.Warn("unit not scheduled", "unit", bad.Unit, "hash", bad.Hash.Short(), "err", bad.Err)
		}
		if r.Err != nil {
			e.log.Error("plan", "err", r.Err)
		}
		if r.Plan != nil {
			last = r.Plan
			e.cfg.Observer.Planned(r.Plan)
			e.logPlan(r.Plan)
		}
		switch {
		case len(r.Bodies) > 0:
			bodies, err := e.readBodies(ctx, r.Bodies)
			if err != nil {
				e.mu.Lock()
				e.step.BodiesLost(r.Bodies) // asked again at the next tick
				e.mu.Unlock()
				return last, err
			}
			e.mu.Lock()
			e.step.AddBodies(bodies)
			e.mu.Unlock()
		case r.Commit != nil:
			if err := e.commit(ctx, guard, r.Commit); err != nil {
				return last, err
			}
		default:
			return last, nil
		}
	}
}

// commit writes c under guard and reports the outcome to the step.
func (e *Engine) commit(ctx context.Context, guard registry.Guard, c *leader.Commit) error {
	guard.Since = c.Since
	rev, err := e.reg.Commit(ctx, guard, toChanges(c.Changes))
	o := leader.Applied
	switch {
	case err == nil:
	case errors.Is(err, registry.ErrStale):
		o = leader.Stale
	case errors.Is(err, registry.ErrNotLeader):
		o = leader.NotLeader
	default:
		o = leader.Failed
	}
	e.mu.Lock()
	e.step.Committed(o, rev)
	e.mu.Unlock()
	e.cfg.Observer.Committed(o)
	e.log.Debug("plan committed", "result", o.String(), "changes", len(c.Changes), "since", c.Since, "rev", rev)
	return err
}

// logPlan logs each action and each unit left unscheduled, at debug.
func (e *Engine) logPlan(p *scheduler.Plan) {
	if !e.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	for _, a := range p.Actions {
		e.log.Debug("plan", "unit", a.Unit, "action", a.Kind.String(), "from", a.From, "to", a.To, "reason", a.Detail)
	}
	for _, u := range p.Unscheduled {
		e.log.Debug("unit cannot be placed", "unit", u.Unit, "reason", u.Detail)
	}
}

// readBodies reads the bodies the step asked for: one by one when few,
// all in one request when many (a fresh leader, a big submit). A body
// that is missing or does not decode is handed back as such: its units
// are left out, the others planned.
func (e *Engine) readBodies(ctx context.Context, hashes []unit.Hash) ([]leader.Body, error) {
	out := make([]leader.Body, 0, len(hashes))
	if len(hashes) >= bulkBodies {
		files, err := e.reg.Files(ctx)
		if err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
		for _, h := range hashes {
			if f, ok := files[h]; ok {
				out = append(out, leader.Body{Hash: h, Options: f.Options})
			} else {
				out = append(out, leader.Body{Hash: h, Err: fmt.Errorf("%w: unit body %s", registry.ErrNotFound, h.Short())})
			}
		}
		return out, nil
	}
	for _, h := range hashes {
		f, err := e.reg.File(ctx, h)
		switch {
		case err == nil:
			out = append(out, leader.Body{Hash: h, Options: f.Options})
		case errors.Is(err, registry.ErrNotFound) || errors.Is(err, registry.ErrCorrupt):
			out = append(out, leader.Body{Hash: h, Err: err})
		default:
			return nil, fmt.Errorf("engine: %w", err)
		}
	}
	return out, nil
}

// toView turns the registry's view into the step's; job records that do
// not decode are jobs with their error, for the step to leave out.
func toView(v registry.View, prefix string) leader.View {
	out := leader.View{
		Rev:      v.Rev,
		Jobs:     make([]leader.Job, len(v.Jobs)),
		Machines: make([]leader.Machine, len(v.Machines)),
		Schedule: make([]leader.Placement, len(v.Schedule)),
	}
	for i, j := range v.Jobs {
		out.Jobs[i] = leader.Job{Name: j.Name, Hash: j.Hash, Desired: j.Desired}
	}
	broken := false
	for _, rec := range v.Corrupt {
		if strings.HasPrefix(rec.Key, prefix+"job/") {
			out.Jobs = append(out.Jobs, leader.Job{Name: rec.Name, Err: rec.Err})
			broken = true
		}
	}
	if broken {
		slices.SortFunc(out.Jobs, func(a, b leader.Job) int { return strings.Compare(a.Name, b.Name) })
	}
	for i, m := range v.Machines {
		out.Machines[i] = leader.Machine{ID: m.ID, Metadata: m.Metadata}
	}
	for i, p := range v.Schedule {
		out.Schedule[i] = leader.Placement{Unit: p.Unit, Machine: p.Machine, Port: p.Port, Hash: p.Hash, Desired: p.Desired}
	}
	return out
}

// toChanges turns the step's writes into the registry's.
func toChanges(cs []leader.Change) []registry.Change {
	out := make([]registry.Change, len(cs))
	for i, c := range cs {
		p := c.Placement
		out[i] = registry.Change{Delete: c.Delete, Placement: registry.Placement{Unit: p.Unit, Machine: p.Machine, Port: p.Port, Hash: p.Hash, Desired: p.Desired}}
	}
	return out
}
