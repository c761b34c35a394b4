package unit

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode"
)

// ErrInvalidRequirements is wrapped by every [X-Fleet] error.
var ErrInvalidRequirements = errors.New("unit: invalid [X-Fleet] section")

// FleetSection is the unit file section fleet reads.
const FleetSection = "X-Fleet"

// Requirements is what a unit's [X-Fleet] section asks of its machine.
// Values are already expanded with the unit's own name (%n %N %p %i).
type Requirements struct {
	MachineID string              // full or 8-character machine ID; "" for any
	MachineOf []string            // units that must share this unit's machine
	Metadata  MetadataRequirement // MachineMetadata terms
	Conflicts []string            // globs of units that must not share a machine
	Replaces  []string            // globs of units this one displaces
	Global    bool                // run on every eligible machine
	Ports     PortRanges          // the unit needs one free TCP port from these
}

// keyAliases maps every accepted key to its canonical name.
var keyAliases = map[string]string{
	"MachineID":                  "MachineID",
	"X-ConditionMachineID":       "MachineID",
	"MachineOf":                  "MachineOf",
	"X-ConditionMachineOf":       "MachineOf",
	"MachineMetadata":            "MachineMetadata",
	"X-ConditionMachineMetadata": "MachineMetadata",
	"Conflicts":                  "Conflicts",
	"X-Conflicts":                "Conflicts",
	"Global":                     "Global",
	"Replaces":                   "Replaces",
	"Ports":                      "Ports",
}

// SampleInstance is the instance a template's [X-Fleet] section is
// checked as: a template is never scheduled, its instances are, each with
// the specifiers resolved from its own name. A number, so that a metadata
// comparison such as ram>=%i holds a value the operator accepts.
const SampleInstance = "1"

// ParseRequirements reads the [X-Fleet] options of the unit called name.
// Unknown keys come back as warnings; everything else wrong is an error
// wrapping ErrInvalidRequirements that names the key and the value.
//
// The specifiers (%n %N %p %i) are resolved with name. A template
// (foo@.service) has no instance to resolve %i with, so its section is
// read as that of the instance SampleInstance (foo@1.service): checked as
// far as it can be without an instance, and the requirements returned are
// that sample's. MachineMetadata=hostname=%i is then accepted on the
// template and resolved per instance when the instance is scheduled.
func ParseRequirements(name string, opts []Option) (Requirements, []string, error) {
	var (
		r        Requirements
		warnings []string
	)
	n, err := ParseName(name)
	if err != nil {
		return r, nil, err
	}
	if n.IsTemplate() {
		if n, err = ParseName(n.Prefix + "@" + SampleInstance + n.Suffix); err != nil {
			return r, nil, err
		}
		name = n.Full
	}
	for _, o := range opts {
		if o.Section != FleetSection {
			continue
		}
		key, ok := keyAliases[o.Name]
		if !ok {
			warnings = append(warnings, fmt.Sprintf("[X-Fleet] %s: unknown key, ignored", o.Name))
			continue
		}
		if err := r.addOption(key, Expand(o.Value, n)); err != nil {
			return Requirements{}, warnings, fmt.Errorf("%w: %s=%s: %w", ErrInvalidRequirements, o.Name, o.Value, err)
		}
	}
	r.Ports = r.Ports.normalize()
	if err := r.check(name); err != nil {
		return Requirements{}, warnings, fmt.Errorf("%w: %w", ErrInvalidRequirements, err)
	}
	return r, warnings, nil
}

func (r *Requirements) addOption(key, value string) error {
	values := SplitValues(value)
	switch key {
	case "Global":
		b, err := parseBool(value)
		r.Global = b
		return err
	case "MachineID":
		return r.addMachineID(values)
	}
	for _, v := range values {
		if err := r.addValue(key, v); err != nil {
			return err
		}
	}
	return nil
}

func (r *Requirements) addMachineID(values []string) error {
	if len(values) != 1 {
		return fmt.Errorf("want exactly one machine ID, got %d", len(values))
	}
	// A quoted value can hold white space (MachineID=" "); no machine ID
	// does, and such a unit could never be placed.
	if strings.IndexFunc(values[0], unicode.IsSpace) >= 0 {
		return fmt.Errorf("machine ID %q holds white space", values[0])
	}
	if r.MachineID != "" && r.MachineID != values[0] {
		return fmt.Errorf("a second, different machine ID (already %s)", r.MachineID)
	}
	r.MachineID = values[0]
	return nil
}

