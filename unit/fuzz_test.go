package unit

import (
	"bytes"
	"errors"
	"path"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse parses arbitrary bytes. Parse must not panic, must fail only
// with ErrInvalidFile, and a file it accepts must survive its own
// canonical form: Serialize re-parses to a file with the same Hash (and so
// the same canonical text), which is what lets fleetctl, the API and the
// agents agree on a unit's hash. Its options must also pass NewFile, the
// API's check, and its canonical form must be UTF-8.
func FuzzParse(f *testing.F) {
	f.Add([]byte(helloService))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrInvalidFile) {
				t.Fatalf("error %v does not wrap ErrInvalidFile", err)
			}
			return
		}
		canon := file.Serialize()
		again, err := ParseString(canon)
		if err != nil {
			t.Fatalf("canonical form %q does not parse: %v", canon, err)
		}
		if again.Hash() != file.Hash() {
			t.Fatalf("hash changed through the canonical form:\nfirst  %q\nsecond %q", canon, again.Serialize())
		}
		if len(again.Options) != len(file.Options) {
			t.Fatalf("%d options became %d", len(file.Options), len(again.Options))
		}
		if !utf8.ValidString(canon) {
			t.Fatalf("canonical form is not UTF-8: %q", canon)
		}
		if _, err := NewFile(file.Options); err != nil {
			t.Fatalf("the API would refuse what Parse accepted: %v", err)
		}
	})
}

// FuzzRequirements reads one arbitrary [X-Fleet] option (plus optional
// extra "Key=Value" lines in more) for an arbitrary unit name. It must not
// panic; every error wraps ErrInvalidRequirements or ErrInvalidName; and
// what it accepts obeys the rules the scheduler relies on.
func FuzzRequirements(f *testing.F) {
	f.Add("web@eu1.service", "Conflicts", "%p@*", "")
	f.Fuzz(func(t *testing.T, name, key, value, more string) {
		opts := []Option{{FleetSection, key, value}}
		for _, l := range strings.Split(more, "\n") {
			if k, v, ok := strings.Cut(l, "="); ok {
				opts = append(opts, Option{FleetSection, k, v})
			}
		}
		r, warnings, err := ParseRequirements(name, opts)
		if err != nil {
			if !errors.Is(err, ErrInvalidRequirements) && !errors.Is(err, ErrInvalidName) {
				t.Fatalf("error %v wraps neither ErrInvalidRequirements nor ErrInvalidName", err)
			}
			return
		}
		unknown := 0
		for _, o := range opts {
			if _, ok := keyAliases[o.Name]; !ok {
				unknown++
			}
		}
		if len(warnings) != unknown {
			t.Fatalf("%d warnings for %d unknown keys: %q", len(warnings), unknown, warnings)
		}
		checkRequirements(t, name, r)
	})
}

// checkRequirements fails t if accepted requirements r of unit name break
// a rule of the reference notes.
func checkRequirements(t *testing.T, name string, r Requirements) {
	t.Helper()
	if r.MachineID != "" && (len(r.MachineOf) > 0 || len(r.Conflicts) > 0 || r.Global || len(r.Replaces) > 0) {
		t.Fatalf("MachineID accepted with MachineOf/Conflicts/Global/Replaces: %+v", r)
	}
	if r.Global && (len(r.MachineOf) > 0 || len(r.Replaces) > 0) {
		t.Fatalf("Global accepted with MachineOf/Replaces: %+v", r)
	}
	if len(r.Conflicts) > 0 && len(r.Replaces) > 0 {
		t.Fatalf("Conflicts accepted with Replaces: %+v", r)
	}
	if strings.ContainsAny(r.MachineID, " \t") {
		t.Fatalf("MachineID %q holds white space", r.MachineID)
	}
	for _, peer := range r.MachineOf {
		if peer == name || ValidateName(peer) != nil {
			t.Fatalf("bad MachineOf peer %q accepted for %s", peer, name)
		}
		if _, ok := MatchAny(append(r.Conflicts, r.Replaces...), peer); ok {
			t.Fatalf("MachineOf peer %q matches own Conflicts/Replaces: %+v", peer, r)
		}
	}
	for _, g := range append(r.Conflicts, r.Replaces...) {
		if _, err := path.Match(g, ""); err != nil || g == "" {
			t.Fatalf("bad glob %q accepted", g)
		}
	}
	for i, pr := range r.Ports {
		if pr.Lo == 0 || pr.Lo > pr.Hi || (i > 0 && int(r.Ports[i-1].Hi)+1 >= int(pr.Lo)) {
			t.Fatalf("ports not normalized: %v", r.Ports)
		}
	}
	for _, g := range r.Metadata.AnyOf {
		if g.Key == "" || len(g.Values) == 0 {
			t.Fatalf("empty metadata group: %+v", r.Metadata)
		}
	}
	for _, p := range r.Metadata.Others {
		if p.Key == "" || p.Value == "" || p.Op == OpEqual {
			t.Fatalf("bad metadata predicate: %+v", p)
		}
	}
}
