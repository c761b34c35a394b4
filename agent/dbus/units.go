package dbus

import (
	"context"
	"errors"
	"fmt"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"

	"github.com/fleetsim/fleet/agent"
	"github.com/fleetsim/fleet/unit"
)

// jobMode is how Start and Stop queue their jobs.
const jobMode = "replace"

// Units implements agent.Systemd: the unit files in the units directory,
// with their hashes and ports, and systemd's states for them, asked in one
// call.
func (s *Systemd) Units(ctx context.Context) ([]agent.CurrentUnit, error) {
	conn, err := s.connection()
	if err != nil {
		return nil, fmt.Errorf("dbus: units: %w", err)
	}
	installed, err := s.installed()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(installed))
	for i, u := range installed {
		names[i] = u.Name
	}
	s.resetOurs(names)
	if len(names) == 0 {
		return installed, nil
	}
	statuses, err := conn.ListUnitsByNamesContext(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("dbus: units: states of the %d units in %s: %w", len(names), s.unitsDir, err)
	}
	byName := make(map[string]sddbus.UnitStatus, len(statuses))
	for _, st := range statuses {
		byName[st.Name] = st
	}
	for i := range installed {
		if st, ok := byName[installed[i].Name]; ok {
			installed[i].LoadState, installed[i].ActiveState, installed[i].SubState = st.LoadState, st.ActiveState, st.SubState
		}
	}
	return installed, nil
}

// Load implements agent.Systemd: it writes the unit file and its port
// drop-in, links the unit into systemd's runtime directory, and enables it
// at runtime when it has an [Install] section. systemd sees the new file
// after DaemonReload.
func (s *Systemd) Load(ctx context.Context, name string, f *unit.File, port uint16) error {
	conn, err := s.connection()
	if err != nil {
		return fmt.Errorf("dbus: load %s: %w", name, err)
	}
	path, err := unit.PathIn(s.unitsDir, name)
	if err != nil {
		return fmt.Errorf("dbus: load: %w", err)
	}
	s.setOurs(name, true)
	if err := writeUnitFile(s.unitsDir, path, fileContent(f)); err != nil {
		return fmt.Errorf("dbus: load %s: %w", name, err)
	}
	if _, err := conn.LinkUnitFilesContext(ctx, []string{path}, true, true); err != nil {
		return fmt.Errorf("dbus: load %s: link %s: %w", name, path, err)
	}
	if err := s.installPort(name, port); err != nil {
		return fmt.Errorf("dbus: load %s: %w", name, err)
	}
	if f.HasInstall() {
		if _, _, err := conn.EnableUnitFilesContext(ctx, []string{name}, true, true); err != nil {
			return fmt.Errorf("dbus: load %s: enable: %w", name, err)
		}
	}
	return nil
}

// Unload implements agent.Systemd: it disables the unit (runtime), which
// also removes its link, then removes the port link, the drop-in and the
// unit file. The unit must be stopped first. systemd forgets the unit
// after DaemonReload.
func (s *Systemd) Unload(ctx context.Context, name string) error {
	conn, err := s.connection()
	if err != nil {
		return fmt.Errorf("dbus: unload %s: %w", name, err)
	}
	path, err := unit.PathIn(s.unitsDir, name)
	if err != nil {
		return fmt.Errorf("dbus: unload: %w", err)
	}
	if _, err := conn.DisableUnitFilesContext(ctx, []string{name}, true); err != nil && !noSuchUnit(err) {
		return fmt.Errorf("dbus: unload %s: disable: %w", name, err)
	}
	if err := s.removePort(name); err != nil {
		return fmt.Errorf("dbus: unload %s: %w", name, err)
	}
	if err := removeFile(path); err != nil {
		return fmt.Errorf("dbus: unload %s: %w", name, err)
	}
	s.setOurs(name, false)
	return nil
}

// noSuchUnit reports whether err is systemd saying it has no unit file of
// that name: Unload of a unit that is not (or no longer) linked.
func noSuchUnit(err error) bool {
	var e godbus.Error
	return errors.As(err, &e) && e.Name == "org.freedesktop.systemd1.NoSuchUnit"
}

// DaemonReload implements agent.Systemd.
func (s *Systemd) DaemonReload(ctx context.Context) error {
	conn, err := s.connection()
	if err != nil {
		return fmt.Errorf("dbus: daemon-reload: %w", err)
	}
	if err := conn.ReloadContext(ctx); err != nil {
		return fmt.Errorf("dbus: daemon-reload: %w", err)
	}
	return nil
}

// Start implements agent.Systemd: it queues a start job (mode
// "replace") and returns; the job's result comes on Jobs.
func (s *Systemd) Start(ctx context.Context, name string) error {
	return s.job(ctx, agent.TaskStart, name, func(c *sddbus.Conn, ch chan<- string) (int, error) {
		return c.StartUnitContext(ctx, name, jobMode, ch)
	})
}

// Stop implements agent.Systemd, as Start does with a stop job.
func (s *Systemd) Stop(ctx context.Context, name string) error {
	return s.job(ctx, agent.TaskStop, name, func(c *sddbus.Conn, ch chan<- string) (int, error) {
		return c.StopUnitContext(ctx, name, jobMode, ch)
	})
}

// Jobs implements agent.Systemd: the results of the jobs Start and Stop
// queued, as systemd's JobRemoved signals report them.
func (s *Systemd) Jobs() <-chan agent.JobResult { return s.jobs }

// job queues a job with queue and hands its result to Jobs when systemd
// reports it, unless the connection closes first.
func (s *Systemd) job(ctx context.Context, kind agent.TaskKind, name string, queue func(*sddbus.Conn, chan<- string) (int, error)) error {
	conn, err := s.connection()
	if err != nil {
		return fmt.Errorf("dbus: %s %s: %w", kind, name, err)
	}
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	// Buffered: go-systemd sends the result while holding its lock, and
	// nobody may be left to receive it once the connection closes.
	result := make(chan string, 1)
	if _, err := queue(conn, result); err != nil {
		return fmt.Errorf("dbus: %s %s: %w", kind, name, err)
	}
	go func() {
		select {
		case r := <-result:
			select {
			case s.jobs <- agent.JobResult{Unit: name, Kind: kind, Result: r}:
			case <-done:
			}
		case <-done:
		}
	}()
	return nil
}
