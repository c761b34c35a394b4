package cluster

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/lab/nsboot"
)

func TestConfigDefaultsAndChecks(t *testing.T) {
	fleetd := filepath.Join(t.TempDir(), "fleetd")
	if err := os.WriteFile(fleetd, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := Config{Fleetd: fleetd}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "fleetlab" || c.Machines != 3 || c.Subnet != "10.77.0" || c.Dir != "/run/fleetlab" ||
		c.APIPort != 8080 || c.AgentTTL != 5*time.Second || c.Reconcile != time.Second {
		t.Errorf("defaults: %+v", c)
	}
	for _, bad := range []Config{
		{Fleetd: fleetd, Name: "Upper"},
		{Fleetd: fleetd, Name: "muchtoolongname"},
		{Fleetd: fleetd, Machines: MaxMachines + 1},
		{Fleetd: fleetd, Subnet: "10.77"},
		{Fleetd: fleetd, Subnet: "10.777.0"},
		{Fleetd: fleetd, APIPort: 2379},
		{Fleetd: "relative/fleetd"},
		{Fleetd: filepath.Join(t.TempDir(), "missing")},
		{Fleetd: fleetd, Dir: "relative"},
	} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func TestMachineIdentityAndFleetdUnit(t *testing.T) {
	c := &Cluster{cfg: Config{Name: "fleetlab", Machines: 4, Subnet: "10.77.0", APIPort: 8080, Fleetd: "/opt/bin/fleetd",
		Dir: "/run/fleetlab", AgentTTL: 5 * time.Second, Reconcile: time.Second, LeaderTTL: 5 * time.Second}}
	m1, m4 := c.newMachine(1), c.newMachine(4)
	if m1.Hostname != "core-01" || m1.IP != "10.77.0.11" || !m1.Member || m4.Member || m1.Veth() != "fleetlab-01" {
		t.Errorf("machine 1: %+v, machine 4: %+v", m1, m4)
	}
	if m1.ID == m4.ID || len(m1.ID) != 32 {
		t.Errorf("machine IDs %q and %q", m1.ID, m4.ID)
	}
	if got := m1.mac(); got != "02:77:0a:4d:00:0b" {
		t.Errorf("mac = %s", got)
	}
	if got := m1.MetadataString(); got != "role=web,region=eu,disk=ssd,ram=4096" {
		t.Errorf("metadata = %s", got)
	}
	if m1.MetadataString() == c.newMachine(2).MetadataString() {
		t.Error("machines 1 and 2 have the same metadata")
	}
	unit := m1.fleetdUnit()
	for _, want := range []string{
		"ExecStart=/opt/bin/fleetd\n", "Restart=always", `Environment="FLEET_PUBLIC_IP=10.77.0.11"`,
		`Environment="FLEET_AGENT_TTL=5s"`, `Environment="FLEET_ENGINE_RECONCILE_INTERVAL=1s"`,
		`Environment="FLEET_API_LISTEN=unix:///var/run/fleet.sock,http://10.77.0.11:8080"`,
		`Environment="FLEET_ETCD_INITIAL_CLUSTER=core-01=http://10.77.0.11:2380,core-02=http://10.77.0.12:2380,core-03=http://10.77.0.13:2380"`,
		`Environment="FLEET_ETCD_DATA_DIR=/run/fleetlab/disks/core-01/etcd"`,
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("fleetd.service of a member lacks %s:\n%s", want, unit)
		}
	}
	if unit := m4.fleetdUnit(); !strings.Contains(unit, `FLEET_ETCD_SERVERS=http://10.77.0.11:2379,http://10.77.0.12:2379,http://10.77.0.13:2379"`) ||
		strings.Contains(unit, "FLEET_ETCD_NAME") {
		t.Errorf("fleetd.service of a client:\n%s", unit)
	}
}

func TestTLSByDefault(t *testing.T) {
	dir := t.TempDir()
	c := &Cluster{cfg: Config{Name: "fleetlab", Machines: 4, Subnet: "10.77.0", APIPort: 8080, Fleetd: "/opt/bin/fleetd",
		Dir: dir, AgentTTL: 5 * time.Second, Reconcile: time.Second, LeaderTTL: 5 * time.Second}}
	if err := c.makeCA(); err != nil {
		t.Fatal(err)
	}
	m1, m4 := c.newMachine(1), c.newMachine(4)
	for _, m := range []*Machine{m1, m4} {
		if err := m.ensureCert(); err != nil {
			t.Fatal(err)
		}
	}
	f := m1.certFiles()
	unit := m1.fleetdUnit()
	for _, want := range []string{
		`Environment="FLEET_ETCD_INITIAL_CLUSTER=core-01=https://10.77.0.11:2380,core-02=https://10.77.0.12:2380,core-03=https://10.77.0.13:2380"`,
		`Environment="FLEET_ETCD_PEER_URL=https://10.77.0.11:2380"`, `Environment="FLEET_ETCD_CLIENT_URL=https://10.77.0.11:2379"`,
		`Environment="FLEET_ETCD_PEER_CAFILE=` + f.CA + `"`, `Environment="FLEET_ETCD_CLIENT_CAFILE=` + f.CA + `"`,
		`Environment="FLEET_ETCD_PEER_CERTFILE=` + f.Cert + `"`, `Environment="FLEET_ETCD_CLIENT_KEYFILE=` + f.Key + `"`,
		`Environment="FLEET_ETCD_CERTFILE=` + f.Cert + `"`, `Environment="FLEET_ETCD_CAFILE=` + f.CA + `"`,
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("fleetd.service of a member lacks %s:\n%s", want, unit)
		}
	}
	if strings.Contains(unit, "FLEET_ETCD_INSECURE") {
		t.Errorf("a lab with TLS runs etcd insecure:\n%s", unit)
	}
	if unit := m4.fleetdUnit(); !strings.Contains(unit, `FLEET_ETCD_SERVERS=https://10.77.0.11:2379,https://10.77.0.12:2379,https://10.77.0.13:2379"`) ||
		!strings.Contains(unit, `FLEET_ETCD_CERTFILE=`+m4.certFiles().Cert) || strings.Contains(unit, "FLEET_ETCD_PEER_CERTFILE") {
		t.Errorf("fleetd.service of a client:\n%s", unit)
	}
	for _, name := range []string{f.CA, f.Cert, f.Key, c.TLS().CAFile, c.TLS().CertFile, c.TLS().KeyFile} {
		if _, err := os.Stat(name); err != nil {
			t.Error(err)
		}
	}
	// A machine booting again keeps the certificate on its disk.
	before, _ := os.ReadFile(f.Cert)
	if err := m1.ensureCert(); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(f.Cert); string(after) != string(before) {
		t.Error("a second boot issued a new certificate")
	}
	// Without a CA (Insecure), fleetd is told to accept plain HTTP.
	c.ca = nil
	if unit := m1.fleetdUnit(); !strings.Contains(unit, `FLEET_ETCD_INSECURE=true`) || !strings.Contains(unit, "FLEET_ETCD_PEER_URL=http://") {
		t.Errorf("an insecure lab:\n%s", unit)
	}
}

