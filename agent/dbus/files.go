package dbus

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/fleetsim/fleet/agent"
	"github.com/fleetsim/fleet/unit"
)

// The port drop-in: <units dir>/<name>.d/fleet-port.conf.
const (
	portFile = "fleet-port.conf"
	portVar  = "FLEET_PORT"
)

// dropInDir returns the drop-in directory of unit name inside dir.
func dropInDir(dir, name string) (string, error) {
	p, err := unit.PathIn(dir, name)
	if err != nil {
		return "", err
	}
	return p + ".d", nil
}

// portPaths returns unit name's drop-in directory among the unit files,
// and the link to it in systemd's runtime directory.
func (s *Systemd) portPaths(name string) (dir, link string, err error) {
	if dir, err = dropInDir(s.unitsDir, name); err != nil {
		return "", "", err
	}
	if link, err = dropInDir(s.runtimeDir, name); err != nil {
		return "", "", err
	}
	return dir, link, nil
}

// portDropIn is the content of the port drop-in.
func portDropIn(port uint16) string {
	return "[Service]\nEnvironment=" + portVar + "=" + strconv.Itoa(int(port)) + "\n"
}

// writeUnitFile makes dir if needed and writes content to path through a
// temporary file, so a reader never sees half a file. The temporary name
// ends in ".tmp", which is no unit name: Units skips it.
func writeUnitFile(dir, path, content string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return writeAtomic(path, content)
}

func writeAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.WriteString(content)
	err = errors.Join(err, tmp.Chmod(0o644), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return errors.Join(err, removeFile(tmp.Name()))
	}
	return nil
}

// removeFile removes path; a missing path is not an error.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// installPort writes the port drop-in of unit name and links its
// directory into systemd's runtime directory, or, for port 0, removes
// both. The link is replaced only if it is a symlink: a real directory
// there is someone else's, and an error.
func (s *Systemd) installPort(name string, port uint16) error {
	if port == 0 {
		return s.removePort(name)
	}
	dir, link, err := s.portPaths(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("port drop-in: %w", err)
	}
	if err := writeAtomic(filepath.Join(dir, portFile), portDropIn(port)); err != nil {
		return fmt.Errorf("port drop-in: %w", err)
	}
	if target, err := os.Readlink(link); err == nil && target == dir {
		return nil
	}
	if err := removeFile(link); err != nil {
		return fmt.Errorf("port drop-in link: %w", err)
	}
	// Symlink, unlike MkdirAll, fails if the runtime directory is missing:
	// it is systemd's to create.
	if err := os.Symlink(dir, link); err != nil {
		return fmt.Errorf("port drop-in link: %w", err)
	}
	return nil
}

// removePort removes the port link and drop-in directory of unit name.
func (s *Systemd) removePort(name string) error {
	dir, link, err := s.portPaths(name)
	if err != nil {
		return err
	}
	if fi, err := os.Lstat(link); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if err := removeFile(link); err != nil {
			return fmt.Errorf("port drop-in link: %w", err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("port drop-in: %w", err)
	}
	return nil
}

// installedNames lists the unit files in the units directory: regular
// files with valid unit names. A missing directory holds no units.
func (s *Systemd) installedNames() ([]string, error) {
	entries, err := os.ReadDir(s.unitsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("units directory: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && unit.ValidateName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// marker opens every unit file fleet writes: the agent manages only files
// that start with it, so a file someone else put in the units directory
// (or a host service's name) is never stopped or removed. It is a comment,
// which systemd and the parser skip, so it changes no hash.
const marker = "# Written by fleetd: this unit file is fleet's to change or remove.\n"

// fileContent is what Load writes for f.
func fileContent(f *unit.File) string { return marker + f.Serialize() }

// ErrNotOurs is returned by readInstalled for a file fleet did not write.
var ErrNotOurs = errors.New("dbus: not a unit file fleet wrote")

// installed reads the installed units' files and ports; systemd's states
// are left empty. Files fleet did not write and names fleet never manages
// (unit.CheckSubmittable) are left out. A file of fleet's that cannot be
// read back is listed with a zero hash, so that the agent replaces or
// removes it: one bad file never stops the others.
func (s *Systemd) installed() ([]agent.CurrentUnit, error) {
	names, err := s.installedNames()
	if err != nil {
		return nil, fmt.Errorf("dbus: units: %w", err)
	}
	out := make([]agent.CurrentUnit, 0, len(names))
	for _, name := range names {
		if unit.CheckSubmittable(name) != nil {
			continue
		}
		u, err := s.readInstalled(name)
		switch {
		case errors.Is(err, ErrNotOurs):
			continue
		case err != nil:
			u = agent.CurrentUnit{Name: name}
		}
		out = append(out, u)
	}
	return out, nil
}

// readInstalled reads one unit file fleet wrote, and its port.
func (s *Systemd) readInstalled(name string) (agent.CurrentUnit, error) {
	path, err := unit.PathIn(s.unitsDir, name)
	if err != nil {
		return agent.CurrentUnit{}, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return agent.CurrentUnit{}, err
	}
	text, ok := strings.CutPrefix(string(b), marker)
	if !ok {
		return agent.CurrentUnit{}, fmt.Errorf("%w: %s", ErrNotOurs, path)
	}
	f, err := unit.ParseString(text)
	if err != nil {
		return agent.CurrentUnit{}, err
	}
	dir, err := dropInDir(s.unitsDir, name)
	if err != nil {
		return agent.CurrentUnit{}, err
	}
	port, err := readPort(filepath.Join(dir, portFile))
	if err != nil {
		return agent.CurrentUnit{}, err
	}
	return agent.CurrentUnit{Name: name, Hash: f.Hash(), Port: port}, nil
}

// readPort reads FLEET_PORT from a port drop-in; no drop-in means port 0.
func readPort(path string) (uint16, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("port drop-in: %w", err)
	}
	f, err := unit.ParseString(string(b))
	if err != nil {
		return 0, fmt.Errorf("port drop-in %s: %w", path, err)
	}
	for _, v := range f.Values("Service", "Environment") {
		for _, assign := range strings.Fields(v) {
			if p, ok := strings.CutPrefix(assign, portVar+"="); ok {
				n, err := strconv.ParseUint(p, 10, 16)
				if err != nil || n == 0 {
					return 0, fmt.Errorf("port drop-in %s: bad %s %q", path, portVar, p)
				}
				return uint16(n), nil
			}
		}
	}
	return 0, fmt.Errorf("port drop-in %s: no %s", path, portVar)
}
