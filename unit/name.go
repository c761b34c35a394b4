package unit

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// MaxNameLength is the longest unit name fleet accepts, in bytes. A name
// becomes file names in the agent's units directory, the longest of
// them the temporary file a unit is written through,
// ".<name>.<up to 10 digits>.tmp", which must fit in the 255 bytes a file
// name may have on Linux: 255-16 = 239. (systemd's own limit, 255, would
// leave units that are accepted and then never written.)
const MaxNameLength = 239

// ErrInvalidName is wrapped by every name validation error.
var ErrInvalidName = errors.New("unit: invalid unit name")

// suffixes are the unit types systemd knows, as fleet accepted them.
var suffixes = []string{
	".automount", ".busname", ".device", ".mount", ".path", ".scope",
	".service", ".slice", ".snapshot", ".socket", ".swap", ".target", ".timer",
}

// templateSuffixes are the unit types that may be templates.
var templateSuffixes = []string{".path", ".service", ".socket", ".target", ".timer"}

// Name is a validated unit name split into its parts.
//
// For "web@eu1.service": Prefix "web", Instance "eu1", Suffix ".service".
// For "web@.service" (a template): Instance is empty and Template is true.
// For "hello.service": Prefix "hello", no '@'.
type Name struct {
	Full     string // the whole name, e.g. "web@eu1.service"
	Prefix   string // text before '@', or the name without suffix
	Instance string // text between '@' and the suffix
	Suffix   string // the type suffix with its dot, e.g. ".service"
	HasAt    bool   // the name contains '@' (a template or an instance)
}

// IsTemplate reports whether the name is a template such as "foo@.service".
func (n Name) IsTemplate() bool { return n.HasAt && n.Instance == "" }

// IsInstance reports whether the name is an instance such as "foo@1.service".
func (n Name) IsInstance() bool { return n.HasAt && n.Instance != "" }

// Template returns the template an instance instantiates ("foo@.service"
// for "foo@1.service"); for any other name it returns "".
func (n Name) Template() string {
	if !n.IsInstance() {
		return ""
	}
	return n.Prefix + "@" + n.Suffix
}

// WithoutSuffix returns the name without its type suffix ("foo@1").
func (n Name) WithoutSuffix() string { return strings.TrimSuffix(n.Full, n.Suffix) }

// ParseName validates s and splits it. The error names the rule broken.
func ParseName(s string) (Name, error) {
	if err := checkNameChars(s); err != nil {
		return Name{}, err
	}
	suffix := typeSuffix(s)
	if suffix == "" {
		return Name{}, fmt.Errorf("%w %q: must end in one of %s", ErrInvalidName, s, strings.Join(suffixes, " "))
	}
	base := strings.TrimSuffix(s, suffix)
	n := Name{Full: s, Prefix: base, Suffix: suffix}
	if at := strings.IndexByte(base, '@'); at >= 0 {
		n.HasAt, n.Prefix, n.Instance = true, base[:at], base[at+1:]
		if n.Prefix == "" {
			return Name{}, fmt.Errorf("%w %q: nothing before '@'", ErrInvalidName, s)
		}
		if strings.IndexByte(n.Instance, '@') >= 0 {
			return Name{}, fmt.Errorf("%w %q: more than one '@'", ErrInvalidName, s)
		}
		if !hasSuffix(templateSuffixes, suffix) {
			return Name{}, fmt.Errorf("%w %q: %s units cannot be templates or instances", ErrInvalidName, s, suffix)
		}
	}
	if base == "" {
		return Name{}, fmt.Errorf("%w %q: empty name before the suffix", ErrInvalidName, s)
	}
	return n, nil
}

// ValidateName reports whether s is a valid unit name; see ParseName.
func ValidateName(s string) error {
	_, err := ParseName(s)
	return err
}

func checkNameChars(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty name", ErrInvalidName)
	case len(s) > MaxNameLength:
		return fmt.Errorf("%w %.40q...: %d bytes long, over the limit of %d", ErrInvalidName, s, len(s), MaxNameLength)
	case s[0] == '@':
		return fmt.Errorf("%w %q: must not start with '@'", ErrInvalidName, s)
	}
	for i := 0; i < len(s); i++ {
		if !nameChar(s[i]) {
			return fmt.Errorf("%w %q: character %q at position %d is not one of [A-Za-z0-9:_.@-]", ErrInvalidName, s, s[i], i)
		}
	}
	return nil
}

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == ':' || c == '_' || c == '.' || c == '@' || c == '-'
}

func typeSuffix(s string) string {
	for _, suf := range suffixes {
		if strings.HasSuffix(s, suf) {
			return suf
		}
	}
	return ""
}

func hasSuffix(list []string, suf string) bool {
	for _, s := range list {
		if s == suf {
			return true
		}
	}
	return false
}

// HasKnownSuffix reports whether s ends in a systemd unit type suffix.
func HasKnownSuffix(s string) bool { return typeSuffix(s) != "" }

// CompleteName appends ".service" to a name without a known type suffix,
// as fleetctl does ("hello" -> "hello.service").
func CompleteName(s string) string {
	if HasKnownSuffix(s) {
		return s
	}
	return s + ".service"
}

// PathIn returns the path of unit name inside dir. It is the one place a
// unit name becomes a path: the name is validated first, and the result is
// checked to stay directly inside dir, so no name can reach outside it.
func PathIn(dir, name string) (string, error) {
	if err := ValidateName(name); err != nil {
		return "", err
	}
	clean := filepath.Clean(dir)
	p := filepath.Join(clean, name)
	if filepath.Dir(p) != clean || filepath.Base(p) != name {
		return "", fmt.Errorf("%w %q: would resolve outside %s", ErrInvalidName, name, clean)
	}
	return p, nil
}
