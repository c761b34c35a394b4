package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/lab/cluster"
	"github.com/fleetsim/fleet/lab/nsboot"
)

// The lab's timings, and the slack every timing check allows on top of
// what fleet's own timings explain. A crash of the etcd leader costs an
// election (1 s) and the new leader extends every lease by its election
// timeout (1 s); etcd revokes expired leases on a 500 ms tick; systemd
// takes a moment to start a unit and the agent to publish its state; and
// `make test` runs other packages' tests on the same two cores: 4 s.
const (
	agentTTL  = 5 * time.Second
	reconcile = time.Second
	leaderTTL = 5 * time.Second
	slack     = 4 * time.Second
)

// The lab: its own name and subnet, so that a `make lab-up` lab can run
// beside it.
const (
	labName   = "fleete2e"
	labSubnet = "10.77.1"
	labDir    = "/run/fleete2e"
	machines  = 4
)

var (
	lab        *cluster.Cluster
	fleetctl   string // the fleetctl binary built for the run
	skipReason string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

// run boots the lab, runs the tests, tears the lab down and checks that
// nothing is left.
func run(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		skipReason = "end-to-end tests skipped with -short"
		return m.Run()
	}
	if err := nsboot.Check(); err != nil {
		skipReason = fmt.Sprintf("end-to-end tests need root on Linux to boot the lab: %v", err)
		return m.Run()
	}
	bin, err := os.MkdirTemp("", labName+"-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(bin)
	if err := build(bin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fleetctl = bin + "/fleetctl"
	if err := boot(bin + "/fleetd"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := lab.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: tearing the lab down: %v\n", err)
		code = 1
	}
	if n, err := cluster.Teardown(labName, labDir); n > 0 || err != nil {
		fmt.Fprintf(os.Stderr, "e2e: the lab left %d things behind (%v)\n", n, err)
		code = 1
	}
	return code
}

// build builds fleetd and fleetctl into dir.
func build(dir string) error {
	cmd := exec.Command("go", "build", "-o", dir+"/", "github.com/fleetsim/fleet/cmd/fleetd", "github.com/fleetsim/fleet/cmd/fleetctl")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("e2e: building fleetd and fleetctl: %w\n%s", err, out)
	}
	return nil
}

// boot removes what a crashed run left, then boots the lab.
func boot(fleetd string) error {
	if owner, ok := cluster.InUse(labDir); ok {
		return fmt.Errorf("e2e: the lab %s is in use by process %d (another test run?)", labName, owner.PID)
	}
	if n, err := cluster.Teardown(labName, labDir); err != nil {
		return fmt.Errorf("e2e: removing an earlier run's leftovers: %w", err)
	} else if n > 0 {
		fmt.Fprintf(os.Stderr, "e2e: removed %d things an earlier run left\n", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	progress := func(string, ...any) {}
	if testing.Verbose() {
		progress = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "lab: "+format+"\n", args...) }
	}
	var err error
	lab, err = cluster.Start(ctx, cluster.Config{
		Name: labName, Machines: machines, Subnet: labSubnet, Fleetd: fleetd, Dir: labDir,
		AgentTTL: agentTTL, Reconcile: reconcile, LeaderTTL: leaderTTL, Progress: progress,
		Verbosity: 1, // a failed wait logs the journals: let them say what fleetd did
	})
	if err != nil {
		return fmt.Errorf("e2e: booting the lab: %w", err)
	}
	return nil
}

// need skips the test when the lab cannot run here.
func need(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// ctl runs fleetctl in dir against a machine that is up and reachable.
func ctl(dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, fleetctl, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FLEETCTL_ENDPOINT="+lab.Endpoint())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("fleetctl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
