package agent

import (
	"fmt"
	"slices"

	"github.com/fleetsim/fleet/unit"
)

// StepReady is what an agent step asks of its driver. Every part may be
// empty.
type StepReady struct {
	// Files are load, unload and daemon-reload tasks, to carry out now,
	// in order, each reported with FileDone; then systemd's states are
	// read again (SetUnits) and Ready called again.
	Files []Task
	// Jobs are start and stop tasks to queue (mode "replace"); each is
	// reported with JobDone when systemd has finished it, or at once if
	// it could not be queued.
	Jobs []Task
	// Publish are unit states that changed since they were last
	// published; Unpublish names units whose state is to be removed.
	Publish   []UnitStatus
	Unpublish []string
}

// Empty reports whether r asks for nothing.
func (r StepReady) Empty() bool {
	return len(r.Files)+len(r.Jobs)+len(r.Publish)+len(r.Unpublish) == 0
}

// Ready returns what to do now. It plans (Plan) the schedule against
// what systemd reports, and keeps of the tasks those that may be done:
// no second job for a unit with one in flight (but a stop replaces a
// start), no unload before a running unit's stop is done, no start that
// is not owed, no file task retried before its backoff runs out.
func (s *Step) Ready() StepReady {
	if !s.dirty && !s.replan {
		return s.changedStatuses()
	}
	replan := s.replan
	s.dirty, s.replan, s.changed = false, false, s.changed[:0]
	s.gen++
	var r StepReady
	if s.haveSchedule && replan {
		s.noteRunning()
		sc := s.scratch
		sc.tasks = sc.planner.plan(s.want, s.inactive, s.resolvedCurrent(), sc.tasks)
		if len(sc.tasks) > 0 {
			r.Files, r.Jobs = s.filter(sc.tasks)
		}
		if len(r.Files) > 0 {
			s.dirty, s.replan = true, true // come back once the files are done and systemd read again
		}
	}
	r.Publish, r.Unpublish = s.statuses()
	return r
}

// resolvedCurrent returns what systemd reports resolved as Plan takes
// it (resolveCurrent): the step's own copy when it is already one entry
// per name in order, as systemd lists units, else a resolved copy.
func (s *Step) resolvedCurrent() []CurrentUnit {
	c := s.current
	if (len(c) == 0 || c[0].Name != "") && namesAscending(c, func(c CurrentUnit) string { return c.Name }) {
		return c
	}
	s.scratch.have = resolveCurrentInto(s.scratch.have, c)
	return s.scratch.have
}

// noteRunning marks launched units that run with the content desired as
// started: an agent that starts (again) over running units owes them no
// start.
func (s *Step) noteRunning() {
	for _, c := range s.current {
		d, ok := s.wanted(c.Name)
		if ok && d.State == unit.StateLaunched && c.Hash == d.Hash && c.Port == d.Port &&
			c.LoadState == loadStateLoaded && running(c.ActiveState) {
			r := s.record(d.Name)
			r.started = startKey{hash: d.Hash, port: d.Port, gen: r.gen}
		}
	}
}

// filter splits Plan's tasks into the file tasks and the jobs to do now.
// Plan gives them in phases (stops, unloads, loads, daemon-reload, stops
// of units desired loaded, starts), so a unit's file tasks are seen
// before its last jobs.
func (s *Step) filter(tasks []Task) (files, jobs []Task) {
	// stopping: running units to unload, whose files wait for the stop;
	// filing: units with a file task, done or held back, whose jobs wait.
	b := s.scratch
	stopping, filing := b.stopping[:0], b.filing[:0]
	files, jobs = b.files[:0], b.jobs[:0]
	for _, t := range tasks {
		if t.Kind == TaskStop && t.Reason != ReasonDesiredLoaded {
			stopping.add(t.Unit)
		}
	}
	for _, t := range tasks {
		if t.Kind == TaskDaemonReload {
			continue
		}
		r := s.record(t.Unit)
		switch t.Kind {
		case TaskUnload, TaskLoad:
			filing.add(t.Unit)
			if !stopping.has(t.Unit) && s.fileDue(r, t) {
				files = append(files, t)
			}
		case TaskStop:
			if r.job != TaskStop && !(t.Reason == ReasonDesiredLoaded && filing.has(t.Unit)) {
				jobs = append(jobs, s.queue(r, t)) // a stop replaces a start in flight
			}
		case TaskStart:
			d, _ := s.wanted(t.Unit)
			key := startKey{hash: d.Hash, port: d.Port, gen: r.gen}
			if filing.has(t.Unit) || r.job != 0 || r.fileErr || r.started == key {
				continue // not owed: started already for this content and launch
			}
			r.started = key
			jobs = append(jobs, s.queue(r, t))
		}
	}
	if len(files) > 0 {
		files = append(files, Task{Kind: TaskDaemonReload, Reason: ReasonUnitsChanged})
	}
	b.stopping, b.filing, b.files, b.jobs = stopping, filing, files, jobs
	return owned(files), owned(jobs)
}

// owned returns a copy of s of its own, or nil if s is empty: what Ready
// returns is the caller's, apart from the step's scratch.
func owned[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// fileDue reports whether file task t may be done now: not while a
// failed try of the same task waits out its backoff, and a load of what
// systemd already refused to load only once the backoff runs out.
func (s *Step) fileDue(r *record, t Task) bool {
	key := startKey{hash: t.Hash, port: t.Port}
	if t.Kind == TaskLoad && t.Reason == ReasonNotLoaded && r.loadedFor == key && !r.fileErr {
		s.failed(r, key, fmt.Sprintf("systemd did not load the unit file (load state %s)", s.loadState(t.Unit)))
		s.backOff(r)
	}
	if !r.fileErr || r.failedFor != key {
		return true
	}
	return r.retryAt <= s.now
}

func (s *Step) loadState(name string) string {
	for _, c := range s.current {
		if c.Name == name {
			return c.LoadState
		}
	}
	return "unknown"
}

// queue records job t as in flight.
func (s *Step) queue(r *record, t Task) Task {
	if r.job == 0 {
		s.jobs++
	}
	r.job, r.jobSince, r.stuck = t.Kind, s.now, false
	return t
}

// names is a small set of unit names: a plan's tasks name few units, and
// Plan gives each phase in name order.
type names []string

func (n *names) add(name string) {
	if !n.has(name) {
		*n = append(*n, name)
	}
}

func (n names) has(name string) bool {
	for _, x := range n {
		if x == name {
			return true
		}
	}
	return false
}
