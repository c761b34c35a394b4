// Package cluster boots a local fleet cluster on one Linux host, as the
// lab and the end-to-end tests use it: N machines, each a real systemd
// as PID 1 of namespaces of its own (lab/nsboot) with its own network
// namespace, a veth to a bridge and an address of its own, its own
// machine-id, hostname and metadata, and fleetd running inside it as a
// systemd service, as on CoreOS. The first three machines embed the
// members of one etcd cluster; the others join as etcd clients.
//
// Traffic stays between the host and the machines: the bridge has the
// only host address of the lab's /24, and the machines have no route
// beyond it.
//
// A Cluster is owned by one process: its machines die with it (nsboot's
// machines are killed when the process that booted them dies). State
// records the cluster in a file so that another process can reach its
// machines, and Teardown removes whatever a dead owner left behind.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/fleetsim/fleet/internal/pki"
	"github.com/fleetsim/fleet/lab/nsboot"
)

// Defaults of Config.
const (
	DefaultName      = "fleetlab"
	DefaultMachines  = 3
	DefaultSubnet    = "10.77.0"
	DefaultAPIPort   = 8080
	DefaultAgentTTL  = 5 * time.Second
	DefaultReconcile = time.Second
	DefaultLeaderTTL = 5 * time.Second
	// Members is how many machines embed an etcd member.
	Members = 3
	// MaxMachines bounds a cluster: addresses .11 to .250 of the /24.
	MaxMachines = 240
)

