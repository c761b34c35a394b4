package fleetctl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// sshCmd is `fleetctl ssh`: a command, or a shell, on a machine of the
// cluster over SSH, through the --tunnel host when there is one.
type sshCmd struct {
	machine string
	unit    string
	agent   bool
	port    int
}

func newSSHCmd() *command {
	c := &sshCmd{}
	return &command{
		name:    "ssh",
		summary: "Open interactive shell on a machine in the cluster",
		usage:   "[MACHINE|UNIT] [COMMAND...]",
		desc: `Run COMMAND on a machine of the cluster over SSH, or open a shell there
when no COMMAND is given (standard input must then be a terminal). The
machine is named by its ID, a unique prefix of it or its IP, or by a unit
it runs: --machine and --unit say which, else fleetctl looks for both. A
global unit runs on several machines: --machine picks one of them.

fleetctl logs in as --ssh-username to the machine's public IP, with the
keys of the SSH agent at $SSH_AUTH_SOCK and ~/.ssh/id_ed25519, id_ecdsa
and id_rsa (when they need no passphrase); host keys are checked against
--known-hosts-file. With --tunnel, the connection goes through the
tunnel host. Flags end at the first argument: what follows is the
command (fleetctl ssh web.service ls -l /etc; fleetctl ssh --unit
web.service -- ls -l /etc). fleetctl exits with the command's exit
status.`,
		maxArgs: -1,
		flags: func(fs *pflag.FlagSet) {
			fs.SetInterspersed(false)
			fs.StringVar(&c.machine, "machine", "", "Open SSH connection to a specific machine.")
			fs.StringVar(&c.unit, "unit", "", "Open SSH connection to machine running provided unit.")
			fs.BoolVarP(&c.agent, "forward-agent", "A", false, "Forward local ssh-agent to target machine.")
			fs.IntVar(&c.port, "ssh-port", 22, "Connect to remote hosts over SSH using this TCP port.")
		},
		run: c.run,
	}
}

func (c *sshCmd) run(ctx context.Context, s *session, args []string) error {
	lookup, command, err := c.split(args)
	if err != nil {
		return err
	}
	if _, tty := terminalFD(s.in); len(command) == 0 && !tty {
		return errors.New("ssh: no COMMAND given, and standard input is not a terminal to open a shell on")
	}
	if c.agent && s.env["SSH_AUTH_SOCK"] == "" {
		return errors.New("ssh -A: no SSH agent to forward: $SSH_AUTH_SOCK is not set")
	}
	m, err := c.target(ctx, s, lookup)
	if err != nil {
		return err
	}
	client, err := c.connect(ctx, s, m)
	if err != nil {
		return err
	}
	defer client.Close()
	sess, err := c.newSession(client, s.env["SSH_AUTH_SOCK"])
	if err != nil {
		return err
	}
	defer sess.Close()
	if len(command) == 0 {
		return shell(ctx, sess, s.stdio, termName(s.env))
	}
	return runRemote(ctx, sess, strings.Join(command, " "), s.stdio)
}

