package unit

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseInvalid(t *testing.T) {
	tests := []struct{ name, in, rule string }{
		{"unterminated section", "[Unit\nA=1\n", `line 1: invalid section header "[Unit"`},
		{"garbage after section", "[Unit] junk\nA=1\n", "line 1: invalid section header"},
		{"option without '='", "[Unit]\nDescription\nA=1\n", `line 2: "Description" is neither a section header nor Name=Value`},
		{"option before any section", "A=1\n[Unit]\n", `line 1: "A=1" is outside any section`},
		{"'[' in a section name", "[[]\n0=0", "line 1: section \"[\": '[' at byte 0"},
		{"quote in a section name", "[Un\"it]\nA=0", "section names hold no brackets, quotes or backslashes"},
		{"section name across lines", "[a\nb]\nA=1\n", "line 1: invalid section header"},
		{"blank section name", "[ ]\nA=1\n", "starts or ends with a blank"},
		{"blank around a section name", "[ Unit]\nA=1\n", "starts or ends with a blank"},
		{"empty option name", "[Unit]\n=v\n", "line 2: Unit/: name: empty"},
		{"blank inside an option name", "[Unit]\nDe scription=v\n", "name: ' ' at byte 2"},
		{"lone carriage return", "[Unit]\nA=x\rB=y\n", "line 2: control character U+000D at byte 3"},
		{"NUL", "[Unit]\nA=x\x00\n", "line 2: control character U+0000"},
		{"escape in a comment", "# \x1b[31m\n[Unit]\n", "line 1: control character U+001B"},
		{"form feed", "[Unit]\n\fA=1\n", "line 2: control character U+000C"},
		{"tab in a section name", "[X\tFleet]\nA=1\n", "control character U+0009"},
		{"invalid UTF-8 in a value", "[Unit]\nDescription=caf\xe9\n", "line 2: not valid UTF-8"},
		{"invalid UTF-8 in a comment", "# \xff\n[Unit]\n", "line 1: not valid UTF-8"},
		{"truncated UTF-8 at EOF", "[Unit]\nA=\xe2\x82", "line 2: not valid UTF-8"},
		{"error named at the first line of a continuation", "[Unit]\nA=1\nB\\\nC\n", `line 3: "B C" is neither`},
		{"oversize", "[Unit]\n" + strings.Repeat("Description=0123456789abcdef\n", MaxFileSize/29+1), "larger than"},
		// Cut at the limit inside an option name: still reported as too large.
		{"oversize cut in a name", padded(MaxFileSize-5) + "Description=d\n", "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseString(tt.in)
			if err == nil {
				t.Fatalf("ParseString accepted it: %d options", len(f.Options))
			}
			if !errors.Is(err, ErrInvalidFile) || !strings.Contains(err.Error(), tt.rule) {
				t.Errorf("ParseString = %v, want ErrInvalidFile mentioning %q", err, tt.rule)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	// Exactly MaxFileSize bytes is still accepted.
	body := padded(MaxFileSize-len("A=1\n")) + "A=1\n"
	if len(body) != MaxFileSize {
		t.Fatalf("test bug: body is %d bytes", len(body))
	}
	if f, err := ParseString(body); err != nil || len(f.Options) != 1 {
		t.Errorf("file of exactly MaxFileSize bytes: %v", err)
	}
	if _, err := ParseString(body + "\n"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("file of MaxFileSize+1 bytes: %v, want ErrTooLarge", err)
	}
}

// go-systemd refused lines of 2048 bytes or more; systemd reads lines up
// to LONG_LINE_MAX (1 MiB), and so does Parse: the 2.1 KB ExecStart line
// that systemd runs, and longer ones.
func TestParseLongLines(t *testing.T) {
	for _, n := range []int{2047, 2048, 2100, 4096, 64 << 10, 500 << 10} {
		exec := "/bin/sh -c '" + strings.Repeat("x", n) + "'"
		for _, body := range []string{
			"[Service]\nExecStart=" + exec + "\n",
			"[Service]\nExecStart=" + exec,
			strings.Repeat("#123456789\n", 200) + "[Service]\nExecStart=" + exec + "\nExecStop=/bin/true\n",
			"#" + strings.Repeat("c", n) + "\n[Service]\nExecStart=" + exec + "\n",
		} {
			f, err := ParseString(body)
			if err != nil {
				t.Errorf("line of %d bytes: %v", n, err)
				continue
			}
			if got := f.Values("Service", "ExecStart"); len(got) != 1 || got[0] != exec {
				t.Errorf("line of %d bytes: ExecStart read as %.40q... (%d values)", n, got, len(got))
			}
		}
	}
}

// Parse follows systemd's config parser (src/shared/conf-parser.c):
// comments inside a continuation are skipped, a continuation ends at a
// line without a trailing backslash (a blank one too), and repeated
// sections are merged.
func TestParseAsSystemd(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Option
	}{
		{"comment inside a continuation", "[S]\nA=a \\\n# not here\n  ; nor here\n b\n", []Option{{"S", "A", "a   b"}}},
		{"continuation ended by a blank line", "[S]\nA=a\\\n\nB=b\n", []Option{{"S", "A", "a"}, {"S", "B", "b"}}},
		{"three backslashes continue", "[S]\nA=a\\\\\\\nb\n", []Option{{"S", "A", `a\\ b`}}},
		{"equals in the value", "[S]\nEnvironment=A=B C=D\n", []Option{{"S", "Environment", "A=B C=D"}}},
		{"tab inside a value", "[S]\nA=a\tb\n", []Option{{"S", "A", "a\tb"}}},
		{"blanks trimmed", "[S]\n \tA \t= \tv a l\t \r\n", []Option{{"S", "A", "v a l"}}},
		{"byte order mark", "\ufeff[S]\nA=1\n", []Option{{"S", "A", "1"}}},
		{"CRLF", "[S]\r\nA=1\r\nB=2\r\n", []Option{{"S", "A", "1"}, {"S", "B", "2"}}},
		{"repeated sections merged", "[U]\nA=1\n[S]\nB=2\n[U]\nC=3\n", []Option{{"U", "A", "1"}, {"U", "C", "3"}, {"S", "B", "2"}}},
		{"empty value", "[S]\nA=\n", []Option{{"S", "A", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseString(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.Options, tt.want) {
				t.Errorf("options = %q, want %q", f.Options, tt.want)
			}
		})
	}
}

// padded returns "[Unit]\n" and comment lines, n bytes in all.
func padded(n int) string {
	line := "#" + strings.Repeat("x", 98) + "\n"
	s := "[Unit]\n" + strings.Repeat(line, (n-7)/len(line)-1)
	return s + "#" + strings.Repeat("y", n-len(s)-2) + "\n"
}

// A file of many small sections, the most options the size limits allow,
// parses in linear time: the agent reads every unit file on every
// reconcile.
func BenchmarkParseManySections(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < MaxFileSize-100; i++ {
		fmt.Fprintf(&sb, "[S%d]\nA=\n", i)
	}
	text := sb.String()
	for b.Loop() {
		if _, err := ParseString(text); err != nil && !errors.Is(err, ErrTooLarge) {
			b.Fatal(err)
		}
	}
}
