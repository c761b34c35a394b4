package fleetctl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// submitMode is how submit, load and start treat their unit arguments.
type submitMode struct {
	verb    string // "submit", "load" or "start"
	replace bool   // --replace: a unit whose local file differs is replaced
	noBlock bool   // do not wait for new units to report inactive
	// target is the desired state load or start sets afterwards ("" for
	// submit). Without waiting, a new unit is created in it at once: one
	// write, not a create and a change.
	target string
}

// replaceable lists the desired states that verb's --replace may replace
// (fleet's rule: a command does not cross another's states).
func replaceable(verb string) []string {
	switch verb {
	case "submit":
		return []string{"inactive"}
	case "load":
		return []string{"inactive", "loaded"}
	}
	return []string{"inactive", "loaded", "launched"}
}

// submission is what ensure does for one unit.
type submission struct {
	unit   api.Unit   // the unit as it is, or as it will be
	file   *unit.File // the body to submit; nil when the unit stays as it is
	source string     // where file came from, for messages
	exists bool       // file replaces a unit of the same name
}

// ensure makes sure every unit args name is in the cluster, submitting
// the missing ones from their file or template (and, with --replace, the
// ones whose file differs), and returns them in order, each once, with
// the hashes of the replaced ones (which machines must report before a
// replaced unit counts as there). It checks everything before it writes
// anything.
func (s *session) ensure(ctx context.Context, c *conn, args []unitArg, m submitMode) ([]api.Unit, map[string]string, error) {
	all, err := c.Units(ctx)
	if err != nil {
		return nil, nil, err
	}
	subs, err := s.plan(all, args, m)
	if err != nil {
		return nil, nil, err
	}
	var created []string
	replaced := map[string]string{}
	out := make([]api.Unit, 0, len(subs))
	for _, sub := range subs {
		if sub.file != nil && !sub.exists && m.noBlock && m.target != "" {
			sub.unit.DesiredState = m.target
		}
		if sub.file != nil {
			if err := s.submit(ctx, c, sub); err != nil {
				return nil, nil, err
			}
			if sub.exists {
				replaced[sub.unit.Name] = sub.file.Hash().String()
			} else {
				created = append(created, sub.unit.Name)
			}
		}
		out = append(out, sub.unit)
	}
	if m.noBlock || len(created) == 0 {
		return out, replaced, nil
	}
	return out, replaced, s.waitFor(ctx, c, created, unit.StateInactive, 0, nil)
}

// plan resolves every argument against the cluster's units, without
// writing; every problem is reported.
func (s *session) plan(all []api.Unit, args []unitArg, m submitMode) ([]submission, error) {
	byName := make(map[string]api.Unit, len(all))
	for _, u := range all {
		byName[u.Name] = u
	}
	var (
		out  []submission
		seen = map[string]bool{}
		errs []error
	)
	for _, a := range args {
		subs, err := s.planArg(byName, all, a, m)
		errs = append(errs, err)
		for _, sub := range subs {
			if !seen[sub.unit.Name] {
				seen[sub.unit.Name] = true
				out = append(out, sub)
			}
		}
	}
	return out, errors.Join(errs...)
}

func (s *session) planArg(byName map[string]api.Unit, all []api.Unit, a unitArg, m submitMode) ([]submission, error) {
	if a.glob {
		us, err := existing(all, []unitArg{a}, m.verb == "submit")
		var out []submission
		for _, u := range us {
			out = append(out, submission{unit: u})
		}
		return out, err
	}
	if m.verb != "submit" && isTemplate(a.name) {
		n, _ := unit.ParseName(a.name)
		return nil, &UnitError{Unit: a.name, What: "is a template", Err: fmt.Errorf("it can be submitted but not %s; %s an instance such as %s@1%s", pastTense(m.verb), m.verb, n.Prefix, n.Suffix)}
	}
	if u, ok := byName[a.name]; ok {
		sub, err := s.planExisting(u, a, m)
		return []submission{sub}, err
	}
	f, src, err := s.bodyFor(byName, a)
	if err != nil {
		return nil, err
	}
	return []submission{{unit: api.Unit{Name: a.name, Options: f.Options, DesiredState: "inactive", CurrentState: "inactive"}, file: f, source: src}}, nil
}

