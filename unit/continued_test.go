package unit

import (
	"strings"
	"testing"
)

// oldLexerValue is the value fleet 1.0's fleetctl sends for an option
// written over the given lines: go-systemd's parser of its day kept each
// continuing backslash and put a newline after it.
func oldLexerValue(lines ...string) string { return strings.Join(lines, "\n") }

func TestJoinContinuationsReadsAsSystemdReadsTheFile(t *testing.T) {
	for _, lines := range [][]string{
		{`/bin/sh -c \`, `  'while true; do echo hi; sleep 1; done'`},
		{`/bin/a \`, `# a comment inside is skipped`, `  --flag \`, `  --other`},
		{`/bin/a \`, `; so is this one`, `b`},
		{`/bin/ends-with-a-continuation \`, ``},
		{`one \`, `two \`, `three`},
		{`crlf \` + "\r", `next`},
	} {
		file := "[Service]\nExecStart=" + strings.Join(lines, "\n") + "\n"
		f, err := ParseString(file)
		if err != nil {
			t.Fatalf("%q: %v", file, err)
		}
		want := f.Options[0].Value
		got := JoinContinuations([]Option{{Section: "Service", Name: "ExecStart", Value: oldLexerValue(lines...)}})
		if got[0].Value != want {
			t.Errorf("%q: joined %q, systemd reads %q", lines, got[0].Value, want)
		}
		if _, err := NewFile(got); err != nil {
			t.Errorf("%q: the joined option is refused: %v", lines, err)
		}
	}
}

func TestJoinContinuationsLeavesOtherNewlinesToBeRefused(t *testing.T) {
	for _, v := range []string{
		"/bin/true\nExecStartPre=/bin/evil",    // a new directive
		"/bin/a \\\nb\nExecStartPre=/bin/evil", // one after a real continuation
		"/bin/true\n",                          // a newline without a backslash
		"\\\\\nb",                              // an even number of backslashes escapes none
	} {
		opts := []Option{{Section: "Service", Name: "ExecStart", Value: v}}
		got := JoinContinuations(opts)
		if got[0].Value != v {
			t.Errorf("%q was joined into %q", v, got[0].Value)
		}
		if _, err := NewFile(got); err == nil {
			t.Errorf("%q: accepted", v)
		}
	}
}

func TestJoinContinuationsCopiesOnlyWhenItJoins(t *testing.T) {
	opts := []Option{{Section: "Service", Name: "ExecStart", Value: "/bin/true"}}
	if got := JoinContinuations(opts); &got[0] != &opts[0] {
		t.Error("options without a continued value were copied")
	}
	opts = append(opts, Option{Section: "Service", Name: "ExecStop", Value: "a \\\nb"})
	got := JoinContinuations(opts)
	if opts[1].Value != "a \\\nb" || got[1].Value != "a  b" {
		t.Errorf("the caller's options changed or the value was not joined: %q, %q", opts[1].Value, got[1].Value)
	}
}
