package unit

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidFile is wrapped by every error of Parse and NewFile.
var ErrInvalidFile = errors.New("unit: invalid unit file")

// Option is one "Name=Value" line of a unit file, in its section.
type Option struct {
	Section string `json:"section"`
	Name    string `json:"name"`
	Value   string `json:"value"`
}

// File is a parsed unit file: its options in file order.
type File struct {
	Options []Option
}

// NewFile builds a File from options (as received over the API). It
// refuses, naming the option, any option that systemd would not read back
// as it is:
//
//   - a control character (U+0000-U+001F, U+007F-U+009F) anywhere, but
//     for a tab inside a value: systemd ends lines at '\n', '\r' and NUL;
//   - text that is not UTF-8;
//   - a blank (space, tab) at either end of a section, name or value,
//     which systemd trims;
//   - an empty section or name; brackets, quotes or backslashes in a
//     section; a blank or '=' in a name, or a name starting with '#',
//     ';' (a comment) or '[' (a section header).
//
// It also refuses options of a section that appear again after another
// section (Serialize writes each section once, so two lists would have
// one canonical form), and a file over MaxFileSize or MaxStoredSize
// (errors that also wrap ErrTooLarge).
//
// On the options NewFile accepts, Serialize and Parse are inverses:
// Parse(f.Serialize()) has exactly f's options, so the content hash
// covers exactly what is stored, and two option lists never share one.
func NewFile(opts []Option) (*File, error) {
	for i, o := range opts {
		if err := o.check(); err != nil {
			return nil, fmt.Errorf("%w: option %d (%.40q/%.40q): %w", ErrInvalidFile, i, o.Section, o.Name, err)
		}
	}
	if err := checkGrouped(opts); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFile, err)
	}
	f := &File{Options: append([]Option(nil), opts...)}
	if err := f.checkSize(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFile, err)
	}
	return f, nil
}

// checkGrouped refuses options whose section appears again after another
// section.
func checkGrouped(opts []Option) error {
	seen := make(map[string]bool)
	for i, o := range opts {
		if i > 0 && o.Section == opts[i-1].Section {
			continue
		}
		if seen[o.Section] {
			return fmt.Errorf("option %d (%.40q/%.40q): section %.40q appears again after section %.40q: give each section's options together",
				i, o.Section, o.Name, o.Section, opts[i-1].Section)
		}
		seen[o.Section] = true
	}
	return nil
}

// Serialize returns the canonical form of the file: sections in order of
// first appearance, "[Section]" then "Name=Value" lines, one blank line
// between sections. It is what the content hash is computed over. A value
// ending in a backslash is written with a space after it, so that it is
// not read back as continued on the next line.
func (f *File) Serialize() string {
	bySection := make(map[string][]Option)
	for _, o := range f.Options {
		bySection[o.Section] = append(bySection[o.Section], o)
	}
	var b strings.Builder
	for i, sec := range f.Sections() {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("[" + sec + "]\n")
		for _, o := range bySection[sec] {
			b.WriteString(o.Name + "=" + o.Value)
			if strings.HasSuffix(o.Value, `\`) {
				// A line ending in an odd number of backslashes is
				// continued on the next, by systemd and Parse alike. A
				// space after the value (trimmed when read) keeps it.
				b.WriteByte(' ')
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Sections lists the section names in order of first appearance.
func (f *File) Sections() []string {
	var out []string
	seen := make(map[string]bool)
	for _, o := range f.Options {
		if !seen[o.Section] {
			seen[o.Section] = true
			out = append(out, o.Section)
		}
	}
	return out
}

// Values returns every value of section/name in file order.
func (f *File) Values(section, name string) []string {
	var out []string
	for _, o := range f.Options {
		if o.Section == section && o.Name == name {
			out = append(out, o.Value)
		}
	}
	return out
}

// Description returns the last Unit/Description value, or "".
func (f *File) Description() string {
	v := f.Values("Unit", "Description")
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// HasInstall reports whether the file has an [Install] section.
func (f *File) HasInstall() bool { return containsString(f.Sections(), "Install") }

// Hash returns the SHA-1 of the canonical serialization.
func (f *File) Hash() Hash { return sha1.Sum([]byte(f.Serialize())) }

// Hash is a unit file's content hash.
type Hash [sha1.Size]byte

// String returns the full 40-digit hex form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Short returns the 7-digit form fleetctl prints.
func (h Hash) Short() string { return h.String()[:7] }

// IsZero reports whether h is the zero hash.
func (h Hash) IsZero() bool { return h == Hash{} }

// ParseHash reads a 40-digit hex hash.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("unit: invalid hash %q: want %d hex digits", s, 2*len(h))
	}
	copy(h[:], b)
	return h, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
