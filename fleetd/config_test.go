package fleetd

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"
)

func files(m map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if s, ok := m[name]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
}

func TestConfigPrecedence(t *testing.T) {
	conf := "# fleet.conf\netcd_servers=http://a:2379,http://b:2379\nagent_ttl=\"20s\"\nmetadata=region=eu,disk=ssd\nengine_reconcile_interval=5\n"
	c, _, err := Load([]string{"--agent-ttl=7s", "--public-ip", "10.0.0.9"},
		[]string{"FLEET_AGENT_TTL=9s", "FLEET_ETCD_KEY_PREFIX=/fleet", "FLEET_NOT_AN_OPTION=x", "HOME=/root"},
		files(map[string]string{DefaultConfigFile: conf}))
	if err != nil {
		t.Fatal(err)
	}
	if c.AgentTTL != 7*time.Second {
		t.Errorf("agent_ttl = %v: a flag must win over the environment and the file", c.AgentTTL)
	}
	if c.EtcdKeyPrefix != "/fleet" {
		t.Errorf("etcd_key_prefix = %q: the environment must win over the default", c.EtcdKeyPrefix)
	}
	if c.EngineInterval != 5*time.Second || len(c.EtcdServers) != 2 || c.Metadata["disk"] != "ssd" || c.PublicIP != "10.0.0.9" {
		t.Errorf("file values not applied: %+v", c)
	}
	if c.UnitsDirectory != "/run/fleet/units/" || c.TokenLimit != 100 {
		t.Errorf("defaults lost: %+v", c)
	}
}

func TestConfigErrorsNameTheOption(t *testing.T) {
	cases := []struct {
		args  []string
		env   []string
		files map[string]string
		want  string
	}{
		{args: []string{"--agent-ttl=soon"}, want: "flag --agent-ttl: agent_ttl=\"soon\""},
		{args: []string{"--no-such-flag"}, want: "unknown flag: --no-such-flag"},
		{args: []string{"extra"}, want: `unexpected argument "extra"`},
		{env: []string{"FLEET_DISABLE_ENGINE=maybe"}, want: "environment FLEET_DISABLE_ENGINE: disable_engine"},
		{files: map[string]string{DefaultConfigFile: "agent_ttl=30s\nbogus_key=1\n"}, want: `fleet.conf:2: unknown option "bogus_key"`},
		{files: map[string]string{DefaultConfigFile: "just words\n"}, want: "fleet.conf:1: want key=value"},
		{args: []string{"--metadata=region"}, want: `metadata "region": want key=value`},
		{args: []string{"--config=/nope.conf"}, want: "/nope.conf"},
		{args: []string{"--token-limit=-1"}, want: "token_limit"},
		{args: []string{"--api-url=10.0.0.1:49153"}, want: "api_url"},
		{env: []string{"FLEET_API_URL=unix:///run/fleet.sock"}, want: "FLEET_API_URL: api_url"},
		{args: []string{"--etcd-auto-compaction-retention=5"}, want: "etcd_auto_compaction_retention=\"5\": not a duration with its unit"},
		{args: []string{"--etcd-auto-compaction-retention=-1h"}, want: "etcd_auto_compaction_retention"},
		{args: []string{"--etcd-quota-backend-bytes=lots"}, want: "etcd_quota_backend_bytes=\"lots\": not a size"},
		{env: []string{"FLEET_ETCD_QUOTA_BACKEND_BYTES=-1"}, want: "etcd_quota_backend_bytes"},
	}
	for _, tc := range cases {
		_, _, err := Load(tc.args, tc.env, files(tc.files))
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%v, %v): %v, want an ErrConfig naming %q", tc.args, tc.env, err, tc.want)
		}
	}
}

