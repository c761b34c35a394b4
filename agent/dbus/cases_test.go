package dbus_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/agent/dbus"
	"github.com/fleetsim/fleet/unit"
)

// The full path of a unit with a port: load, reload, start, see it run
// with FLEET_PORT set, hear it stop from inside through Changed, stop,
// unload, and systemd forgets it.
func (l *lab) testLifecycle(t *testing.T) {
	const name = "echo-port.service"
	f := parse(t, `[Unit]
Description=writes its port

[Service]
ExecStart=/bin/sh -c 'echo port=$FLEET_PORT >/tmp/echo-port; while true; do sleep 1; done'
`)
	l.load(t, name, f, 4242)
	if r := l.job(t, l.sd.Start, name); r != "done" {
		t.Fatalf("start: %s", r)
	}
	if got := l.waitFile(t, "/tmp/echo-port"); got != "port=4242" {
		t.Errorf("the unit wrote %q, want port=4242", got)
	}
	u, ok := l.current(t, name)
	want := "loaded/active/running"
	if got := u.LoadState + "/" + u.ActiveState + "/" + u.SubState; !ok || got != want {
		t.Errorf("Units: %s listed=%v %s, want %s", name, ok, got, want)
	}
	if u.Hash != f.Hash() || u.Port != 4242 {
		t.Errorf("Units: %s hash %s port %d, want %s 4242", name, u.Hash.Short(), u.Port, f.Hash().Short())
	}

	// Stopped from inside the machine: Changed says so, no polling.
	drain(l.sd.Changed())
	l.exec(t, "systemctl", "stop", name)
	l.waitChanged(t, name, "inactive")

	if r := l.job(t, l.sd.Start, name); r != "done" {
		t.Fatalf("start: %s", r)
	}
	if r := l.job(t, l.sd.Stop, name); r != "done" {
		t.Fatalf("stop: %s", r)
	}
	if u, _ := l.current(t, name); u.ActiveState != "inactive" {
		t.Errorf("after Stop: %s is %s", name, u.ActiveState)
	}

	if err := l.sd.Unload(ctxT(t), name); err != nil {
		t.Fatal(err)
	}
	if err := l.sd.DaemonReload(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	l.checkUnloaded(t, name)
}

// checkUnloaded checks that nothing of name is left: file, drop-in, links,
// systemd's knowledge, the Units listing.
func (l *lab) checkUnloaded(t *testing.T, name string) {
	t.Helper()
	run := l.m.Root() + "/run/systemd/system/"
	for _, p := range []string{
		filepath.Join(l.units, name), filepath.Join(l.units, name+".d"),
		run + name, run + name + ".d", run + "multi-user.target.wants/" + name,
	} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after Unload: %s still there (%v)", p, err)
		}
	}
	if got := l.exec(t, "systemctl", "show", "-P", "LoadState", name); got != "not-found" {
		t.Errorf("after Unload and DaemonReload: systemd has %s %s", name, got)
	}
	if _, ok := l.current(t, name); ok {
		t.Errorf("after Unload: Units still lists %s", name)
	}
}

