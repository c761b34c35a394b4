package fleetd

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// startTLSEtcd runs an external etcd that wants client certificates.
func startTLSEtcd(t *testing.T, p clusterPKI) string {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Dir = t.TempDir()
	client := url.URL{Scheme: "https", Host: freeAddrString(t)}
	peer := url.URL{Scheme: "http", Host: freeAddrString(t)}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ClientTLSInfo.CertFile, cfg.ClientTLSInfo.KeyFile = p.machine.Cert, p.machine.Key
	cfg.ClientTLSInfo.TrustedCAFile, cfg.ClientTLSInfo.ClientCertAuth = p.machine.CA, true
	cfg.TickMs, cfg.ElectionMs = 10, 50
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	<-e.Server.ReadyNotify()
	return client.String()
}

func freeAddrString(t *testing.T) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
}

func TestExternalEtcdWithTLS(t *testing.T) {
	p := newClusterPKI(t)
	endpoint := startTLSEtcd(t, p)
	c := testConfig(t, "m1")
	c.EtcdServers = []string{endpoint}
	c.EtcdCAFile, c.EtcdCertFile, c.EtcdKeyFile = p.client.CA, p.client.Cert, p.client.Key
	d := startDaemon(t, c)
	cli := d.client(t)
	eventually(t, "the machine registered over TLS", 10*time.Second, func() bool {
		ms, err := cli.Machines(context.Background())
		return err == nil && len(ms) == 1
	})

	// Without a client certificate the same etcd refuses fleetd.
	bad := testConfig(t, "m2")
	bad.EtcdServers, bad.EtcdCAFile = []string{endpoint}, p.client.CA
	bad.AgentTTL = time.Second
	nocert := startDaemon(t, bad)
	time.Sleep(2 * time.Second)
	if ms, err := cli.Machines(context.Background()); err != nil || len(ms) != 1 {
		t.Fatalf("a fleetd without a client certificate registered: %v, %v", ms, err)
	}
	nocert.stop()
}