func TestConfigHelpListsEveryOption(t *testing.T) {
	_, inv, err := Load([]string{"--help"}, nil, files(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range options {
		if flag := "--" + strings.ReplaceAll(o.key, "_", "-"); !strings.Contains(inv.Help, flag) {
			t.Errorf("help lacks %s", flag)
		}
	}
}

func TestEtcdCompactionAndQuotaOptions(t *testing.T) {
	c, _, err := Load(nil, nil, files(nil))
	if err != nil || c.EtcdAutoCompactionRetention != time.Hour || c.EtcdQuotaBackendBytes != 0 {
		t.Fatalf("defaults: retention %v, quota %d, %v; want 1h and 0 (etcd's)", c.EtcdAutoCompactionRetention, c.EtcdQuotaBackendBytes, err)
	}
	cases := []struct {
		args      []string
		conf      string
		retention time.Duration
		quota     int64
	}{
		{args: []string{"--etcd-auto-compaction-retention=0"}, retention: 0},
		{args: []string{"--etcd-auto-compaction-retention=30m", "--etcd-quota-backend-bytes=8GiB"}, retention: 30 * time.Minute, quota: 8 << 30},
		{conf: "etcd_auto_compaction_retention=2h\netcd_quota_backend_bytes=1048576\n", retention: 2 * time.Hour, quota: 1 << 20},
		{conf: "etcd_quota_backend_bytes=\"512 MiB\"\n", retention: time.Hour, quota: 512 << 20},
	}
	for _, tc := range cases {
		c, _, err := Load(tc.args, nil, files(map[string]string{DefaultConfigFile: tc.conf}))
		if err != nil || c.EtcdAutoCompactionRetention != tc.retention || c.EtcdQuotaBackendBytes != tc.quota {
			t.Errorf("%v %q: retention %v, quota %d, %v; want %v and %d", tc.args, tc.conf, c.EtcdAutoCompactionRetention, c.EtcdQuotaBackendBytes, err, tc.retention, tc.quota)
		}
	}
}

// --help shows every option with its fleet.conf key and its default,
// zero values (false, 0, none) and durations included.
func TestConfigHelpShowsDefaults(t *testing.T) {
	_, inv, err := Load([]string{"--help"}, nil, files(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"--agent-ttl duration", "(fleet.conf agent_ttl; default 30s)",
		"(fleet.conf engine_reconcile_interval; default 2s)",
		"(fleet.conf etcd_auto_compaction_retention; default 1h)",
		"--disable-engine  ", "(fleet.conf disable_engine; default false)",
		"(fleet.conf purge_on_shutdown; default false)",
		"(fleet.conf verbosity; default 0)",
		"(fleet.conf log_format; default text)",
		"(fleet.conf etcd_servers; default none)",
		"(fleet.conf token_limit; default 100)",
	}
	for _, w := range want {
		if !strings.Contains(inv.Help, w) {
			t.Errorf("help lacks %q:\n%s", w, inv.Help)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(inv.Help), "\n")[1:] {
		if strings.Contains(line, "fleet.conf ") && !strings.Contains(line, "; default ") {
			t.Errorf("no default shown: %s", line)
		}
	}
	if n := strings.Count(inv.Help, "(fleet.conf "); n != len(options) {
		t.Errorf("%d options name their fleet.conf key, want %d", n, len(options))
	}
}

// On/off options are booleans: bare on the command line, and true,
// false, 1, 0 in fleet.conf and FLEET_*; a flag wins over both.
func TestConfigBooleans(t *testing.T) {
	cases := []struct {
		args    []string
		env     []string
		conf    string
		disable bool
		purge   bool
	}{
		{},
		{args: []string{"--disable-engine", "--purge-on-shutdown"}, disable: true, purge: true},
		{args: []string{"--disable-engine=false"}, conf: "disable_engine=true\n"},
		{conf: "disable_engine=1\npurge_on_shutdown=true\n", disable: true, purge: true},
		{conf: "disable_engine=true\n", env: []string{"FLEET_DISABLE_ENGINE=0"}},
		{env: []string{"FLEET_DISABLE_ENGINE=1", "FLEET_PURGE_ON_SHUTDOWN=false"}, disable: true},
		{args: []string{"--purge-on-shutdown=1"}, env: []string{"FLEET_PURGE_ON_SHUTDOWN=false"}, purge: true},
		{args: []string{"--disable-engine", "--agent-ttl", "5s"}, disable: true}, // bare, then another flag
	}
	for _, tc := range cases {
		c, _, err := Load(tc.args, tc.env, files(map[string]string{DefaultConfigFile: tc.conf}))
		if err != nil || c.DisableEngine != tc.disable || c.PurgeOnShutdown != tc.purge {
			t.Errorf("%v %v %q: disable_engine %v, purge_on_shutdown %v, %v; want %v, %v",
				tc.args, tc.env, tc.conf, c.DisableEngine, c.PurgeOnShutdown, err, tc.disable, tc.purge)
		}
	}
	if _, _, err := Load(nil, nil, files(map[string]string{DefaultConfigFile: "purge_on_shutdown=yes please\n"})); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "purge_on_shutdown") {
		t.Errorf("a word that is no boolean: %v", err)
	}
}

func TestConfigLogFormat(t *testing.T) {
	c, _, err := Load([]string{"--log-format=json"}, nil, files(nil))
	if err != nil || c.LogFormat != "json" {
		t.Fatalf("--log-format=json: %q, %v", c.LogFormat, err)
	}
	c, _, err = Load(nil, nil, files(map[string]string{DefaultConfigFile: "log_format=json\n"}))
	if err != nil || c.LogFormat != "json" {
		t.Fatalf("log_format=json in fleet.conf: %q, %v", c.LogFormat, err)
	}
	if _, _, err := Load([]string{"--log-format=xml"}, nil, files(nil)); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "log_format") {
		t.Fatalf("--log-format=xml: %v", err)
	}
}
