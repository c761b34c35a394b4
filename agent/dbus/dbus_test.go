package dbus_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/agent"
	"github.com/fleetsim/fleet/agent/dbus"
	"github.com/fleetsim/fleet/lab/nsboot"
	"github.com/fleetsim/fleet/unit"
)

// lab is one booted machine and an agent Systemd connected to it.
type lab struct {
	m     *nsboot.Machine
	sd    *dbus.Systemd
	units string // the units directory, bind-mounted at the same path
}

// TestSystemd boots one real systemd (lab/nsboot) and drives the agent's
// D-Bus implementation against it. Subtests share the machine and use
// units of their own.
func TestSystemd(t *testing.T) {
	l := newLab(t)
	t.Run("Lifecycle", l.testLifecycle)
	t.Run("Install", l.testInstall)
	t.Run("PortChange", l.testPortChange)
	t.Run("StartFails", l.testStartFails)
	t.Run("HangingStart", l.testHangingStart)
	t.Run("SystemBusFromEnvironment", l.testSystemBusFromEnvironment)
}

func newLab(t *testing.T) *lab {
	if os.Geteuid() != 0 {
		t.Skip("needs root: boots a real systemd in fresh namespaces")
	}
	if err := nsboot.Check(); err != nil {
		t.Skipf("needs root on Linux with unshare, overlayfs and cgroup2: %v", err)
	}
	units := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	m, err := nsboot.Boot(ctx, nsboot.Options{Name: "dbus-test", BindDirs: []string{units}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("machine booted in %v", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := m.Shutdown(); err != nil {
			t.Error(err)
		}
	})
	sd := connect(t, units, m)
	return &lab{m: m, sd: sd, units: units}
}

// connect returns a Systemd connected to m, closed when the test ends.
func connect(t *testing.T, units string, m *nsboot.Machine, opts ...dbus.Option) *dbus.Systemd {
	t.Helper()
	if len(opts) == 0 {
		opts = []dbus.Option{dbus.WithBusAddress(m.BusAddress())}
	}
	opts = append(opts, dbus.WithRuntimeDir(m.Root()+"/run/systemd/system"))
	sd := dbus.New(units, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	if err := sd.Connect(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sd.Close(); err != nil {
			t.Error(err)
		}
		cancel()
	})
	return sd
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func parse(t *testing.T, s string) *unit.File {
	t.Helper()
	f, err := unit.ParseString(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// exec runs a command inside the machine and returns its trimmed output.
func (l *lab) exec(t *testing.T, args ...string) string {
	t.Helper()
	out, err := l.m.Exec(ctxT(t), args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// load loads f as name and reloads systemd; the unit is unloaded when
// the test ends, also when it fails.
func (l *lab) load(t *testing.T, name string, f *unit.File, port uint16) {
	t.Helper()
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(l.units, name)); err != nil {
			return // unloaded by the test
		}
		ctx := context.Background()
		l.job(t, l.sd.Stop, name)
		if err := l.sd.Unload(ctx, name); err != nil {
			t.Error(err)
		}
	})
	if err := l.sd.Load(ctxT(t), name, f, port); err != nil {
		t.Fatal(err)
	}
	if err := l.sd.DaemonReload(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

// current returns what Units says of name, and whether it is listed.
func (l *lab) current(t *testing.T, name string) (agent.CurrentUnit, bool) {
	t.Helper()
	units, err := l.sd.Units(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if u.Name == name {
			return u, true
		}
	}
	return agent.CurrentUnit{}, false
}

// waitChanged waits, on Changed alone, until name is in active state want.
func (l *lab) waitChanged(t *testing.T, name, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case <-l.sd.Changed():
			if u, _ := l.current(t, name); u.ActiveState == want {
				return
			}
		case <-timeout:
			u, _ := l.current(t, name)
			t.Fatalf("%s: no Changed() bringing it to %s within 10s (now %s)", name, want, u.ActiveState)
		}
	}
}

// waitFile waits for a file inside the machine and returns its content.
func (l *lab) waitFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(l.m.Root() + path)
		if err == nil && len(b) > 0 {
			return l.exec(t, "cat", path)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not written inside the machine: %v", path, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// job queues a job with queue and waits for its result on Jobs.
func (l *lab) job(t *testing.T, queue func(context.Context, string) error, name string) string {
	t.Helper()
	if err := queue(ctxT(t), name); err != nil {
		t.Fatal(err)
	}
	return l.result(t, name)
}

// result waits for the next job result of name on Jobs.
func (l *lab) result(t *testing.T, name string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case r := <-l.sd.Jobs():
			if r.Unit == name {
				return r.Result
			}
		case <-timeout:
			t.Fatalf("no job result for %s", name)
			return ""
		}
	}
}
