// Package nsboot boots a real systemd, as PID 1 of fresh namespaces, on a
// host whose own PID 1 need not be systemd. Tests use it to drive the
// agent's D-Bus code against the real thing, and the local lab uses it to
// give each simulated machine its own init system.
//
// A machine is made as the team's notes on a real systemd in tests
// (real-systemd-in-tests.md) describe: unshare makes new PID, mount, UTS, IPC and cgroup namespaces
// (mounts private); the machine's root is an overlayfs over the host's /
// with a tmpfs upper layer, entered with chroot, so nothing it writes
// reaches the host's files; it has its own /proc, /sys, cgroup2 tree,
// /dev, /run, /tmp, hostname and /etc/machine-id; units that must not run
// in a lab (databases, timers, getty, logind, udev, ...) are masked, and
// systemd boots a small target that starts only sysinit and D-Bus, as in
// a container (container=nsboot), without the capabilities to load kernel
// modules or set the clock.
//
// With PrivateNetwork the machine also gets a network namespace of its
// own, with only a loopback interface, for the caller to wire (the local
// lab moves one end of a veth in).
//
// The host reaches the machine's system bus through
// /proc/<pid>/root/run/dbus/system_bus_socket (BusAddress) and runs
// commands inside with nsenter (Exec). Kill crashes it and Poweroff stops
// it cleanly; Shutdown powers it off if it still runs and removes
// everything Boot made: no process, mount, cgroup or directory stays.
// Machines die with the process that booted them; Sweep removes what
// they left then.
//
// Only root on Linux can boot a machine; Check says whether this host can.
// A host whose PID 1 is systemd would need the caller in a delegated scope
// (systemd-run --scope -p Delegate=yes); that is not done here.
package nsboot

import (
	"context"
	"crypto/rand"
	_ "embed" // the shell scripts
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// ErrUnsupported is wrapped by the errors of Check and Boot when this host
// cannot boot a machine: not Linux, not root, or a tool or kernel feature
// missing.
var ErrUnsupported = errors.New("nsboot: cannot boot a machine on this host")

// Options describe a machine to boot.
type Options struct {
	// Name names the machine on the host: its cgroup and work directory
	// start with "nsboot-<Name>-". Required: 1 to 32 characters of
	// [a-z0-9-], starting with a letter or digit.
	Name string
	// Hostname is the machine's hostname; Name when empty.
	Hostname string
	// MachineID is the machine's /etc/machine-id, 32 lowercase hex
	// digits; random when empty.
	MachineID string
	// BindDirs are host directories bind-mounted at the same path inside
	// (absolute, clean, existing). What the machine writes there reaches
	// the host: that is their purpose, for example a units directory the
	// agent writes on the host and links by the same path inside.
	BindDirs []string
	// PrivateNetwork gives the machine a network namespace of its own,
	// with only a loopback interface: the caller moves interfaces in
	// (ip link set ... netns PID). The namespace, and every interface in
	// it, ends with the machine.
	PrivateNetwork bool
}

// target is the unit the machine boots; setup.sh writes it.
const target = "nsboot.target"

// masked are the units a machine must not run: services of the host's
// installation, timers, logins, hardware and network setup, anything that
// would act on the host's kernel, and systemd-tmpfiles, which would wipe
// /tmp, a bind-mounted directory included.
var masked = []string{
	"apt-daily.timer", "apt-daily-upgrade.timer", "avahi-daemon.service",
	"avahi-daemon.socket", "console-getty.service", "cron.service",
	"dpkg-db-backup.timer", "e2scrub_all.timer", "e2scrub_reap.service",
	"fstrim.timer", "getty.target", "getty@.service", "man-db.timer",
	"postgresql.service", "ssh.service", "systemd-binfmt.service",
	"systemd-firstboot.service", "systemd-journald-audit.socket",
	"systemd-logind.service", "systemd-modules-load.service",
	"systemd-networkd.service", "systemd-networkd.socket",
	"systemd-pstore.service", "systemd-remount-fs.service",
	"systemd-resolved.service", "systemd-sysctl.service",
	"systemd-timesyncd.service", "systemd-tmpfiles-clean.service",
	"systemd-tmpfiles-clean.timer", "systemd-tmpfiles-setup.service",
	"systemd-udev-settle.service", "systemd-udev-trigger.service",
	"systemd-udevd.service", "systemd-udevd-control.socket",
	"systemd-udevd-kernel.socket",
}

//go:embed enter.sh
var enterScript string

//go:embed setup.sh
var setupScript string

// tools are the programs Boot and Exec run on the host, and the files a
// machine boots from.
var tools = []string{"/bin/sh", "unshare", "nsenter", "setpriv", "chroot", "/lib/systemd/systemd", "dbus-daemon"}

// Check reports why this host cannot boot a machine, or nil if it can.
// Errors wrap ErrUnsupported.
func Check() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("%w: needs Linux, this is %s", ErrUnsupported, runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: needs root (euid %d)", ErrUnsupported, os.Geteuid())
	}
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("%w: %w", ErrUnsupported, err)
		}
	}
	fs, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	for _, want := range []string{"overlay", "cgroup2", "tmpfs", "devpts"} {
		if !strings.Contains(string(fs), "\t"+want+"\n") {
			return fmt.Errorf("%w: the kernel has no %s file system", ErrUnsupported, want)
		}
	}
	if _, err := cgroupParents(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	return nil
}

