package fleetd

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap/zapcore"
)

// startEmbedded runs this machine's etcd member: alone by default, or one
// member of the cluster etcd_initial_cluster names.
func startEmbedded(ctx context.Context, c Config, log *slog.Logger) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Name, cfg.Dir = c.EtcdName, c.EtcdDataDir
	peer, err := url.Parse(c.EtcdPeerURL)
	if err != nil {
		return nil, fmt.Errorf("%w: etcd_peer_url %q: %w", ErrConfig, c.EtcdPeerURL, err)
	}
	client, err := url.Parse(c.EtcdClientURL)
	if err != nil {
		return nil, fmt.Errorf("%w: etcd_client_url %q: %w", ErrConfig, c.EtcdClientURL, err)
	}
	if cfg.PeerTLSInfo, err = listenerTLS("peer", peer, c.EtcdPeer, c.EtcdInsecure); err != nil {
		return nil, err
	}
	if cfg.ClientTLSInfo, err = listenerTLS("client", client, c.EtcdClient, c.EtcdInsecure); err != nil {
		return nil, err
	}
	if err := ownClientTLS(c); err != nil {
		return nil, err
	}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	cfg.InitialCluster = c.EtcdInitialCluster
	if cfg.InitialCluster == "" {
		cfg.InitialCluster = cfg.Name + "=" + peer.String()
	}
	if c.EtcdAutoCompactionRetention > 0 {
		cfg.AutoCompactionMode = embed.CompactorModePeriodic
		cfg.AutoCompactionRetention = c.EtcdAutoCompactionRetention.String()
	}
	cfg.QuotaBackendBytes = c.EtcdQuotaBackendBytes
	if cfg.TickMs, cfg.ElectionMs, err = raftTiming(c); err != nil {
		return nil, err
	}
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(etcdLogger(log, etcdLevel(c.Verbosity)))
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("fleetd: start embedded etcd in %s: %w", c.EtcdDataDir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
}

// raftTiming returns the embedded etcd's heartbeat interval and election
// timeout in milliseconds, refusing what etcd would: a heartbeat under a
// millisecond, or an election timeout of fewer than five heartbeats.
func raftTiming(c Config) (tick, election uint, err error) {
	tick, election = uint(c.EtcdHeartbeatInterval.Milliseconds()), uint(c.EtcdElectionTimeout.Milliseconds())
	switch {
	case tick < 1:
		return 0, 0, fmt.Errorf("%w: etcd_heartbeat_interval %v: under a millisecond", ErrConfig, c.EtcdHeartbeatInterval)
	case election < 5*tick:
		return 0, 0, fmt.Errorf("%w: etcd_election_timeout %v is under five heartbeats (etcd_heartbeat_interval %v)",
			ErrConfig, c.EtcdElectionTimeout, c.EtcdHeartbeatInterval)
	}
	return tick, election, nil
}

// ownClientTLS checks that fleetd can reach its own member: it trusts
// the member's certificate (etcd_cafile) and presents one when the
// member requires it (etcd_certfile, etcd_keyfile).
func ownClientTLS(c Config) error {
	switch {
	case c.EtcdClient.CertFile != "" && c.EtcdCAFile == "":
		return fmt.Errorf("%w: the embedded etcd serves clients over TLS (etcd_client_certfile) but etcd_cafile, "+
			"the CA fleetd checks its certificate with, is not set", ErrConfig)
	case c.EtcdClient.CAFile != "" && c.EtcdCertFile == "":
		return fmt.Errorf("%w: the embedded etcd requires client certificates (etcd_client_cafile) but etcd_certfile "+
			"and etcd_keyfile, fleetd's own, are not set", ErrConfig)
	}
	return nil
}

// dialEtcd returns a client of endpoints, with TLS when files are given,
// that logs its errors through log. It does not wait for the cluster:
// requests fail until it answers.
func dialEtcd(c Config, endpoints []string, log *slog.Logger) (*clientv3.Client, error) {
	var tlsCfg *tls.Config
	if c.EtcdCertFile != "" || c.EtcdKeyFile != "" || c.EtcdCAFile != "" {
		if err := (TLSFiles{CertFile: c.EtcdCertFile, KeyFile: c.EtcdKeyFile}).check("etcd_"); err != nil {
			return nil, err
		}
		info := transport.TLSInfo{CertFile: c.EtcdCertFile, KeyFile: c.EtcdKeyFile, TrustedCAFile: c.EtcdCAFile}
		var err error
		if tlsCfg, err = info.ClientConfig(); err != nil {
			return nil, fmt.Errorf("%w: etcd TLS files: %w", ErrConfig, err)
		}
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: endpoints, DialTimeout: 5 * time.Second, TLS: tlsCfg,
		// A member cut off by the network drops packets without a reset:
		// pings find the dead connection, so that requests and watches
		// go to the members that answer.
		DialKeepAliveTime: 10 * time.Second, DialKeepAliveTimeout: 5 * time.Second, PermitWithoutStream: true,
		Logger: etcdLogger(log, zapcore.ErrorLevel),
	})
	if err != nil {
		return nil, fmt.Errorf("fleetd: etcd client for %v: %w", endpoints, err)
	}
	return cli, nil
}
