// Package memsd is an in-memory systemd for tests: it keeps the unit
// files fleet installs and their states, starts and stops units at once,
// and can be told to fail a unit.
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
	changed chan struct{}
	reloads int
}

type entry struct {
	file   *unit.File
	port   uint16
	loaded bool // daemon-reload has seen it
	active string
	sub    string
}

var _ agent.Systemd = (*Systemd)(nil)

// New returns an empty in-memory systemd.
func New() *Systemd {
	return &Systemd{units: map[string]*entry{}, changed: make(chan struct{}, 1)}
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

// Start implements agent.Systemd.
func (s *Systemd) Start(_ context.Context, name string) error {
	return s.set(name, "active", "running")
}

// Stop implements agent.Systemd.
func (s *Systemd) Stop(_ context.Context, name string) error { return s.set(name, "inactive", "dead") }

// Fail makes a unit fail, as if its process died.
func (s *Systemd) Fail(name string) error { return s.set(name, "failed", "failed") }

func (s *Systemd) set(name, active, sub string) error {
	s.mu.Lock()
	e, ok := s.units[name]
	if !ok || !e.loaded {
		s.mu.Unlock()
		return fmt.Errorf("memsd: %s: unit not loaded", name)
	}
	e.active, e.sub = active, sub
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return nil
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
