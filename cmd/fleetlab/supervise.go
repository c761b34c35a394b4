package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/fleetsim/fleet/lab/cluster"
)

// runSupervise is the lab's owner, started by up in a session of its
// own: it boots the machines (they die with it), tells up how it goes on
// its progress pipe, then keeps them until SIGTERM or SIGINT, when it
// shuts them down and removes everything. SIGHUP boots again every
// machine that is down. Its log is its standard error.
func runSupervise(e *env, _ *flag.FlagSet, _ []string) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	logger := log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)
	p := &progress{out: os.NewFile(progressFD, "progress"), log: logger}
	cfg.Progress = p.printf
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	c, err := cluster.Start(ctx, cfg)
	if err != nil {
		p.printf("error: %v", err)
		return errors.Join(err, p.ready(false))
	}
	if err := p.ready(true); err != nil {
		logger.Printf("progress pipe: %v (up has gone; the lab stays)", err)
	}
	for {
		select {
		case <-ctx.Done():
			logger.Printf("stopping: ending the machines")
			err := c.Close()
			logger.Printf("stopped (%v)", err)
			return err
		case <-hup:
			bootDown(ctx, c, logger)
		}
	}
}

// bootDown boots every machine that is down, one after the other.
func bootDown(ctx context.Context, c *cluster.Cluster, logger *log.Logger) {
	for _, m := range c.Machines() {
		if m.Up() {
			continue
		}
		if err := m.Boot(ctx); err != nil {
			logger.Printf("boot %s: %v", m.Hostname, err)
			continue
		}
		if err := c.WaitRegistered(ctx, m); err != nil {
			logger.Printf("boot %s: %v", m.Hostname, err)
		}
	}
}

// progress writes what the cluster reports to the log and, until the lab
// is ready, to up through the progress pipe.
type progress struct {
	mu  sync.Mutex
	out io.WriteCloser // nil once ready
	log *log.Logger
}

func (p *progress) printf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.log.Print(msg)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out != nil {
		if _, err := fmt.Fprintln(p.out, msg); err != nil {
			p.log.Printf("progress pipe: %v", err)
			p.out = nil
		}
	}
}

// ready tells up that the lab is up (ok) or not, and closes the pipe.
func (p *progress) ready(ok bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out == nil {
		return nil
	}
	var err error
	if ok {
		_, err = fmt.Fprintln(p.out, readyLine)
	}
	err = errors.Join(err, p.out.Close())
	p.out = nil
	return err
}
