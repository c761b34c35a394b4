// Command fleetlab runs the local lab: a fleet cluster of N machines on
// this host, each a real systemd in namespaces of its own with its own
// network namespace and address, running fleetd as a service.
//
//	fleetlab up [-machines 3]     boot the lab (a supervisor process keeps it)
//	fleetlab status               the machines, their addresses and states
//	fleetlab env                  the FLEETCTL_ENDPOINT to use from this host
//	fleetlab kill core-02         crash a machine (SIGKILL to its systemd)
//	fleetlab poweroff core-02     power a machine off cleanly
//	fleetlab boot                 boot again every machine that is down
//	fleetlab cut core-03          cut a machine off (its link down)
//	fleetlab heal core-03         put its link back
//	fleetlab exec core-01 CMD...  run a command inside a machine
//	fleetlab demo                 boot the lab, walk fleet's story, tear it down
//	fleetlab down                 remove everything the lab made
//
// It needs root on Linux and refuses otherwise.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/fleetsim/fleet/lab/cluster"
)

// command is one verb of fleetlab.
type command struct {
	name    string
	args    string // what follows the flags, for the usage line
	summary string
	run     func(env *env, fs *flag.FlagSet, args []string) error
	flags   func(e *env, fs *flag.FlagSet)
}

// env is what every command gets: the lab's name and directory, where
// to write, and the flags of up and demo.
type env struct {
	name   string
	dir    string
	stdout io.Writer
	stderr io.Writer
	up     upOptions
}

func commands() []command {
	return []command{
		{name: "up", summary: "boot the lab and leave it running", run: runUp, flags: upFlags},
		{name: "down", summary: "remove every machine, namespace, mount, cgroup, veth and file of the lab", run: runDown},
		{name: "status", summary: "show the lab's machines", run: runStatus},
		{name: "env", summary: "print the FLEETCTL_ENDPOINT for fleetctl on this host", run: runEnv},
		{name: "kill", args: "MACHINE", summary: "crash a machine: SIGKILL to its systemd", run: runKill},
		{name: "poweroff", args: "MACHINE", summary: "power a machine off cleanly", run: runPoweroff},
		{name: "boot", summary: "boot again every machine that is down", run: runBoot},
		{name: "cut", args: "MACHINE", summary: "cut a machine off: its link goes down", run: runCut},
		{name: "heal", args: "MACHINE", summary: "put a machine's link back up", run: runHeal},
		{name: "exec", args: "MACHINE COMMAND...", summary: "run a command inside a machine", run: runExec},
		{name: "demo", summary: "boot the lab, walk fleet's story with fleetctl, tear it down (DEMO_KEEP=1 keeps it)", run: runDemo, flags: upFlags},
		{name: "supervise", run: runSupervise, flags: upFlags}, // the lab's owner, started by up
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs fleetlab with args and returns the exit code: 0, 1 on
// failure, 2 on a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			cmd = &c
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "fleetlab: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	e := &env{stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("fleetlab "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&e.name, "name", cluster.DefaultName, "the lab's name: prefix of its bridge, veths and machines")
	fs.StringVar(&e.dir, "dir", "", "the lab's state directory (default /run/NAME)")
	if cmd.flags != nil {
		cmd.flags(e, fs)
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if e.dir == "" {
		e.dir = "/run/" + e.name
	}
	if err := checkHost(); err != nil {
		fmt.Fprintf(stderr, "fleetlab: %v\n", err)
		return 1
	}
	if err := cmd.run(e, fs, fs.Args()); err != nil {
		var xe exitError
		if errors.As(err, &xe) {
			return xe.code
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "fleetlab %s: %v\nusage: fleetlab %s [flags] %s\n", cmd.name, err, cmd.name, cmd.args)
			return 2
		}
		fmt.Fprintf(stderr, "fleetlab %s: %v\n", cmd.name, err)
		return 1
	}
	return 0
}

// usageError is a command line that makes no sense.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// checkHost refuses, with the reason, a host that cannot run the lab.
func checkHost() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("the lab needs Linux (network, PID, mount and cgroup namespaces); this is %s", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return errors.New("the lab needs root: it makes namespaces, mounts, cgroups, veths and a bridge (try: sudo make lab-up)")
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: fleetlab COMMAND [flags] [args]")
	fmt.Fprintln(w, "\nThe local lab: fleet machines on this host, each a real systemd in its own namespaces.")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		if c.summary == "" {
			continue
		}
		fmt.Fprintf(w, "  %-28s %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	fmt.Fprintln(w, "\nflags of every command: -name NAME (default fleetlab), -dir DIR (default /run/NAME);")
	fmt.Fprintln(w, "up and demo: -machines N, -subnet 10.77.0, -agent-ttl 5s, -reconcile 1s, -fleetd PATH.")
}

// oneMachine checks that args is one machine name and returns it.
func oneMachine(args []string) (string, error) {
	if len(args) != 1 {
		return "", usageError{"want one machine name, like core-02"}
	}
	return args[0], nil
}

// readState reads the lab's state, with a hint when there is no lab.
func (e *env) readState() (*cluster.State, error) {
	st, err := cluster.ReadState(e.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no lab %q is up (no %s/%s); start one with: make lab-up", e.name, e.dir, cluster.StateFile)
	}
	return st, err
}
