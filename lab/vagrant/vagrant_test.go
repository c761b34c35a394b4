package vagrant

import (
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
	vagrant := tool(t, "vagrant")
	cmd := isolated([]string{vagrant, "validate", "--ignore-provider"}, false)
	cmd.Dir = "../.."
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "VAGRANT_HOME="+filepath.Join(home, "vagrant.d"),
		"VAGRANT_DOTFILE_PATH="+filepath.Join(home, "dot-vagrant"), "VAGRANT_CHECKPOINT_DISABLE=1", "VAGRANT_NO_COLOR=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "validated successfully") {
		t.Fatalf("vagrant validate --ignore-provider: %v\n%s", err, out)
	}
	t.Logf("vagrant validate: %v", time.Since(start).Round(10*time.Millisecond))
}

func TestProvisionScript(t *testing.T) {
	bash := tool(t, "bash")
	if out, err := exec.Command(bash, "-n", "provision.sh").CombinedOutput(); err != nil {
		t.Fatalf("bash -n provision.sh: %v\n%s", err, out)
	}
	conf := filepath.Join(t.TempDir(), "fleet.conf")
	const cluster = "core-01=http://172.17.8.101:2380,core-02=http://172.17.8.102:2380,core-03=http://172.17.8.103:2380"
	cmd := exec.Command(bash, "provision.sh", "core-01", "172.17.8.101", cluster, "role=web,region=eu,disk=ssd", "8080", "30s")
	cmd.Env = append(os.Environ(), "PROVISION_CONF_ONLY="+conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("provision.sh with PROVISION_CONF_ONLY: %v\n%s", err, out)
	}
	cfg, _, err := fleetd.Load([]string{"--config", conf}, nil, os.ReadFile)
	if err != nil {
		t.Fatalf("fleetd cannot read the fleet.conf provision.sh writes: %v", err)
	}
	if cfg.PublicIP != "172.17.8.101" || cfg.EtcdName != "core-01" || cfg.EtcdInitialCluster != cluster ||
		cfg.EtcdPeerURL != "http://172.17.8.101:2380" || cfg.AgentTTL != 30*time.Second ||
		cfg.Metadata["role"] != "web" || cfg.Metadata["region"] != "eu" || cfg.Metadata["disk"] != "ssd" ||
		strings.Join(cfg.APIListen, ",") != "unix:///var/run/fleet.sock,http://172.17.8.101:8080" {
		t.Errorf("fleet.conf read back: %+v", cfg)
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