// planExisting compares a unit in the cluster with its local file.
func (s *session) planExisting(u api.Unit, a unitArg, m submitMode) (submission, error) {
	sub := submission{unit: u}
	if a.path == "" {
		return sub, nil
	}
	f, err := s.readUnitFile(a.name, a.path)
	if err != nil {
		return sub, err
	}
	if storedFile(u).Hash() == f.Hash() {
		return sub, nil
	}
	if !m.replace {
		fmt.Fprintf(s.err, "WARNING: Unit %s in the cluster differs from local unit file %s. Add --replace to override.\n", u.Name, a.path)
		return sub, nil
	}
	allowed := replaceable(m.verb)
	for _, st := range allowed {
		if u.DesiredState == st {
			sub.unit.Options, sub.file, sub.source, sub.exists = f.Options, f, a.path, true
			return sub, nil
		}
	}
	return sub, &UnitError{Unit: u.Name, What: "is " + u.DesiredState,
		Err: fmt.Errorf("%s --replace replaces only %s units; use the command for its state (start --replace)", m.verb, strings.Join(allowed, " or "))}
}

// storedFile is the body of a unit in the cluster, as stored: it is not
// checked again, since a unit stored before a rule was added must still
// be shown and compared (its hash is the one it was stored under).
func storedFile(u api.Unit) *unit.File { return &unit.File{Options: u.Options} }

// bodyFor finds the body of a unit that is not in the cluster: its file,
// or for an instance its template, from the cluster or beside the file.
func (s *session) bodyFor(byName map[string]api.Unit, a unitArg) (*unit.File, string, error) {
	if a.path != "" {
		f, err := s.readUnitFile(a.name, a.path)
		return f, a.path, err
	}
	n, err := unit.ParseName(a.name)
	if err != nil {
		return nil, "", err
	}
	file := filepath.Join(filepath.Dir(a.raw), a.name)
	if !n.IsInstance() {
		return nil, "", &UnitError{Unit: a.name, What: "not found in the cluster, and no file " + file + " to submit it from"}
	}
	tmpl := n.Template()
	if t, ok := byName[tmpl]; ok {
		f, err := unit.NewFile(t.Options)
		if err != nil {
			return nil, "", &UnitError{Unit: tmpl, What: "has a body that cannot be read", Err: err}
		}
		return f, "template " + tmpl, s.checkBody(a.name, "template "+tmpl, f)
	}
	beside := filepath.Join(filepath.Dir(a.raw), tmpl)
	if !isFile(s.abs(beside)) {
		return nil, "", &UnitError{Unit: a.name, What: "not found in the cluster, and neither its template " + tmpl + " nor a file " + beside + " to submit it from"}
	}
	f, err := s.readUnitFile(a.name, beside)
	return f, beside, err
}

// readUnitFile reads and checks the local file p, as the body of unit name.
func (s *session) readUnitFile(name, p string) (*unit.File, error) {
	data, err := os.ReadFile(s.abs(p))
	if err != nil {
		return nil, fmt.Errorf("unit file %s: %w", p, err)
	}
	f, err := unit.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("unit file %s: %w", p, err)
	}
	if len(f.Options) == 0 {
		return nil, fmt.Errorf("unit file %s: it holds no options", p)
	}
	return f, s.checkBody(name, "unit file "+p, f)
}

// checkBody checks f as unit name's body with unit.CheckSubmission, the
// API's own check (so fleetctl refuses exactly what the API would, before
// anything is sent), and warns of [X-Fleet] keys fleet does not know.
func (s *session) checkBody(name, source string, f *unit.File) error {
	_, warnings, err := unit.CheckSubmission(name, f.Options)
	for _, w := range warnings {
		fmt.Fprintf(s.err, "WARNING: %s: %s\n", source, w)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	return nil
}

// submit writes one submission: a new unit, in the desired state planned
// for it, or a replacement, which is destroyed and created again with its
// desired state.
func (s *session) submit(ctx context.Context, c *conn, sub submission) error {
	desired := sub.unit.DesiredState
	if !sub.exists && desired == "inactive" {
		desired = "" // a plain submit: the server's default, as fleet's fleetctl sends it
	}
	if sub.exists {
		if err := c.DestroyUnit(ctx, sub.unit.Name); err != nil && !api.IsNotFound(err) {
			return &UnitError{Unit: sub.unit.Name, What: "could not be replaced", Err: err}
		}
	}
	err := c.CreateUnit(ctx, &api.Unit{Name: sub.unit.Name, Options: sub.file.Options, DesiredState: desired})
	if err != nil {
		return &UnitError{Unit: sub.unit.Name, What: "could not be submitted from " + sub.source, Err: serverError{err}}
	}
	return nil
}

// pastTense gives the state a verb leads to, for messages.
func pastTense(verb string) string {
	switch verb {
	case "start":
		return "started"
	case "load":
		return "loaded"
	}
	return verb + "ed"
}
