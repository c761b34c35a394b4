package parity

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/fleetsim/fleet/agent/memsd"
	"github.com/fleetsim/fleet/agent/runner"
	"github.com/fleetsim/fleet/engine"
	"github.com/fleetsim/fleet/internal/tcpproxy"
	"github.com/fleetsim/fleet/registry"
)

// timings are fleetd's intervals for one replay, scaled from a
// scenario's.
type timings struct {
	agentTTL, agentInterval, engineInterval, leaderTTL time.Duration
}

// cluster is the machines of one replay, each a fleetd (engine and agent
// loop) over its own client, proxy and in-memory systemd.
type cluster struct {
	endpoint string
	prefix   string
	t        timings
	hangs    []string // units whose starts never complete, on every machine
	victims  []string // the machines the simulator's kill-leaders crashed, in order

	machines map[string]*machine
	order    []string
}

// machine is one fleetd and its machine's systemd.
type machine struct {
	id    string
	meta  map[string]string
	proxy *tcpproxy.Proxy
	cli   *clientv3.Client
	reg   *registry.Etcd
	sd    *memsd.Systemd
	eng   *engine.Engine
	up    bool

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// add makes machine id with its proxy and client, and boots it.
func (c *cluster) add(id string, meta map[string]string) error {
	p, err := tcpproxy.New(strings.TrimPrefix(c.endpoint, "http://"))
	if err != nil {
		return fmt.Errorf("parity: %w", err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{p.Addr()}, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		p.Cut()
		return fmt.Errorf("parity: client of %s: %w", id, err)
	}
	m := &machine{id: id, meta: meta, proxy: p, cli: cli,
		reg: registry.New(cli, c.prefix, registry.WithRequestTimeout(time.Second))}
	c.machines[id] = m
	c.order = append(c.order, id)
	c.boot(m, true)
	return nil
}

// boot starts fleetd on m; fresh says the machine itself boots (its
// systemd starts empty) rather than fleetd alone restarting.
func (c *cluster) boot(m *machine, fresh bool) {
	if fresh || m.sd == nil {
		m.sd = memsd.New()
		for _, u := range c.hangs {
			m.sd.Hang(u)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.up = cancel, true
	m.eng = engine.New(m.reg, engine.Config{MachineID: m.id, Interval: c.t.engineInterval, LeaderTTL: c.t.leaderTTL})
	ag := runner.New(m.reg, m.sd, runner.Config{Machine: registry.Machine{ID: m.id, Metadata: m.meta},
		TTL: c.t.agentTTL, Interval: c.t.agentInterval})
	m.wg.Add(2)
	go func() { defer m.wg.Done(); _ = m.eng.Run(ctx) }()
	go func() { defer m.wg.Done(); _ = ag.Run(ctx) }()
}

// stop stops fleetd on m and waits for it.
func (c *cluster) stop(m *machine) {
	if !m.up {
		return
	}
	m.cancel()
	m.wg.Wait()
	m.up = false
}

// close stops every machine and closes its client and proxy.
func (c *cluster) close() {
	for _, id := range c.order {
		m := c.machines[id]
		c.stop(m)
		m.cli.Close()
		m.proxy.Cut()
	}
}

// leader returns the machine whose engine leads, or nil.
func (c *cluster) leader() *machine {
	for _, id := range c.order {
		if m := c.machines[id]; m.up && m.eng.Leading() {
			return m
		}
	}
	return nil
}

// running returns, per unit, the machines where it is active, sorted.
func (c *cluster) running() map[string][]string {
	out := map[string][]string{}
	for _, id := range c.order {
		if m := c.machines[id]; m.up {
			for _, u := range m.sd.Active() {
				out[u] = append(out[u], id)
			}
		}
	}
	for _, ms := range out {
		sort.Strings(ms)
	}
	return out
}
