package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fleetsim/fleet/lab/cluster"
)

// readyLine is what the supervisor writes on its progress pipe once the
// lab is up; anything else it writes there is progress to show.
const readyLine = "fleetlab-ready"

// progressFD is the supervisor's progress pipe (its first extra file).
const progressFD = 3

// upOptions are the flags of up, demo and supervise.
type upOptions struct {
	machines  int
	subnet    string
	fleetd    string
	apiPort   int
	agentTTL  time.Duration
	reconcile time.Duration
	leaderTTL time.Duration
	verbosity int
	insecure  bool
}

func upFlags(e *env, fs *flag.FlagSet) {
	machines := cluster.DefaultMachines
	if n, err := strconv.Atoi(os.Getenv("LAB_MACHINES")); err == nil && n > 0 {
		machines = n
	}
	o := &e.up
	fs.IntVar(&o.machines, "machines", machines, "how many machines to boot (default $LAB_MACHINES or 3); the first 3 embed etcd")
	fs.StringVar(&o.subnet, "subnet", cluster.DefaultSubnet, "the lab's /24: the bridge is .1, machines .11 and up")
	fs.StringVar(&o.fleetd, "fleetd", "", "the fleetd binary (default: fleetd next to fleetlab)")
	fs.IntVar(&o.apiPort, "api-port", cluster.DefaultAPIPort, "port of each fleetd's HTTP API")
	fs.DurationVar(&o.agentTTL, "agent-ttl", cluster.DefaultAgentTTL, "fleetd's agent_ttl (fleet's default is 30s; short for the lab)")
	fs.DurationVar(&o.reconcile, "reconcile", cluster.DefaultReconcile, "fleetd's engine_reconcile_interval (fleet's default is 2s)")
	fs.DurationVar(&o.leaderTTL, "leader-ttl", cluster.DefaultLeaderTTL, "fleetd's engine_leader_ttl")
	fs.IntVar(&o.verbosity, "verbosity", 0, "fleetd's verbosity")
	fs.BoolVar(&o.insecure, "insecure", false, "run etcd over plain HTTP with no certificates (anyone on the bridge can write to it)")
}

// config is the cluster configuration the flags ask for.
func (e *env) config() (cluster.Config, error) {
	fleetd := e.up.fleetd
	if fleetd == "" {
		exe, err := os.Executable()
		if err != nil {
			return cluster.Config{}, fmt.Errorf("finding fleetd next to fleetlab: %w", err)
		}
		fleetd = filepath.Join(filepath.Dir(exe), "fleetd")
	}
	fleetd, err := filepath.Abs(fleetd)
	if err != nil {
		return cluster.Config{}, fmt.Errorf("fleetd: %w", err)
	}
	return cluster.Config{
		Name: e.name, Machines: e.up.machines, Subnet: e.up.subnet, Fleetd: fleetd, Dir: e.dir,
		APIPort: e.up.apiPort, AgentTTL: e.up.agentTTL, Reconcile: e.up.reconcile,
		LeaderTTL: e.up.leaderTTL, Verbosity: e.up.verbosity, Insecure: e.up.insecure,
	}, nil
}

// args are the flags that hand e's options to the supervisor.
func (e *env) args() []string {
	o := e.up
	return []string{"-name", e.name, "-dir", e.dir, "-machines", strconv.Itoa(o.machines),
		"-subnet", o.subnet, "-fleetd", o.fleetd, "-api-port", strconv.Itoa(o.apiPort),
		"-agent-ttl", o.agentTTL.String(), "-reconcile", o.reconcile.String(),
		"-leader-ttl", o.leaderTTL.String(), "-verbosity", strconv.Itoa(o.verbosity),
		"-insecure=" + strconv.FormatBool(o.insecure)}
}

