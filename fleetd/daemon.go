package fleetd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/fleetsim/fleet/agent"
	"github.com/fleetsim/fleet/agent/runner"
	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/engine"
	"github.com/fleetsim/fleet/registry"
)

// Options are what a Daemon is given besides its configuration.
type Options struct {
	// Systemd drives this machine's units. The command passes the D-Bus
	// implementation; tests pass an in-memory one.
	Systemd agent.Systemd
	// Inspector reads this machine's systemd and journal for the API's
	// status and journal calls. The command passes Commands (systemctl
	// and journalctl); tests pass fakes. Nil answers those calls 501.
	Inspector api.Inspector
	Version   string
	// Logger is where fleetd, its etcd, agent, engine, registry and API
	// log; nil discards. NewLogger makes the one the configuration asks
	// for.
	Logger *slog.Logger
}

// Daemon is one fleetd. New does no I/O; Run does the work.
type Daemon struct {
	cfg  Config
	opts Options

	mu        sync.Mutex
	endpoints []string
	etcdURL   string
	ready     chan struct{}
	reg       *registry.Etcd
	runner    *runner.Runner
	engine    *engine.Engine
	stopping  chan struct{} // closed when the API server shuts down
	metrics   *metrics
	forwarder *http.Client // to other fleetds' https:// APIs; nil: api's default
}

// New returns a daemon for cfg.
func New(cfg Config, opts Options) *Daemon {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{cfg: cfg, opts: opts, ready: make(chan struct{}), stopping: make(chan struct{})}
	d.metrics = newMetrics(daemonGauges{
		version:    opts.Version,
		registered: func() bool { return d.runner != nil && d.runner.Registered() },
		leading:    func() bool { return d.engine != nil && d.engine.Leading() },
		corrupt: func() int64 {
			if d.reg == nil {
				return 0
			}
			return d.reg.CorruptSeen()
		},
	})
	return d
}

// Ready is closed once the API listens.
func (d *Daemon) Ready() <-chan struct{} { return d.ready }

// Endpoints returns the API's endpoints (unix://... or http://...), once ready.
func (d *Daemon) Endpoints() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.endpoints...)
}

// EtcdURL returns the client URL of the embedded etcd, if any, once ready.
func (d *Daemon) EtcdURL() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.etcdURL
}

// Run runs fleetd until ctx ends.
func (d *Daemon) Run(ctx context.Context) error {
	if d.opts.Systemd == nil {
		return errors.New("fleetd: no systemd to drive")
	}
	id, err := machineID(d.cfg.MachineID)
	if err != nil {
		return err
	}
	ip := d.cfg.PublicIP
	if ip == "" {
		ip = detectIP()
	}
	cli, etcd, err := d.connect(ctx)
	if err != nil {
		return err
	}
	defer func() {
		cli.Close()
		if etcd != nil {
			etcd.Close()
		}
	}()
	reg := registry.New(cli, d.cfg.EtcdKeyPrefix, registry.WithRequestTimeout(d.cfg.EtcdRequestTimeout),
		registry.WithLogger(d.opts.Logger))
	return d.serve(ctx, reg, registry.Machine{ID: id, PublicIP: ip, Metadata: d.cfg.Metadata})
}

// connect embeds etcd unless etcd_servers is set, and returns a client.
func (d *Daemon) connect(ctx context.Context) (*clientv3.Client, *embed.Etcd, error) {
	endpoints := d.cfg.EtcdServers
	var e *embed.Etcd
	if len(endpoints) == 0 {
		var err error
		if e, err = startEmbedded(ctx, d.cfg, d.opts.Logger); err != nil {
			return nil, nil, err
		}
		scheme := "http://"
		if d.cfg.EtcdClient.CertFile != "" {
			scheme = "https://"
		}
		endpoints = []string{scheme + e.Clients[0].Addr().String()}
		d.mu.Lock()
		d.etcdURL = endpoints[0]
		d.mu.Unlock()
		d.opts.Logger.Info("embedded etcd member serving", "component", "etcd", "member", d.cfg.EtcdName, "url", endpoints[0])
	}
	cli, err := dialEtcd(d.cfg, endpoints, d.opts.Logger)
	if err != nil && e != nil {
		e.Close()
	}
	return cli, e, err
}

