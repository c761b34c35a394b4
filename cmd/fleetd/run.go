package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/fleetsim/fleet/agent/dbus"
	"github.com/fleetsim/fleet/fleetd"
)

// version is the daemon's version, reported by --version and the API.
const version = "0.1.0"

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

// run is fleetd's whole life: configuration, systemd, then the daemon
// until SIGINT or SIGTERM. It returns the exit code.
func run(args, env []string, stdout, stderr io.Writer) int {
	cfg, inv, err := fleetd.Load(args, env, os.ReadFile)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "fleetd: %v\n", err)
		return exitUsage
	case inv.Help != "":
		fmt.Fprint(stdout, inv.Help)
		return exitOK
	case inv.Version:
		fmt.Fprintf(stdout, "fleetd version %s\n", version)
		return exitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	sd := dbus.New(cfg.UnitsDirectory)
	if err := sd.Connect(ctx); err != nil {
		fmt.Fprintf(stderr, "fleetd: cannot reach systemd: %v\n", err)
		return exitRuntime
	}
	defer sd.Close()
	d := fleetd.New(cfg, fleetd.Options{Systemd: sd, Inspector: fleetd.Commands{}, Version: version,
		Logger: fleetd.NewLogger(stderr, cfg)})
	if err := d.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "fleetd: %v\n", err)
		return exitRuntime
	}
	return exitOK
}