// withDefaults validates o and fills in Hostname and MachineID.
func (o Options) withDefaults() (Options, error) {
	if !validName(o.Name, 32) {
		return o, fmt.Errorf("nsboot: invalid machine name %q: want 1-32 characters of [a-z0-9-], not starting with '-'", o.Name)
	}
	if o.Hostname == "" {
		o.Hostname = o.Name
	}
	if !validHostname(o.Hostname) {
		return o, fmt.Errorf("nsboot: machine %s: invalid hostname %q", o.Name, o.Hostname)
	}
	if o.MachineID == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return o, fmt.Errorf("nsboot: machine %s: machine-id: %w", o.Name, err)
		}
		o.MachineID = hex.EncodeToString(b[:])
	}
	if b, err := hex.DecodeString(o.MachineID); err != nil || len(b) != 16 || strings.ToLower(o.MachineID) != o.MachineID || o.MachineID == strings.Repeat("0", 32) {
		return o, fmt.Errorf("nsboot: machine %s: invalid machine-id %q: want 32 lowercase hex digits, not all zero", o.Name, o.MachineID)
	}
	for _, d := range o.BindDirs {
		if err := checkBindDir(d); err != nil {
			return o, fmt.Errorf("nsboot: machine %s: %w", o.Name, err)
		}
	}
	return o, nil
}

func checkBindDir(d string) error {
	if !filepath.IsAbs(d) || filepath.Clean(d) != d || d == "/" || strings.ContainsAny(d, "\n\x00") {
		return fmt.Errorf("bind directory %q: want an absolute, clean path other than /", d)
	}
	fi, err := os.Stat(d)
	if err != nil {
		return fmt.Errorf("bind directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("bind directory %s: not a directory", d)
	}
	return nil
}

func validName(s string, max int) bool {
	if s == "" || len(s) > max || s[0] == '-' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validHostname(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '-' || s[0] == '.' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Boot boots a machine and waits until its systemd has finished booting
// (is-system-running says running or degraded) or ctx ends. The machine
// outlives ctx: end it with Shutdown. On error nothing is left behind.
func Boot(ctx context.Context, o Options) (*Machine, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := start(o)
	if err != nil {
		return nil, err
	}
	if err := m.waitReady(ctx); err != nil {
		console := m.Console()
		if len(console) > 4096 {
			console = console[len(console)-4096:]
		}
		return nil, errors.Join(fmt.Errorf("nsboot: boot %s: %w\nconsole:\n%s", o.Name, err, console), m.Shutdown())
	}
	return m, nil
}

// start makes the work directory and cgroups and starts enter.sh.
func start(o Options) (*Machine, error) {
	base, err := os.MkdirTemp("", "nsboot-"+o.Name+"-")
	if err != nil {
		return nil, fmt.Errorf("nsboot: boot %s: %w", o.Name, err)
	}
	m := &Machine{opts: o, base: base, exited: make(chan struct{}), console: &tail{max: 64 << 10}}
	m.cgroups, err = makeCgroups(filepath.Base(base))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("nsboot: boot %s: %w", o.Name, err), m.Shutdown())
	}
	args := append([]string{"-c", enterScript, "nsboot-enter"}, m.cgroups...)
	args = append(append(args, "--"), o.BindDirs...)
	cmd := exec.Command("/bin/sh", args...)
	cmd.Env = []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"NSBOOT_SETUP=" + setupScript,
		"NSBOOT_BASE=" + base,
		"NSBOOT_HOSTNAME=" + o.Hostname,
		"NSBOOT_MACHINE_ID=" + o.MachineID,
		"NSBOOT_TARGET=" + target,
		"NSBOOT_MASK=" + strings.Join(masked, " "),
		"NSBOOT_NET=" + strconv.FormatBool(o.PrivateNetwork),
	}
	cmd.Stdout, cmd.Stderr = m.console, m.console
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		return nil, errors.Join(fmt.Errorf("nsboot: boot %s: %w", o.Name, err), m.Shutdown())
	}
	m.cmd = cmd
	go func() {
		m.waitErr = cmd.Wait()
		close(m.exited)
	}()
	return m, nil
}
