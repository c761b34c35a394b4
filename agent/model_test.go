package agent

import (
	"fmt"
	"slices"
	"strings"
)

// fakeSystemd is an in-memory model of a machine's systemd, as far as the
// agent touches it. It refuses what real systemd would not do right (start
// a unit whose file it has not re-read) and what the agent must never do
// (unload a running unit, load over a loaded unit, reload for nothing).
type fakeSystemd struct {
	units map[string]CurrentUnit
	dirty bool            // unit files changed since the last daemon-reload
	fresh map[string]bool // units loaded since the last daemon-reload
}

// newFakeSystemd holds the given units; names must be distinct.
func newFakeSystemd(current []CurrentUnit) *fakeSystemd {
	s := &fakeSystemd{units: make(map[string]CurrentUnit), fresh: make(map[string]bool)}
	for _, c := range current {
		if _, dup := s.units[c.Name]; dup {
			panic("fakeSystemd: duplicate unit " + c.Name)
		}
		s.units[c.Name] = c
	}
	return s
}

// apply carries out the tasks in order and fails on the first misuse, or
// if unit files were left changed without a daemon-reload.
func (s *fakeSystemd) apply(tasks []Task) error {
	for i, t := range tasks {
		if err := s.do(t); err != nil {
			return fmt.Errorf("task %d (%v): %w", i, t, err)
		}
	}
	if s.dirty {
		return fmt.Errorf("unit files changed without a daemon-reload")
	}
	return nil
}

func (s *fakeSystemd) do(t Task) error {
	c, ok := s.units[t.Unit]
	if t.Kind != TaskLoad && t.Kind != TaskDaemonReload && !ok {
		return fmt.Errorf("no such unit")
	}
	switch t.Kind {
	case TaskStop:
		c.ActiveState, c.SubState = "inactive", "dead"
	case TaskStart:
		if c.LoadState != "loaded" || s.fresh[t.Unit] {
			return fmt.Errorf("start of a unit systemd has not loaded (LoadState %q)", c.LoadState)
		}
		c.ActiveState, c.SubState = "active", "running"
	case TaskUnload:
		if running(c.ActiveState) {
			return fmt.Errorf("unload of a unit still %s", c.ActiveState)
		}
		delete(s.units, t.Unit)
		delete(s.fresh, t.Unit)
		s.dirty = true
		return nil
	case TaskLoad:
		return s.load(t, c, ok)
	case TaskDaemonReload:
		return s.daemonReload(t)
	default:
		return fmt.Errorf("unknown task kind")
	}
	s.units[t.Unit] = c
	return nil
}

// load writes the unit file; systemd sees it at the next daemon-reload.
func (s *fakeSystemd) load(t Task, c CurrentUnit, exists bool) error {
	switch {
	case t.Unit == "":
		return fmt.Errorf("load without a unit name")
	case exists && c.LoadState == "loaded":
		return fmt.Errorf("load over a loaded unit: unload it first")
	case !exists:
		c = CurrentUnit{Name: t.Unit, LoadState: "not-found", ActiveState: "inactive", SubState: "dead"}
	}
	c.Hash, c.Port = t.Hash, t.Port
	s.units[t.Unit] = c
	s.fresh[t.Unit] = true
	s.dirty = true
	return nil
}

func (s *fakeSystemd) daemonReload(t Task) error {
	if t.Unit != "" {
		return fmt.Errorf("daemon-reload names a unit")
	}
	if !s.dirty {
		return fmt.Errorf("daemon-reload with no unit file changed")
	}
	for name := range s.fresh { // order does not matter: each unit is set alone
		c := s.units[name]
		c.LoadState = "loaded"
		s.units[name] = c
	}
	clear(s.fresh)
	s.dirty = false
	return nil
}

// settle lets units in transition finish, as time passing would.
func (s *fakeSystemd) settle() {
	for name, c := range s.units { // order does not matter: each unit is set alone
		switch c.ActiveState {
		case "activating", "reloading":
			c.ActiveState, c.SubState = "active", "running"
		case "deactivating":
			c.ActiveState, c.SubState = "inactive", "dead"
		}
		s.units[name] = c
	}
}

// current lists the units sorted by name, as the agent reads them.
func (s *fakeSystemd) current() []CurrentUnit {
	out := make([]CurrentUnit, 0, len(s.units))
	for _, c := range s.units {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b CurrentUnit) int { return strings.Compare(a.Name, b.Name) })
	return out
}
