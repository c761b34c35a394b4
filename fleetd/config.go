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
	"strconv"
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
	Verbosity          int               // verbosity
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
		APIListen:          []string{"unix:///var/run/fleet.sock"},
		EtcdDataDir:        "/var/lib/fleet/etcd",
		EtcdName:           "default",
		EtcdPeerURL:        "http://127.0.0.1:2380",
		EtcdClientURL:      "http://127.0.0.1:2379",
		LeaderTTL:          10 * time.Second,

		EtcdAutoCompactionRetention: DefaultAutoCompactionRetention,
	}
}

// option is one configuration key: its help text and how to set it.
type option struct {
	key  string
	help string
	set  func(c *Config, v string) error
}

// options lists every key, as fleet.conf, FLEET_* and flags name them.
var options = []option{
	{"etcd_servers", "etcd endpoints, comma-separated (empty: embed etcd)", func(c *Config, v string) error { c.EtcdServers = splitList(v); return nil }},
	{"etcd_key_prefix", "prefix of every key in etcd", setString(func(c *Config) *string { return &c.EtcdKeyPrefix })},
	{"etcd_keyfile", "TLS key for etcd", setString(func(c *Config) *string { return &c.EtcdKeyFile })},
	{"etcd_certfile", "TLS certificate for etcd", setString(func(c *Config) *string { return &c.EtcdCertFile })},
	{"etcd_cafile", "TLS CA for etcd", setString(func(c *Config) *string { return &c.EtcdCAFile })},
	{"etcd_request_timeout", "etcd request timeout (seconds or a duration)", setDuration(func(c *Config) *time.Duration { return &c.EtcdRequestTimeout })},
	{"engine_reconcile_interval", "engine reconcile interval (seconds or a duration)", setDuration(func(c *Config) *time.Duration { return &c.EngineInterval })},
	{"agent_ttl", "machine lease TTL (a duration)", setDuration(func(c *Config) *time.Duration { return &c.AgentTTL })},
	{"public_ip", "IP to advertise (detected when empty)", setString(func(c *Config) *string { return &c.PublicIP })},
	{"metadata", "machine metadata, k=v,k2=v2", setMetadata},
	{"units_directory", "where unit files are written", setString(func(c *Config) *string { return &c.UnitsDirectory })},
	{"disable_engine", "run no engine on this machine", setBool(func(c *Config) *bool { return &c.DisableEngine })},
	{"token_limit", "page size of the API", setInt(func(c *Config) *int { return &c.TokenLimit })},
	{"verbosity", "log verbosity", setInt(func(c *Config) *int { return &c.Verbosity })},
	{"api_listen", "API listeners: unix://PATH,http://HOST:PORT,https://HOST:PORT", func(c *Config, v string) error { c.APIListen = splitList(v); return nil }},
	{"api_url", "URL other fleetds reach this API at, to forward status and journal calls (default: from the http:// api_listen)", setAPIURL},
	{"machine_id", "machine ID (default: /etc/machine-id)", setString(func(c *Config) *string { return &c.MachineID })},
	{"etcd_data_dir", "data directory of the embedded etcd", setString(func(c *Config) *string { return &c.EtcdDataDir })},
	{"etcd_name", "member name of the embedded etcd", setString(func(c *Config) *string { return &c.EtcdName })},
	{"etcd_initial_cluster", "embedded etcd cluster, name=peerURL,...", setString(func(c *Config) *string { return &c.EtcdInitialCluster })},
	{"etcd_peer_url", "peer URL of the embedded etcd", setString(func(c *Config) *string { return &c.EtcdPeerURL })},
	{"etcd_client_url", "client URL of the embedded etcd", setString(func(c *Config) *string { return &c.EtcdClientURL })},
	{"engine_leader_ttl", "engine leadership lease (a duration)", setDuration(func(c *Config) *time.Duration { return &c.LeaderTTL })},
	{"purge_on_shutdown", "stop and unload every unit when fleetd stops", setBool(func(c *Config) *bool { return &c.PurgeOnShutdown })},
	{"etcd_auto_compaction_retention", "history the embedded etcd keeps before compacting it (a duration, default 1h; 0: never compact)", setRetention},
	{"etcd_peer_certfile", "TLS certificate the embedded etcd serves its peers with, and presents to them (both server and client use)", setString(func(c *Config) *string { return &c.EtcdPeer.CertFile })},
	{"etcd_peer_keyfile", "TLS key of etcd_peer_certfile", setString(func(c *Config) *string { return &c.EtcdPeer.KeyFile })},
	{"etcd_peer_cafile", "CA that signs the certificates of the embedded etcd's peers (they must present one)", setString(func(c *Config) *string { return &c.EtcdPeer.CAFile })},
	{"etcd_client_certfile", "TLS certificate the embedded etcd serves its clients with", setString(func(c *Config) *string { return &c.EtcdClient.CertFile })},
	{"etcd_client_keyfile", "TLS key of etcd_client_certfile", setString(func(c *Config) *string { return &c.EtcdClient.KeyFile })},
	{"etcd_client_cafile", "CA that signs the certificates of the embedded etcd's clients (they must present one)", setString(func(c *Config) *string { return &c.EtcdClient.CAFile })},
	{"etcd_insecure", "let the embedded etcd listen beyond loopback without TLS and client certificates: anyone who reaches it can run units as root", setBool(func(c *Config) *bool { return &c.EtcdInsecure })},
	{"api_certfile", "TLS certificate of the https:// API listeners", setString(func(c *Config) *string { return &c.API.CertFile })},
	{"api_keyfile", "TLS key of api_certfile", setString(func(c *Config) *string { return &c.API.KeyFile })},
	{"api_cafile", "CA that signs the certificates https:// API clients must present (default: none required)", setString(func(c *Config) *string { return &c.API.CAFile })},
	{"etcd_quota_backend_bytes", "backend quota of the embedded etcd (bytes, or with KiB, MiB, GiB; default 0: etcd's 2 GiB)", setBytes},
}

