package fleetctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
)

// fdForwardCmd is `fleetctl fd-forward SOCKET`, which fleet ran at the
// far end of an SSH tunnel to reach fleetd's socket.
type fdForwardCmd struct{}

func newFDForwardCmd() *command {
	c := &fdForwardCmd{}
	return &command{
		name:    "fd-forward",
		summary: "Proxy stdin and stdout to a unix domain socket",
		usage:   "SOCKET",
		desc:    `Copy standard input to the unix socket SOCKET, and what it answers to standard output, until both ends close.`,
		minArgs: 1,
		maxArgs: 1,
		run:     c.run,
	}
}

func (c *fdForwardCmd) run(ctx context.Context, s *session, args []string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", args[0])
	if err != nil {
		return fmt.Errorf("fd-forward: %w", err)
	}
	defer conn.Close()
	up := make(chan error, 1)
	go func() {
		_, err := io.Copy(conn, s.in)
		if uc, ok := conn.(*net.UnixConn); ok {
			uc.CloseWrite()
		}
		up <- err
	}()
	_, downErr := io.Copy(s.out, conn)
	if downErr != nil {
		return fmt.Errorf("fd-forward: from %s: %w", args[0], downErr)
	}
	select {
	case err := <-up:
		if err != nil && !errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("fd-forward: to %s: %w", args[0], err)
		}
	default: // the socket closed first: stdin may never end
	}
	return nil
}
