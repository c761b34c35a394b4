package nsboot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// cgroupRoot is where the host mounts its cgroup hierarchies.
const cgroupRoot = "/sys/fs/cgroup"

// cgroupParents returns the hierarchies in which a machine gets a cgroup
// of its own: the cgroup2 one (at /sys/fs/cgroup on a pure v2 host, at
// /sys/fs/cgroup/unified on a "hybrid" one) and, on a hybrid host, the v1
// name=systemd one. systemd inside sees only the cgroup2 one, rooted at
// its own cgroup by the cgroup namespace.
func cgroupParents() ([]string, error) {
	if exists(filepath.Join(cgroupRoot, "cgroup.controllers")) {
		return []string{cgroupRoot}, nil
	}
	unified := filepath.Join(cgroupRoot, "unified")
	if !exists(filepath.Join(unified, "cgroup.controllers")) {
		return nil, fmt.Errorf("no cgroup2 hierarchy at %s or %s", cgroupRoot, unified)
	}
	parents := []string{unified}
	if v1 := filepath.Join(cgroupRoot, "systemd"); exists(filepath.Join(v1, "cgroup.procs")) {
		parents = append(parents, v1)
	}
	return parents, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// makeCgroups creates cgroup name in every parent and returns their paths.
// On error it removes those it made.
func makeCgroups(name string) ([]string, error) {
	parents, err := cgroupParents()
	if err != nil {
		return nil, err
	}
	var made []string
	for _, p := range parents {
		cg := filepath.Join(p, name)
		if err := os.Mkdir(cg, 0o755); err != nil {
			for _, m := range made {
				err = errors.Join(err, removeCgroup(m))
			}
			return nil, fmt.Errorf("cgroup: %w", err)
		}
		made = append(made, cg)
	}
	return made, nil
}

// removeCgroup removes cgroup dir and everything systemd made under it,
// deepest first. A cgroup whose last process has just died may still be
// busy for a moment, so EBUSY is retried for up to two seconds.
func removeCgroup(dir string) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cgroup %s: %w", dir, err)
	}
	sort.Slice(dirs, func(i, j int) bool {
		return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/")
	})
	for _, d := range dirs {
		if err := rmdirRetry(d); err != nil {
			return fmt.Errorf("cgroup: %w", err)
		}
	}
	return nil
}

func rmdirRetry(dir string) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := os.Remove(dir)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
