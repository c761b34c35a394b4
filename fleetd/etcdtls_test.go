package fleetd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/fleetsim/fleet/agent/memsd"
	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/internal/pki"
)

// clusterPKI is a CA, one machine's files and one client's, as the lab
// writes them.
type clusterPKI struct {
	ca              *pki.CA
	machine, client pki.Files
}

func newClusterPKI(t *testing.T) clusterPKI {
	t.Helper()
	ca, err := pki.NewCA("fleet test CA")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mp, err := ca.Machine("m1")
	if err != nil {
		t.Fatal(err)
	}
	cp, err := ca.Client("fleetctl")
	if err != nil {
		t.Fatal(err)
	}
	p := clusterPKI{ca: ca}
	if p.machine, err = ca.Write(dir, "m1", mp); err != nil {
		t.Fatal(err)
	}
	if p.client, err = ca.Write(dir, "fleetctl", cp); err != nil {
		t.Fatal(err)
	}
	return p
}

// secure turns TLS on for c's embedded etcd and its own connection to it.
func (p clusterPKI) secure(c *Config) {
	f := TLSFiles{CertFile: p.machine.Cert, KeyFile: p.machine.Key, CAFile: p.machine.CA}
	c.EtcdPeer, c.EtcdClient = f, f
	c.EtcdPeerURL = strings.Replace(c.EtcdPeerURL, "http://", "https://", 1)
	c.EtcdClientURL = strings.Replace(c.EtcdClientURL, "http://", "https://", 1)
	c.EtcdCAFile, c.EtcdCertFile, c.EtcdKeyFile = f.CAFile, f.CertFile, f.KeyFile
}

// runErr runs a daemon for c and returns what Run returned within 20 s.
func runErr(t *testing.T, c Config) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return New(c, Options{Systemd: memsd.New()}).Run(ctx)
}

func TestEmbeddedEtcdRefusesToListenInTheOpen(t *testing.T) {
	c := testConfig(t, "m1")
	c.EtcdClientURL = fmt.Sprintf("http://0.0.0.0:%d", freePort(t))
	err := runErr(t, c)
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "etcd_client_url "+c.EtcdClientURL+" listens beyond loopback") ||
		!strings.Contains(err.Error(), "etcd_client_certfile, etcd_client_keyfile and etcd_client_cafile") ||
		!strings.Contains(err.Error(), "etcd_insecure=true") {
		t.Fatalf("an open client listener: %v", err)
	}

	// A certificate without a CA would still take anyone's writes.
	p := newClusterPKI(t)
	c = testConfig(t, "m1")
	p.secure(&c)
	c.EtcdPeerURL = fmt.Sprintf("https://0.0.0.0:%d", freePort(t))
	c.EtcdPeer.CAFile = ""
	if err := runErr(t, c); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "set etcd_peer_cafile (without it, any client is accepted)") {
		t.Fatalf("a peer listener without a CA: %v", err)
	}

	// etcd_insecure says so, and then it listens.
	c = testConfig(t, "m1")
	c.EtcdClientURL, c.EtcdInsecure = fmt.Sprintf("http://0.0.0.0:%d", freePort(t)), true
	d := startDaemon(t, c)
	eventually(t, "etcd_insecure=true: the machine registered", 10*time.Second, func() bool {
		ms, err := d.client(t).Machines(context.Background())
		return err == nil && len(ms) == 1
	})
}

func TestEmbeddedEtcdTLSErrorsNameTheProblem(t *testing.T) {
	p := newClusterPKI(t)
	missing := filepath.Join(t.TempDir(), "nope.pem")
	notPEM := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"missing certificate", func(c *Config) { c.EtcdPeer.CertFile = missing }, "etcd_peer_certfile " + missing + ", etcd_peer_keyfile " + p.machine.Key + ": open " + missing},
		{"key without certificate", func(c *Config) { c.EtcdClient.CertFile = "" }, "etcd_client_certfile and etcd_client_keyfile go together"},
		{"CA not PEM", func(c *Config) { c.EtcdClient.CAFile = notPEM }, "etcd_client_cafile: " + notPEM + ": no PEM certificate in it"},
		{"wrong key", func(c *Config) { c.EtcdPeer.KeyFile = p.client.Key }, "etcd_peer_keyfile " + p.client.Key + ": tls: private key does not match public key"},
		{"https without files", func(c *Config) { c.EtcdClient = TLSFiles{} }, "is https:// but etcd_client_certfile and etcd_client_keyfile are not set"},
		{"files with http", func(c *Config) { c.EtcdPeerURL = strings.Replace(c.EtcdPeerURL, "https", "http", 1) }, "etcd_peer_certfile is set, so the URL must be https://"},
		{"own client without certificate", func(c *Config) { c.EtcdCertFile, c.EtcdKeyFile = "", "" }, "etcd_certfile and etcd_keyfile, fleetd's own, are not set"},
		{"own client without CA", func(c *Config) { c.EtcdCAFile = "" }, "etcd_cafile, the CA fleetd checks its certificate with, is not set"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig(t, "m1")
			p.secure(&c)
			tc.change(&c)
			if err := runErr(t, c); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestEmbeddedEtcdWithTLSRequiresClientCertificates(t *testing.T) {
	p := newClusterPKI(t)
	c := testConfig(t, "m1")
	p.secure(&c)
	d := startDaemon(t, c)
	eventually(t, "the machine registered through its own TLS member", 10*time.Second, func() bool {
		ms, err := d.client(t).Machines(context.Background())
		return err == nil && len(ms) == 1
	})
	if u := d.d.EtcdURL(); !strings.HasPrefix(u, "https://127.0.0.1:") {
		t.Fatalf("embedded etcd URL %q, want https://", u)
	}

	// etcd's HTTP gateway over plain HTTP: refused.
	if resp, err := http.Post(strings.Replace(c.EtcdClientURL, "https", "http", 1)+"/v3/kv/put", "application/json",
		strings.NewReader(`{"key":"Zm9v","value":"YmFy"}`)); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("the gateway took a write over plain HTTP")
		}
	}
	// Over TLS without a client certificate: the handshake fails.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.ca.PEM)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if resp, err := hc.Post(c.EtcdClientURL+"/v3/kv/put", "application/json", strings.NewReader(`{"key":"Zm9v","value":"YmFy"}`)); err == nil {
		resp.Body.Close()
		t.Fatalf("the gateway answered %s to a client without a certificate", resp.Status)
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a client without a certificate: %v, want a TLS certificate error", err)
	}
	// The gRPC client without a certificate reads nothing; with one it reads fleet's keys.
	if n := countKeys(t, c.EtcdClientURL, &tls.Config{RootCAs: pool}); n >= 0 {
		t.Fatalf("a client without a certificate read %d keys", n)
	}
	cert, err := tls.LoadX509KeyPair(p.client.Cert, p.client.Key)
	if err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, c.EtcdClientURL, &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}); n < 1 {
		t.Fatalf("fleetctl's certificate read %d keys under fleet's prefix", n)
	}
}

