package fleetctl

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/internal/ctxtime"
)

// Version is this fleetctl's version.
const Version = "1.0.0+fleetsim"

// defaultPoll is how long blocking commands sleep between two looks at
// the cluster, as fleet's did.
const defaultPoll = 500 * time.Millisecond

// options are what tests change about a run; Main uses the defaults.
type options struct {
	poll     time.Duration  // between two attempts of a blocking wait
	workDir  string         // relative paths are read from here ("" for the process's)
	sshPorts map[string]int // machine ID -> its SSH port, over --ssh-port (tests run many sshds on 127.0.0.1)
}

// Main runs fleetctl with args (without the program's name), reading
// stdin, writing stdout and stderr, with environ as the environment
// (KEY=VALUE), and returns the exit code: ExitOK, ExitError or ExitUsage.
// An interrupt (SIGINT, SIGTERM) ends a blocking wait.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, stdio{in: stdin, out: stdout, err: stderr}, environ, options{poll: defaultPoll})
}

// stdio are the streams a command reads and writes.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// run is Main with its context and options given.
func run(ctx context.Context, args []string, sio stdio, environ []string, o options) int {
	s := &session{stdio: sio, env: environment(environ), opts: o}
	defer s.close()
	return exitCode(sio.err, s.execute(ctx, args))
}

// session is one run of fleetctl: the streams, the parsed globals and,
// once a command asks for it, the connection to the cluster.
type session struct {
	stdio
	env  map[string]string
	opts options
	g    globals
	gfs  *pflag.FlagSet
	conn *conn
	ssh  *sshDialer // made on first use
}

// execute parses the command line and runs the command.
func (s *session) execute(ctx context.Context, args []string) error {
	s.gfs = pflag.NewFlagSet("fleetctl", pflag.ContinueOnError)
	s.gfs.SetOutput(io.Discard)
	s.gfs.SetInterspersed(false)
	s.g.bind(s.gfs, s.env["HOME"])
	if err := s.gfs.Parse(longDashes(s.gfs, args)); err != nil {
		return &UsageError{Err: err}
	}
	rest := s.gfs.Args()
	switch {
	case s.g.version:
		return printVersionLine(s.out)
	case s.g.help && len(rest) == 0:
		return writeUsage(s.out, s.gfs)
	case len(rest) == 0:
		return usageErrorf("", "no command given")
	}
	cmd := findCommand(rest[0])
	if cmd == nil {
		return unknownCommand(rest[0])
	}
	cfs := pflag.NewFlagSet("fleetctl "+cmd.name, pflag.ContinueOnError)
	cfs.SetOutput(io.Discard)
	if cmd.flags != nil {
		cmd.flags(cfs)
	}
	cfs.AddFlagSet(s.gfs)
	if err := cfs.Parse(longDashes(cfs, rest[1:])); err != nil {
		return &UsageError{Cmd: cmd.name, Err: err}
	}
	if s.g.help {
		return writeCommandUsage(s.out, cmd)
	}
	if err := s.prepare(cmd, cfs.Args()); err != nil {
		return err
	}
	return cmd.run(ctx, s, cfs.Args())
}

// prepare applies the environment to the globals and checks the
// arguments' count.
func (s *session) prepare(cmd *command, args []string) error {
	if err := applyEnv(s.gfs, s.env); err != nil {
		return err
	}
	if err := s.g.check(s.gfs); err != nil {
		return err
	}
	return cmd.checkArgs(args)
}

// close ends the connections, if any. Their errors do not matter to
// the command, which is done.
func (s *session) close() {
	if s.conn != nil && s.conn.close != nil {
		s.conn.close()
	}
	if s.ssh != nil {
		s.ssh.close()
	}
}

// sshDialer returns the session's SSH dialer, made on first use.
func (s *session) sshDialer() *sshDialer {
	if s.ssh == nil {
		s.ssh = newSSHDialer(&s.g, s.env, s.err)
		if _, tty := terminalFD(s.in); tty && s.g.strictHostKeys {
			s.ssh.ask = func(e *HostKeyError) (bool, error) { return askToTrust(s.in, s.err, e) }
		}
	}
	return s.ssh
}

// cluster connects on first use.
func (s *session) cluster(ctx context.Context) (*conn, error) {
	if s.conn != nil {
		return s.conn, nil
	}
	c, err := dial(ctx, &s.g, s.stdio.err, s.sshDialer())
	if err != nil {
		return nil, err
	}
	s.conn = c
	return c, nil
}

// sleep waits d, or less if ctx ends; it returns ctx's error then.
func sleep(ctx context.Context, d time.Duration) error {
	if err := ctxtime.Sleep(ctx, d); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	return nil
}
