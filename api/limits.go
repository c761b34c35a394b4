package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Limits bound what a client may hold of the server: the time to send a
// request and to take its answer, idle connections, header size. A
// followed journal is a stream: it is exempt from the read and write
// timeouts and bounded by StreamIdle instead (Options), and the number
// of streams by Options.MaxFollowers.
type Limits struct {
	ReadHeaderTimeout time.Duration // to send the request's header
	ReadTimeout       time.Duration // to send the whole request, body included
	WriteTimeout      time.Duration // to take the whole answer, from the end of the header
	IdleTimeout       time.Duration // a kept-alive connection waiting for its next request
	MaxHeaderBytes    int           // the largest request header
}

// The server's limits by default, and why.
const (
	// DefaultReadHeaderTimeout: a header is a few hundred bytes.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout: the largest body (DefaultMaxBody, 1 MiB) at
	// a slow 50 KiB/s.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout is above RemoteTimeout, so that a status or
	// journal call that takes all of it is still answered.
	DefaultWriteTimeout = RemoteTimeout + 30*time.Second
	// DefaultIdleTimeout keeps fleetctl's connections for a while
	// between its calls.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxHeaderBytes: fleet's clients send small headers; Go's
	// default is 1 MiB.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultStreamIdle is how long a followed journal waits for a
	// client that does not read what is sent to it.
	DefaultStreamIdle = time.Minute
	// DefaultMaxFollowers bounds the journals followed at once: each
	// runs a journalctl on its machine.
	DefaultMaxFollowers = 16
)

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		ReadTimeout:       DefaultReadTimeout,
		WriteTimeout:      DefaultWriteTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
	}
}

// NewHTTPServer returns an HTTP server of h within l (a zero field takes
// its default).
func NewHTTPServer(h http.Handler, l Limits) *http.Server {
	d := DefaultLimits()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: orDefault(l.ReadHeaderTimeout, d.ReadHeaderTimeout),
		ReadTimeout:       orDefault(l.ReadTimeout, d.ReadTimeout),
		WriteTimeout:      orDefault(l.WriteTimeout, d.WriteTimeout),
		IdleTimeout:       orDefault(l.IdleTimeout, d.IdleTimeout),
		MaxHeaderBytes:    orDefault(l.MaxHeaderBytes, d.MaxHeaderBytes),
	}
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// follow takes one of the server's follower slots, or answers 429 when
// all are taken; release gives it back.
func (s *server) follow(w http.ResponseWriter) (release func(), err error) {
	select {
	case s.followers <- struct{}{}:
		return func() { <-s.followers }, nil
	default:
		w.Header().Set("Retry-After", "10")
		return nil, errorf(http.StatusTooManyRequests,
			"%d journals are followed on this fleetd already, the most it allows: try again later, or without follow", cap(s.followers))
	}
}

// followed makes the answer a stream, exempt from the server's read and
// write timeouts, each write of which must go through within idle; and
// sends the header.
func (sw *streamWriter) followed(idle time.Duration) error {
	sw.idle = idle
	if err := sw.rc.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("api: stream: %w", err)
	}
	if err := sw.deadline(); err != nil {
		return fmt.Errorf("api: stream: %w", err)
	}
	return sw.start()
}

// deadline gives the next write idle to go through, when streaming.
func (sw *streamWriter) deadline() error {
	if sw.idle <= 0 {
		return nil
	}
	if err := sw.rc.SetWriteDeadline(time.Now().Add(sw.idle)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}
