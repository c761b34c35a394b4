package nsboot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Machine is a booted systemd in its own namespaces. Its methods are safe
// for concurrent use.
type Machine struct {
	opts    Options
	base    string   // host work directory; a tmpfs is mounted on it inside
	cgroups []string // the machine's cgroup in each hierarchy
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited
	waitErr error         // cmd's exit, once exited is closed
	console *tail

	pid  int         // systemd's PID, as the host sees it
	proc *os.Process // systemd, held by pidfd: signals never reach a reused PID

	shutdownOnce sync.Once
	shutdownErr  error
}

// Timings of readiness checks and shutdown.
const (
	pollInterval    = 5 * time.Millisecond
	poweroffTimeout = 15 * time.Second
	killTimeout     = 5 * time.Second
)

// poweroff is SIGRTMIN+4, which asks systemd to power off. The C library's
// SIGRTMIN is 34 (the kernel's first two are reserved for threads).
const poweroff = syscall.Signal(34 + 4)

// Name returns the machine's name.
func (m *Machine) Name() string { return m.opts.Name }

// Hostname returns the machine's hostname.
func (m *Machine) Hostname() string { return m.opts.Hostname }

// MachineID returns the machine's /etc/machine-id.
func (m *Machine) MachineID() string { return m.opts.MachineID }

// PID returns the PID of the machine's systemd as the host sees it.
func (m *Machine) PID() int { return m.pid }

// Root returns the machine's root directory as the host sees it,
// /proc/<pid>/root. Paths under it reach the machine's own mounts, /run
// included.
func (m *Machine) Root() string { return "/proc/" + strconv.Itoa(m.pid) + "/root" }

// BusAddress returns the D-Bus address of the machine's system bus, for
// DBUS_SYSTEM_BUS_ADDRESS or a direct dial.
func (m *Machine) BusAddress() string {
	return "unix:path=" + m.Root() + "/run/dbus/system_bus_socket"
}

// Console returns what the machine's setup and systemd wrote to their
// standard output and error (the last 64 KiB).
func (m *Machine) Console() string { return m.console.String() }

// Exec runs a command inside the machine (all its namespaces and its root
// directory, with a minimal environment, but the caller's capabilities)
// and returns its standard output.
// On failure the error includes the command's standard error.
func (m *Machine) Exec(ctx context.Context, args ...string) (string, error) {
	if len(args) == 0 {
		return "", fmt.Errorf("nsboot: machine %s: exec: no command", m.opts.Name)
	}
	nsArgs := append([]string{"-t", strconv.Itoa(m.pid), "-a", "-r", "-w", "--"}, args...)
	cmd := exec.CommandContext(ctx, "nsenter", nsArgs...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("nsboot: machine %s: %s: %w: %s", m.opts.Name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// waitReady finds systemd, waits for the bus socket, then for the end of
// the boot.
func (m *Machine) waitReady(ctx context.Context) error {
	if err := m.findSystemd(ctx); err != nil {
		return err
	}
	sock := m.Root() + "/run/dbus/system_bus_socket"
	err := m.poll(ctx, "the system bus socket", func() (bool, error) {
		fi, err := os.Stat(sock)
		return err == nil && fi.Mode()&os.ModeSocket != 0, nil
	})
	if err != nil {
		return err
	}
	out, err := m.Exec(ctx, "systemctl", "is-system-running", "--wait")
	state := strings.TrimSpace(out)
	if state != "running" && state != "degraded" {
		return fmt.Errorf("system state %q: %w", state, err)
	}
	return nil
}

// findSystemd waits until the child of unshare has become systemd and
// holds it by pidfd. The child cannot be a reused PID: unshare has not
// reaped it.
func (m *Machine) findSystemd(ctx context.Context) error {
	parent := strconv.Itoa(m.cmd.Process.Pid)
	children := "/proc/" + parent + "/task/" + parent + "/children"
	return m.poll(ctx, "systemd to start", func() (bool, error) {
		b, err := os.ReadFile(children)
		if err != nil {
			return false, nil // enter.sh has not become unshare yet
		}
		f := strings.Fields(string(b))
		if len(f) != 1 {
			return false, nil
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			return false, fmt.Errorf("children of %s: %w", parent, err)
		}
		comm, err := os.ReadFile("/proc/" + f[0] + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "systemd" {
			return false, nil
		}
		proc, err := os.FindProcess(pid)
		if err != nil {
			return false, fmt.Errorf("systemd (pid %d): %w", pid, err)
		}
		m.pid, m.proc = pid, proc
		return true, nil
	})
}

// poll calls done every pollInterval until it reports true, fails, the
// machine exits or ctx ends.
func (m *Machine) poll(ctx context.Context, what string, done func() (bool, error)) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-m.exited:
			return fmt.Errorf("waiting for %s: the machine exited: %v", what, m.waitErr)
		case <-t.C:
		}
	}
}

// Done is closed once the machine has ended: powered off, killed, or
// crashed. Shutdown must still be called to remove what it left.
func (m *Machine) Done() <-chan struct{} { return m.exited }

// Kill ends the machine at once, as a crash would: SIGKILL to its
// systemd ends its PID namespace and every process in it, without
// stopping any unit. It returns when the machine has ended. Shutdown
// must still be called to remove its cgroups and work directory.
func (m *Machine) Kill() error {
	if err := m.proc.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("nsboot: kill %s: %w", m.opts.Name, err)
	}
	if !m.waitExit(killTimeout) {
		return fmt.Errorf("nsboot: kill %s: pid %d did not exit after SIGKILL", m.opts.Name, m.pid)
	}
	return nil
}

// Poweroff asks the machine's systemd to power off (SIGRTMIN+4), as
// "systemctl poweroff" would, and returns without waiting: Done is closed
// once it has. Shutdown must still be called.
func (m *Machine) Poweroff() error {
	if err := m.proc.Signal(poweroff); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("nsboot: poweroff %s: %w", m.opts.Name, err)
	}
	return nil
}

// Shutdown powers the machine off (SIGRTMIN+4 to its systemd), kills it
// if it has not ended within 15 s, and removes its cgroups (deepest first)
// and work directory. With the PID namespace gone, every process and
// mount of the machine is gone too. Calling it again returns the first
// call's result.
func (m *Machine) Shutdown() error {
	m.shutdownOnce.Do(func() { m.shutdownErr = m.shutdown() })
	return m.shutdownErr
}

func (m *Machine) shutdown() error {
	var errs []error
	if m.cmd != nil {
		if err := m.stop(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, cg := range m.cgroups {
		if err := removeCgroup(cg); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.Remove(m.base); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("nsboot: shutdown %s: %w", m.opts.Name, err)
	}
	return nil
}

// stop ends the machine's processes: poweroff, then SIGKILL to systemd
// (which ends its PID namespace) and to unshare.
func (m *Machine) stop() error {
	var errs []error
	if m.proc != nil {
		defer m.proc.Release()
		err := m.proc.Signal(poweroff)
		if (err == nil || errors.Is(err, os.ErrProcessDone)) && m.waitExit(poweroffTimeout) {
			return nil
		}
		if err := m.proc.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			errs = append(errs, fmt.Errorf("kill systemd: %w", err))
		}
	}
	if err := m.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		errs = append(errs, fmt.Errorf("kill unshare: %w", err))
	}
	if !m.waitExit(killTimeout) {
		errs = append(errs, fmt.Errorf("pid %d did not exit after SIGKILL", m.cmd.Process.Pid))
	}
	return errors.Join(errs...)
}

func (m *Machine) waitExit(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-m.exited:
		return true
	case <-t.C:
		return false
	}
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