func (r *Requirements) addValue(key, v string) error {
	switch key {
	case "MachineOf":
		if err := ValidateName(v); err != nil {
			return err
		}
		r.MachineOf = appendUnique(r.MachineOf, v)
	case "MachineMetadata":
		p, err := ParseMetadataPredicate(v)
		if err != nil {
			return err
		}
		r.Metadata.add(p)
	case "Conflicts", "Replaces":
		if _, err := path.Match(v, ""); err != nil {
			return fmt.Errorf("bad glob %q: %w", v, err)
		}
		if key == "Conflicts" {
			r.Conflicts = appendUnique(r.Conflicts, v)
		} else {
			r.Replaces = appendUnique(r.Replaces, v)
		}
	case "Ports":
		pr, err := ParsePortRange(v)
		if err != nil {
			return err
		}
		r.Ports = append(r.Ports, pr)
	}
	return nil
}

// check rejects the combinations fleet rejected.
func (r *Requirements) check(name string) error {
	if r.MachineID != "" {
		switch {
		case len(r.MachineOf) > 0:
			return errors.New("cannot combine MachineID with MachineOf")
		case len(r.Conflicts) > 0:
			return errors.New("cannot combine MachineID with Conflicts")
		case r.Global:
			return errors.New("cannot combine MachineID with Global")
		case len(r.Replaces) > 0:
			return errors.New("cannot combine MachineID with Replaces")
		}
	}
	if r.Global && len(r.MachineOf) > 0 {
		return errors.New("cannot combine Global with MachineOf")
	}
	if r.Global && len(r.Replaces) > 0 {
		return errors.New("cannot combine Global with Replaces")
	}
	if len(r.Conflicts) > 0 && len(r.Replaces) > 0 {
		return errors.New("cannot combine Conflicts with Replaces")
	}
	for _, peer := range r.MachineOf {
		if peer == name {
			return fmt.Errorf("MachineOf names the unit itself (%s)", name)
		}
		if g, ok := MatchAny(r.Conflicts, peer); ok {
			return fmt.Errorf("MachineOf peer %s matches this unit's own Conflicts %s", peer, g)
		}
		if g, ok := MatchAny(r.Replaces, peer); ok {
			return fmt.Errorf("MachineOf peer %s matches this unit's own Replaces %s", peer, g)
		}
	}
	return nil
}

// MatchAny returns the first glob in globs that matches name.
func MatchAny(globs []string, name string) (string, bool) {
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return g, true
		}
	}
	return "", false
}

// SplitValues splits an [X-Fleet] value into its values: a value that
// starts and ends with a double quote holds several quoted values; any
// value is also split on white space outside quotes.
func SplitValues(v string) []string {
	var (
		out     []string
		cur     strings.Builder
		inQuote bool
		started bool
	)
	flush := func() {
		if started {
			out = append(out, cur.String())
		}
		cur.Reset()
		started = false
	}
	for _, c := range v {
		switch {
		case c == '"':
			inQuote = !inQuote
			started = true
		case !inQuote && (c == ' ' || c == '\t'):
			flush()
		default:
			cur.WriteRune(c)
			started = true
		}
	}
	flush()
	return dropEmpty(out)
}

func dropEmpty(in []string) []string {
	out := in[:0]
	for _, s := range in {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Expand replaces the specifiers fleet supports in v with parts of the
// unit name n: %n full name, %N name without suffix, %p prefix, %i
// instance, %% a percent sign. Others are left as they are.
func Expand(v string, n Name) string {
	if !strings.Contains(v, "%") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' || i+1 == len(v) {
			b.WriteByte(v[i])
			continue
		}
		i++
		switch v[i] {
		case 'n':
			b.WriteString(n.Full)
		case 'N':
			b.WriteString(n.WithoutSuffix())
		case 'p':
			b.WriteString(n.Prefix)
		case 'i':
			b.WriteString(n.Instance)
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(v[i])
		}
	}
	return b.String()
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "1", "on", "t", "y":
		return true, nil
	case "false", "no", "0", "off", "f", "n", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true/yes/1/on or false/no/0/off)", v)
}

func appendUnique(list []string, s string) []string {
	if containsString(list, s) {
		return list
	}
	return append(list, s)
}
