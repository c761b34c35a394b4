package fleetd

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetsim/fleet/internal/shortdur"
)

// option is one configuration key: its help text, the kind of value it
// takes (shown in --help, and "bool" makes the flag work bare), how to
// set it and how to show its value (the default in --help).
type option struct {
	key  string
	help string
	kind string
	set  func(c *Config, v string) error
	show func(c *Config) string
}

// options lists every key, as fleet.conf, FLEET_* and flags name them.
var options = []option{
	{"etcd_servers", "etcd endpoints, comma-separated (none: embed etcd)", "urls",
		func(c *Config, v string) error { c.EtcdServers = splitList(v); return nil },
		func(c *Config) string { return strings.Join(c.EtcdServers, ",") }},
	strOpt("etcd_key_prefix", "prefix of every key in etcd", func(c *Config) *string { return &c.EtcdKeyPrefix }),
	strOpt("etcd_keyfile", "TLS key for etcd", func(c *Config) *string { return &c.EtcdKeyFile }),
	strOpt("etcd_certfile", "TLS certificate for etcd", func(c *Config) *string { return &c.EtcdCertFile }),
	strOpt("etcd_cafile", "TLS CA for etcd", func(c *Config) *string { return &c.EtcdCAFile }),
	durOpt("etcd_request_timeout", "etcd request timeout (seconds or a duration)", func(c *Config) *time.Duration { return &c.EtcdRequestTimeout }),
	durOpt("engine_reconcile_interval", "engine reconcile interval (seconds or a duration)", func(c *Config) *time.Duration { return &c.EngineInterval }),
	durOpt("agent_ttl", "machine lease TTL (seconds or a duration)", func(c *Config) *time.Duration { return &c.AgentTTL }),
	strOpt("public_ip", "IP to advertise (none: detected)", func(c *Config) *string { return &c.PublicIP }),
	{"metadata", "machine metadata, k=v,k2=v2", "pairs", setMetadata, showMetadata},
	strOpt("units_directory", "where unit files are written", func(c *Config) *string { return &c.UnitsDirectory }),
	boolOpt("disable_engine", "run no engine on this machine", func(c *Config) *bool { return &c.DisableEngine }),
	intOpt("token_limit", "page size of the API", func(c *Config) *int { return &c.TokenLimit }),
	intOpt("verbosity", "log verbosity: 0 info, 1 debug, 2 also etcd's info", func(c *Config) *int { return &c.Verbosity }),
	{"log_format", "log format: text or json", "format", setLogFormat, func(c *Config) string { return c.LogFormat }},
	{"api_listen", "API listeners: unix://PATH,http://HOST:PORT,https://HOST:PORT", "urls",
		func(c *Config, v string) error { c.APIListen = splitList(v); return nil },
		func(c *Config) string { return strings.Join(c.APIListen, ",") }},
	{"api_url", "URL other fleetds reach this API at, to forward status and journal calls (none: from the http:// api_listen)", "url",
		setAPIURL, func(c *Config) string { return c.APIURL }},
	strOpt("machine_id", "machine ID (none: /etc/machine-id)", func(c *Config) *string { return &c.MachineID }),
	strOpt("etcd_data_dir", "data directory of the embedded etcd", func(c *Config) *string { return &c.EtcdDataDir }),
	strOpt("etcd_name", "member name of the embedded etcd", func(c *Config) *string { return &c.EtcdName }),
	strOpt("etcd_initial_cluster", "embedded etcd cluster, name=peerURL,... (none: this member alone)", func(c *Config) *string { return &c.EtcdInitialCluster }),
	strOpt("etcd_peer_url", "peer URL of the embedded etcd", func(c *Config) *string { return &c.EtcdPeerURL }),
	strOpt("etcd_client_url", "client URL of the embedded etcd", func(c *Config) *string { return &c.EtcdClientURL }),
	durOpt("engine_leader_ttl", "engine leadership lease (seconds or a duration)", func(c *Config) *time.Duration { return &c.LeaderTTL }),
	boolOpt("purge_on_shutdown", "stop and unload every unit when fleetd stops", func(c *Config) *bool { return &c.PurgeOnShutdown }),
	{"etcd_auto_compaction_retention", "history the embedded etcd keeps before compacting it (a duration; 0: never compact)", "duration",
		setRetention, func(c *Config) string { return shortdur.Format(c.EtcdAutoCompactionRetention) }},
	durOpt("etcd_heartbeat_interval", "raft heartbeat interval of the embedded etcd (seconds or a duration)", func(c *Config) *time.Duration { return &c.EtcdHeartbeatInterval }),
	durOpt("etcd_election_timeout", "raft election timeout of the embedded etcd, at least 5 heartbeats (seconds or a duration)", func(c *Config) *time.Duration { return &c.EtcdElectionTimeout }),
	{"etcd_quota_backend_bytes", "backend quota of the embedded etcd (bytes, or with KiB, MiB, GiB; 0: etcd's 2 GiB)", "size",
		setBytes, func(c *Config) string { return strconv.FormatInt(c.EtcdQuotaBackendBytes, 10) }},
	strOpt("etcd_peer_certfile", "TLS certificate the embedded etcd serves its peers with, and presents to them (both server and client use)", func(c *Config) *string { return &c.EtcdPeer.CertFile }),
	strOpt("etcd_peer_keyfile", "TLS key of etcd_peer_certfile", func(c *Config) *string { return &c.EtcdPeer.KeyFile }),
	strOpt("etcd_peer_cafile", "CA that signs the certificates of the embedded etcd's peers (they must present one)", func(c *Config) *string { return &c.EtcdPeer.CAFile }),
	strOpt("etcd_client_certfile", "TLS certificate the embedded etcd serves its clients with", func(c *Config) *string { return &c.EtcdClient.CertFile }),
	strOpt("etcd_client_keyfile", "TLS key of etcd_client_certfile", func(c *Config) *string { return &c.EtcdClient.KeyFile }),
	strOpt("etcd_client_cafile", "CA that signs the certificates of the embedded etcd's clients (they must present one)", func(c *Config) *string { return &c.EtcdClient.CAFile }),
	boolOpt("etcd_insecure", "let the embedded etcd listen beyond loopback without TLS and client certificates: anyone who reaches it can run units as root", func(c *Config) *bool { return &c.EtcdInsecure }),
	strOpt("api_certfile", "TLS certificate of the https:// API listeners", func(c *Config) *string { return &c.API.CertFile }),
	strOpt("api_keyfile", "TLS key of api_certfile", func(c *Config) *string { return &c.API.KeyFile }),
	strOpt("api_cafile", "CA that signs the certificates https:// API clients must present (none: none required)", func(c *Config) *string { return &c.API.CAFile }),
}