// A unit with an [Install] section is enabled at runtime, and Unload
// disables it.
func (l *lab) testInstall(t *testing.T) {
	const name = "installed.service"
	f := parse(t, "[Service]\nExecStart=/bin/sleep 1000\n\n[Install]\nWantedBy=multi-user.target\n")
	l.load(t, name, f, 0)
	if got := l.exec(t, "systemctl", "is-enabled", name); got != "enabled-runtime" {
		t.Errorf("is-enabled %s = %q, want enabled-runtime", name, got)
	}
	if _, err := os.Lstat(l.m.Root() + "/run/systemd/system/multi-user.target.wants/" + name); err != nil {
		t.Errorf("no runtime wants link: %v", err)
	}
	if err := l.sd.Unload(ctxT(t), name); err != nil {
		t.Fatal(err)
	}
	if err := l.sd.DaemonReload(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	l.checkUnloaded(t, name)
}

// Loading again with another port, or none, replaces the drop-in.
func (l *lab) testPortChange(t *testing.T) {
	const name = "ported.service"
	f := parse(t, "[Service]\nExecStart=/bin/sleep 1000\n")
	l.load(t, name, f, 8080)
	env := func() string { return l.exec(t, "systemctl", "show", "-P", "Environment", name) }
	if got := env(); got != "FLEET_PORT=8080" {
		t.Errorf("Environment = %q, want FLEET_PORT=8080", got)
	}
	l.load(t, name, f, 9090)
	if u, _ := l.current(t, name); u.Port != 9090 || env() != "FLEET_PORT=9090" {
		t.Errorf("after reload with 9090: Units port %d, Environment %q", u.Port, env())
	}
	l.load(t, name, f, 0)
	if u, _ := l.current(t, name); u.Port != 0 || env() != "" {
		t.Errorf("after reload without port: Units port %d, Environment %q", u.Port, env())
	}
	if _, err := os.Lstat(l.m.Root() + "/run/systemd/system/" + name + ".d"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("port drop-in link left after reload without port (%v)", err)
	}
}

// A start whose job fails reports systemd's result on Jobs; calls on
// units systemd does not have are errors that name the unit.
func (l *lab) testStartFails(t *testing.T) {
	const name = "fails.service"
	l.load(t, name, parse(t, "[Service]\nType=oneshot\nExecStart=/bin/false\n"), 0)
	if r := l.job(t, l.sd.Start, name); r != "failed" {
		t.Errorf("Start of a failing unit: result %q, want failed", r)
	}
	if u, _ := l.current(t, name); u.ActiveState != "failed" {
		t.Errorf("after a failed start: %s is %q, want failed", name, u.ActiveState)
	}
	const missing = "never-loaded.service"
	if err := l.sd.Start(ctxT(t), missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Start of a unit never loaded: %v, want an error naming %s", err, missing)
	}
	if err := l.sd.Unload(ctxT(t), missing); err != nil {
		t.Errorf("Unload of a unit never loaded: %v, want nil", err)
	}
	if err := l.sd.Load(ctxT(t), "../escape.service", parse(t, "[Service]\nExecStart=/bin/true\n"), 0); !errors.Is(err, unit.ErrInvalidName) {
		t.Errorf("Load of a bad name: %v, want unit.ErrInvalidName", err)
	}
}

// Without WithBusAddress, Connect dials the system bus that
// DBUS_SYSTEM_BUS_ADDRESS names, as the agent does in production.
func (l *lab) testSystemBusFromEnvironment(t *testing.T) {
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", l.m.BusAddress())
	sd := connect(t, l.units, l.m, dbus.WithBusAddress(""))
	if err := sd.DaemonReload(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := sd.Units(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

// Before Connect, nothing reaches systemd.
func TestNotConnected(t *testing.T) {
	sd := dbus.New(t.TempDir())
	ctx := context.Background()
	f := &unit.File{}
	for what, err := range map[string]error{
		"Units":        func() error { _, err := sd.Units(ctx); return err }(),
		"Load":         sd.Load(ctx, "a.service", f, 0),
		"Unload":       sd.Unload(ctx, "a.service"),
		"DaemonReload": sd.DaemonReload(ctx),
		"Start":        sd.Start(ctx, "a.service"),
		"Stop":         sd.Stop(ctx, "a.service"),
	} {
		if !errors.Is(err, dbus.ErrNotConnected) {
			t.Errorf("%s before Connect: %v, want ErrNotConnected", what, err)
		}
	}
	if err := sd.Close(); err != nil {
		t.Errorf("Close when not connected: %v", err)
	}
}

// A start that never completes returns at once, leaves the unit
// activating, and a stop replaces it: the start's job is canceled.
func (l *lab) testHangingStart(t *testing.T) {
	const name = "hang.service"
	l.load(t, name, parse(t, "[Service]\nType=oneshot\nTimeoutStartSec=0\nExecStart=/bin/sleep 3600\n"), 0)
	done := make(chan error, 1)
	go func() { done <- l.sd.Start(ctxT(t), name) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Start waited for a job that never completes")
	}
	l.waitChanged(t, name, "activating")
	if err := l.sd.Stop(ctxT(t), name); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{l.result(t, name): true, l.result(t, name): true}
	if !got["canceled"] || !got["done"] {
		t.Errorf("results %v, want the start canceled and the stop done", got)
	}
	// A oneshot killed while starting ends failed (result signal).
	if u, _ := l.current(t, name); u.ActiveState != "inactive" && u.ActiveState != "failed" {
		t.Errorf("after Stop: %s is %s, want it ended", name, u.ActiveState)
	}
}
