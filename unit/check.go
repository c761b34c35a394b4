package unit

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxStoredSize bounds a unit body as the registry stores it: the options
// as JSON. etcd refuses requests over its --max-request-bytes (1.5 MiB by
// default, and fleetd's embedded etcd keeps the default); a unit is
// created in one transaction with its job record and keys, so bodies are
// kept to 1 MiB, well below. JSON escapes some characters ('<' becomes
// six bytes), which is why the limit is on the encoded size and not on
// the request or the file.
const MaxStoredSize = 1 << 20

// ErrTooLarge is wrapped (with ErrInvalidFile) by the errors of a unit
// file or body over MaxFileSize or MaxStoredSize. The API answers 413.
var ErrTooLarge = errors.New("unit: unit file too large")

// blanks is what systemd trims from names and values (its WHITESPACE,
// without the line ends, which never reach a name or a value).
const blanks = " \t"

// check refuses an option that systemd would read back differently from
// its canonical line, or not at all; NewFile lists the rules. A newline
// in a value, for one, would end it early and make the rest more lines,
// perhaps other directives. A value may end in a backslash: Serialize
// writes a space after it.
func (o Option) check() error {
	if err := checkSection(o.Section); err != nil {
		return fmt.Errorf("section: %w", err)
	}
	if err := checkName(o.Name); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if err := checkText(o.Value, true); err != nil {
		return fmt.Errorf("value: %w", err)
	}
	return nil
}

// checkSection checks a section name: what systemd's string_is_safe
// accepts (no quote, no backslash), without brackets, not empty, with no
// blank at either end.
func checkSection(s string) error {
	if err := checkText(s, false); err != nil {
		return err
	}
	if i := strings.IndexAny(s, "[]\"'\\"); i >= 0 {
		return fmt.Errorf("%q at byte %d: section names hold no brackets, quotes or backslashes", s[i], i)
	}
	return nil
}

// checkName checks an option name.
func checkName(s string) error {
	if err := checkText(s, false); err != nil {
		return err
	}
	if i := strings.IndexAny(s, blanks+"="); i >= 0 {
		return fmt.Errorf("%q at byte %d: option names hold no blank and no '='", s[i], i)
	}
	if strings.ContainsRune("#;[", rune(s[0])) {
		return fmt.Errorf("starts with %q, which would make the line a comment or a section header", s[0])
	}
	return nil
}

// checkText checks what names and values share: UTF-8, no control
// character (but a tab inside a value), no blank at either end; a
// name, unlike a value, must not be empty.
func checkText(s string, value bool) error {
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	if s == "" {
		if value {
			return nil
		}
		return errors.New("empty")
	}
	if i, r := controlChar(s, value); i >= 0 {
		return fmt.Errorf("control character %U at byte %d", r, i)
	}
	if strings.Trim(s, blanks) != s {
		return errors.New("starts or ends with a blank, which systemd would drop")
	}
	return nil
}

// controlChar returns the byte offset and value of the first control
// character of s (other than tab, if tab is set), or -1.
func controlChar(s string, tab bool) (int, rune) {
	for i, r := range s {
		if unicode.IsControl(r) && !(tab && r == '\t') {
			return i, r
		}
	}
	return -1, 0
}

// checkSize refuses a file whose canonical form or stored body is over
// its limit, naming the size and the limit.
func (f *File) checkSize() error {
	if n := len(f.Serialize()); n > MaxFileSize {
		return fmt.Errorf("%w: the unit file is %d bytes, over the limit of %d", ErrTooLarge, n, MaxFileSize)
	}
	if n := f.StoredSize(); n > MaxStoredSize {
		return fmt.Errorf("%w: the unit body is %d bytes as stored (JSON), over the limit of %d", ErrTooLarge, n, MaxStoredSize)
	}
	return nil
}

// StoredSize returns the size in bytes of the options as JSON, the form
// in which the registry stores a unit body (less a few bytes of wrapping).
func (f *File) StoredSize() int {
	b, err := json.Marshal(f.Options)
	if err != nil {
		panic(fmt.Sprintf("unit: options of strings failed to encode: %v", err))
	}
	return len(b)
}