func findOption(key string) (option, bool) {
	for _, o := range options {
		if o.key == key {
			return o, true
		}
	}
	return option{}, false
}

func strOpt(key, help string, f func(*Config) *string) option {
	return option{key, help, "string",
		func(c *Config, v string) error { *f(c) = v; return nil },
		func(c *Config) string { return *f(c) }}
}

// boolOpt is an on/off option: true, false, 1, 0 (and the rest
// strconv.ParseBool reads) in fleet.conf and FLEET_*; bare on the
// command line it means true.
func boolOpt(key, help string, f func(*Config) *bool) option {
	return option{key, help, "bool",
		func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("not a boolean (true, false, 1, 0)")
			}
			*f(c) = b
			return nil
		},
		func(c *Config) string { return strconv.FormatBool(*f(c)) }}
}

func intOpt(key, help string, f func(*Config) *int) option {
	return option{key, help, "int",
		func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return errors.New("not a non-negative integer")
			}
			*f(c) = n
			return nil
		},
		func(c *Config) string { return strconv.Itoa(*f(c)) }}
}

// durOpt accepts a Go duration ("30s") or fleet's plain seconds ("2", "0.5").
func durOpt(key, help string, f func(*Config) *time.Duration) option {
	return option{key, help, "duration",
		func(c *Config, v string) error {
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
		},
		func(c *Config) string { return shortdur.Format(*f(c)) }}
}

// setLogFormat accepts text or json.
func setLogFormat(c *Config, v string) error {
	if v != "text" && v != "json" {
		return errors.New("not a log format: text or json")
	}
	c.LogFormat = v
	return nil
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

func showMetadata(c *Config) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(c.Metadata)) {
		out = append(out, k+"="+c.Metadata[k])
	}
	return strings.Join(out, ",")
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
