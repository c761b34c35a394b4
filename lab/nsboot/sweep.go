package nsboot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Sweep removes what machines whose names start with prefix left behind
// when the process that booted them died without calling Shutdown: it
// kills any process still in their cgroups, then removes the cgroups
// (deepest first) and their empty work directories. Machines still
// running under that prefix are killed too, so the prefix must be one
// only the caller uses. It returns the number of cgroups and directories
// it removed.
func Sweep(prefix string) (int, error) {
	if !validName(prefix, 32) {
		return 0, fmt.Errorf("nsboot: sweep: invalid prefix %q", prefix)
	}
	parents, err := cgroupParents()
	if err != nil {
		return 0, fmt.Errorf("nsboot: sweep: %w", err)
	}
	removed := 0
	var errs []error
	for _, p := range parents {
		groups, _ := filepath.Glob(filepath.Join(p, "nsboot-"+prefix+"*"))
		for _, cg := range groups {
			if err := killCgroup(cg); err != nil {
				errs = append(errs, err)
				continue
			}
			if err := removeCgroup(cg); err != nil {
				errs = append(errs, err)
				continue
			}
			removed++
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "nsboot-"+prefix+"*"))
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("nsboot: sweep %s: %w", prefix, err)
	}
	return removed, nil
}

// killCgroup sends SIGKILL to every process in cgroup dir and below, and
// waits up to killTimeout for them to be gone. The PID 1s of namespaces
// go first, alone for a second, so that their own parent (unshare) can
// reap them, and the rest of their namespace dies with them; on a host
// whose init does not reap, an orphaned systemd would stay a zombie.
// Each process is held by pidfd and checked to be still in the cgroup
// before the signal, so a reused PID is never hit.
func killCgroup(dir string) error {
	start := time.Now()
	for {
		pids, err := cgroupProcs(dir)
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Since(start) > killTimeout {
			return fmt.Errorf("cgroup %s: processes %v survive SIGKILL", dir, pids)
		}
		initsOnly := time.Since(start) < time.Second
		for _, pid := range pids {
			if !initsOnly || namespaceInit(pid) {
				killIfIn(pid, dir)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// namespaceInit reports whether pid is PID 1 of a PID namespace below
// the caller's: its status shows more than one NSpid and the last is 1.
func namespaceInit(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "NSpid:"); ok {
			f := strings.Fields(rest)
			return len(f) > 1 && f[len(f)-1] == "1"
		}
	}
	return false
}

// cgroupProcs lists the processes in cgroup dir and its descendants.
func cgroupProcs(dir string) ([]int, error) {
	var pids []int
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(path, "cgroup.procs"))
		if err != nil {
			return nil // removed meanwhile
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", dir, err)
	}
	return pids, nil
}

// killIfIn kills pid if, once held by pidfd, it is still in cgroup dir.
func killIfIn(pid int, dir string) {
	p, err := os.FindProcess(pid)
	if err != nil {
		return
	}
	defer p.Release()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil || !inCgroup(string(b), cgroupSuffix(dir)) {
		return
	}
	_ = p.Kill() // it may have exited meanwhile: the next look tells
}

// inCgroup reports whether a /proc/PID/cgroup text puts the process in
// cgroup path or below, in any hierarchy.
func inCgroup(procCgroup, path string) bool {
	for _, line := range strings.Split(procCgroup, "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) == 3 && (f[2] == path || strings.HasPrefix(f[2], path+"/")) {
			return true
		}
	}
	return false
}

// cgroupSuffix is the path of cgroup dir as /proc/PID/cgroup shows it:
// relative to its hierarchy's root.
func cgroupSuffix(dir string) string {
	for _, root := range []string{cgroupRoot + "/unified", cgroupRoot + "/systemd", cgroupRoot} {
		if rest, ok := strings.CutPrefix(dir, root+"/"); ok {
			return "/" + rest
		}
	}
	return dir
}
