package nsboot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// needBoot skips the test unless this host can boot a machine.
func needBoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: boots a real systemd in fresh namespaces")
	}
	if err := Check(); err != nil {
		t.Skipf("needs root on Linux with unshare, overlayfs and cgroup2: %v", err)
	}
}

// boot boots a machine that is shut down when the test ends, failed or
// not, and checks then that it left nothing behind.
func boot(t *testing.T, o Options) *Machine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	m, err := Boot(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("machine %s (pid %d) booted in %v", o.Name, m.PID(), time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := m.Shutdown(); err != nil {
			t.Error(err)
		}
		checkGone(t, m)
	})
	return m
}

// run runs a command inside m and returns its trimmed output.
func run(t *testing.T, m *Machine, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := m.Exec(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// checkGone checks that a shut-down machine left no process, cgroup or
// directory behind. (Its mounts lived only in its own mount namespace;
// TestBootAndShutdown compares the host's mount table.)
func checkGone(t *testing.T, m *Machine) {
	t.Helper()
	if comm, err := os.ReadFile("/proc/" + strconv.Itoa(m.PID()) + "/comm"); err == nil && strings.TrimSpace(string(comm)) == "systemd" {
		t.Errorf("machine %s: systemd (pid %d) still running", m.Name(), m.PID())
	}
	for _, cg := range m.cgroups {
		if _, err := os.Stat(cg); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("machine %s: cgroup %s left behind (%v)", m.Name(), cg, err)
		}
	}
	if _, err := os.Stat(m.base); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("machine %s: directory %s left behind (%v)", m.Name(), m.base, err)
	}
}

func TestBootAndShutdown(t *testing.T) {
	needBoot(t)
	mountsBefore := readFile(t, "/proc/self/mountinfo")
	bind := t.TempDir()
	const id = "0123456789abcdef0123456789abcdef"
	m := boot(t, Options{Name: "nsb-boot", Hostname: "alpha", MachineID: id, BindDirs: []string{bind}})

	if state := run(t, m, "systemctl", "is-system-running"); state != "running" {
		t.Errorf("is-system-running = %q, want running; failed units:\n%s", state, run(t, m, "systemctl", "--failed", "--no-legend"))
	}
	if got := run(t, m, "hostname"); got != "alpha" {
		t.Errorf("hostname = %q, want alpha", got)
	}
	if got := run(t, m, "cat", "/etc/machine-id"); got != id {
		t.Errorf("machine-id = %q, want %s", got, id)
	}
	checkBoundingSet(t, m)
	if !strings.HasPrefix(m.BusAddress(), "unix:path=/proc/") {
		t.Errorf("BusAddress() = %q", m.BusAddress())
	}

	// The bind directory is shared; the rest of the root is not.
	if err := os.WriteFile(filepath.Join(bind, "from-host"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := run(t, m, "cat", filepath.Join(bind, "from-host")); got != "hi" {
		t.Errorf("bind dir inside: got %q", got)
	}
	marker := "/etc/nsboot-test-" + filepath.Base(bind)
	run(t, m, "sh", "-c", "echo inside >"+marker+" && echo inside >"+filepath.Join(bind, "from-machine"))
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s written inside the machine reached the host (%v)", marker, err)
	}
	if got := readFile(t, filepath.Join(bind, "from-machine")); got != "inside\n" {
		t.Errorf("bind dir on the host: got %q", got)
	}
	if _, err := os.Stat(m.Root() + "/run/systemd/system"); err != nil {
		t.Errorf("machine has no /run/systemd/system: %v", err)
	}

	// A unit's process and a process started by Exec both die with it.
	run(t, m, "systemd-run", "--unit=sleeper", "/bin/sleep", "1000")
	run(t, m, "sh", "-c", "sleep 1000 >/dev/null 2>&1 &")
	pidns, err := os.Readlink("/proc/" + strconv.Itoa(m.PID()) + "/ns/pid")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := m.Shutdown(); err != nil {
		t.Fatal(err)
	}
	t.Logf("shutdown in %v", time.Since(start).Round(time.Millisecond))
	if err := m.Shutdown(); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	checkGone(t, m)
	if left := processesIn(t, pidns); len(left) > 0 {
		t.Errorf("processes left in the machine's PID namespace %s: %v", pidns, left)
	}
	if after := readFile(t, "/proc/self/mountinfo"); after != mountsBefore {
		t.Errorf("host mount table changed:\nbefore:\n%s\nafter:\n%s", mountsBefore, after)
	}
}

func TestTwoMachines(t *testing.T) {
	needBoot(t)
	names := []string{"nsb-two-a", "nsb-two-b"}
	machines := make([]*Machine, len(names))
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			machines[i], errs[i] = Boot(ctx, Options{Name: name})
		}()
	}
	wg.Wait()
	for i, m := range machines {
		if m != nil {
			t.Cleanup(func() {
				if err := m.Shutdown(); err != nil {
					t.Error(err)
				}
				checkGone(t, m)
			})
		}
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
	}
	a, b := machines[0], machines[1]
	if a.BusAddress() == b.BusAddress() || a.MachineID() == b.MachineID() {
		t.Errorf("machines share a bus (%s) or a machine-id (%s)", a.BusAddress(), a.MachineID())
	}
	for _, m := range machines {
		if got := run(t, m, "hostname"); got != m.Name() {
			t.Errorf("hostname = %q, want %s", got, m.Name())
		}
		if got := run(t, m, "cat", "/etc/machine-id"); got != m.MachineID() {
			t.Errorf("%s: machine-id = %q, want %s", m.Name(), got, m.MachineID())
		}
	}
	run(t, a, "sh", "-c", "echo a >/tmp/only-in-a")
	if _, err := os.Stat(b.Root() + "/tmp/only-in-a"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file in a's /tmp is visible in b (%v)", err)
	}
	if err := a.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if state := run(t, b, "systemctl", "is-system-running"); state != "running" {
		t.Errorf("b after a's shutdown: %q", state)
	}
}

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []Options{
		{},
		{Name: "Upper"},
		{Name: "-dash"},
		{Name: strings.Repeat("a", 33)},
		{Name: "ok", Hostname: "bad host"},
		{Name: "ok", MachineID: "xyz"},
		{Name: "ok", MachineID: strings.Repeat("0", 32)},
		{Name: "ok", MachineID: strings.Repeat("A", 32)},
		{Name: "ok", BindDirs: []string{"relative"}},
		{Name: "ok", BindDirs: []string{"/"}},
		{Name: "ok", BindDirs: []string{dir + "/../x"}},
		{Name: "ok", BindDirs: []string{filepath.Join(dir, "missing")}},
	} {
		if _, err := o.withDefaults(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	o, err := Options{Name: "m1", BindDirs: []string{dir}}.withDefaults()
	if err != nil || o.Hostname != "m1" || len(o.MachineID) != 32 {
		t.Errorf("defaults: %+v, %v", o, err)
	}
}

func TestCheckRefusesNonRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("runs as root: the refusal is for other users")
	}
	if _, err := Boot(context.Background(), Options{Name: "x"}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Boot as non-root: %v, want ErrUnsupported", err)
	}
}

