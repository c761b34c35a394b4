package vagrant

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/fleetd"
)

// tool returns the path of a program the check needs; without it the
// test is skipped, or fails in CI.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing; .ci/run installs it (apt-get install --no-install-recommends vagrant)", name)
		}
		t.Skipf("%s is not installed: check skipped (apt-get install --no-install-recommends vagrant)", name)
	}
	return p
}

// isolated runs args with no network and, when asked, a private tmpfs
// over /run/systemd, when root; as is otherwise.
func isolated(args []string, privateRunSystemd bool) *exec.Cmd {
	if os.Geteuid() != 0 {
		return exec.Command(args[0], args[1:]...)
	}
	if !privateRunSystemd {
		return exec.Command("unshare", append([]string{"--net", "--"}, args...)...)
	}
	// systemd-analyze verify writes /run/systemd/systemd-units-load:
	// never on the host.
	script := `mount -t tmpfs fleet-verify /run/systemd && exec "$@"`
	return exec.Command("unshare", append([]string{"--net", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh"}, args...)...)
}

func TestVagrantfileSyntax(t *testing.T) {
	out, err := exec.Command(tool(t, "ruby"), "-c", "../../Vagrantfile").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Syntax OK") {
		t.Fatalf("ruby -c Vagrantfile: %v\n%s", err, out)
	}
}

func TestVagrantValidate(t *testing.T) {
	box := t.TempDir()
	for _, f := range []string{"fleet-debian.box", "vmlinuz", "initrd.img"} {
		if err := os.WriteFile(filepath.Join(box, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"flatcar", nil, "validated successfully"},
		{"local box", []string{"FLEET_BOX=local", "FLEET_BOX_DIR=" + box, "FLEET_LIBVIRT_DRIVER=qemu"}, "validated successfully"},
		{"local box missing", []string{"FLEET_BOX=local", "FLEET_BOX_DIR=" + t.TempDir()}, "run make vagrant-box"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := vagrantValidate(t, tc.env)
			if (err == nil) != (tc.want == "validated successfully") || !strings.Contains(out, tc.want) {
				t.Fatalf("vagrant validate --ignore-provider: %v, want %q in\n%s", err, tc.want, out)
			}
		})
	}
}

// vagrantValidate runs vagrant validate on the Vagrantfile with env
// added, in a Vagrant home of its own.
func vagrantValidate(t *testing.T, env []string) (string, error) {
	vagrant := tool(t, "vagrant")
	cmd := isolated([]string{vagrant, "validate", "--ignore-provider"}, false)
	cmd.Dir = "../.."
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "VAGRANT_HOME="+filepath.Join(home, "vagrant.d"),
		"VAGRANT_DOTFILE_PATH="+filepath.Join(home, "dot-vagrant"), "VAGRANT_CHECKPOINT_DISABLE=1", "VAGRANT_NO_COLOR=1")
	cmd.Env = append(cmd.Env, env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("vagrant validate: %v", time.Since(start).Round(10*time.Millisecond))
	return string(out), err
}

func TestBoxBuildScript(t *testing.T) {
	if out, err := exec.Command(tool(t, "bash"), "-n", "box/build.sh").CombinedOutput(); err != nil {
		t.Fatalf("bash -n box/build.sh: %v\n%s", err, out)
	}
}

func TestProvisionScript(t *testing.T) {
	bash := tool(t, "bash")
	if out, err := exec.Command(bash, "-n", "provision.sh").CombinedOutput(); err != nil {
		t.Fatalf("bash -n provision.sh: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		security, scheme, cluster string
	}{
		{"tls", "https", "core-01=https://172.17.8.101:2380,core-02=https://172.17.8.102:2380,core-03=https://172.17.8.103:2380"},
		{"insecure", "http", "core-01=http://172.17.8.101:2380,core-02=http://172.17.8.102:2380,core-03=http://172.17.8.103:2380"},
	} {
		conf := filepath.Join(t.TempDir(), "fleet.conf")
		cmd := exec.Command(bash, "provision.sh", "core-01", "172.17.8.101", tc.cluster, "role=web,region=eu,disk=ssd", "8080", "30s", tc.security)
		cmd.Env = append(os.Environ(), "PROVISION_CONF_ONLY="+conf)
		emulated := tc.security == "tls" // one case with the timing of the lab under emulation
		if emulated {
			cmd.Env = append(cmd.Env, "ETCD_REQUEST_TIMEOUT=30s", "ETCD_HEARTBEAT_INTERVAL=500ms", "ETCD_ELECTION_TIMEOUT=5s")
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("provision.sh %s with PROVISION_CONF_ONLY: %v\n%s", tc.security, err, out)
		}
		cfg, _, err := fleetd.Load([]string{"--config", conf}, nil, os.ReadFile)
		if err != nil {
			t.Fatalf("fleetd cannot read the fleet.conf provision.sh writes: %v", err)
		}
		if cfg.PublicIP != "172.17.8.101" || cfg.EtcdName != "core-01" || cfg.EtcdInitialCluster != tc.cluster ||
			cfg.EtcdPeerURL != tc.scheme+"://172.17.8.101:2380" || cfg.EtcdClientURL != tc.scheme+"://172.17.8.101:2379" ||
			cfg.AgentTTL != 30*time.Second ||
			cfg.Metadata["role"] != "web" || cfg.Metadata["region"] != "eu" || cfg.Metadata["disk"] != "ssd" ||
			strings.Join(cfg.APIListen, ",") != "unix:///var/run/fleet.sock,"+tc.scheme+"://172.17.8.101:8080" {
			t.Errorf("%s: fleet.conf read back: %+v", tc.security, cfg)
		}
		timing := [3]time.Duration{cfg.EtcdRequestTimeout, cfg.EtcdHeartbeatInterval, cfg.EtcdElectionTimeout}
		want := [3]time.Duration{fleetd.Defaults().EtcdRequestTimeout, 100 * time.Millisecond, time.Second}
		if emulated {
			want = [3]time.Duration{30 * time.Second, 500 * time.Millisecond, 5 * time.Second}
		}
		if timing != want {
			t.Errorf("%s: etcd request timeout, heartbeat and election timeout read back %v, want %v", tc.security, timing, want)
		}
		files := fleetd.TLSFiles{CAFile: "/etc/fleet/tls/ca.pem", CertFile: "/etc/fleet/tls/core-01.pem", KeyFile: "/etc/fleet/tls/core-01-key.pem"}
		secure := cfg.EtcdPeer == files && cfg.EtcdClient == files && cfg.API == files && !cfg.EtcdInsecure &&
			cfg.EtcdCAFile == files.CAFile && cfg.EtcdCertFile == files.CertFile && cfg.EtcdKeyFile == files.KeyFile
		if secure != (tc.security == "tls") || cfg.EtcdInsecure != (tc.security == "insecure") {
			t.Errorf("%s: TLS settings read back: peer %+v client %+v api %+v insecure %v", tc.security, cfg.EtcdPeer, cfg.EtcdClient, cfg.API, cfg.EtcdInsecure)
		}
	}
	out, err := exec.Command(bash, "provision.sh", "core-01", "172.17.8.101", "c", "m", "8080", "30s").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "tls|insecure") {
		t.Errorf("provision.sh without its security argument: %v, %s", err, out)
	}
}

func TestWriteCerts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fleet-tls")
	made, err := WriteCerts(dir, []string{"core-01=172.17.8.101", "core-02=172.17.8.102"})
	if err != nil || !made {
		t.Fatalf("WriteCerts: %v, %v", made, err)
	}
	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil || !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("ca.pem: %v", err)
	}
	for name, ip := range map[string]string{"core-01": "172.17.8.101", "core-02": "172.17.8.102"} {
		pair, err := tls.LoadX509KeyPair(filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: ip}); err != nil {
			t.Errorf("%s's certificate for %s: %v", name, ip, err)
		}
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "fleetctl.pem"), filepath.Join(dir, "fleetctl-key.pem")); err != nil {
		t.Errorf("the host's certificate: %v", err)
	}
	// Run again (vagrant-certs after vagrant up): kept, or the machines'
	// certificates would no longer match the CA the others trust.
	if made, err := WriteCerts(dir, []string{"core-01=172.17.8.101"}); err != nil || made {
		t.Errorf("a second WriteCerts: %v, %v", made, err)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "ca.pem")); string(again) != string(caPEM) {
		t.Error("a second WriteCerts replaced the CA")
	}
	if _, err := WriteCerts(filepath.Join(t.TempDir(), "x"), []string{"core-01"}); err == nil || !strings.Contains(err.Error(), "want NAME=IP") {
		t.Errorf("a machine without its IP: %v", err)
	}
}

func TestFleetdServiceVerifies(t *testing.T) {
	analyze := tool(t, "systemd-analyze")
	if os.Geteuid() != 0 {
		t.Skip("needs root: systemd-analyze verify writes under /run/systemd, which must be a private tmpfs here")
	}
	body, err := os.ReadFile("fleetd.service")
	if err != nil {
		t.Fatal(err)
	}
	// The binary is on the VM, not here: verify the unit with /bin/true in its place.
	unit := filepath.Join(t.TempDir(), "fleetd.service")
	if err := os.WriteFile(unit, []byte(strings.ReplaceAll(string(body), "/opt/bin/fleetd", "/bin/true")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := isolated([]string{analyze, "verify", unit}, true).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify fleetd.service: %v\n%s", err, out)
	}
}
