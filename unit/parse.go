package unit

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// MaxFileSize bounds the size of a unit file: a file Parse reads, and the
// canonical form of a File NewFile builds, so whatever fleet accepts it
// can also read back.
const MaxFileSize = 1 << 20

// longLineMax is systemd's LONG_LINE_MAX (src/basic/fileio.h): the
// longest line, continuations joined, that systemd reads from a unit
// file. No file of MaxFileSize bytes holds a longer line, which the
// constant below checks at compile time, so every line fleet accepts is
// one systemd reads. (go-systemd's parser stops at 2048 bytes, its guess
// of LINE_MAX, which is why fleet has its own.)
const longLineMax = 1 << 20

// A negative constant does not compile: MaxFileSize <= longLineMax.
const _ = uint(longLineMax - MaxFileSize)

// Parse reads a systemd unit file the way systemd's config parser does.
// Errors wrap ErrInvalidFile and say why, naming the line.
//
// Comment lines (first non-blank character '#' or ';') are skipped, also
// inside a continuation; a line ending in an odd number of backslashes
// continues on the next, its last backslash read as a space; section
// headers, names and values are trimmed of blanks; a line may end in
// "\r\n"; a byte order mark at the start is skipped. Repeated sections
// are merged, each at its first position (as systemd merges them), which
// is the only order NewFile accepts.
//
// A file is refused when it is larger than MaxFileSize, is not UTF-8
// (the API carries options as JSON, which would change the bad bytes),
// holds a control character other than tab, has a line that is neither
// blank, a comment, a section header nor "Name=Value", has an option
// before any section, or when NewFile would refuse its options.
func Parse(r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFile, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %w: larger than %d bytes", ErrInvalidFile, ErrTooLarge, MaxFileSize)
	}
	var p parser
	if err := p.parse(data); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFile, err)
	}
	return NewFile(groupSections(p.opts))
}

// utf8BOM is the byte order mark some editors start a UTF-8 file with.
const utf8BOM = "\ufeff"

// ParseString parses a unit file held in a string.
func ParseString(s string) (*File, error) { return Parse(strings.NewReader(s)) }

// parser holds the state of one Parse: the section being read and the
// options read so far.
type parser struct {
	section string // "" before the first section header
	opts    []Option
}

// parse reads data line by line, joining continued lines.
func (p *parser) parse(data []byte) error {
	data = bytes.TrimPrefix(data, []byte(utf8BOM)) // as systemd skips it
	data = bytes.TrimSuffix(data, []byte{'\n'})
	var (
		cont    []byte // the logical line being continued, or nil
		contAt  int    // the number of its first line
		pending bool
	)
	for n, line := range bytes.Split(data, []byte{'\n'}) {
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if err := checkLine(line); err != nil {
			return fmt.Errorf("line %d: %w", n+1, err)
		}
		if isComment(line) {
			continue
		}
		if !pending {
			cont, contAt = nil, n+1
		}
		cont = append(cont, line...)
		if pending = continues(cont); pending {
			cont[len(cont)-1] = ' '
			continue
		}
		if err := p.line(cont); err != nil {
			return fmt.Errorf("line %d: %w", contAt, err)
		}
	}
	if pending {
		// systemd reads a continuation cut by the end of the file as if
		// the file went on with a blank line.
		if err := p.line(cont); err != nil {
			return fmt.Errorf("line %d: %w", contAt, err)
		}
	}
	return nil
}

// checkLine refuses a line that is not UTF-8 or holds a control
// character other than tab (a lone carriage return included: systemd
// would end the line there).
func checkLine(line []byte) error {
	if !utf8.Valid(line) {
		return fmt.Errorf("not valid UTF-8")
	}
	if i, r := controlChar(string(line), true); i >= 0 {
		return fmt.Errorf("control character %U at byte %d", r, i)
	}
	return nil
}

// isComment reports whether line is a comment: its first non-blank
// character is '#' or ';'.
func isComment(line []byte) bool {
	l := bytes.TrimLeft(line, blanks)
	return len(l) > 0 && (l[0] == '#' || l[0] == ';')
}

// continues reports whether a line continues on the next: it ends in an
// odd number of backslashes (an even number is escaped backslashes).
func continues(line []byte) bool {
	n := len(line) - len(bytes.TrimRight(line, `\`))
	return n%2 == 1
}

// line reads one logical line: blank, a section header or an option.
func (p *parser) line(b []byte) error {
	l := strings.Trim(string(b), blanks)
	switch {
	case l == "":
		return nil
	case l[0] == '[':
		if !strings.HasSuffix(l, "]") || len(l) < 2 {
			return fmt.Errorf("invalid section header %q: want [Name]", l)
		}
		p.section = l[1 : len(l)-1]
		if err := checkSection(p.section); err != nil {
			return fmt.Errorf("section %q: %w", p.section, err)
		}
		return nil
	case p.section == "":
		return fmt.Errorf("%q is outside any section", l)
	}
	name, value, ok := strings.Cut(l, "=")
	if !ok {
		return fmt.Errorf("%q is neither a section header nor Name=Value", l)
	}
	o := Option{Section: p.section, Name: strings.Trim(name, blanks), Value: strings.Trim(value, blanks)}
	if err := o.check(); err != nil {
		return fmt.Errorf("%s/%s: %w", o.Section, o.Name, err)
	}
	p.opts = append(p.opts, o)
	return nil
}

// groupSections returns opts with each section's options together, at
// the section's first position, in file order otherwise.
func groupSections(opts []Option) []Option {
	bySection := make(map[string][]Option)
	for _, o := range opts {
		bySection[o.Section] = append(bySection[o.Section], o)
	}
	out := make([]Option, 0, len(opts))
	for _, sec := range (&File{Options: opts}).Sections() {
		out = append(out, bySection[sec]...)
	}
	return out
}
