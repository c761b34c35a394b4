package fleetctl

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from what fleetctl prints now")

// A transcript (testdata/*.golden) is both the script and its expected
// output, as a terminal would show it:
//
//	## a comment, kept as it is
//	$ fleetctl start hello.service
//	Unit hello.service launched on 0acdd9bf.../10.0.2.15
//	[stderr]
//	what fleetctl wrote to stderr
//	[exit 1]
//
// Lines starting with "$ fleetctl " are run (words split as a shell
// would, quotes removed, nothing expanded: fleetctl expands braces
// itself); "## " lines are comments; every other line is output, which
// the test compares and -update rewrites. Before each command the
// cluster is left to settle, so listings do not race the agents.

// step is one command of a transcript, with the comments before it.
type step struct {
	comments []string
	args     []string
	line     string
}

// transcriptEnv is how a transcript runs.
type transcriptEnv struct {
	cluster *testCluster
	environ []string
	workDir string
}

func parseTranscript(t *testing.T, text string) []step {
	t.Helper()
	var steps []step
	var comments []string
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "## "):
			comments = append(comments, line)
		case strings.HasPrefix(line, "$ fleetctl"):
			args, err := shellWords(strings.TrimPrefix(line, "$ fleetctl"))
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			steps = append(steps, step{comments: comments, args: args, line: line})
			comments = nil
		}
	}
	return steps
}

// runTranscript runs testdata/name.golden and compares (or rewrites) it.
func runTranscript(t *testing.T, name string, env transcriptEnv) {
	t.Helper()
	path := "testdata/" + name + ".golden"
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for _, st := range parseTranscript(t, string(want)) {
		env.cluster.settle(t)
		for _, c := range st.comments {
			got.WriteString(c + "\n")
		}
		got.WriteString(st.line + "\n")
		got.WriteString(runOnce(st.args, env))
		got.WriteString("\n")
	}
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got.String() != string(want) {
		t.Errorf("%s differs (go test -run %s -update rewrites it):\n%s", path, t.Name(), lineDiff(string(want), got.String()))
	}
}

// runOnce runs fleetctl once and renders what it printed.
func runOnce(args []string, env transcriptEnv) string {
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, args, stdio{in: strings.NewReader(""), out: &stdout, err: &stderr}, env.environ,
		options{poll: 50 * time.Millisecond, workDir: env.workDir})
	var b strings.Builder
	b.WriteString(ensureNewline(stdout.String()))
	if stderr.Len() > 0 {
		b.WriteString("[stderr]\n" + ensureNewline(stderr.String()))
	}
	if code != 0 {
		fmt.Fprintf(&b, "[exit %d]\n", code)
	}
	return b.String()
}

func ensureNewline(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}

// shellWords splits a command line as a POSIX shell would, without any
// expansion: single and double quotes group, a backslash escapes.
func shellWords(s string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   rune
		escaped bool
	)
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\\':
			escaped, inWord = true, true
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil, fmt.Errorf("unterminated quote or escape in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// lineDiff shows the first lines where want and got part.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			lo, hi := max(0, i-3), min(len(g), i+6)
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q\ngot, around it:\n%s", i+1, wl, gl, strings.Join(g[lo:hi], "\n"))
		}
	}
	return "(same lines, different endings)"
}
