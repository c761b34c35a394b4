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