// Config describes a cluster.
type Config struct {
	// Name prefixes the bridge (Name+"0"), the host side of each veth
	// (Name-01, ...) and each machine's nsboot name: 1 to 10 characters
	// of [a-z0-9], starting with a letter. Two clusters on one host need
	// two names and two subnets.
	Name string
	// Machines is how many machines Start boots.
	Machines int
	// Subnet is the first three octets of the cluster's /24: the bridge
	// is .1, machine i is .10+i.
	Subnet string
	// Fleetd is the absolute path of the fleetd binary; its directory is
	// bind-mounted into every machine at the same path.
	Fleetd string
	// Dir holds the state file and each machine's disk (its etcd data),
	// which outlives a machine's crash so that it can boot again.
	Dir string
	// APIPort is where each fleetd serves its HTTP API on its address.
	APIPort int
	// AgentTTL, Reconcile and LeaderTTL are fleetd's agent_ttl,
	// engine_reconcile_interval and engine_leader_ttl.
	AgentTTL, Reconcile, LeaderTTL time.Duration
	// Verbosity is fleetd's verbosity: 1 logs debug, 2 also etcd's info.
	Verbosity int
	// Insecure runs etcd over plain HTTP with no certificates
	// (etcd_insecure): anyone who reaches the bridge can then write to
	// it. By default the lab makes a CA, a certificate for each machine
	// and one for the host, and its members speak TLS to their peers and
	// clients and require their certificates.
	Insecure bool
	// EtcdCompaction is the history the members keep
	// (etcd_auto_compaction_retention); 0 leaves fleetd's default, 1h.
	// The soak sets it short, to see the database level off.
	EtcdCompaction time.Duration
	// Progress, if set, is told what happens while machines boot.
	Progress func(format string, args ...any)
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,9}$`)

var subnetRE = regexp.MustCompile(`^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){2}$`)

// withDefaults fills in the zero fields and checks the others.
func (c Config) withDefaults() (Config, error) {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Machines == 0 {
		c.Machines = DefaultMachines
	}
	if c.Subnet == "" {
		c.Subnet = DefaultSubnet
	}
	if c.APIPort == 0 {
		c.APIPort = DefaultAPIPort
	}
	if c.AgentTTL == 0 {
		c.AgentTTL = DefaultAgentTTL
	}
	if c.Reconcile == 0 {
		c.Reconcile = DefaultReconcile
	}
	if c.LeaderTTL == 0 {
		c.LeaderTTL = DefaultLeaderTTL
	}
	if c.Dir == "" {
		c.Dir = "/run/" + c.Name
	}
	if c.Progress == nil {
		c.Progress = func(string, ...any) {}
	}
	switch {
	case !nameRE.MatchString(c.Name):
		return c, fmt.Errorf("cluster: name %q: want 1-10 characters of [a-z0-9], starting with a letter", c.Name)
	case c.Machines < 1 || c.Machines > MaxMachines:
		return c, fmt.Errorf("cluster: %d machines: want 1 to %d", c.Machines, MaxMachines)
	case !subnetRE.MatchString(c.Subnet):
		return c, fmt.Errorf("cluster: subnet %q: want three octets, like 10.77.0", c.Subnet)
	case !filepath.IsAbs(c.Fleetd) || !filepath.IsAbs(c.Dir):
		return c, fmt.Errorf("cluster: fleetd %q and dir %q must be absolute paths", c.Fleetd, c.Dir)
	case c.APIPort < 1 || c.APIPort > 65535 || c.APIPort == 2379 || c.APIPort == 2380:
		return c, fmt.Errorf("cluster: API port %d: want 1-65535, not etcd's 2379 or 2380", c.APIPort)
	}
	if fi, err := os.Stat(c.Fleetd); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return c, fmt.Errorf("cluster: fleetd binary %s: not an executable file (%v); run make build", c.Fleetd, err)
	}
	return c, nil
}

// Cluster is a running local cluster. Its methods are safe for
// concurrent use.
type Cluster struct {
	cfg      Config
	bridge   string
	started  time.Time
	mu       sync.Mutex
	machines []*Machine
	closed   bool
	ca       *pki.CA  // nil when Insecure
	tls      TLSFiles // the host's files; empty when Insecure
}

// Start checks the host, then boots cfg.Machines machines in parallel
// and waits until every fleetd is in the cluster's machine list, or ctx
// ends. Errors wrap nsboot.ErrUnsupported when the host cannot run the
// lab (not root, not Linux). On error nothing is left behind.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if err := nsboot.Check(); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, bridge: cfg.Name + "0", started: time.Now()}
	if err := c.prepare(); err != nil {
		return nil, err
	}
	for i := 1; i <= cfg.Machines; i++ {
		c.machines = append(c.machines, c.newMachine(i))
	}
	if err := eachMachine(c.machines, func(m *Machine) error { return m.Boot(ctx) }); err != nil {
		return nil, errors.Join(err, c.Close())
	}
	if err := c.WaitMachines(ctx, cfg.Machines); err != nil {
		return nil, errors.Join(err, c.Close())
	}
	c.cfg.Progress("cluster: %d machines up in %v; fleetctl --endpoint %s list-machines",
		cfg.Machines, time.Since(c.started).Round(10*time.Millisecond), c.Endpoint())
	return c, nil
}

// prepare makes the state directory and the bridge, after checking that
// the bridge's name and the subnet are free; on error it leaves nothing.
func (c *Cluster) prepare() error {
	if ok, err := linkExists(c.bridge); err != nil || ok {
		if err == nil {
			err = fmt.Errorf("cluster: bridge %s exists: a lab called %s is up, or one crashed (fleetlab down -name %s removes it)",
				c.bridge, c.cfg.Name, c.cfg.Name)
		}
		return err
	}
	if err := checkSubnetFree(c.cfg.Subnet, c.bridge); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(c.cfg.Dir, "disks"), 0o700); err != nil {
		return fmt.Errorf("cluster: state directory: %w", err)
	}
	if !c.cfg.Insecure {
		if err := c.makeCA(); err != nil {
			return errors.Join(err, c.teardownHost())
		}
	}
	if err := addBridge(c.bridge, c.cfg.Subnet+".1/24"); err != nil {
		return errors.Join(err, c.teardownHost())
	}
	c.cfg.Progress("bridge %s: %s.1/24, machines from %s.11", c.bridge, c.cfg.Subnet, c.cfg.Subnet)
	if err := c.saveState(); err != nil {
		return errors.Join(err, c.teardownHost())
	}
	return nil
}

// eachMachine runs f on every machine of ms in parallel and returns
// their errors joined.
func eachMachine(ms []*Machine, f func(*Machine) error) error {
	errs := make([]error, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(m)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Add boots one more machine, which joins the cluster as an etcd client,
// and waits until it is in the machine list.
func (c *Cluster) Add(ctx context.Context) (*Machine, error) {
	c.mu.Lock()
	if len(c.machines) >= MaxMachines || c.closed {
		c.mu.Unlock()
		return nil, fmt.Errorf("cluster: cannot add a machine (closed, or %d already)", MaxMachines)
	}
	m := c.newMachine(len(c.machines) + 1)
	c.machines = append(c.machines, m)
	c.mu.Unlock()
	if err := m.Boot(ctx); err != nil {
		return nil, err
	}
	if err := c.WaitRegistered(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// Config returns the cluster's configuration, defaults filled in.
func (c *Cluster) Config() Config { return c.cfg }

// Machines returns every machine, up or down, in order.
func (c *Cluster) Machines() []*Machine {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Machine(nil), c.machines...)
}

// Machine returns the machine with that hostname, or nil.
func (c *Cluster) Machine(hostname string) *Machine {
	for _, m := range c.Machines() {
		if m.Hostname == hostname {
			return m
		}
	}
	return nil
}

// Endpoint returns the HTTP API endpoint of the first machine that is up
// and not cut off, for fleetctl --endpoint.
func (c *Cluster) Endpoint() string {
	ms := c.Machines()
	for _, m := range ms {
		if m.Up() && !m.Cut() {
			return m.Endpoint()
		}
	}
	return ms[0].Endpoint()
}

// Close ends every machine at once (SIGKILL to each systemd, in
// parallel: the lab is going away), removes their cgroups and work
// directories, the veths, the bridge, the machines' disks and the state
// file. Calling it again does nothing.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	ms := append([]*Machine(nil), c.machines...)
	c.mu.Unlock()
	return errors.Join(eachMachine(ms, (*Machine).shutdown), c.teardownHost())
}

func (c *Cluster) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// teardownHost removes the host's side of the cluster: veths, bridge,
// disks and state file.
func (c *Cluster) teardownHost() error {
	_, err := removeHost(c.cfg.Name, c.cfg.Dir)
	return err
}
