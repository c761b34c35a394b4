package unit

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	sdunit "github.com/coreos/go-systemd/v22/unit"
)

// MaxFileSize bounds the size of a unit file accepted by Parse.
const MaxFileSize = 1 << 20

// ErrInvalidFile is wrapped by every unit file parse error.
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

// Parse reads a systemd unit file. Errors wrap ErrInvalidFile and say why.
func Parse(r io.Reader) (*File, error) {
	lr := &io.LimitedReader{R: r, N: MaxFileSize + 1}
	opts, err := sdunit.DeserializeOptions(lr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFile, err)
	}
	if lr.N <= 0 {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidFile, MaxFileSize)
	}
	f := &File{Options: make([]Option, 0, len(opts))}
	for _, o := range opts {
		f.Options = append(f.Options, Option{Section: o.Section, Name: o.Name, Value: o.Value})
	}
	return f, nil
}

// ParseString parses a unit file held in a string.
func ParseString(s string) (*File, error) { return Parse(strings.NewReader(s)) }

// NewFile builds a File from options (as received over the API), checking
// that every option has a section and a name.
func NewFile(opts []Option) (*File, error) {
	for i, o := range opts {
		if strings.TrimSpace(o.Section) == "" || strings.TrimSpace(o.Name) == "" {
			return nil, fmt.Errorf("%w: option %d (%s=%q) has an empty section or name", ErrInvalidFile, i, o.Name, o.Value)
		}
		if strings.ContainsAny(o.Section, "[]\n") || strings.ContainsAny(o.Name, "=\n") {
			return nil, fmt.Errorf("%w: option %d has a malformed section %q or name %q", ErrInvalidFile, i, o.Section, o.Name)
		}
	}
	return &File{Options: append([]Option(nil), opts...)}, nil
}

// Serialize returns the canonical form of the file: sections in order of
// first appearance, "[Section]" then "Name=Value" lines, one blank line
// between sections. It is what the content hash is computed over.
func (f *File) Serialize() string {
	var b strings.Builder
	for i, sec := range f.Sections() {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("[" + sec + "]\n")
		for _, o := range f.Options {
			if o.Section == sec {
				b.WriteString(o.Name + "=" + o.Value + "\n")
			}
		}
	}
	return b.String()
}

// Sections lists the section names in order of first appearance.
func (f *File) Sections() []string {
	var out []string
	for _, o := range f.Options {
		if !containsString(out, o.Section) {
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
