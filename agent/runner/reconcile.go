package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fleetsim/fleet/agent"
	"github.com/fleetsim/fleet/registry"
)

// Reconcile carries out what the step asks until it asks for no more
// file tasks: files written and removed, jobs queued, states published.
// A task that fails is the step's to record on its unit; the error
// returned is only for the log.
func (r *Runner) Reconcile(ctx context.Context) error {
	r.mu.Lock()
	r.step.Tick(time.Since(r.start))
	r.mu.Unlock()
	var errs []error
	for range 8 { // a few rounds: files, then jobs once systemd re-read them
		units, err := r.sd.Units(ctx)
		if err != nil {
			return fmt.Errorf("agent: read systemd: %w", err)
		}
		r.cfg.Observer.Units(units)
		r.mu.Lock()
		r.step.SetUnits(units)
		rd := r.step.Ready()
		r.mu.Unlock()
		errs = append(errs, r.carryOut(ctx, rd)...)
		if len(rd.Files) == 0 {
			break
		}
	}
	return errors.Join(errs...)
}

// carryOut does one Ready's tasks and publishing, reporting each outcome
// to the step.
func (r *Runner) carryOut(ctx context.Context, rd agent.StepReady) []error {
	var errs []error
	for _, t := range rd.Files {
		err := r.file(ctx, t)
		if err != nil {
			errs = append(errs, fmt.Errorf("agent: %s: %w", t, err))
		}
		r.mu.Lock()
		r.step.FileDone(t, err)
		r.mu.Unlock()
		r.log.Debug("file task", "unit", t.Unit, "task", t.Kind.String(), "err", err)
	}
	for _, t := range rd.Jobs {
		if err := r.queue(ctx, t); err != nil {
			errs = append(errs, fmt.Errorf("agent: %s: %w", t, err))
			r.jobDone(agent.JobResult{Unit: t.Unit, Kind: t.Kind, Result: err.Error()})
			continue
		}
		r.mu.Lock()
		r.queued[jobKey{t.Unit, t.Kind}] = time.Now()
		r.mu.Unlock()
		r.log.Debug("job queued", "unit", t.Unit, "job", t.Kind.String())
	}
	return append(errs, r.publish(ctx, rd)...)
}

func (r *Runner) file(ctx context.Context, t agent.Task) error {
	switch t.Kind {
	case agent.TaskLoad:
		f, err := r.reg.File(ctx, t.Hash)
		if err != nil {
			return readError(err)
		}
		return r.sd.Load(ctx, t.Unit, f, t.Port)
	case agent.TaskUnload:
		return r.sd.Unload(ctx, t.Unit)
	case agent.TaskDaemonReload:
		return r.sd.DaemonReload(ctx)
	}
	return fmt.Errorf("not a file task: %v", t.Kind)
}

// readError marks a failed read of a unit's body as the registry's
// passing trouble (agent.ErrUnreachable), to be tried again soon, unless
// the body is missing or does not decode: those wait out the backoff.
func readError(err error) error {
	if errors.Is(err, registry.ErrNotFound) || errors.Is(err, registry.ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w: %w", agent.ErrUnreachable, err)
}

func (r *Runner) queue(ctx context.Context, t agent.Task) error {
	switch t.Kind {
	case agent.TaskStart:
		return r.sd.Start(ctx, t.Unit)
	case agent.TaskStop:
		return r.sd.Stop(ctx, t.Unit)
	}
	return fmt.Errorf("not a job: %v", t.Kind)
}

// publish writes the states the step says changed, under the machine's
// lease, and removes those of units gone; what fails is tried again.
func (r *Runner) publish(ctx context.Context, rd agent.StepReady) []error {
	r.mu.Lock()
	lease := r.lease
	r.mu.Unlock()
	var errs []error
	for _, st := range rd.Publish {
		s := registry.UnitState{Unit: st.Name, Machine: r.cfg.Machine.ID, Hash: st.Hash.String(),
			LoadState: st.LoadState, ActiveState: st.ActiveState, SubState: st.SubState, Reason: st.Reason}
		if err := r.reg.PublishState(ctx, s, lease); err != nil {
			r.cfg.Observer.PublishFailed()
			errs = append(errs, err)
			r.unpublished(st.Name)
		}
	}
	for _, name := range rd.Unpublish {
		if err := r.reg.RemoveState(ctx, name, r.cfg.Machine.ID); err != nil {
			r.cfg.Observer.PublishFailed()
			errs = append(errs, err)
			r.unpublished(name)
		}
	}
	return errs
}

func (r *Runner) unpublished(name string) {
	r.mu.Lock()
	r.step.Unpublished(name)
	r.mu.Unlock()
}

// purgeWait bounds how long a purge waits for its stop jobs.
const purgeWait = 30 * time.Second

// purge stops and unloads every unit fleet installed, through the step
// with an empty schedule, waiting for the stop jobs.
func (r *Runner) purge() error {
	ctx, cancel := context.WithTimeout(context.Background(), purgeWait)
	defer cancel()
	r.mu.Lock()
	r.step.SetSchedule(nil)
	r.mu.Unlock()
	for {
		if err := r.Reconcile(ctx); err != nil {
			r.log.Error("purge", "err", err)
		}
		units, err := r.sd.Units(ctx)
		if err != nil {
			return fmt.Errorf("agent: purge: %w", err)
		}
		if len(units) == 0 {
			return nil
		}
		select {
		case j := <-r.sd.Jobs():
			r.jobDone(j)
		case <-r.sd.Changed():
		case <-time.After(time.Second):
		case <-ctx.Done():
			return fmt.Errorf("agent: purge: %d units left: %w", len(units), ctx.Err())
		}
	}
}
