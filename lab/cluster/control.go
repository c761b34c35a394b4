package cluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// This file acts on the machines of a cluster that another process owns,
// through its state file: crash one, power it off, cut its link, run a
// command in it.

// Machine returns the machine with that hostname.
func (st *State) Machine(hostname string) (*MachineState, error) {
	var names []string
	for i := range st.Machines {
		if st.Machines[i].Hostname == hostname {
			return &st.Machines[i], nil
		}
		names = append(names, st.Machines[i].Hostname)
	}
	return nil, fmt.Errorf("cluster: no machine %q in the lab (there are %s)", hostname, strings.Join(names, ", "))
}

// Up reports whether the machine's systemd runs.
func (ms *MachineState) Up() bool { return ms.Systemd.Alive() }

// LinkUp reports whether the host's side of the machine's link is up.
func (ms *MachineState) LinkUp() bool {
	out, err := ipOutput("-o", "link", "show", "dev", ms.Veth)
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(out, "<")
	flags, _, _ := strings.Cut(rest, ">")
	for _, f := range strings.Split(flags, ",") {
		if f == "UP" {
			return true
		}
	}
	return false
}

// Kill crashes the machine: SIGKILL to its systemd. It returns once the
// machine is gone, or after timeout.
func (ms *MachineState) Kill(timeout time.Duration) error {
	return ms.signal(syscall.SIGKILL, timeout)
}

// Poweroff asks the machine's systemd to power off. It returns once the
// machine is gone, or after timeout.
func (ms *MachineState) Poweroff(timeout time.Duration) error {
	return ms.signal(syscall.Signal(34+4), timeout) // SIGRTMIN+4
}

// signal sends sig to the machine's systemd, held by pidfd and checked
// to be that process, and waits for it to end.
func (ms *MachineState) signal(sig syscall.Signal, timeout time.Duration) error {
	p, err := os.FindProcess(ms.Systemd.PID)
	if err != nil || !ms.Systemd.Alive() {
		return fmt.Errorf("cluster: machine %s is down", ms.Hostname)
	}
	defer p.Release()
	if err := p.Signal(sig); err != nil {
		if errors.Is(err, os.ErrProcessDone) {
			return nil
		}
		return fmt.Errorf("cluster: signal %s: %w", ms.Hostname, err)
	}
	deadline := time.Now().Add(timeout)
	for ms.Systemd.Alive() {
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster: machine %s still runs %v after %v", ms.Hostname, timeout, sig)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// SetLink puts the host's side of the machine's link up or down.
func (ms *MachineState) SetLink(up bool) error {
	if !ms.Up() {
		return fmt.Errorf("cluster: machine %s is down", ms.Hostname)
	}
	state := "down"
	if up {
		state = "up"
	}
	if err := ip("link", "set", ms.Veth, state); err != nil {
		return fmt.Errorf("cluster: %s: %w", ms.Hostname, err)
	}
	return nil
}

// Command returns a command that runs args inside the machine (all its
// namespaces and its root), for the caller to wire and run.
func (ms *MachineState) Command(args ...string) (*exec.Cmd, error) {
	if !ms.Up() {
		return nil, fmt.Errorf("cluster: machine %s is down", ms.Hostname)
	}
	if len(args) == 0 {
		return nil, errors.New("cluster: no command to run")
	}
	nsArgs := append([]string{"-t", strconv.Itoa(ms.Systemd.PID), "-a", "-r", "-w", "--"}, args...)
	cmd := exec.Command("nsenter", nsArgs...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "TERM=" + os.Getenv("TERM"),
		"SYSTEMD_COLORS=0", "HOME=/root"}
	return cmd, nil
}

// BootDown asks the owner of the lab in dir to boot again every machine
// that is down (SIGHUP to it), and waits until they are up, or timeout.
// It returns the state then.
func BootDown(dir string, timeout time.Duration) (*State, error) {
	st, err := ReadState(dir)
	if err != nil {
		return nil, err
	}
	if !st.Owner.Alive() {
		return nil, errors.New("cluster: the lab's owner process is gone; tear the lab down and boot it again")
	}
	p, err := os.FindProcess(st.Owner.PID)
	if err != nil {
		return nil, fmt.Errorf("cluster: owner: %w", err)
	}
	defer p.Release()
	if err := p.Signal(syscall.SIGHUP); err != nil {
		return nil, fmt.Errorf("cluster: owner: %w", err)
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if st, err = ReadState(dir); err != nil {
			return nil, err
		}
		if st.allUp() {
			return st, nil
		}
	}
	return st, fmt.Errorf("cluster: machines still down after %v", timeout)
}

func (st *State) allUp() bool {
	for _, m := range st.Machines {
		if !m.Up() {
			return false
		}
	}
	return true
}
