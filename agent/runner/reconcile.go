package runner

import (
	"context"
	"errors"
	"fmt"

	"github.com/fleetsim/fleet/agent"
	"github.com/fleetsim/fleet/registry"
)

// Reconcile makes systemd match this machine's schedule once, then
// publishes the unit states that changed.
func (r *Runner) Reconcile(ctx context.Context) error {
	sched, _, err := r.reg.MachineSchedule(ctx, r.cfg.Machine.ID)
	if err != nil {
		return err
	}
	desired := make([]agent.DesiredUnit, 0, len(sched))
	for _, p := range sched {
		desired = append(desired, agent.DesiredUnit{Name: p.Unit, Hash: p.Hash, State: p.Desired, Port: p.Port})
	}
	current, err := r.sd.Units(ctx)
	if err != nil {
		return fmt.Errorf("agent: read systemd: %w", err)
	}
	var errs []error
	for _, t := range agent.Plan(desired, current) {
		if err := r.apply(ctx, t); err != nil {
			errs = append(errs, fmt.Errorf("agent: %s: %w", t, err))
		}
	}
	return errors.Join(append(errs, r.publish(ctx))...)
}

func (r *Runner) apply(ctx context.Context, t agent.Task) error {
	switch t.Kind {
	case agent.TaskLoad:
		f, err := r.reg.File(ctx, t.Hash)
		if err != nil {
			return err
		}
		return r.sd.Load(ctx, t.Unit, f, t.Port)
	case agent.TaskUnload:
		return r.sd.Unload(ctx, t.Unit)
	case agent.TaskDaemonReload:
		return r.sd.DaemonReload(ctx)
	case agent.TaskStart:
		return r.sd.Start(ctx, t.Unit)
	case agent.TaskStop:
		return r.sd.Stop(ctx, t.Unit)
	}
	return fmt.Errorf("unknown task kind %v", t.Kind)
}

// publish writes the states that changed since the last publish, under
// the machine's lease, and removes those of units no longer here.
func (r *Runner) publish(ctx context.Context) error {
	units, err := r.sd.Units(ctx)
	if err != nil {
		return fmt.Errorf("agent: read systemd: %w", err)
	}
	r.mu.Lock()
	lease, old := r.lease, r.published
	r.mu.Unlock()
	now := make(map[string]registry.UnitState, len(units))
	var errs []error
	for _, u := range units {
		s := registry.UnitState{Unit: u.Name, Machine: r.cfg.Machine.ID, Hash: u.Hash.String(),
			LoadState: u.LoadState, ActiveState: u.ActiveState, SubState: u.SubState}
		now[u.Name] = s
		if old[u.Name] != s {
			if err := r.reg.PublishState(ctx, s, lease); err != nil {
				errs = append(errs, err)
				delete(now, u.Name)
			}
		}
	}
	for name := range old {
		if _, ok := now[name]; !ok {
			errs = append(errs, r.reg.RemoveState(ctx, name, r.cfg.Machine.ID))
		}
	}
	r.mu.Lock()
	r.published = now
	r.mu.Unlock()
	return errors.Join(errs...)
}

// purge stops and unloads every unit fleet installed.
func (r *Runner) purge() error {
	ctx := context.Background()
	units, err := r.sd.Units(ctx)
	if err != nil {
		return fmt.Errorf("agent: purge: %w", err)
	}
	var errs []error
	for _, t := range agent.Plan(nil, units) {
		if err := r.apply(ctx, t); err != nil {
			errs = append(errs, fmt.Errorf("agent: purge: %s: %w", t, err))
		}
	}
	return errors.Join(errs...)
}
