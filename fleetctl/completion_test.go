package fleetctl

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// completionScript writes fleetctl's completion script for sh to a file.
func completionScript(t *testing.T, sh string) string {
	t.Helper()
	code, script, stderr := runArgs(t, nil, "completion", sh)
	if code != ExitOK {
		t.Fatalf("completion %s: exit %d, %s", sh, code, stderr)
	}
	path := filepath.Join(t.TempDir(), "fleetctl."+sh)
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBashCompletes calls the bash completion function as bash does on a
// tab, and reads what it offers.
func TestBashCompletes(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	script := completionScript(t, "bash")
	dir := t.TempDir() // holds one unit file, offered for unit arguments
	if err := os.WriteFile(filepath.Join(dir, "a.service"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		words string // the command line, the last word being completed
		want  string // the offers, one per line
	}{
		{"fleetctl start ", "a.service"},
		{"fleetctl start --block-attempts ", ""},
		{"fleetctl --endpoint ", ""},
		{"fleetctl --endpoint http://x:1 list-units --fields ", ""},
		{"fleetctl sta", "start status"},
		{"fleetctl list-u", "list-unit-files list-units"},
		{"fleetctl start --no", "--no-block"},
		{"fleetctl --endpoint http://x:1 --dr", "--driver"},
		{"fleetctl --endpoint http://x:1 stop --bl", "--block-attempts"},
		{"fleetctl completion ", "bash zsh"},
		{"fleetctl nothing-starts-so", ""},
	} {
		words := strings.Fields(tc.words)
		if strings.HasSuffix(tc.words, " ") {
			words = append(words, "")
		}
		cmdline := "source " + script + "; COMP_WORDS=(" + strings.Join(quoteAll(words), " ") + "); COMP_CWORD=" +
			itoa(len(words)-1) + "; _fleetctl; printf '%s\\n' \"${COMPREPLY[@]}\""
		cmd := exec.Command(bash, "-c", cmdline)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tc.words, err, out)
		}
		if got := strings.Join(strings.Fields(string(out)), " "); got != tc.want {
			t.Errorf("%q: bash offers %q, want %q", tc.words, got, tc.want)
		}
	}
}

// zshDriver types a line and a tab into an interactive zsh that has
// loaded a completion script, then a key bound to print the edited line,
// and prints everything zsh showed: zsh completes only inside its line
// editor, so the test runs one on a pseudo-terminal (zsh/zpty).
const zshDriver = `zmodload zsh/zpty || exit 3
zpty z 'zsh -f -i'
zpty -w z "autoload -U compinit; compinit -u -D; source ${(q)1}; PS1='> '; showbuf() { print -rn -- \$'\\n'\"<<BUFFER:\$BUFFER>>\"; }; zle -N showbuf; bindkey '^X' showbuf; print READY-\$((6*7))"
zpty -r z out '*READY-42*' || exit 4
zpty -w -n z "$2"$'\t\C-x'
zpty -r z out '*<<BUFFER:*>>*' || exit 5
print -r -- "$out"
zpty -d z
`

var (
	ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)
	zshBuffer  = regexp.MustCompile(`<<BUFFER:(.*)>>`)
)

// zshComplete has a real zsh complete line with one tab, and returns the
// line after it and all that zsh showed (a listing of choices, if any).
func zshComplete(t *testing.T, zsh, script, line string, env []string) (buffer, shown string) {
	t.Helper()
	driver := filepath.Join(t.TempDir(), "drive.zsh")
	if err := os.WriteFile(driver, []byte(zshDriver), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, zsh, "-f", driver, script, line)
	cmd.Env, cmd.Dir = env, t.TempDir()
	out, err := cmd.CombinedOutput()
	shown = ansiEscape.ReplaceAllString(string(out), "")
	m := zshBuffer.FindStringSubmatch(shown)
	if err != nil || m == nil {
		t.Fatalf("%q: zsh did not complete: %v\n%s", line, err, shown)
	}
	return m[1], shown
}

