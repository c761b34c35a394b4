package cluster

import (
	"fmt"
	"strconv"
	"strings"
)

// fleetdUnit is the machine's fleetd.service, as a CoreOS cloud-config
// would have written it: fleetd configured through FLEET_* variables,
// restarted when it dies. The binary is the host's, bind-mounted at the
// same path.
func (m *Machine) fleetdUnit() string {
	cfg := m.c.cfg
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by the fleet lab (lab/cluster) for machine %s.\n", m.Hostname)
	b.WriteString("[Unit]\nDescription=fleet daemon\nWants=dbus.service\nAfter=dbus.service\n\n[Service]\n")
	for _, kv := range m.fleetdEnv() {
		fmt.Fprintf(&b, "Environment=\"%s=%s\"\n", kv[0], kv[1])
	}
	fmt.Fprintf(&b, "ExecStart=%s\nRestart=always\nRestartSec=1s\n\n[Install]\nWantedBy=multi-user.target\n", cfg.Fleetd)
	return b.String()
}

// fleetdEnv is fleetd's configuration on this machine.
func (m *Machine) fleetdEnv() [][2]string {
	cfg := m.c.cfg
	env := [][2]string{
		{"FLEET_PUBLIC_IP", m.IP},
		{"FLEET_METADATA", m.MetadataString()},
		{"FLEET_AGENT_TTL", cfg.AgentTTL.String()},
		{"FLEET_ENGINE_RECONCILE_INTERVAL", cfg.Reconcile.String()},
		{"FLEET_ENGINE_LEADER_TTL", cfg.LeaderTTL.String()},
		{"FLEET_API_LISTEN", "unix:///var/run/fleet.sock," + m.Endpoint()},
		{"FLEET_VERBOSITY", strconv.Itoa(cfg.Verbosity)},
	}
	env = append(env, m.tlsEnv()...)
	if cfg.EtcdCompaction > 0 && m.Member {
		env = append(env, [2]string{"FLEET_ETCD_AUTO_COMPACTION_RETENTION", cfg.EtcdCompaction.String()})
	}
	if !m.Member {
		return append(env, [2]string{"FLEET_ETCD_SERVERS", strings.Join(m.c.memberURLs(2379), ",")})
	}
	var initial []string
	for i, u := range m.c.memberURLs(2380) {
		initial = append(initial, fmt.Sprintf("core-%02d=%s", i+1, u))
	}
	return append(env,
		[2]string{"FLEET_ETCD_NAME", m.Hostname},
		[2]string{"FLEET_ETCD_INITIAL_CLUSTER", strings.Join(initial, ",")},
		[2]string{"FLEET_ETCD_PEER_URL", m.c.etcdScheme() + "://" + m.IP + ":2380"},
		[2]string{"FLEET_ETCD_CLIENT_URL", m.c.etcdScheme() + "://" + m.IP + ":2379"},
		[2]string{"FLEET_ETCD_DATA_DIR", m.Disk() + "/etcd"},
	)
}

// EtcdEndpoints are the client URLs of the cluster's etcd members.
func (c *Cluster) EtcdEndpoints() []string { return c.memberURLs(2379) }

// memberURLs are the etcd members' URLs on port.
func (c *Cluster) memberURLs(port int) []string {
	var out []string
	for i := 1; i <= min(Members, c.cfg.Machines); i++ {
		out = append(out, c.etcdScheme()+"://"+c.cfg.Subnet+"."+strconv.Itoa(10+i)+":"+strconv.Itoa(port))
	}
	return out
}
