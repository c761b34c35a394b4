package fleetctl

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/api"
)

func TestExpandBraces(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"wys-wpa@{1..3}.service", []string{"wys-wpa@1.service", "wys-wpa@2.service", "wys-wpa@3.service"}},
		{"wys-wpa@{1,5,7}.service", []string{"wys-wpa@1.service", "wys-wpa@5.service", "wys-wpa@7.service"}},
		{"web@{3..1}", []string{"web@3", "web@2", "web@1"}},
		{"web@{08..10}", []string{"web@08", "web@09", "web@10"}},
		{"{a,b}{1,2}", []string{"a1", "a2", "b1", "b2"}},
		{"x{a,{b,c}}y", []string{"xay", "xby", "xcy"}},
		{"hello.service", []string{"hello.service"}},
		{"no{brace", []string{"no{brace"}},
		{"one{item}", []string{"one{item}"}},
		{"{a..c}", []string{"{a..c}"}},
		{"{}{1,2}", []string{"{}1", "{}2"}},
	} {
		if got := expandBraces(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("expandBraces(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := expandBraces("{1..100000}"); len(got) != 1 {
		t.Errorf("a huge range expands to %d words, want it left alone", len(got))
	}
}

func TestShellWords(t *testing.T) {
	got, err := shellWords(` start 'hello_world@*' "a b" c\ d --x=1`)
	want := []string{"start", "hello_world@*", "a b", "c d", "--x=1"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("shellWords = %q, %v; want %q", got, err, want)
	}
	if _, err := shellWords(`'open`); err == nil {
		t.Fatal("an unterminated quote is accepted")
	}
}

func TestLongDashes(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.String("etcd-key-prefix", "", "")
	fs.BoolP("full", "l", false, "")
	got := longDashes(fs, []string{"-etcd-key-prefix=/fleet", "-l", "-full", "-nope", "unit", "--", "-full"})
	want := []string{"--etcd-key-prefix=/fleet", "-l", "--full", "-nope", "unit", "--", "-full"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("longDashes = %q, want %q", got, want)
	}
}

func TestUnitArgs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.service"), []byte("[Service]\nExecStart=/bin/true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &session{opts: options{workDir: dir}}
	args, err := s.unitArgs([]string{"hello", "web@{1..2}", "sub/db.socket", "hello_world@*"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range args {
		got = append(got, a.name+"|"+a.path+"|"+map[bool]string{true: "glob", false: ""}[a.glob])
	}
	want := []string{"hello.service|hello.service|", "web@1.service||", "web@2.service||", "db.socket||", "hello_world@*||glob"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("unitArgs = %q, want %q", got, want)
	}
	if _, err := s.unitArgs([]string{"bad name"}); err == nil || !strings.Contains(err.Error(), `"bad name"`) {
		t.Fatalf("a bad name gives %v", err)
	}
}

func TestExistingGlobs(t *testing.T) {
	all := []api.Unit{{Name: "hello_world@.service"}, {Name: "hello_world@1.service"}, {Name: "hello_world@2.service"}, {Name: "other.socket"}}
	args := []unitArg{{raw: "hello_world@*", name: "hello_world@*", glob: true}, {raw: "other.socket", name: "other.socket"}}
	us, err := existing(all, args, false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range us {
		names = append(names, u.Name)
	}
	if want := []string{"hello_world@1.service", "hello_world@2.service", "other.socket"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("existing = %q, want %q", names, want)
	}
	_, err = existing(all, []unitArg{{raw: "x", name: "x.service"}, {raw: "y*", name: "y*", glob: true}}, true)
	var ue *UnitError
	if !errors.As(err, &ue) || ue.Unit != "x.service" || !strings.Contains(err.Error(), `"y*"`) {
		t.Fatalf("missing units give %v", err)
	}
}

// runArgs runs fleetctl in process and returns its code and outputs.
func runArgs(t *testing.T, environ []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := run(ctx, args, stdio{in: strings.NewReader(""), out: &out, err: &errOut}, environ, options{poll: 10 * time.Millisecond})
	return code, out.String(), errOut.String()
}

func TestEnvironmentAndFlags(t *testing.T) {
	code, _, stderr := runArgs(t, []string{"FLEETCTL_REQUEST_TIMEOUT=soon"}, "list-units")
	if code != ExitUsage || !strings.Contains(stderr, "FLEETCTL_REQUEST_TIMEOUT") {
		t.Errorf("a bad environment value: exit %d, %q", code, stderr)
	}
	// The flag wins over the environment.
	code, _, stderr = runArgs(t, []string{"FLEETCTL_ENDPOINT=unix:///from/env.sock"}, "--endpoint=unix:///from/flag.sock", "list-units")
	if code != ExitError || !strings.Contains(stderr, "unix:///from/flag.sock") {
		t.Errorf("--endpoint and FLEETCTL_ENDPOINT: exit %d, %q", code, stderr)
	}
	// Global flags may follow the command, as with fleet's fleetctl.
	code, _, stderr = runArgs(t, nil, "list-units", "--endpoint", "unix:///after/command.sock")
	if code != ExitError || !strings.Contains(stderr, "unix:///after/command.sock") {
		t.Errorf("a global flag after the command: exit %d, %q", code, stderr)
	}
	code, stdout, _ := runArgs(t, nil, "start", "--help")
	if code != ExitOK || !strings.Contains(stdout, "--block-attempts") {
		t.Errorf("start --help: exit %d, %q", code, stdout)
	}
}

func TestTLSEndpoint(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "fleetd/tls-test")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"machines":[{"id":"0acdd9bf3d1c4e5fa7b8c9d0e1f2a3b4","primaryIP":"10.0.2.15","metadata":{"a":"b"}}]}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, block, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runArgs(t, nil, "--endpoint="+srv.URL, "--ca-file="+ca, "list-machines", "--no-legend")
	if code != ExitOK || stdout != "0acdd9bf...\t10.0.2.15\ta=b\n" {
		t.Errorf("list-machines over https: exit %d, %q, %q", code, stdout, stderr)
	}
	code, _, stderr = runArgs(t, nil, "--endpoint="+srv.URL, "list-machines")
	if code != ExitError || !strings.Contains(stderr, "cannot reach fleetd at "+srv.URL) || !strings.Contains(stderr, "certificate") {
		t.Errorf("an unknown CA: exit %d, %q", code, stderr)
	}
	code, _, stderr = runArgs(t, nil, "--endpoint="+srv.URL, "--cert-file=x.pem", "list-machines")
	if code != ExitUsage || !strings.Contains(stderr, "--key-file") {
		t.Errorf("--cert-file alone: exit %d, %q", code, stderr)
	}
	code, stdout, stderr = runArgs(t, nil, "--endpoint="+srv.URL, "--ca-file="+ca, "--debug", "version")
	if code != ExitOK || !strings.Contains(stdout, "fleetd version tls-test") || !strings.Contains(stderr, "DEBUG: GET "+srv.URL+"/fleet/v1/discovery") {
		t.Errorf("version --debug: exit %d, %q, %q", code, stdout, stderr)
	}
}

func TestEtcdUnreachable(t *testing.T) {
	code, _, stderr := runArgs(t, nil, "--driver=etcd", "--endpoint=http://127.0.0.1:1", "--request-timeout=0.3", "list-units")
	if code != ExitError || !strings.HasPrefix(stderr, "cannot reach etcd at http://127.0.0.1:1") {
		t.Errorf("an etcd that does not answer: exit %d, %q", code, stderr)
	}
}

func TestCompletionScriptsParse(t *testing.T) {
	for _, sh := range []string{"bash", "zsh"} {
		path, err := exec.LookPath(sh)
		if err != nil {
			t.Logf("%s not installed: script not checked", sh)
			continue
		}
		code, script, stderr := runArgs(t, nil, "completion", sh)
		if code != ExitOK {
			t.Fatalf("completion %s: exit %d, %s", sh, code, stderr)
		}
		cmd := exec.Command(path, "-n")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s -n rejects the script: %v\n%s", sh, err, out)
		}
	}
}