// TestZshCompletes has a real zsh complete fleetctl command lines.
func TestZshCompletes(t *testing.T) {
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("zsh not installed")
	}
	script := completionScript(t, "zsh")
	for _, tc := range []struct {
		line   string   // typed before the tab
		buffer string   // the line after it
		shown  []string // choices listed
	}{
		{"fleetctl sta", "fleetctl sta", []string{"start", "status", "Instruct systemd to start"}},
		{"fleetctl start --no", "fleetctl start --no-block ", nil},
		{"fleetctl start --block-attempts 3 --no", "fleetctl start --block-attempts 3 --no-block ", nil},
		{"fleetctl list-machines --no-l", "fleetctl list-machines --no-legend ", nil},
		{"fleetctl --endpoint http://x:1 list-units --fi", "fleetctl --endpoint http://x:1 list-units --fields=", nil},
		{"fleetctl --endpoint http://x:1 list-mach", "fleetctl --endpoint http://x:1 list-machines ", nil},
		{"fleetctl --driver=etcd --etcd-key-pre", "fleetctl --driver=etcd --etcd-key-prefix=", nil},
		{"fleetctl completion ", "fleetctl completion ", []string{"bash", "zsh"}},
		{"fleetctl help list-m", "fleetctl help list-machines ", nil},
	} {
		buffer, shown := zshComplete(t, zsh, script, tc.line, os.Environ())
		if buffer != tc.buffer {
			t.Errorf("%q: zsh made it %q, want %q", tc.line, buffer, tc.buffer)
		}
		for _, w := range tc.shown {
			if !strings.Contains(shown, w) {
				t.Errorf("%q: zsh lists no %q:\n%s", tc.line, w, shown)
			}
		}
	}
}

func quoteAll(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestMain lets the test binary stand in for the fleetctl command that
// completion scripts call (fleetctl __complete-units).
func TestMain(m *testing.M) {
	if os.Getenv("FLEETCTL_TEST_AS_COMMAND") == "1" {
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
	}
	os.Exit(m.Run())
}

// fleetctlOnPath puts a fleetctl that runs this test binary as the
// command first on PATH, and returns the environment to give shells.
func fleetctlOnPath(t *testing.T) []string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wrapper := "#!/bin/sh\nFLEETCTL_TEST_AS_COMMAND=1 exec " + strconv.Quote(self) + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "fleetctl"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
}

// TestCompletionOffersTheClustersUnits completes unit names in bash and
// zsh from a running fleetd, reached through the global flags typed
// before the command.
func TestCompletionOffersTheClustersUnits(t *testing.T) {
	tc := startCluster(t, "/_coreos.com/fleet/", "", walkthroughMachines()[:1])
	dir := t.TempDir()
	for _, name := range []string{"hello.service", "helper.service", "web@.service"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("[Service]\nExecStart=/bin/true\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := runArgs(t, nil, "--endpoint", tc.endpoint, "submit", filepath.Join(dir, name)); code != ExitOK {
			t.Fatalf("submit %s: exit %d, %s", name, code, stderr)
		}
	}
	env := fleetctlOnPath(t)
	if bash, err := exec.LookPath("bash"); err == nil {
		script := completionScript(t, "bash")
		cmdline := "source " + script + "; COMP_WORDS=(fleetctl --endpoint " + strconv.Quote(tc.endpoint) +
			" start hel); COMP_CWORD=4; _fleetctl; printf '%s\\n' \"${COMPREPLY[@]}\""
		cmd := exec.Command(bash, "-c", cmdline)
		cmd.Env, cmd.Dir = env, t.TempDir() // no file there starts with hel
		out, err := cmd.CombinedOutput()
		if got := strings.Join(strings.Fields(string(out)), " "); err != nil || got != "hello.service helper.service" {
			t.Errorf("bash offers %q (%v), want the two units starting with hel", got, err)
		}
	}
	if zsh, err := exec.LookPath("zsh"); err == nil {
		script := completionScript(t, "zsh")
		buffer, shown := zshComplete(t, zsh, script, "fleetctl --endpoint "+tc.endpoint+" status hel", env)
		if !strings.Contains(shown, "hello.service") || !strings.Contains(shown, "helper.service") {
			t.Errorf("zsh made the line %q and listed no hello.service and helper.service:\n%s", buffer, shown)
		}
	}
}