func findOption(key string) (option, bool) {
	for _, o := range options {
		if o.key == key {
			return o, true
		}
	}
	return option{}, false
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

func setString(f func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *f(c) = v; return nil }
}

func setBool(f func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("not a boolean")
		}
		*f(c) = b
		return nil
	}
}

func setInt(f func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errors.New("not a non-negative integer")
		}
		*f(c) = n
		return nil
	}
}

// setDuration accepts a Go duration ("30s") or fleet's plain seconds ("2", "0.5").
func setDuration(f func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			secs, ferr := strconv.ParseFloat(v, 64)
			if ferr != nil {
				return errors.New("not a duration (30s) or a number of seconds")
			}
			d = time.Duration(secs * float64(time.Second))
		}
		if d <= 0 {
			return errors.New("must be positive")
		}
		*f(c) = d
		return nil
	}
}

// setRetention accepts a Go duration ("1h", "30m") or 0. A bare number
// is refused: fleet reads it as seconds and etcd as hours.
func setRetention(c *Config, v string) error {
	if v == "0" {
		c.EtcdAutoCompactionRetention = 0
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return errors.New("not a duration with its unit (1h, 30m) or 0 (never compact)")
	}
	c.EtcdAutoCompactionRetention = d
	return nil
}

// setBytes accepts a number of bytes, with an optional KiB, MiB or GiB.
func setBytes(c *Config, v string) error {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if n, ok := strings.CutSuffix(v, suffix); ok {
			v, mult = strings.TrimSpace(n), m
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return errors.New("not a size: a number of bytes, or with KiB, MiB or GiB (8GiB)")
	}
	c.EtcdQuotaBackendBytes = n * mult
	return nil
}

func setMetadata(c *Config, v string) error {
	md := map[string]string{}
	for _, kv := range splitList(v) {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.ContainsAny(k, "!<>") {
			return fmt.Errorf("metadata %q: want key=value", kv)
		}
		md[strings.TrimSpace(k)] = strings.TrimSpace(val)
	}
	c.Metadata = md
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
