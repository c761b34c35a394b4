package vagrant

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The Vagrant cluster test (make vagrant-test): three VMs from the local
// box, each its own kernel and systemd, fleetd in each, driven from the
// host through bin/fleetctl over TLS. It runs only with VAGRANT_TEST=1
// and FLEET_BOX_DIR set (make vagrant-test sets both), as root, with
// libvirt and vagrant-libvirt installed; it leaves no domain, network or
// volume behind.

const (
	vagrantAgentTTL = 20 * time.Second
	// vagrantSlack covers what a CPU emulated by QEMU adds: a unit's
	// start, systemd's and fleetd's own work, etcd's lease revocation.
	vagrantSlack = 30 * time.Second
)

// vagrantRun is one cluster test run: the environment every vagrant and
// fleetctl command gets, and the checks' tally.
type vagrantRun struct {
	t        *testing.T
	root     string // the repository
	env      []string
	units    string // where the unit files are
	passed   int
	failed   int
	started  time.Time
	figures  []string
	machines []string
	// libvirt's networks before the run: any other after it is left over
	netsBefore map[string]bool
}

func TestVagrantCluster(t *testing.T) {
	if os.Getenv("VAGRANT_TEST") != "1" {
		t.Skip("the Vagrant cluster test runs with make vagrant-test (VAGRANT_TEST=1)")
	}
	boxDir := os.Getenv("FLEET_BOX_DIR")
	if boxDir == "" {
		t.Fatal("FLEET_BOX_DIR is not set: make vagrant-test builds the box and sets it")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	r := &vagrantRun{t: t, root: root, units: t.TempDir(), started: time.Now(),
		machines: []string{"core-01", "core-02", "core-03"}}
	tls := filepath.Join(root, ".vagrant", "fleet-tls")
	r.env = append(os.Environ(), "FLEET_BOX=local", "FLEET_BOX_DIR="+boxDir, "FLEET_LIBVIRT_DRIVER="+libvirtDriver(),
		"FLEET_AGENT_TTL="+vagrantAgentTTL.String(), "VAGRANT_CHECKPOINT_DISABLE=1", "VAGRANT_NO_COLOR=1",
		"FLEETCTL_ENDPOINT=https://172.17.8.101:8080",
		// TLS and etcd on an emulated CPU: seconds where a real one takes
		// milliseconds.
		"FLEETCTL_REQUEST_TIMEOUT=60", "FLEETCTL_CA_FILE="+filepath.Join(tls, "ca.pem"),
		"FLEETCTL_CERT_FILE="+filepath.Join(tls, "fleetctl.pem"), "FLEETCTL_KEY_FILE="+filepath.Join(tls, "fleetctl-key.pem"))
	stop := startLibvirt(t)
	defer stop()
	r.netsBefore = map[string]bool{}
	for _, n := range virshNames("net-list", "--all", "--name") {
		r.netsBefore[n] = true
	}
	defer r.summary()
	defer r.destroy()
	r.up()
	r.lifecycle()
	r.spread()
	r.global()
	r.crash()
	r.hundred() // last: on emulated disks it keeps etcd busy for minutes
}

// summary prints the run's figures and its tally, last.
func (r *vagrantRun) summary() {
	fmt.Printf("figures: %s\n", strings.Join(r.figures, ", "))
	fmt.Printf("vagrant: %d passed, %d failed, took %d s\n", r.passed, r.failed, int(time.Since(r.started).Seconds()))
	if r.failed > 0 {
		r.t.Fail()
	}
}

// libvirtDriver is kvm where the CPU offers virtualization to guests,
// qemu (emulation) where it does not: a /dev/kvm without vmx or svm
// cannot run stock guests.
func libvirtDriver() string {
	if d := os.Getenv("FLEET_LIBVIRT_DRIVER"); d != "" {
		return d
	}
	cpu, err := os.ReadFile("/proc/cpuinfo")
	if _, kvm := os.Stat("/dev/kvm"); err == nil && kvm == nil && regexp.MustCompile(`\b(vmx|svm)\b`).Match(cpu) {
		return "kvm"
	}
	return "qemu"
}

// startLibvirt starts virtlogd and libvirtd if they are not running and
// returns what stops the ones it started.
func startLibvirt(t *testing.T) func() {
	var started []string
	for _, d := range []string{"virtlogd", "libvirtd"} {
		if exec.Command("pgrep", "-x", d).Run() == nil {
			continue
		}
		pid := filepath.Join(t.TempDir(), d+".pid")
		if out, err := exec.Command(d, "-d", "--pid-file", pid).CombinedOutput(); err != nil {
			t.Fatalf("starting %s: %v\n%s", d, err, out)
		}
		started = append(started, pid)
	}
	return func() {
		for i := len(started) - 1; i >= 0; i-- {
			if b, err := os.ReadFile(started[i]); err == nil {
				_ = exec.Command("kill", strings.TrimSpace(string(b))).Run() // best effort: it is ours
			}
		}
	}
}

// check runs one named check and prints its line.
func (r *vagrantRun) check(name string, f func() error) bool {
	start := time.Now()
	err := f()
	took := time.Since(start).Round(100 * time.Millisecond)
	if err != nil {
		r.failed++
		fmt.Printf("FAIL %s (%v): %v\n", name, took, err)
		return false
	}
	r.passed++
	fmt.Printf("ok   %s (%v)\n", name, took)
	return true
}

// cmd runs name with args in dir under the run's environment.
func (r *vagrantRun) cmd(timeout time.Duration, dir, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c := exec.CommandContext(ctx, name, args...)
	c.Dir, c.Env = dir, r.env
	out, err := c.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// vagrant runs vagrant in the repository.
func (r *vagrantRun) vagrant(timeout time.Duration, args ...string) (string, error) {
	return r.cmd(timeout, r.root, "vagrant", args...)
}

// fleetctl runs bin/fleetctl in the unit files' directory.
func (r *vagrantRun) fleetctl(args ...string) (string, error) {
	return r.fleetctlWithin(2*time.Minute, args...)
}

// fleetctlWithin is fleetctl for a command that may take longer: each
// unit fleetctl submits is an etcd transaction on emulated disks.
func (r *vagrantRun) fleetctlWithin(timeout time.Duration, args ...string) (string, error) {
	return r.cmd(timeout, r.units, filepath.Join(r.root, "bin", "fleetctl"), args...)
}

// unitFile writes a unit file where fleetctl runs.
func (r *vagrantRun) unitFile(name, body string) {
	if err := os.WriteFile(filepath.Join(r.units, name), []byte(body), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// waitFor polls cond until it holds or timeout passes, returning how
// long it took and the last reason it gave.
func waitFor(timeout time.Duration, cond func() (bool, string)) (time.Duration, error) {
	start := time.Now()
	last := ""
	for time.Since(start) < timeout {
		ok, why := cond()
		if ok {
			return time.Since(start), nil
		}
		last = why
		time.Sleep(time.Second)
	}
	return 0, fmt.Errorf("not within %v: %s", timeout, last)
}

// listUnits returns list-units' rows as unit -> the IPs it is active on.
func (r *vagrantRun) listUnits() (map[string][]string, error) {
	out, err := r.fleetctl("list-units", "--no-legend", "--fields", "unit,machine,active")
	if err != nil {
		return nil, err
	}
	at := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[2] == "active" {
			at[f[0]] = append(at[f[0]], f[1][strings.LastIndex(f[1], "/")+1:])
		}
	}
	return at, nil
}

// up boots the three VMs and waits for the three machines in fleet.
func (r *vagrantRun) up() {
	if !r.check("vagrant up: three VMs booted and provisioned", func() error {
		start := time.Now()
		if _, err := r.vagrant(40*time.Minute, "up", "--provider=libvirt"); err != nil {
			return err
		}
		r.figures = append(r.figures, fmt.Sprintf("vagrant up %d s", int(time.Since(start).Seconds())))
		return nil
	}) {
		r.t.FailNow()
	}
	r.check("list-machines: three machines with their addresses and metadata", func() error {
		_, err := waitFor(3*time.Minute, func() (bool, string) {
			out, err := r.fleetctl("list-machines", "--no-legend")
			if err != nil {
				return false, err.Error()
			}
			for _, want := range []string{"172.17.8.101", "172.17.8.102", "172.17.8.103", "role=db"} {
				if !strings.Contains(out, want) {
					return false, "no " + want + " in\n" + out
				}
			}
			return true, ""
		})
		return err
	})
}