// split checks the flags and parts the arguments: the machine or unit
// to look up, unless a flag named it, and the command.
func (c *sshCmd) split(args []string) (lookup string, command []string, err error) {
	if c.port < 1 || c.port > 65535 {
		return "", nil, usageErrorf("ssh", "--ssh-port=%d: want a TCP port, 1 to 65535", c.port)
	}
	if c.machine == "" && c.unit == "" {
		if len(args) == 0 {
			return "", nil, usageErrorf("ssh", "ssh: give a MACHINE or a UNIT (or --machine, --unit)")
		}
		lookup, args = args[0], args[1:]
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	return lookup, args, nil
}

// target finds the machine to connect to.
func (c *sshCmd) target(ctx context.Context, s *session, lookup string) (api.Machine, error) {
	cl, err := s.cluster(ctx)
	if err != nil {
		return api.Machine{}, err
	}
	ms, err := cl.Machines(ctx)
	if err != nil {
		return api.Machine{}, err
	}
	ix := indexMachines(ms)
	var id string
	switch {
	case c.unit != "":
		id, err = unitMachine(ctx, cl, ix, c.unit, c.machine)
	case c.machine != "":
		id, err = ix.resolve(c.machine)
	default:
		id, err = machineOrUnit(ctx, cl, ix, lookup)
	}
	if err != nil {
		return api.Machine{}, err
	}
	m, ok := ix.byID[id]
	switch {
	case !ok:
		return api.Machine{}, fmt.Errorf("machine %s is not in the cluster any more (see 'fleetctl list-machines')", id)
	case m.PrimaryIP == "":
		return api.Machine{}, fmt.Errorf("machine %s has no public IP to connect to", id)
	}
	return m, nil
}

// unitMachine returns the machine unit runs on; for a global unit,
// machine (an ID, a prefix of one or an IP) picks one of them.
func unitMachine(ctx context.Context, cl *conn, ix machineIndex, name, machine string) (string, error) {
	if !unit.HasKnownSuffix(name) {
		name += ".service"
	}
	u, err := lookupUnit(ctx, cl, name)
	if err != nil {
		return "", err
	}
	if u == nil {
		return "", notFound(name)
	}
	if machine != "" {
		if !isGlobal(*u) {
			return "", usageErrorf("ssh", "ssh: --machine picks a machine of a global unit, and %s is not global: give --machine or --unit", name)
		}
		if machine, err = ix.resolve(machine); err != nil {
			return "", err
		}
	}
	ps, err := unitPlaces(ctx, cl, ix, *u, machine, "does not appear to be running")
	if err != nil {
		return "", err
	}
	if len(ps) > 1 {
		where := make([]string, len(ps))
		for i, p := range ps {
			where[i] = p.legend
		}
		return "", &UnitError{Unit: name, What: fmt.Sprintf("is global and runs on %d machines (%s): pick one with --machine", len(ps), strings.Join(where, ", "))}
	}
	return ps[0].machine, nil
}

// machineOrUnit reads an argument that names a machine or a unit, as
// fleet did; one that names both is refused.
func machineOrUnit(ctx context.Context, cl *conn, ix machineIndex, arg string) (string, error) {
	ids := ix.matches(arg)
	name := arg
	if !unit.HasKnownSuffix(name) {
		name += ".service"
	}
	var u *api.Unit
	if unit.ValidateName(name) == nil {
		var err error
		if u, err = lookupUnit(ctx, cl, name); err != nil {
			return "", err
		}
	}
	switch {
	case u != nil && len(ids) > 0:
		return "", usageErrorf("ssh", "ssh: %q names both a machine and the unit %s: say which with --machine or --unit", arg, name)
	case u != nil:
		return unitMachine(ctx, cl, ix, name, "")
	case len(ids) == 0:
		return "", fmt.Errorf("ssh: no machine or unit %q in the cluster (see 'fleetctl list-machines' and 'fleetctl list-units')", arg)
	}
	return ix.resolve(arg)
}

// connect opens the SSH connection to m, through the tunnel if any.
func (c *sshCmd) connect(ctx context.Context, s *session, m api.Machine) (*ssh.Client, error) {
	port := c.port
	if p, ok := s.opts.sshPorts[m.ID]; ok {
		port = p
	}
	addr := net.JoinHostPort(m.PrimaryIP, strconv.Itoa(port))
	d := s.sshDialer()
	var via *ssh.Client
	if d.tunnelAddr != "" {
		var err error
		if via, err = d.tunnelClient(ctx); err != nil {
			return nil, err
		}
	}
	client, err := d.dial(ctx, via, addr)
	var hk *HostKeyError
	if err != nil && !errors.As(err, &hk) {
		err = fmt.Errorf("machine %s: %w", shortID(m.ID)+"...", err)
	}
	return client, err
}

// newSession opens a session on client, with the agent at agentSock
// forwarded when -A asks for it.
func (c *sshCmd) newSession(client *ssh.Client, agentSock string) (*ssh.Session, error) {
	if c.agent {
		if err := agent.ForwardToRemote(client, agentSock); err != nil {
			return nil, fmt.Errorf("ssh -A: %w", err)
		}
	}
	sess, err := client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("ssh: opening a session: %w", err)
	}
	if c.agent {
		if err := agent.RequestAgentForwarding(sess); err != nil {
			sess.Close()
			return nil, fmt.Errorf("ssh -A: %w", err)
		}
	}
	return sess, nil
}

// termName is the terminal type to ask the machine for.
func termName(env map[string]string) string {
	if t := env["TERM"]; t != "" {
		return t
	}
	return "xterm"
}
