package fleetctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/term"
)

// runRemote runs command in sess with fleetctl's streams; a command that
// fails is an *ExitStatusError with its status. An interrupt ends it.
func runRemote(ctx context.Context, sess *ssh.Session, command string, sio stdio) error {
	sess.Stdin, sess.Stdout, sess.Stderr = sio.in, sio.out, sio.err
	stop := context.AfterFunc(ctx, func() { interrupt(sess) })
	defer stop()
	return remoteExit(ctx, sess.Run(command))
}

// shell opens an interactive shell in sess, on a terminal of the
// machine's as large as the local one, which is put in raw mode until
// the shell ends.
func shell(ctx context.Context, sess *ssh.Session, sio stdio, termType string) (err error) {
	fd, ok := terminalFD(sio.in)
	if !ok {
		return errors.New("ssh: standard input is not a terminal")
	}
	w, h, err := term.GetSize(fd)
	if err != nil {
		w, h = 80, 24
	}
	modes := ssh.TerminalModes{ssh.ECHO: 1, ssh.TTY_OP_ISPEED: 14400, ssh.TTY_OP_OSPEED: 14400}
	if err := sess.RequestPty(termType, h, w, modes); err != nil {
		return fmt.Errorf("ssh: asking for a terminal: %w", err)
	}
	sess.Stdin, sess.Stdout, sess.Stderr = sio.in, sio.out, sio.err
	old, err := term.MakeRaw(fd)
	if err != nil {
		return fmt.Errorf("ssh: putting the terminal in raw mode: %w", err)
	}
	defer func() {
		if rerr := term.Restore(fd, old); rerr != nil {
			err = errors.Join(err, fmt.Errorf("ssh: restoring the terminal: %w", rerr))
		}
	}()
	stopResize := watchWindow(fd, sess)
	defer stopResize()
	stop := context.AfterFunc(ctx, func() { interrupt(sess) })
	defer stop()
	if err := sess.Shell(); err != nil {
		return fmt.Errorf("ssh: starting a shell: %w", err)
	}
	return remoteExit(ctx, sess.Wait())
}

// interrupt passes an interrupt on to the remote command and closes the
// session. Errors are moot: the session is going away either way.
func interrupt(sess *ssh.Session) {
	sess.Signal(ssh.SIGINT)
	sess.Close()
}

// remoteExit turns how a remote command ended into fleetctl's error.
func remoteExit(ctx context.Context, err error) error {
	var (
		ee *ssh.ExitError
		em *ssh.ExitMissingError
	)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted: %w", ctx.Err())
	case errors.As(err, &ee):
		status := ee.ExitStatus() & 0xff
		if status == 0 {
			status = 255 // failed, but its status does not fit in a byte
		}
		return &ExitStatusError{Status: status}
	case errors.As(err, &em):
		return fmt.Errorf("ssh: the remote command ended without an exit status: %w", err)
	}
	return fmt.Errorf("ssh: %w", err)
}

// terminalFD returns r's file descriptor, and whether it is a terminal.
func terminalFD(r io.Reader) (int, bool) {
	f, ok := r.(*os.File)
	if !ok {
		return -1, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}
