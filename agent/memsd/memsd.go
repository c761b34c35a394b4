// Package memsd is an in-memory systemd for tests: it keeps the unit
// files fleet installs and their states, finishes start and stop jobs at
// once (or never, for a unit told to hang; or failed, for one told to
// fail its starts), and can be told to fail a unit.
package memsd

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/fleetsim/fleet/agent"
	"github.com/fleetsim/fleet/unit"
)

// Systemd is an in-memory agent.Systemd. The zero value is not usable;
// call New.
type Systemd struct {
	mu      sync.Mutex
	units   map[string]*entry
	hang    map[string]bool // starts of these units never finish
	fail    map[string]bool // starts of these units fail
	starts  map[string]int
	changed chan struct{}
	jobs    chan agent.JobResult
	reloads int
}

type entry struct {
	file    *unit.File
	port    uint16
	loaded  bool // daemon-reload has seen it
	active  string
	sub     string
	hanging bool // a start job is in flight and never finishes
}

var _ agent.Systemd = (*Systemd)(nil)

// New returns an empty in-memory systemd.
func New() *Systemd {
	return &Systemd{units: map[string]*entry{}, hang: map[string]bool{}, fail: map[string]bool{}, starts: map[string]int{},
		changed: make(chan struct{}, 1), jobs: make(chan agent.JobResult, 4096)}
}

// Units implements agent.Systemd.
func (s *Systemd) Units(context.Context) ([]agent.CurrentUnit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]agent.CurrentUnit, 0, len(s.units))
	for name, e := range s.units {
		load := "loaded"
		if !e.loaded {
			load = "not-found"
		}
		out = append(out, agent.CurrentUnit{Name: name, Hash: e.file.Hash(), Port: e.port, LoadState: load, ActiveState: e.active, SubState: e.sub})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Load implements agent.Systemd.
func (s *Systemd) Load(_ context.Context, name string, f *unit.File, port uint16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.units[name]; ok && e.active != "inactive" && e.active != "failed" {
		return fmt.Errorf("memsd: load %s: unit is %s", name, e.active)
	}
	s.units[name] = &entry{file: f, port: port, active: "inactive", sub: "dead"}
	return nil
}

// Unload implements agent.Systemd.
func (s *Systemd) Unload(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.units, name)
	return nil
}

// DaemonReload implements agent.Systemd.
func (s *Systemd) DaemonReload(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reloads++
	for _, e := range s.units {
		e.loaded = true
	}
	return nil
}

// Start implements agent.Systemd: the job finishes at once, unless the
// unit was told to Hang.
func (s *Systemd) Start(_ context.Context, name string) error {
	s.mu.Lock()
	e, ok := s.units[name]
	if !ok || !e.loaded {
		s.mu.Unlock()
		return fmt.Errorf("memsd: start %s: unit not loaded", name)
	}
	s.starts[name]++
	if s.hang[name] {
		e.active, e.sub, e.hanging = "activating", "start", true
		s.mu.Unlock()
		s.notify()
		return nil
	}
	if s.fail[name] {
		e.active, e.sub = "failed", "failed"
		s.finish(name, agent.TaskStart, "failed")
		s.mu.Unlock()
		s.notify()
		return nil
	}
	e.active, e.sub = "active", "running"
	s.finish(name, agent.TaskStart, "done")
	s.mu.Unlock()
	s.notify()
	return nil
}

// Stop implements agent.Systemd; it cancels a hanging start.
func (s *Systemd) Stop(_ context.Context, name string) error {
	s.mu.Lock()
	e, ok := s.units[name]
	if !ok || !e.loaded {
		s.mu.Unlock()
		return fmt.Errorf("memsd: stop %s: unit not loaded", name)
	}
	if e.hanging {
		e.hanging = false
		s.finish(name, agent.TaskStart, "canceled")
	}
	e.active, e.sub = "inactive", "dead"
	s.finish(name, agent.TaskStop, "done")
	s.mu.Unlock()
	s.notify()
	return nil
}

// finish delivers a job result; s.mu is held.
func (s *Systemd) finish(name string, kind agent.TaskKind, result string) {
	r := agent.JobResult{Unit: name, Kind: kind, Result: result}
	select {
	case s.jobs <- r:
	default:
		go func() { s.jobs <- r }() // a reader that fell this far behind gets it late, in some order
	}
}

// Jobs implements agent.Systemd.
func (s *Systemd) Jobs() <-chan agent.JobResult { return s.jobs }

// Hang makes every later start of name hang: the job never finishes and
// the unit stays activating until it is stopped.
func (s *Systemd) Hang(name string) {
	s.mu.Lock()
	s.hang[name] = true
	s.mu.Unlock()
}

// FailStarts makes every later start of name fail: the job ends
// "failed" and the unit with it.
func (s *Systemd) FailStarts(name string) {
	s.mu.Lock()
	s.fail[name] = true
	s.mu.Unlock()
}

// Starts returns how many start jobs name was given.
func (s *Systemd) Starts(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.starts[name]
}

// Fail makes a unit fail, as if its process died.
func (s *Systemd) Fail(name string) error { return s.set(name, "failed", "failed") }

// Exit makes a unit end as a process that exits with success does.
func (s *Systemd) Exit(name string) error { return s.set(name, "inactive", "dead") }

func (s *Systemd) set(name, active, sub string) error {
	s.mu.Lock()
	e, ok := s.units[name]
	if !ok || !e.loaded {
		s.mu.Unlock()
		return fmt.Errorf("memsd: %s: unit not loaded", name)
	}
	e.active, e.sub = active, sub
	s.mu.Unlock()
	s.notify()
	return nil
}

func (s *Systemd) notify() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// Changed implements agent.Systemd.
func (s *Systemd) Changed() <-chan struct{} { return s.changed }

// Active returns the names of the active units, sorted.
func (s *Systemd) Active() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name, e := range s.units {
		if e.active == "active" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Port returns the port a unit was installed with.
func (s *Systemd) Port(name string) uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.units[name]; ok {
		return e.port
	}
	return 0
}