func TestProcess(t *testing.T) {
	self := ProcessOf(os.Getpid())
	if !self.Alive() || self.Start == 0 {
		t.Errorf("this process: %+v, alive %v", self, self.Alive())
	}
	if (Process{PID: self.PID, Start: self.Start + 1}).Alive() {
		t.Error("a process with another start time is alive")
	}
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child := ProcessOf(cmd.Process.Pid)
	deadline := time.Now().Add(5 * time.Second)
	for child.Alive() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // it exits and stays a zombie until Wait
	}
	if child.Alive() {
		t.Error("a zombie counts as alive")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if (Process{}).Alive() {
		t.Error("the zero Process is alive")
	}
}

func TestReadStateMissing(t *testing.T) {
	if _, err := ReadState(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadState of an empty directory: %v", err)
	}
	if _, err := Teardown("Bad-Name", t.TempDir()); err == nil {
		t.Error("Teardown accepted a bad name")
	}
}

// TestClusterAndState boots a two-machine cluster and drives it both
// in-process and through its state file, as fleetlab does.
func TestClusterAndState(t *testing.T) {
	if err := nsboot.Check(); err != nil {
		t.Skipf("needs root on Linux to boot machines: %v", err)
	}
	fleetd := filepath.Join(t.TempDir(), "fleetd")
	if out, err := exec.Command("go", "build", "-o", fleetd, "github.com/fleetsim/fleet/cmd/fleetd").CombinedOutput(); err != nil {
		t.Fatalf("building fleetd: %v\n%s", err, out)
	}
	const dir = "/run/fleetct"
	if owner, ok := InUse(dir); ok {
		t.Fatalf("the test lab fleetct is in use by process %d (another test run?)", owner.PID)
	}
	if _, err := Teardown("fleetct", dir); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, Config{Name: "fleetct", Machines: 2, Subnet: "10.77.2", Fleetd: fleetd, Dir: dir, Progress: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
		if n, err := Teardown("fleetct", dir); n != 0 || err != nil {
			t.Errorf("after Close, Teardown found %d things (%v)", n, err)
		}
	})
	if _, err := Start(ctx, Config{Name: "fleetct", Machines: 1, Subnet: "10.77.3", Fleetd: fleetd, Dir: dir + "-again"}); err == nil ||
		!strings.Contains(err.Error(), "bridge fleetct0 exists") {
		t.Errorf("a second lab of the same name: %v", err)
	}
	checkStateDriven(t, dir, c)
}

// checkStateDriven cuts, heals, runs a command in and kills a machine
// through the state file.
func checkStateDriven(t *testing.T, dir string, c *Cluster) {
	st, err := ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Owner.Alive() || len(st.Machines) != 2 || st.Endpoint != "http://10.77.2.11:8080" {
		t.Fatalf("state: %+v", st)
	}
	m2, err := st.Machine("core-02")
	if err != nil {
		t.Fatal(err)
	}
	if !m2.Up() || !m2.LinkUp() {
		t.Fatalf("core-02: up %v, link up %v", m2.Up(), m2.LinkUp())
	}
	if err := m2.SetLink(false); err != nil || m2.LinkUp() {
		t.Fatalf("cut core-02: %v, link up %v", err, m2.LinkUp())
	}
	if err := m2.SetLink(true); err != nil || !m2.LinkUp() {
		t.Fatalf("heal core-02: %v, link up %v", err, m2.LinkUp())
	}
	cmd, err := m2.Command("hostname")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := cmd.Output(); err != nil || strings.TrimSpace(string(out)) != "core-02" {
		t.Errorf("hostname in core-02: %q, %v", out, err)
	}
	if err := m2.Kill(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.Machine("core-02").Up() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st, err = ReadState(dir); err != nil {
		t.Fatal(err)
	}
	if m, _ := st.Machine("core-02"); m.Up() || m.Systemd.PID != 0 {
		t.Errorf("after the kill, the state says core-02 is %+v", m)
	}
	if _, err := st.Machine("core-09"); err == nil {
		t.Error("a machine that does not exist was found")
	}
}