func runUp(e *env, _ *flag.FlagSet, args []string) error {
	if len(args) > 0 {
		return usageError{"up takes no arguments"}
	}
	if err := e.bootLab(); err != nil {
		return err
	}
	st, err := e.readState()
	if err != nil {
		return err
	}
	printMachines(e.stdout, st)
	fmt.Fprintf(e.stdout, "\nUse it from this host:\n  export FLEETCTL_ENDPOINT=%s\n  bin/fleetctl list-machines\n", st.Endpoint)
	fmt.Fprintf(e.stdout, "Inside a machine: bin/fleetlab exec core-01 systemctl status fleetd\nTear it down:     make lab-down\n")
	return nil
}

// bootLab starts the supervisor, which boots and then keeps the lab, and
// shows its progress until the lab is up.
func (e *env) bootLab() error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	e.up.fleetd = cfg.Fleetd
	if owner, ok := cluster.InUse(e.dir); ok {
		return fmt.Errorf("lab %q is already up (supervisor pid %d); run 'make lab-down' first", e.name, owner.PID)
	}
	if n, err := cluster.Teardown(e.name, e.dir); err != nil {
		return fmt.Errorf("removing what an earlier lab left: %w", err)
	} else if n > 0 {
		fmt.Fprintf(e.stdout, "fleetlab: removed %d things an earlier lab left behind\n", n)
	}
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	logPath := filepath.Join(e.dir, cluster.LogFile)
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("supervisor log: %w", err)
	}
	defer logFile.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("progress pipe: %w", err)
	}
	defer r.Close()
	exe, err := os.Executable()
	if err != nil {
		return errors.Join(fmt.Errorf("finding fleetlab: %w", err), w.Close())
	}
	cmd := exec.Command(exe, append([]string{"supervise"}, e.args()...)...)
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = logFile, logFile, []*os.File{w}
	cmd.SysProcAttr = detached()
	err = cmd.Start()
	if cerr := w.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("starting the supervisor: %w", err)
	}
	fmt.Fprintf(e.stdout, "fleetlab: booting %d machines (agent_ttl %v, engine_reconcile_interval %v; supervisor pid %d, log %s)\n",
		cfg.Machines, cfg.AgentTTL, cfg.Reconcile, cmd.Process.Pid, logPath)
	if e.followProgress(r, cmd.Process) {
		// The supervisor outlives up; demo outlives the supervisor and
		// must reap it, or down would wait for a zombie.
		go func() { _ = cmd.Wait() }() // its exit status says nothing new: the log does
		return nil
	}
	werr := cmd.Wait()
	return fmt.Errorf("the lab did not come up (%v); the supervisor's log %s ends:\n%s", werr, logPath, tail(logPath, 20))
}

// followProgress prints the supervisor's progress lines until it says
// the lab is ready (true) or stops talking (false). An interrupt asks it
// to stop booting and clean up.
func (e *env) followProgress(r *os.File, sup *os.Process) bool {
	intr := make(chan os.Signal, 1)
	signal.Notify(intr, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(intr)
	go func() {
		if _, ok := <-intr; ok {
			fmt.Fprintln(e.stderr, "fleetlab: interrupted; the supervisor cleans up")
			_ = sup.Signal(syscall.SIGTERM) // it may have exited: then nothing is left to stop
		}
	}()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if sc.Text() == readyLine {
			return true
		}
		fmt.Fprintf(e.stdout, "  %s\n", sc.Text())
	}
	return false
}

// tail returns the last n lines of a file, or why it cannot.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// printMachines prints the lab's machines as a table.
func printMachines(w io.Writer, st *cluster.State) {
	fmt.Fprintf(w, "\n%-8s %-11s %-5s %-5s %-6s %-11s %s\n", "MACHINE", "IP", "STATE", "LINK", "ETCD", "MACHINE-ID", "METADATA")
	for _, m := range st.Machines {
		state, link, etcd := "down", "-", "client"
		if m.Up() {
			state, link = "up", "down"
			if m.LinkUp() {
				link = "up"
			}
		}
		if m.Member {
			etcd = "member"
		}
		fmt.Fprintf(w, "%-8s %-11s %-5s %-5s %-6s %-11s %s\n", m.Hostname, m.IP, state, link, etcd, m.ID[:8]+"...", m.Metadata)
	}
}
