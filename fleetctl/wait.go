package fleetctl

import (
	"context"
	"errors"
	"fmt"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// unplacedLooks is how many looks in a row the scheduler must find a
// unit unplaceable before a blocking command gives up on it: one more
// than one, so that a look taken while the cluster moves does not count.
const unplacedLooks = 2

// waiter follows units until they report a state, printing fleet's line
// for each as it gets there.
type waiter struct {
	s        *session
	c        *conn
	target   unit.State
	machines *machineIndex     // read on first use
	fresh    map[string]string // unit -> the content hash its machine must report
	unplaced map[string]int    // looks in a row at which the unit could not be placed
	failed   map[string]string // why a unit cannot be placed
	order    []string          // the units as given: their lines come out in this order
	done     map[string]string // unit -> its line, "" when it failed
	printed  int               // how many of order are printed (or failed)
}

// waitFor waits until every named unit reports state target, at most
// attempts looks (0: no limit), printing "Unit X launched on M" and the
// like, in the order of names whenever the units get there. A unit in
// fresh counts only once its machine reports that
// content hash (a replaced unit's old body may still run). A unit that
// the scheduler cannot place fails at once with the scheduler's reason
// instead of being waited for forever.
func (s *session) waitFor(ctx context.Context, c *conn, names []string, target unit.State, attempts int, fresh map[string]string) error {
	w := &waiter{s: s, c: c, target: target, fresh: fresh, unplaced: map[string]int{}, order: names, done: map[string]string{}}
	pending := names
	var errs []error
	for attempt := 1; len(pending) > 0; attempt++ {
		units, err := c.Units(ctx)
		if err != nil {
			return errors.Join(append(errs, w.flush(), err)...)
		}
		still, lookErrs, err := w.look(ctx, units, pending)
		errs = append(errs, lookErrs...)
		if err != nil {
			return errors.Join(append(errs, w.flush(), err)...)
		}
		pending = still
		if len(pending) > 0 && attempts > 0 && attempt >= attempts {
			for _, n := range pending {
				w.done[n] = ""
				errs = append(errs, &UnitError{Unit: n, What: fmt.Sprintf("did not report state %s in %d attempts (--block-attempts)", target, attempts)})
			}
			pending = nil
		}
		if err := w.flush(); err != nil || len(pending) == 0 {
			return errors.Join(append(errs, err)...)
		}
		if err := sleep(ctx, s.opts.poll); err != nil {
			return errors.Join(append(errs, err)...)
		}
	}
	return errors.Join(errs...)
}

// flush prints the lines of the units done, up to the first one that is
// not: output keeps the order the units were given in.
func (w *waiter) flush() error {
	for ; w.printed < len(w.order); w.printed++ {
		line, ok := w.done[w.order[w.printed]]
		if !ok {
			return nil
		}
		if line == "" {
			continue
		}
		if _, err := fmt.Fprintln(w.s.out, line); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	return nil
}

// look checks the pending units once: it reports those that got there,
// fails those that cannot, and returns the rest.
func (w *waiter) look(ctx context.Context, units []api.Unit, pending []string) ([]string, []error, error) {
	byName := make(map[string]api.Unit, len(units))
	for _, u := range units {
		byName[u.Name] = u
	}
	var (
		still, unplaced []string
		errs            []error
	)
	for _, n := range pending {
		u, ok := byName[n]
		switch {
		case !ok:
			w.done[n] = ""
			errs = append(errs, &UnitError{Unit: n, What: "was destroyed while fleetctl waited for it"})
		case u.CurrentState == w.target.String():
			there, err := w.runsFresh(ctx, u)
			if err != nil {
				return nil, errs, err
			}
			if !there {
				still = append(still, n)
				continue
			}
			if err := w.report(ctx, u); err != nil {
				return nil, errs, err
			}
		default:
			still = append(still, n)
			if w.target.Active() && u.MachineID == "" {
				unplaced = append(unplaced, n)
			}
		}
	}
	if len(unplaced) == 0 {
		return still, errs, nil
	}
	if err := w.judge(ctx, units, unplaced); err != nil {
		return nil, errs, err
	}
	var left []string
	for _, n := range still {
		if why, ok := w.failed[n]; ok {
			w.done[n] = ""
			errs = append(errs, &UnitError{Unit: n, What: "cannot be scheduled", Err: errors.New(why)})
			continue
		}
		left = append(left, n)
	}
	return left, errs, nil
}

// judge asks the scheduler, over the cluster as it is, about units that
// have no machine yet, and records those it has found unplaceable enough
// looks in a row.
func (w *waiter) judge(ctx context.Context, units []api.Unit, names []string) error {
	v, err := readView(ctx, w.c, units)
	if err != nil {
		return err
	}
	ex, err := explain(v.snapshot(nil, nil), names)
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	for _, e := range ex {
		if !e.Found || e.Unscheduled == nil {
			w.unplaced[e.Unit] = 0
			continue
		}
		w.unplaced[e.Unit]++
		if w.unplaced[e.Unit] >= unplacedLooks {
			if w.failed == nil {
				w.failed = map[string]string{}
			}
			w.failed[e.Unit] = e.Unscheduled.Detail
		}
	}
	return nil
}

// runsFresh reports whether u's machine runs the body waited for, when
// there is one to wait for.
func (w *waiter) runsFresh(ctx context.Context, u api.Unit) (bool, error) {
	want, ok := w.fresh[u.Name]
	if !ok || u.MachineID == "" {
		return true, nil
	}
	states, err := w.c.UnitStates(ctx, api.StateFilter{UnitName: u.Name, MachineID: u.MachineID})
	if err != nil {
		return false, err
	}
	for _, st := range states {
		if st.Hash == want {
			return true, nil
		}
	}
	return false, nil
}

// report records fleet's line for a unit that reached the target.
func (w *waiter) report(ctx context.Context, u api.Unit) error {
	msg := fmt.Sprintf("Unit %s %s", u.Name, u.CurrentState)
	if u.MachineID != "" {
		ix, err := w.machineIndex(ctx, u.MachineID)
		if err != nil {
			return err
		}
		msg += " on " + ix.legend(u.MachineID, false)
	}
	w.done[u.Name] = msg
	return nil
}

// machineIndex returns the machines, read again when id is not among them.
func (w *waiter) machineIndex(ctx context.Context, id string) (*machineIndex, error) {
	if w.machines != nil {
		if _, ok := w.machines.byID[id]; ok {
			return w.machines, nil
		}
	}
	ms, err := w.c.Machines(ctx)
	if err != nil {
		return nil, err
	}
	ix := indexMachines(ms)
	w.machines = &ix
	return w.machines, nil
}
