package agent

import (
	"slices"

	"github.com/fleetsim/fleet/unit"
)

// Plan compares the units this machine should have (desired) with what it
// has (current) and returns the tasks that make the second match the
// first, or nil if they already match.
//
// The tasks come in six phases, each sorted by unit name:
//
//  1. stop: units to unload (below) whose ActiveState is neither
//     "inactive" nor "failed"; a unit is never unloaded while running.
//  2. unload: current units not desired (reason not-scheduled-here, or
//     desired-inactive when the unit is listed with an inactive state),
//     and units whose Hash or Port differ from the desired ones
//     (content-changed, or port-changed when only the port differs).
//  3. load: desired units not installed (scheduled-here), the changed
//     units of phase 2 (installed anew: a changed unit is unloaded and
//     loaded), and installed units whose LoadState is not "loaded"
//     (not-loaded). The task carries the Hash and Port to install.
//  4. daemon-reload: one task, and only if phase 2 or 3 has any.
//  5. stop: desired StateLoaded units that are running (desired-loaded).
//  6. start: desired StateLaunched units whose ActiveState is "inactive"
//     (desired-launched) or "failed" (failed), counting units stopped or
//     unloaded above as inactive. Units in any other state, such as
//     "activating" or "deactivating", are left alone until they settle.
//
// Inputs are not modified and their order does not matter. Units with an
// empty name are ignored. Duplicate names are resolved the same way
// whatever the order:
//
//   - desired: entries with an inactive (or unknown) state are dropped
//     first; of the rest, StateLaunched wins over StateLoaded, then the
//     larger Hash (byte-wise), then the larger Port.
//   - current: a running entry wins over one that is not, then the larger
//     Hash, Port, LoadState, ActiveState and SubState, in that order.
//
// Plan cannot fix what loading does not fix: a unit whose file is loaded
// but which systemd reports "masked" or "error" is loaded again on every
// call; the executor reports the failure.
func Plan(desired []DesiredUnit, current []CurrentUnit) []Task {
	want, inactive := resolveDesired(desired)
	var p planner
	return p.plan(want, inactive, resolveCurrent(current), nil)
}

// plan is Plan over inputs already resolved, in p's buffers: the tasks
// are appended to out[:0], or nil is returned if there are none. The
// step keeps one planner and one task array for all its plans.
func (p *planner) plan(want []DesiredUnit, inactive map[string]bool, have []CurrentUnit, out []Task) []Task {
	p.reset()
	i, j := 0, 0
	for i < len(want) || j < len(have) {
		switch {
		case j == len(have) || (i < len(want) && want[i].Name < have[j].Name):
			p.reconcile(want[i], nil)
			i++
		case i == len(want) || have[j].Name < want[i].Name:
			reason := ReasonNotScheduledHere
			if inactive[have[j].Name] {
				reason = ReasonDesiredInactive
			}
			p.remove(have[j], reason)
			j++
		default:
			p.reconcile(want[i], &have[j])
			i++
			j++
		}
	}
	return p.tasks(out)
}

// planner collects the tasks of each phase. Units are fed to it in name
// order and give at most one task per phase, so every phase comes out
// sorted by name.
type planner struct {
	stops   []Task // phase 1
	unloads []Task // phase 2
	loads   []Task // phase 3
	holds   []Task // phase 5: stops of units desired loaded
	starts  []Task // phase 6
}

// reconcile plans one desired unit against what is installed under its
// name, c (nil if nothing is).
func (p *planner) reconcile(d DesiredUnit, c *CurrentUnit) {
	active := activeStateInactive // after this call's stop, unload or load
	switch {
	case c == nil:
		p.load(d, ReasonScheduledHere)
	case c.Hash != d.Hash:
		p.remove(*c, ReasonContentChanged)
		p.load(d, ReasonContentChanged)
	case c.Port != d.Port:
		p.remove(*c, ReasonPortChanged)
		p.load(d, ReasonPortChanged)
	case c.LoadState != loadStateLoaded:
		p.load(d, ReasonNotLoaded)
		active = c.ActiveState
	default:
		active = c.ActiveState
	}
	p.settle(d, active)
}

// remove stops c if it is running, then unloads it.
func (p *planner) remove(c CurrentUnit, reason TaskReason) {
	if running(c.ActiveState) {
		p.stops = append(p.stops, Task{Kind: TaskStop, Unit: c.Name, Reason: reason})
	}
	p.unloads = append(p.unloads, Task{Kind: TaskUnload, Unit: c.Name, Reason: reason})
}

// load installs d's unit file and port.
func (p *planner) load(d DesiredUnit, reason TaskReason) {
	p.loads = append(p.loads, Task{Kind: TaskLoad, Unit: d.Name, Reason: reason, Hash: d.Hash, Port: d.Port})
}

// settle brings a loaded unit whose active state will be active to its
// desired state: stop a desired-loaded unit that runs, start a
// desired-launched one that is inactive or failed.
func (p *planner) settle(d DesiredUnit, active string) {
	switch {
	case d.State == unit.StateLoaded && running(active):
		p.holds = append(p.holds, Task{Kind: TaskStop, Unit: d.Name, Reason: ReasonDesiredLoaded})
	case d.State == unit.StateLaunched && active == activeStateInactive:
		p.starts = append(p.starts, Task{Kind: TaskStart, Unit: d.Name, Reason: ReasonDesiredLaunched})
	case d.State == unit.StateLaunched && active == activeStateFailed:
		p.starts = append(p.starts, Task{Kind: TaskStart, Unit: d.Name, Reason: ReasonFailed})
	}
}

// reset empties the phases, keeping their arrays.
func (p *planner) reset() {
	p.stops, p.unloads, p.loads = p.stops[:0], p.unloads[:0], p.loads[:0]
	p.holds, p.starts = p.holds[:0], p.starts[:0]
}

// tasks returns the phases in order in out's array, with the
// daemon-reload between the file changes and the state changes, or nil if
// there is nothing to do.
func (p *planner) tasks(out []Task) []Task {
	files := len(p.unloads) + len(p.loads)
	n := len(p.stops) + files + len(p.holds) + len(p.starts)
	if files > 0 {
		n++
	}
	if n == 0 {
		return nil
	}
	out = slices.Grow(out[:0], n)
	out = append(out, p.stops...)
	out = append(out, p.unloads...)
	out = append(out, p.loads...)
	if files > 0 {
		out = append(out, Task{Kind: TaskDaemonReload, Reason: ReasonUnitsChanged})
	}
	out = append(out, p.holds...)
	return append(out, p.starts...)
}
