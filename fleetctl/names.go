package fleetctl

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// unitArg is one unit argument, braces expanded: a unit name, perhaps a
// glob over the cluster's units, perhaps a local file to submit.
type unitArg struct {
	raw  string // the word as given
	name string // the unit's name: the file's base name, ".service" added when it has no type suffix
	path string // the local file to read it from; "" when there is none
	glob bool   // raw is a pattern over the units in the cluster
}

// unitArgs reads unit arguments: brace expressions are expanded (a shell
// usually did it already), names completed, files and globs recognised.
func (s *session) unitArgs(raws []string) ([]unitArg, error) {
	var (
		out  []unitArg
		errs []error
	)
	for _, r := range raws {
		for _, w := range expandBraces(r) {
			a, err := s.unitArg(w)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, a)
		}
	}
	return out, errors.Join(errs...)
}

func (s *session) unitArg(w string) (unitArg, error) {
	if w == "" {
		return unitArg{}, errors.New("empty unit name")
	}
	file := w
	if !unit.HasKnownSuffix(w) {
		file = w + ".service"
	}
	a := unitArg{raw: w, name: filepath.Base(file)}
	if isFile(s.abs(file)) {
		a.path = file
		return a, nil
	}
	if strings.ContainsAny(w, "*?[") {
		if _, err := path.Match(w, ""); err != nil {
			return a, fmt.Errorf("bad pattern %q: %w", w, err)
		}
		a.glob, a.name = true, w
		return a, nil
	}
	if err := unit.ValidateName(a.name); err != nil {
		return a, fmt.Errorf("bad unit argument %q: %w", w, err)
	}
	return a, nil
}

// abs resolves a relative path against the session's working directory.
func (s *session) abs(p string) string {
	if s.opts.workDir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.opts.workDir, p)
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// matches reports whether glob a matches the unit name, with or without
// the ".service" that names without a suffix get.
func (a unitArg) matches(name string) bool {
	if ok, _ := path.Match(a.name, name); ok {
		return true
	}
	ok, _ := path.Match(a.name+".service", name)
	return ok
}

// existing returns the units of all that args name, in order and each
// once: a glob gives every unit it matches (templates only when
// withTemplates), a name must be there. Every missing unit is reported.
func existing(all []api.Unit, args []unitArg, withTemplates bool) ([]api.Unit, error) {
	byName := make(map[string]int, len(all))
	for i, u := range all {
		byName[u.Name] = i
	}
	var (
		out  []api.Unit
		seen = map[string]bool{}
		errs []error
	)
	add := func(u api.Unit) {
		if !seen[u.Name] {
			seen[u.Name] = true
			out = append(out, u)
		}
	}
	for _, a := range args {
		if !a.glob {
			if i, ok := byName[a.name]; ok {
				add(all[i])
			} else {
				errs = append(errs, notFound(a.name))
			}
			continue
		}
		n := 0
		for _, u := range all {
			if a.matches(u.Name) && (withTemplates || !isTemplate(u.Name)) {
				add(u)
				n++
			}
		}
		if n == 0 {
			errs = append(errs, fmt.Errorf("no unit in the cluster matches %q", a.raw))
		}
	}
	return out, errors.Join(errs...)
}

// isTemplate reports whether name is a template such as foo@.service.
func isTemplate(name string) bool {
	n, err := unit.ParseName(name)
	return err == nil && n.IsTemplate()
}

// isGlobal reports whether the unit's [X-Fleet] section makes it global.
func isGlobal(u api.Unit) bool {
	r, _, err := unit.ParseRequirements(u.Name, u.Options)
	return err == nil && r.Global
}
