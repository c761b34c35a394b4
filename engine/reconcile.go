package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/scheduler"
	"github.com/fleetsim/fleet/unit"
)

// Reconcile plans over view and commits the plan under guard. Besides the
// plan's actions it refreshes placements whose unit's hash or desired
// state changed, which is what the agents watch.
func (e *Engine) Reconcile(ctx context.Context, view registry.View, guard registry.Guard) (*scheduler.Plan, error) {
	snap, jobs, err := e.snapshot(ctx, view)
	if err != nil {
		return nil, err
	}
	plan, err := e.sched.Plan(snap)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	e.mu.Lock()
	e.lastPlan = plan
	e.mu.Unlock()
	changes := Changes(plan, view.Schedule, jobs)
	if len(changes) == 0 {
		return plan, nil
	}
	guard.Since = view.Rev
	rev, err := e.reg.Commit(ctx, guard, changes)
	if err != nil {
		return plan, err
	}
	e.mu.Lock()
	e.committed = rev
	e.mu.Unlock()
	return plan, nil
}

// snapshot builds the scheduler's input from a view, reading the bodies
// of units whose requirements it has not parsed yet.
func (e *Engine) snapshot(ctx context.Context, v registry.View) (*scheduler.Snapshot, map[string]registry.Job, error) {
	snap := &scheduler.Snapshot{}
	for _, m := range v.Machines {
		snap.Machines = append(snap.Machines, scheduler.Machine{ID: m.ID, IP: m.PublicIP, Metadata: m.Metadata, Alive: true})
	}
	jobs := make(map[string]registry.Job, len(v.Jobs))
	if err := e.prefetch(ctx, v.Jobs); err != nil {
		return nil, nil, err
	}
	invalid := map[string]bool{}
	for _, j := range v.Jobs {
		req, err := e.requirements(ctx, j)
		var bad *invalidUnitError
		switch {
		case errors.As(err, &bad):
			// A unit whose [X-Fleet] does not parse (written without the
			// API's checks) is left out, with its placements: it must not
			// stop every other unit from being scheduled.
			invalid[j.Name] = true
			e.warnInvalid(j, bad)
			continue
		case err != nil:
			return nil, nil, err
		}
		jobs[j.Name] = j
		snap.Units = append(snap.Units, scheduler.Unit{Name: j.Name, Desired: j.Desired, Req: req})
	}
	for _, p := range v.Schedule {
		if !invalid[p.Unit] {
			snap.Placements = append(snap.Placements, scheduler.Placement{Unit: p.Unit, Machine: p.Machine, Port: p.Port})
		}
	}
	return snap, jobs, nil
}

// invalidUnitError is a unit whose [X-Fleet] section does not parse.
type invalidUnitError struct {
	unit   string
	err    error
	logged bool
}

func (e *invalidUnitError) Error() string { return fmt.Sprintf("engine: unit %s: %v", e.unit, e.err) }
func (e *invalidUnitError) Unwrap() error { return e.err }

// warnInvalid logs an invalid unit once per content hash.
func (e *Engine) warnInvalid(j registry.Job, err *invalidUnitError) {
	e.mu.Lock()
	first := !err.logged
	err.logged = true
	e.mu.Unlock()
	if first {
		e.cfg.Logf("%v; the unit is not scheduled", err)
	}
}

// bulkBodies is how many unknown bodies make one read of all bodies
// cheaper than reading them one by one.
const bulkBodies = 16

// prefetch parses the requirements of new units from one read of every
// body when many are new (a fresh leader, a big submit).
func (e *Engine) prefetch(ctx context.Context, jobs []registry.Job) error {
	e.mu.Lock()
	missing := 0
	for _, j := range jobs {
		if _, ok := e.reqs[reqKey{j.Name, j.Hash}]; !ok {
			missing++
		}
	}
	e.mu.Unlock()
	if missing < bulkBodies {
		return nil
	}
	files, err := e.reg.Files(ctx)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, j := range jobs {
		f, ok := files[j.Hash]
		if k := (reqKey{j.Name, j.Hash}); ok {
			if _, known := e.reqs[k]; !known {
				if req, _, err := unit.ParseRequirements(j.Name, f.Options); err == nil {
					e.reqs[k] = req
				} // an invalid unit is reported by requirements, one by one

			}
		}
	}
	return nil
}

func (e *Engine) requirements(ctx context.Context, j registry.Job) (unit.Requirements, error) {
	k := reqKey{j.Name, j.Hash}
	e.mu.Lock()
	req, ok := e.reqs[k]
	bad := e.invalid[k]
	e.mu.Unlock()
	if ok {
		return req, nil
	}
	if bad != nil {
		return req, bad
	}
	f, err := e.reg.File(ctx, j.Hash)
	if err != nil {
		return req, fmt.Errorf("engine: unit %s: %w", j.Name, err)
	}
	req, _, err = unit.ParseRequirements(j.Name, f.Options)
	if err != nil {
		bad := &invalidUnitError{unit: j.Name, err: err}
		e.mu.Lock()
		e.invalid[k] = bad
		e.mu.Unlock()
		return req, bad
	}
	e.mu.Lock()
	e.reqs[k] = req
	e.mu.Unlock()
	return req, nil
}

// Changes turns a plan into schedule writes, and refreshes the hash and
// desired state copied into placements the plan leaves in place. There is
// at most one write per (unit, machine), the last decided: etcd refuses a
// transaction that touches a key twice.
func Changes(plan *scheduler.Plan, current []registry.Placement, jobs map[string]registry.Job) []registry.Change {
	var (
		out []registry.Change
		at  = map[[2]string]int{}
	)
	set := func(c registry.Change) {
		k := [2]string{c.Unit, c.Machine}
		if i, ok := at[k]; ok {
			out[i] = c
			return
		}
		at[k] = len(out)
		out = append(out, c)
	}
	put := func(u, m string, port uint16) {
		j := jobs[u]
		set(registry.Change{Placement: registry.Placement{Unit: u, Machine: m, Port: port, Hash: j.Hash, Desired: j.Desired}})
	}
	for _, a := range plan.Actions {
		if a.Kind == scheduler.Unschedule || a.Kind == scheduler.Move {
			set(registry.Change{Delete: true, Placement: registry.Placement{Unit: a.Unit, Machine: a.From}})
		}
		if a.Kind != scheduler.Unschedule {
			put(a.Unit, a.To, a.Port)
		}
	}
	for _, p := range current {
		j, ok := jobs[p.Unit]
		if _, touched := at[[2]string{p.Unit, p.Machine}]; !ok || touched {
			continue
		}
		if p.Hash != j.Hash || p.Desired != j.Desired {
			put(p.Unit, p.Machine, p.Port)
		}
	}
	return out
}
