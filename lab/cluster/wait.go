package cluster

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/fleetsim/fleet/api"
)

// waitLimit bounds every wait of this package, whatever the caller's
// context says: a lab that is not up in that time will not be.
const waitLimit = 2 * time.Minute

// pollEvery is the pause between two looks at the cluster.
const pollEvery = 100 * time.Millisecond

// Client returns a client of machine m's API, with a short timeout.
func (m *Machine) Client() *api.Client {
	c, err := api.NewClient(m.Endpoint(), &http.Client{Timeout: 3 * time.Second})
	if err != nil {
		panic(fmt.Sprintf("cluster: endpoint %s: %v", m.Endpoint(), err)) // built by Endpoint: always valid
	}
	return c
}

// Client returns a client of the API of the first machine that is up
// and not cut off.
func (c *Cluster) Client() *api.Client {
	for _, m := range c.Machines() {
		if m.Up() && !m.Cut() {
			return m.Client()
		}
	}
	return c.Machines()[0].Client()
}

// Poll calls f every 100 ms until it returns true, fails, ctx ends or two
// minutes pass; what names the wait in the error.
func Poll(ctx context.Context, what string, f func(ctx context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, waitLimit)
	defer cancel()
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	var last error
	for {
		ok, err := f(ctx)
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("cluster: waiting for %s: %w (last error: %w)", what, ctx.Err(), last)
			}
			return fmt.Errorf("cluster: waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}

// WaitMachines waits until the cluster's machine list (as the first
// reachable machine's fleetd answers it) has at least n machines.
func (c *Cluster) WaitMachines(ctx context.Context, n int) error {
	seen := -1
	return Poll(ctx, fmt.Sprintf("%d machines in the machine list", n), func(ctx context.Context) (bool, error) {
		ms, err := c.Client().Machines(ctx)
		if err != nil {
			return false, err
		}
		if len(ms) != seen {
			seen = len(ms)
			c.cfg.Progress("cluster: %d of %d machines registered after %v", seen, n,
				time.Since(c.started).Round(10*time.Millisecond))
		}
		return len(ms) >= n, nil
	})
}

// WaitRegistered waits until machine m is in the machine list.
func (c *Cluster) WaitRegistered(ctx context.Context, m *Machine) error {
	return Poll(ctx, m.Hostname+" in the machine list", func(ctx context.Context) (bool, error) {
		ms, err := c.Client().Machines(ctx)
		if err != nil {
			return false, err
		}
		for _, x := range ms {
			if x.ID == m.ID {
				return true, nil
			}
		}
		return false, nil
	})
}
