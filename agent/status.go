package agent

import "sort"

// Active states systemd reports, as published for a unit fleet could
// not install.
const (
	loadStateError  = "error"
	activeStateFail = "failed"
	subStateFailed  = "failed"
)

// statuses returns the unit states that changed since the last publish,
// and the units whose published state must go: installed units with
// systemd's states and the step's reason, and desired units that could
// not be installed, shown failed with the reason.
func (s *Step) statuses() (publish []UnitStatus, unpublish []string) {
	now := make(map[string]UnitStatus, len(s.current))
	for _, c := range s.current {
		if c.Name == "" {
			continue
		}
		st := UnitStatus{Name: c.Name, Hash: c.Hash, LoadState: c.LoadState, ActiveState: c.ActiveState, SubState: c.SubState}
		if r := s.units[c.Name]; r != nil {
			st.Reason = r.reason
		}
		now[c.Name] = st
	}
	want, _ := resolveDesired(s.schedule)
	for _, d := range want {
		if r := s.units[d.Name]; r != nil && r.fileErr {
			if _, installed := now[d.Name]; !installed {
				now[d.Name] = UnitStatus{Name: d.Name, Hash: d.Hash, LoadState: loadStateError,
					ActiveState: activeStateFail, SubState: subStateFailed, Reason: r.reason}
			}
		}
	}
	for name, st := range now {
		if s.published[name] != st {
			publish = append(publish, st)
			s.published[name] = st
		}
	}
	for name := range s.published {
		if _, ok := now[name]; !ok {
			unpublish = append(unpublish, name)
			delete(s.published, name)
		}
	}
	sort.Slice(publish, func(i, j int) bool { return publish[i].Name < publish[j].Name })
	sort.Strings(unpublish)
	return publish, unpublish
}

// Unpublished says a state of the last Ready could not be published (or
// removed): it is tried again at the next Ready.
func (s *Step) Unpublished(name string) {
	s.published[name] = UnitStatus{Name: "\x00"} // differs from any state: published again, or removed
	s.dirty = true
}