// checkBoundingSet checks that the machine's systemd cannot load kernel
// modules or set the clock.
func checkBoundingSet(t *testing.T, m *Machine) {
	t.Helper()
	const capSysModule, capSysTime = 16, 25
	for _, line := range strings.Split(readFile(t, "/proc/"+strconv.Itoa(m.PID())+"/status"), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			bnd, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			if bnd&(1<<capSysModule|1<<capSysTime) != 0 {
				t.Errorf("systemd's bounding set %x has CAP_SYS_MODULE or CAP_SYS_TIME", bnd)
			}
			return
		}
	}
	t.Error("no CapBnd in systemd's status")
}

// processesIn lists the host PIDs of processes in PID namespace ns.
func processesIn(t *testing.T, ns string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if link, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && link == ns {
			out = append(out, e.Name())
		}
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPrivateNetworkAndKill(t *testing.T) {
	needBoot(t)
	m := boot(t, Options{Name: "nsb-net", PrivateNetwork: true})
	links := run(t, m, "ip", "-o", "link", "show")
	if lines := strings.Split(links, "\n"); len(lines) != 1 || !strings.Contains(lines[0], ": lo:") {
		t.Errorf("links in a private network namespace:\n%s", links)
	}
	hostNet, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink("/proc/" + strconv.Itoa(m.PID()) + "/ns/net"); err != nil || got == hostNet {
		t.Errorf("machine's network namespace %q (%v) is the host's %q", got, err, hostNet)
	}
	run(t, m, "systemd-run", "--unit=sleeper", "/bin/sleep", "1000")
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.Done():
	default:
		t.Error("Done not closed after Kill")
	}
}

func TestSweepEndsAMachineAndItsLeftovers(t *testing.T) {
	needBoot(t)
	m := boot(t, Options{Name: "nsb-sweep-a"})
	n, err := Sweep("nsb-sweep-")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the machine still runs after Sweep")
	}
	if n != len(m.cgroups)+1 {
		t.Errorf("Sweep removed %d things, want %d cgroups and 1 directory", n, len(m.cgroups))
	}
	checkGone(t, m)
	if n, err := Sweep("nsb-sweep-"); n != 0 || err != nil {
		t.Errorf("second Sweep: %d, %v", n, err)
	}
	if _, err := Sweep("Bad/prefix"); err == nil {
		t.Error("Sweep accepted an invalid prefix")
	}
}

func TestInCgroup(t *testing.T) {
	text := "1:name=systemd:/nsboot-a-12/init.scope\n0::/nsboot-a-12/system.slice/x.service\n"
	for path, want := range map[string]bool{"/nsboot-a-12": true, "/nsboot-a-1": false, "/nsboot-a-123": false, "/other": false} {
		if got := inCgroup(text, path); got != want {
			t.Errorf("inCgroup(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestPoweroff(t *testing.T) {
	needBoot(t)
	m := boot(t, Options{Name: "nsb-poweroff"})
	if err := m.Poweroff(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.Done():
	case <-time.After(poweroffTimeout):
		t.Fatalf("still running %v after Poweroff", poweroffTimeout)
	}
}