// serve runs the agent, the engine and the API until ctx ends.
func (d *Daemon) serve(ctx context.Context, reg *registry.Etcd, m registry.Machine) error {
	fwd, err := apiForwarder(d.cfg.API)
	if err != nil {
		return err
	}
	d.forwarder = fwd
	listeners, err := d.listenAll()
	if err != nil {
		return err
	}
	d.reg = reg
	m.APIURL = d.cfg.APIURL
	if m.APIURL == "" {
		m.APIURL = advertisedURL(listeners, m.PublicIP)
	}
	d.runner = runner.New(reg, d.opts.Systemd, runner.Config{Machine: m, TTL: d.cfg.AgentTTL,
		Purge: d.cfg.PurgeOnShutdown, Logger: d.opts.Logger, Observer: d.metrics})
	if !d.cfg.DisableEngine {
		d.engine = engine.New(reg, engine.Config{MachineID: m.ID, Interval: d.cfg.EngineInterval,
			LeaderTTL: d.cfg.LeaderTTL, Logger: d.opts.Logger, Observer: d.metrics})
	}
	// Listings are served from a watched copy of the cluster, built on
	// the first one and dropped when unused, so that a page costs the
	// same whatever the number of units.
	listing := reg.NewListing(registry.DefaultListingIdle)
	defer listing.Close()
	srv := api.NewHTTPServer(d.handler(reg, listing, m.ID), api.DefaultLimits())
	// Followed journals end when the server shuts down, so that its
	// graceful shutdown does not wait for their clients.
	srv.RegisterOnShutdown(func() { close(d.stopping) })
	var wg sync.WaitGroup
	errs := make(chan error, len(listeners)+2)
	run := func(f func() error) {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- f() }()
	}
	rctx, cancel := context.WithCancel(ctx)
	run(func() error { return d.runner.Run(rctx) })
	if d.engine != nil {
		run(func() error { return d.engine.Run(rctx) })
	}
	for _, l := range listeners {
		run(func() error { return ignoreClosed(srv.Serve(l)) })
	}
	close(d.ready)
	d.opts.Logger.Info("serving", "machine", m.ID, "ip", m.PublicIP, "api", strings.Join(d.Endpoints(), ","))
	var first error
	select {
	case <-ctx.Done():
	case first = <-errs:
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	shutdownErr := srv.Shutdown(sctx)
	wg.Wait()
	close(errs)
	all := []error{first, shutdownErr}
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

func (d *Daemon) listenAll() ([]net.Listener, error) {
	var out []net.Listener
	for _, spec := range d.cfg.APIListen {
		l, err := listen(spec, d.cfg.API)
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, err
		}
		out = append(out, l)
		d.mu.Lock()
		d.endpoints = append(d.endpoints, endpoint(l))
		d.mu.Unlock()
	}
	return out, nil
}

func (d *Daemon) handler(reg *registry.Etcd, listing *registry.Listing, machineID string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", d.metrics.handler(d.opts.Logger))
	mux.Handle("/", api.NewServer(reg, api.Options{Version: d.opts.Version, Ready: d.runner.Started,
		PageSize: d.cfg.TokenLimit, Lister: listing, OnError: d.requestFailed,
		Observe:   d.metrics.Request,
		MachineID: machineID, Inspector: d.opts.Inspector, Forwarder: d.forwarder, Stopping: d.stopping, Health: reg.CheckSpace}))
	return mux
}

// requestFailed logs an API failure the client cannot be blamed for,
// with the unit and the machine it is about, if any.
func (d *Daemon) requestFailed(r *http.Request, err error) {
	args := []any{"component", "api", "method", r.Method, "path", r.URL.Path, "err", err}
	if u := r.PathValue("name"); u != "" {
		args = append(args, "unit", u)
	}
	if m := r.URL.Query().Get("machineID"); m != "" {
		args = append(args, "machine", m)
	}
	d.opts.Logger.Error("request failed", args...)
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// machineID returns id, or reads /etc/machine-id.
func machineID(id string) (string, error) {
	if id != "" {
		return id, nil
	}
	b, err := os.ReadFile("/etc/machine-id")
	if err != nil {
		return "", fmt.Errorf("fleetd: no machine_id given and %w", err)
	}
	if id = strings.TrimSpace(string(b)); id == "" {
		return "", errors.New("fleetd: /etc/machine-id is empty")
	}
	return id, nil
}

// detectIP returns the first non-loopback IPv4 address, or "".
func detectIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}
