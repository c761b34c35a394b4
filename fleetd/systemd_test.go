package fleetd

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/agent/dbus"
	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/lab/nsboot"
	"github.com/fleetsim/fleet/unit"
)

// TestRealSystemdSurvivesFleetdRestart runs fleetd against a real systemd
// booted in fresh namespaces: a unit is linked and started, fleetd stops
// (its default: units keep running), starts again over the same etcd
// data, and adopts the unit without restarting it; then destroy stops
// and unloads it.
func TestRealSystemdSurvivesFleetdRestart(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: boots a real systemd in fresh namespaces")
	}
	if err := nsboot.Check(); err != nil {
		t.Skipf("cannot boot a systemd here: %v", err)
	}
	units := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m, err := nsboot.Boot(ctx, nsboot.Options{Name: "fleetd-test", BindDirs: []string{units}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Shutdown(); err != nil {
			t.Error(err)
		}
	})
	cfg := testConfig(t, m.MachineID())
	cfg.UnitsDirectory = units
	first := startReal(t, cfg, m)
	cli := first.client(t)
	eventually(t, "the machine registered", 10*time.Second, func() bool {
		ms, err := cli.Machines(ctx)
		return err == nil && len(ms) == 1
	})
	opts := []unit.Option{{Section: "Service", Name: "ExecStart", Value: "/bin/sh -c 'while true; do echo Hello World; sleep 1; done'"}}
	if err := cli.CreateUnit(ctx, &api.Unit{Name: "hello.service", Options: opts, DesiredState: "launched"}); err != nil {
		t.Fatal(err)
	}
	pid := waitActive(t, m)

	first.stop()
	if got := mainPID(t, m); got != pid {
		t.Fatalf("stopping fleetd changed the unit: main PID %s, was %s", got, pid)
	}
	second := startReal(t, cfg, m)
	cli = second.client(t)
	eventually(t, "hello.service launched after the restart", 20*time.Second, func() bool {
		u, err := cli.Unit(ctx, "hello.service")
		return err == nil && u.CurrentState == "launched"
	})
	if got := mainPID(t, m); got != pid {
		t.Fatalf("fleetd's restart restarted the unit: main PID %s, was %s", got, pid)
	}

	if err := cli.DestroyUnit(ctx, "hello.service"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "hello.service stopped, unloaded and its file removed", 20*time.Second, func() bool {
		out, _ := m.Exec(ctx, "systemctl", "show", "-P", "LoadState", "hello.service")
		_, err := os.Stat(units + "/hello.service")
		return strings.TrimSpace(out) == "not-found" && os.IsNotExist(err)
	})
}

// startReal starts fleetd over machine m's systemd.
func startReal(t *testing.T, cfg Config, m *nsboot.Machine) *testDaemon {
	t.Helper()
	sd := dbus.New(cfg.UnitsDirectory, dbus.WithBusAddress(m.BusAddress()), dbus.WithRuntimeDir(m.Root()+"/run/systemd/system"))
	ctx, cancel := context.WithCancel(context.Background())
	if err := sd.Connect(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { sd.Close(); cancel() })
	td := &testDaemon{done: make(chan error, 1)}
	td.d = New(cfg, Options{Systemd: sd, Version: "test"})
	dctx, dcancel := context.WithCancel(context.Background())
	td.cancel = dcancel
	go func() { td.done <- td.d.Run(dctx) }()
	t.Cleanup(td.stop)
	td.waitReady(t, cfg)
	return td
}

// waitActive waits for hello.service to run in m and returns its main PID.
func waitActive(t *testing.T, m *nsboot.Machine) string {
	t.Helper()
	eventually(t, "hello.service active in the real systemd", 20*time.Second, func() bool {
		out, _ := m.Exec(context.Background(), "systemctl", "is-active", "hello.service")
		return strings.TrimSpace(out) == "active"
	})
	return mainPID(t, m)
}

func mainPID(t *testing.T, m *nsboot.Machine) string {
	t.Helper()
	out, err := m.Exec(context.Background(), "systemctl", "show", "-P", "MainPID", "hello.service")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}
