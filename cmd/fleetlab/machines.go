package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/fleetsim/fleet/lab/cluster"
)

// stopTimeout bounds how long down waits for the supervisor to power the
// machines off before it kills it (the machines die with it).
const stopTimeout = 60 * time.Second

func runDown(e *env, _ *flag.FlagSet, args []string) error {
	if len(args) > 0 {
		return usageError{"down takes no arguments"}
	}
	if st, err := cluster.ReadState(e.dir); err == nil && st.Owner.Alive() {
		if err := stopSupervisor(st.Owner); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "fleetlab: the supervisor (pid %d) stopped its %d machines\n", st.Owner.PID, len(st.Machines))
	}
	n, err := cluster.Teardown(e.name, e.dir)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(e.stdout, "fleetlab: removed %d things left behind\n", n)
	}
	fmt.Fprintf(e.stdout, "fleetlab: lab %q is down: no machine, namespace, mount, cgroup, veth or bridge of it is left\n", e.name)
	return nil
}

// stopSupervisor asks the supervisor to shut the lab down and waits for
// it; after stopTimeout it kills it.
func stopSupervisor(owner cluster.Process) error {
	p, err := os.FindProcess(owner.PID)
	if err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	defer p.Release()
	if !owner.Alive() {
		return nil
	}
	if err := p.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("supervisor: %w", err)
	}
	deadline := time.Now().Add(stopTimeout)
	for owner.Alive() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if owner.Alive() {
		if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("supervisor: %w", err)
		}
	}
	return nil
}

func runStatus(e *env, _ *flag.FlagSet, args []string) error {
	if len(args) > 0 {
		return usageError{"status takes no arguments"}
	}
	st, err := e.readState()
	if err != nil {
		return err
	}
	owner := "gone (run make lab-down)"
	if st.Owner.Alive() {
		owner = fmt.Sprintf("pid %d", st.Owner.PID)
	}
	fmt.Fprintf(e.stdout, "lab %s: bridge %s (%s), supervisor %s, agent_ttl %s, engine_reconcile_interval %s\n",
		st.Name, st.Bridge, st.Subnet, owner, st.AgentTTL, st.Reconcile)
	printMachines(e.stdout, st)
	fmt.Fprintf(e.stdout, "\nexport FLEETCTL_ENDPOINT=%s\n", endpoint(st))
	return nil
}

// endpoint is the API of the first machine that is up and reachable.
func endpoint(st *cluster.State) string {
	for _, m := range st.Machines {
		if m.Up() && m.LinkUp() {
			return m.Endpoint
		}
	}
	return st.Endpoint
}

func runEnv(e *env, _ *flag.FlagSet, args []string) error {
	if len(args) > 0 {
		return usageError{"env takes no arguments"}
	}
	st, err := e.readState()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "export FLEETCTL_ENDPOINT=%s\n", endpoint(st))
	if st.TLS.CertFile != "" {
		fmt.Fprintf(e.stdout, "# etcd requires a certificate: fleetctl --driver=etcd --endpoint=%s --ca-file=%s --cert-file=%s --key-file=%s\n",
			strings.Join(st.Etcd, ","), st.TLS.CAFile, st.TLS.CertFile, st.TLS.KeyFile)
	}
	return nil
}

// machine reads the state and finds the machine args name.
func (e *env) machine(args []string) (*cluster.MachineState, error) {
	name, err := oneMachine(args)
	if err != nil {
		return nil, err
	}
	st, err := e.readState()
	if err != nil {
		return nil, err
	}
	return st.Machine(name)
}

func runKill(e *env, _ *flag.FlagSet, args []string) error {
	m, err := e.machine(args)
	if err != nil {
		return err
	}
	if err := m.Kill(10 * time.Second); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "fleetlab: %s crashed at %s (SIGKILL to its systemd, pid %d)\n", m.Hostname, time.Now().Format("15:04:05.000"), m.Systemd.PID)
	return nil
}

func runPoweroff(e *env, _ *flag.FlagSet, args []string) error {
	m, err := e.machine(args)
	if err != nil {
		return err
	}
	if err := m.Poweroff(30 * time.Second); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "fleetlab: %s powered off at %s\n", m.Hostname, time.Now().Format("15:04:05.000"))
	return nil
}

func runCut(e *env, _ *flag.FlagSet, args []string) error { return e.setLink(args, false) }

func runHeal(e *env, _ *flag.FlagSet, args []string) error { return e.setLink(args, true) }

func (e *env) setLink(args []string, up bool) error {
	m, err := e.machine(args)
	if err != nil {
		return err
	}
	if err := m.SetLink(up); err != nil {
		return err
	}
	what := "cut off: its link is down"
	if up {
		what = "back: its link is up"
	}
	fmt.Fprintf(e.stdout, "fleetlab: %s %s (%s)\n", m.Hostname, what, time.Now().Format("15:04:05.000"))
	return nil
}

func runBoot(e *env, _ *flag.FlagSet, args []string) error {
	if len(args) > 0 {
		return usageError{"boot takes no arguments: it boots every machine that is down"}
	}
	st, err := cluster.BootDown(e.dir, 2*time.Minute)
	if err != nil {
		return fmt.Errorf("%w (see %s/%s)", err, e.dir, cluster.LogFile)
	}
	printMachines(e.stdout, st)
	return nil
}

func runExec(e *env, _ *flag.FlagSet, args []string) error {
	if len(args) < 2 {
		return usageError{"want a machine and a command, like: fleetlab exec core-01 systemctl status fleetd"}
	}
	m, err := e.machine(args[:1])
	if err != nil {
		return err
	}
	cmd, err := m.Command(args[1:]...)
	if err != nil {
		return err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, e.stdout, e.stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitError{code: ee.ExitCode()}
	}
	return err
}

// exitError passes a command's exit code on as fleetlab's own.
type exitError struct{ code int }

func (x exitError) Error() string { return fmt.Sprintf("exit status %d", x.code) }