// countKeys counts the keys under fleet's prefix; -1 when it cannot.
func countKeys(t *testing.T, endpoint string, cfg *tls.Config) int64 {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 2 * time.Second, TLS: cfg, Logger: zap.NewNop()})
	if err != nil {
		return -1
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, Defaults().EtcdKeyPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return -1
	}
	return resp.Count
}

func TestThreeMembersOverTLS(t *testing.T) {
	ca, err := pki.NewCA("fleet test CA")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var cfgs []Config
	var initial []string
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("m%d", i)
		pair, err := ca.Machine(id, net.IPv4(127, 0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		f, err := ca.Write(dir, id, pair)
		if err != nil {
			t.Fatal(err)
		}
		c := testConfig(t, id)
		clusterPKI{machine: f}.secure(&c)
		initial = append(initial, id+"="+c.EtcdPeerURL)
		cfgs = append(cfgs, c)
	}
	var ds []*testDaemon
	for _, c := range cfgs {
		c.EtcdInitialCluster = strings.Join(initial, ",")
		ds = append(ds, launch(t, c))
	}
	for i, d := range ds {
		d.waitReady(t, cfgs[i])
	}
	eventually(t, "three machines registered over TLS peers", 20*time.Second, func() bool {
		ms, err := ds[2].client(t).Machines(context.Background())
		return err == nil && len(ms) == 3
	})
}

func TestAPIOverHTTPSWithClientCertificates(t *testing.T) {
	p := newClusterPKI(t)
	c := testConfig(t, "m1")
	c.APIListen = append(c.APIListen, fmt.Sprintf("https://127.0.0.1:%d", freePort(t)))
	c.API = TLSFiles{CertFile: p.machine.Cert, KeyFile: p.machine.Key, CAFile: p.machine.CA}
	d := startDaemon(t, c)
	eps := d.d.Endpoints()
	if len(eps) != 2 || !strings.HasPrefix(eps[1], "https://127.0.0.1:") {
		t.Fatalf("endpoints %v, want a unix socket and https://", eps)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.ca.PEM)
	cert, err := tls.LoadX509KeyPair(p.client.Cert, p.client.Key)
	if err != nil {
		t.Fatal(err)
	}
	with := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}}
	cli, err := api.NewClient(eps[1], with)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the machine listed over https", 10*time.Second, func() bool {
		ms, err := cli.Machines(context.Background())
		return err == nil && len(ms) == 1
	})
	without, err := api.NewClient(eps[1], &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := without.Machines(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a client without a certificate: %v, want a TLS certificate error", err)
	}
	// The unix socket stays the local way in, with no certificate.
	if _, err := d.client(t).Machines(context.Background()); err != nil {
		t.Fatalf("the unix socket: %v", err)
	}

	// An https:// listener without its files is refused, saying which.
	bad := testConfig(t, "m2")
	bad.APIListen = []string{fmt.Sprintf("https://127.0.0.1:%d", freePort(t))}
	if err := runErr(t, bad); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "api_certfile and api_keyfile are not set") {
		t.Fatalf("https without files: %v", err)
	}
}

func TestStatusForwardedOverHTTPSWithClientCertificates(t *testing.T) {
	p := newClusterPKI(t)
	files := TLSFiles{CertFile: p.machine.Cert, KeyFile: p.machine.Key, CAFile: p.machine.CA}
	c1, c2 := testConfig(t, "m1"), testConfig(t, "m2")
	c1.APIListen, c1.API = append(c1.APIListen, "https://127.0.0.1:0"), files
	c2.APIListen, c2.API = append(c2.APIListen, "https://127.0.0.1:0"), files
	cli := unitOnSecond(t, c1, c2)
	ctx := context.Background()
	if got, err := cli.Status(ctx, "x.service", "m2"); err != nil || got != "● x.service - read on m2\n" {
		t.Fatalf("status forwarded from m1 to m2's https:// API: %q, %v", got, err)
	}
}
