package unit

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

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
//
// A file is refused when NewFile would refuse its options, when it is
// larger than MaxFileSize, when it is not UTF-8 (the API carries options
// as JSON, which would replace the bad bytes and so change the hash), or
// when a line is longer than maxLineLength bytes with its newline. The
// line limit is systemd's; go-systemd checks it only on what its read
// buffer happens to hold, so a file could pass whose canonical form, the
// same lines at other offsets, would not.
func Parse(r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFile, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidFile, MaxFileSize)
	}
	if err := checkLines(data); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFile, err)
	}
	// The end of the file ends its last line. Without the added newline a
	// last line `A=x\` (a continuation cut by EOF) parses to a value that
	// its own canonical form does not parse back to, so the hash changes.
	opts, err := sdunit.DeserializeOptions(io.MultiReader(bytes.NewReader(data), strings.NewReader("\n")))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFile, err)
	}
	options := make([]Option, 0, len(opts))
	for _, o := range opts {
		options = append(options, Option{Section: o.Section, Name: o.Name, Value: o.Value})
	}
	// The API's rules too, so that what a file holds can be submitted:
	// go-systemd accepts "=v" and section names such as "[" or "a\nb".
	return NewFile(options)
}

// maxLineLength is systemd's LINE_MAX, newline included.
const maxLineLength = sdunit.SYSTEMD_LINE_MAX

// checkLines rejects data that is not UTF-8 or has a line too long.
func checkLines(data []byte) error {
	for n := 1; len(data) > 0; n++ {
		line, rest, _ := bytes.Cut(data, []byte{'\n'})
		if len(line) >= maxLineLength {
			return fmt.Errorf("line %d too long (max %d bytes)", n, maxLineLength)
		}
		if !utf8.Valid(line) {
			return fmt.Errorf("line %d is not valid UTF-8", n)
		}
		data = rest
	}
	return nil
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
// between sections. It is what the content hash is computed over. A value
// ending in a backslash is written with a space after it, so that it is
// not read back as continued on the next line.
func (f *File) Serialize() string {
	var b strings.Builder
	for i, sec := range f.Sections() {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("[" + sec + "]\n")
		for _, o := range f.Options {
			if o.Section != sec {
				continue
			}
			b.WriteString(o.Name + "=" + o.Value)
			if strings.HasSuffix(o.Value, `\`) {
				// Not a continuation (that ends in "\\\n"), but it would
				// read as one, to go-systemd and systemd alike, and take
				// in the next line. A space after it keeps the value.
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
