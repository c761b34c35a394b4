package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fleetsim/fleet/lab/demo"
)

// runDemo boots the lab, walks the story on it, and tears it down unless
// DEMO_KEEP=1.
func runDemo(e *env, _ *flag.FlagSet, args []string) error {
	if len(args) > 0 {
		return usageError{"demo takes no arguments"}
	}
	if e.up.machines < 3 {
		return usageError{fmt.Sprintf("the story needs at least 3 machines, not %d", e.up.machines)}
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding fleetctl next to fleetlab: %w", err)
	}
	fleetctl := filepath.Join(filepath.Dir(exe), "fleetctl")
	if _, err := os.Stat(fleetctl); err != nil {
		return fmt.Errorf("fleetctl: %w (run make build)", err)
	}
	start := time.Now()
	if err := e.bootLab(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "fleetlab: %d machines up in %.2fs\n", e.up.machines, time.Since(start).Seconds())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = demo.Run(ctx, demo.Options{Fleetctl: fleetctl, Dir: e.dir, Out: e.stdout})
	if os.Getenv("DEMO_KEEP") == "1" && err == nil {
		fmt.Fprintf(e.stdout, "\nDEMO_KEEP=1: the lab stays up. export FLEETCTL_ENDPOINT=http://%s.11:%d; make lab-down when done.\n",
			e.up.subnet, e.up.apiPort)
		return nil
	}
	fmt.Fprintln(e.stdout, "\nTearing the lab down (DEMO_KEEP=1 keeps it):")
	return errors.Join(err, runDown(e, nil, nil))
}
