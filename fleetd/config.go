// Package fleetd is the daemon: it reads its configuration, runs or joins
// etcd, and runs the agent, the engine and the HTTP API around the same
// pure scheduler and agent planner the simulator runs.
package fleetd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("fleetd: bad configuration")

// Config is fleetd's configuration: fleet's fleet.conf options plus ours.
type Config struct {
	EtcdServers        []string          // etcd_servers: empty means embed etcd
	EtcdKeyPrefix      string            // etcd_key_prefix
	EtcdKeyFile        string            // etcd_keyfile
	EtcdCertFile       string            // etcd_certfile
	EtcdCAFile         string            // etcd_cafile
	EtcdRequestTimeout time.Duration     // etcd_request_timeout
	EngineInterval     time.Duration     // engine_reconcile_interval
	AgentTTL           time.Duration     // agent_ttl
	PublicIP           string            // public_ip: detected when empty
	Metadata           map[string]string // metadata: k=v,k2=v2
	UnitsDirectory     string            // units_directory
	DisableEngine      bool              // disable_engine
	TokenLimit         int               // token_limit: page size of the API
	Verbosity          int               // verbosity: 0 info, 1 debug, 2 and more also etcd's info
	LogFormat          string            // log_format: text or json
	APIListen          []string          // api_listen: unix://PATH and http://HOST:PORT
	MachineID          string            // machine_id: from /etc/machine-id when empty
	EtcdDataDir        string            // etcd_data_dir: the embedded member's data
	EtcdName           string            // etcd_name: the embedded member's name
	EtcdInitialCluster string            // etcd_initial_cluster: name=peerURL,... for several members
	EtcdPeerURL        string            // etcd_peer_url: the embedded member's peer URL
	EtcdClientURL      string            // etcd_client_url: the embedded member's client URL
	LeaderTTL          time.Duration     // engine_leader_ttl
	PurgeOnShutdown    bool              // purge_on_shutdown: stop and unload units when fleetd stops
	APIURL             string            // api_url: where other fleetds reach this API; from api_listen when empty

	// EtcdAutoCompactionRetention is the history the embedded etcd
	// keeps (etcd_auto_compaction_retention); 0 keeps it all.
	EtcdAutoCompactionRetention time.Duration
	// EtcdQuotaBackendBytes is the embedded etcd's backend quota
	// (etcd_quota_backend_bytes); 0 takes etcd's default, 2 GiB.
	EtcdQuotaBackendBytes int64
	// EtcdHeartbeatInterval and EtcdElectionTimeout are the embedded
	// etcd's raft timing (etcd_heartbeat_interval,
	// etcd_election_timeout), etcd's own 100ms and 1s by default. Members
	// far apart, or on slow or emulated CPUs, need longer ones, or they
	// hold elections while nothing failed; the election timeout is at
	// least five heartbeats, as etcd requires.
	EtcdHeartbeatInterval, EtcdElectionTimeout time.Duration

	// EtcdPeer and EtcdClient secure the embedded etcd's two listeners
	// (etcd_peer_certfile, etcd_peer_keyfile, etcd_peer_cafile and
	// etcd_client_*): the member's own certificate and the CA that
	// signs the certificates it accepts. fleetd's own connection to its
	// member uses etcd_certfile, etcd_keyfile and etcd_cafile.
	EtcdPeer, EtcdClient TLSFiles
	// EtcdInsecure lets the embedded etcd listen beyond loopback
	// without TLS and client certificates (etcd_insecure).
	EtcdInsecure bool
	// API secures the https:// listeners of api_listen (api_certfile,
	// api_keyfile, and api_cafile: when set, clients must present a
	// certificate it signed).
	API TLSFiles
}

// TLSFiles are the PEM files of one TLS listener: its certificate and
// key, and the CA whose certificates it requires of its clients ("":
// none required).
type TLSFiles struct{ CertFile, KeyFile, CAFile string }

// Enabled reports whether any file is given.
func (f TLSFiles) Enabled() bool { return f.CertFile != "" || f.KeyFile != "" || f.CAFile != "" }

// DefaultAutoCompactionRetention is the history the embedded etcd keeps
// by default. etcd's own default keeps it all, so the database only
// grows until it hits its quota. An hour covers what a watcher may need
// to resume without a full reload (an agent or the engine reconnecting
// after a partition, a restart, a leader election), and keeps at fleet's
// write rates a history far below the quota.
const DefaultAutoCompactionRetention = time.Hour

// Defaults returns fleet's defaults.
func Defaults() Config {
	return Config{
		EtcdKeyPrefix:      "/_coreos.com/fleet/",
		EtcdRequestTimeout: time.Second,
		EngineInterval:     2 * time.Second,
		AgentTTL:           30 * time.Second,
		Metadata:           map[string]string{},
		UnitsDirectory:     "/run/fleet/units/",
		TokenLimit:         100,
		LogFormat:          "text",
		APIListen:          []string{"unix:///var/run/fleet.sock"},
		EtcdDataDir:        "/var/lib/fleet/etcd",
		EtcdName:           "default",
		EtcdPeerURL:        "http://127.0.0.1:2380",
		EtcdClientURL:      "http://127.0.0.1:2379",
		LeaderTTL:          10 * time.Second,

		EtcdAutoCompactionRetention: DefaultAutoCompactionRetention,
		EtcdHeartbeatInterval:       100 * time.Millisecond,
		EtcdElectionTimeout:         time.Second,
	}
}

func (c *Config) set(key, value, where string) error {
	o, ok := findOption(key)
	if !ok {
		return fmt.Errorf("%w: %s: unknown option %q", ErrConfig, where, key)
	}
	if err := o.set(c, strings.TrimSpace(value)); err != nil {
		return fmt.Errorf("%w: %s: %s=%q: %w", ErrConfig, where, key, value, err)
	}
	return nil
}

// ReadFile applies a fleet.conf: "key=value" lines, # and ; comments,
// values optionally in double quotes.
func (c *Config) ReadFile(name string, r io.Reader) error {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("%w: %s:%d: want key=value, got %q", ErrConfig, name, n, line)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if err := c.set(strings.TrimSpace(k), v, fmt.Sprintf("%s:%d", name, n)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%w: read %s: %w", ErrConfig, name, err)
	}
	return nil
}

// ApplyEnv applies FLEET_<KEY> variables from env ("K=V" strings).
// Variables that name no option are ignored, as fleet did.
func (c *Config) ApplyEnv(env []string) error {
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, "FLEET_") {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(k, "FLEET_"))
		if _, known := findOption(key); !known {
			continue
		}
		if err := c.set(key, v, "environment "+k); err != nil {
			return err
		}
	}
	return nil
}

// setAPIURL sets api_url: empty, or http(s)://HOST[:PORT].
func setAPIURL(c *Config, v string) error {
	if v != "" {
		u, err := url.Parse(v)
		if err != nil {
			return err
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return errors.New("want http://HOST:PORT or https://HOST:PORT")
		}
	}
	c.APIURL = v
	return nil
}
