// Package etcdtest starts a real etcd server inside a test process, on
// loopback ports chosen by the kernel, with fast elections and no logs.
package etcdtest

import (
	"net/url"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Server is a running embedded etcd.
type Server struct {
	Etcd     *embed.Etcd
	Endpoint string // client URL, e.g. http://127.0.0.1:41234
	dir      string
}

// Start boots an etcd member in a temporary directory and stops it when
// the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return StartIn(tb, tb.TempDir())
}

// StartIn boots an etcd member with its data in dir, on ports the kernel
// chooses, stopped when the test ends.
func StartIn(tb testing.TB, dir string) *Server {
	tb.Helper()
	return StartAt(tb, dir, "127.0.0.1:0", "127.0.0.1:0")
}

// StartAt boots an etcd member with its data in dir, serving clients on
// clientAddr and peers on peerAddr (host:port). Starting again with the
// same dir and addresses restarts the same member, data and all, where
// its clients find it again.
func StartAt(tb testing.TB, dir, clientAddr, peerAddr string) *Server {
	tb.Helper()
	return start(tb, dir, clientAddr, peerAddr, nil)
}

// StartTuned boots an etcd member as Start does, with its configuration
// changed by tune first (a backend quota, compaction).
func StartTuned(tb testing.TB, tune func(*embed.Config)) *Server {
	tb.Helper()
	return start(tb, tb.TempDir(), "127.0.0.1:0", "127.0.0.1:0", tune)
}

func start(tb testing.TB, dir, clientAddr, peerAddr string, tune func(*embed.Config)) *Server {
	tb.Helper()
	cfg := embed.NewConfig()
	cfg.Name = "test"
	cfg.Dir = dir
	client := url.URL{Scheme: "http", Host: clientAddr}
	peer := url.URL{Scheme: "http", Host: peerAddr}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.TickMs, cfg.ElectionMs = 10, 50
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	if tune != nil {
		tune(cfg)
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		tb.Fatalf("etcdtest: start: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		e.Close()
		tb.Fatal("etcdtest: etcd not ready after 30s")
	}
	s := &Server{Etcd: e, Endpoint: "http://" + e.Clients[0].Addr().String(), dir: dir}
	tb.Cleanup(s.Stop)
	return s
}

// Stop stops the server; it is safe to call twice.
func (s *Server) Stop() {
	if s.Etcd != nil {
		s.Etcd.Close()
		s.Etcd = nil
	}
}

// Client returns a client of the server, closed when the test ends.
func (s *Server) Client(tb testing.TB) *clientv3.Client {
	tb.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{s.Endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		tb.Fatalf("etcdtest: client: %v", err)
	}
	tb.Cleanup(func() { cli.Close() })
	return cli
}
