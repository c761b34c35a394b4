package dbus

import godbus "github.com/godbus/dbus/v5"

// Changed implements agent.Systemd: it receives a value, coalesced, after
// systemd reports a property change (active state, sub-state, ...) of an
// installed unit, and once when the signal connection closes (the agent
// then looks, and learns from Units that systemd is gone).
func (s *Systemd) Changed() <-chan struct{} { return s.changed }

// watch turns systemd's PropertiesChanged signals for installed units into
// Changed notifications, until done is closed or the connection closes.
func (s *Systemd) watch(signals <-chan *godbus.Signal, done <-chan struct{}) {
	for {
		select {
		case sig, ok := <-signals:
			if !ok {
				s.notify()
				return
			}
			if s.isOurs(sig.Path) {
				s.notify()
			}
		case <-done:
			return
		}
	}
}

func (s *Systemd) notify() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *Systemd) isOurs(path godbus.ObjectPath) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ours[path]
}

// setOurs records whether name is an installed unit, whose changes
// Changed reports.
func (s *Systemd) setOurs(name string, ours bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ours {
		s.ours[unitPath(name)] = true
	} else {
		delete(s.ours, unitPath(name))
	}
}

// resetOurs replaces the set of installed units with names.
func (s *Systemd) resetOurs(names []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ours = make(map[godbus.ObjectPath]bool, len(names))
	for _, n := range names {
		s.ours[unitPath(n)] = true
	}
}
