package fleetctl

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// sshHome makes a home directory with an unencrypted ~/.ssh/id_ed25519,
// and returns it with the key.
func sshHome(t *testing.T) (string, ssh.Signer) {
	t.Helper()
	home := t.TempDir()
	signer, priv := newSigner(t)
	block, err := ssh.MarshalPrivateKey(priv, "test key")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return home, signer
}

// knownHostsFile is where fleetctl looks for known hosts by default.
func knownHostsFile(home string) string { return filepath.Join(home, ".fleetctl", "known_hosts") }

// writeKnownHosts makes home's known_hosts file hold lines.
func writeKnownHosts(t *testing.T, home string, lines ...string) {
	t.Helper()
	f := knownHostsFile(home)
	if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startAgent serves an SSH agent holding one key, commented comment, on
// a unix socket until the test ends; it returns the socket and the key.
func startAgent(t *testing.T, comment string) (string, ssh.PublicKey) {
	t.Helper()
	signer, priv := newSigner(t)
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: priv, Comment: comment}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				agent.ServeAgent(keyring, c)
			}()
		}
	}()
	return sock, signer.PublicKey()
}

// runSSH runs fleetctl in process with o and returns its code and
// outputs.
func runSSH(t *testing.T, o options, environ []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o.poll = 10 * time.Millisecond
	code := run(ctx, args, stdio{in: strings.NewReader(""), out: &out, err: &errOut}, environ, o)
	return code, out.String(), errOut.String()
}

// fakeFleetd answers every request with one machine, counting them.
func fakeFleetd(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"machines":[{"id":"0acdd9bf3d1c4e5fa7b8c9d0e1f2a3b4","primaryIP":"10.0.2.15","metadata":{}}]}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// TestTunnelHostKeys checks the tunnel host's key as fleet did: an
// unknown host is refused with its fingerprint, or trusted on first use
// and recorded without strict checking; a changed key is always refused.
func TestTunnelHostKeys(t *testing.T) {
	home, key := sshHome(t)
	srv := startSSHServer(t, "tunnel", key.PublicKey())
	fleetd, hits := fakeFleetd(t)
	env := []string{"HOME=" + home, "FLEETCTL_TUNNEL=" + srv.addr, "FLEETCTL_ENDPOINT=" + fleetd.URL}
	known := knownHostsFile(home)
	host := "[127.0.0.1]:" + strconv.Itoa(srv.port())
	const row = "0acdd9bf...\t10.0.2.15\t-\n"

	code, _, stderr := runArgs(t, env, "list-machines", "--no-legend")
	for _, want := range []string{"The authenticity of host " + host + " can't be established.", srv.fingerprint(), "--strict-host-key-checking=false", srv.knownHostsLine()} {
		if code != ExitError || !strings.Contains(stderr, want) {
			t.Fatalf("an unknown host: exit %d, stderr %q; want exit 1 and %q", code, stderr, want)
		}
	}
	if _, err := os.Stat(known); !os.IsNotExist(err) {
		t.Fatalf("%s is written with strict checking: %v", known, err)
	}

	code, stdout, stderr := runArgs(t, env, "--strict-host-key-checking=false", "list-machines", "--no-legend")
	if code != ExitOK || stdout != row || !strings.Contains(stderr, "Permanently added '"+host+"' (ssh-ed25519)") {
		t.Fatalf("trust on first use: exit %d, %q, %q", code, stdout, stderr)
	}
	checkKnownHosts(t, known, srv.knownHostsLine()+"\n")
	code, stdout, stderr = runArgs(t, env, "list-machines", "--no-legend")
	if code != ExitOK || stdout != row || stderr != "" {
		t.Fatalf("a known host: exit %d, %q, %q", code, stdout, stderr)
	}

	other, _ := newSigner(t)
	changed := host + " " + string(ssh.MarshalAuthorizedKey(other.PublicKey()))
	writeKnownHosts(t, home, "# an old key", strings.TrimSpace(changed))
	before := hits.Load()
	for _, strict := range []string{"true", "false"} {
		code, _, stderr = runArgs(t, env, "--strict-host-key-checking="+strict, "list-machines")
		for _, want := range []string{"REMOTE HOST IDENTIFICATION HAS CHANGED", host, srv.fingerprint(), "Offending ssh-ed25519 key in " + known + ":2"} {
			if code != ExitError || !strings.Contains(stderr, want) {
				t.Fatalf("a changed key, strict=%s: exit %d, stderr %q; want %q", strict, code, stderr, want)
			}
		}
	}
	checkKnownHosts(t, known, "# an old key\n"+changed)
	if n := hits.Load(); n != before {
		t.Errorf("fleetd got %d requests through a host with a changed key", n-before)
	}
}

// checkKnownHosts checks the file's content and modes.
func checkKnownHosts(t *testing.T, file, want string) {
	t.Helper()
	got, err := os.ReadFile(file)
	if err != nil || string(got) != want {
		t.Fatalf("%s: %q, %v; want %q", file, got, err, want)
	}
	for path, mode := range map[string]os.FileMode{file: 0o600, filepath.Dir(file): 0o700 | os.ModeDir} {
		if fi, err := os.Stat(path); err != nil || fi.Mode() != mode {
			t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode(), err, mode)
		}
	}
}

// Machines of TestSSH: both on 127.0.0.1, their sshds on ports of their
// own (options.sshPorts).
const (
	sshMachineA = "aaaa00001111222233334444555566ee"
	sshMachineB = "bbbb00001111222233334444555566ff"
)

// sshCase is one fleetctl run of TestSSH.
type sshCase struct {
	name    string
	args    []string
	env     []string // added to the test's
	noPorts bool     // run without options.sshPorts
	code    int
	stdout  string
	stderr  string // a part of it; "" for none at all
}

// TestSSH runs commands on the machines of a cluster of two, with units
// placed on them, through a tunnel or not, and reaches fleetd and etcd
// through the tunnel.
func TestSSH(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two fleetds")
	}
	home, key := sshHome(t)
	agentSock, agentKey := startAgent(t, "agent-key")
	tunnel := startSSHServer(t, "tunnel", key.PublicKey())
	a := startSSHServer(t, "machine-a", key.PublicKey(), agentKey)
	b := startSSHServer(t, "machine-b", key.PublicKey())
	writeKnownHosts(t, home, tunnel.knownHostsLine(), a.knownHostsLine(), b.knownHostsLine())
	tc := startCluster(t, "/_coreos.com/fleet/", "", []machineSpec{{id: sshMachineA, ip: "127.0.0.1"}, {id: sshMachineB, ip: "127.0.0.1"}})
	startSSHUnits(t, tc)
	o := options{sshPorts: map[string]int{sshMachineA: a.port(), sshMachineB: b.port()}}
	env := []string{"HOME=" + home, "FLEETCTL_ENDPOINT=" + tc.endpoint}
	for _, c := range sshCases(a, tunnel, agentSock, tc.etcdURL) {
		t.Run(c.name, func(t *testing.T) {
			run := o
			if c.noPorts {
				run = options{}
			}
			code, stdout, stderr := runSSH(t, run, append(slices.Clone(env), c.env...), c.args...)
			if code != c.code || stdout != c.stdout || (c.stderr == "") != (stderr == "") || !strings.Contains(stderr, c.stderr) {
				t.Errorf("fleetctl %s: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr with %q",
					strings.Join(c.args, " "), code, stdout, stderr, c.code, c.stdout, c.stderr)
			}
		})
	}
	sock := strings.TrimPrefix(tc.endpoint, "unix://")
	_, forwarded := tunnel.stats()
	for _, want := range []string{"unix " + sock, "tcp " + b.addr, "tcp " + strings.TrimPrefix(tc.etcdURL, "http://")} {
		if !slices.Contains(forwarded, want) {
			t.Errorf("the tunnel forwarded %q, not %q", forwarded, want)
		}
	}
}

// startSSHUnits starts db.service on machine B and the global
// monitor.service, and waits for them.
func startSSHUnits(t *testing.T, tc *testCluster) {
	t.Helper()
	c := tc.client(t)
	exec := unit.Option{Section: "Service", Name: "ExecStart", Value: "/bin/true"}
	for _, u := range []api.Unit{
		{Name: "db.service", DesiredState: "launched", Options: []unit.Option{exec, {Section: "X-Fleet", Name: "MachineID", Value: sshMachineB}}},
		{Name: "monitor.service", DesiredState: "launched", Options: []unit.Option{exec, {Section: "X-Fleet", Name: "Global", Value: "true"}}},
	} {
		if err := c.CreateUnit(context.Background(), &u); err != nil {
			t.Fatal(err)
		}
	}
	tc.settle(t)
}

// sshCases are TestSSH's runs.
func sshCases(a, tunnel *sshServer, agentSock, etcdURL string) []sshCase {
	idA := sshMachineA[:8]
	withAgent := []string{"SSH_AUTH_SOCK=" + agentSock}
	viaTunnel := "--tunnel=" + tunnel.addr
	machines := sshMachineA + "\t127.0.0.1\t-\n" + sshMachineB + "\t127.0.0.1\t-\n"
	return []sshCase{
		{name: "unit", args: []string{"ssh", "--unit", "db", "--", "hostname"}, stdout: "machine-b\n"},
		{name: "unit argument", args: []string{"ssh", "db.service", "hostname"}, stdout: "machine-b\n"},
		{name: "machine argument", args: []string{"ssh", idA, "--", "whoami"}, stdout: "core\n"},
		{name: "user", args: []string{"--ssh-username=admin", "ssh", "--machine", idA, "whoami"}, stdout: "admin\n"},
		{name: "ssh-port", args: []string{"ssh", "--ssh-port=" + strconv.Itoa(a.port()), "--machine", idA, "hostname"}, noPorts: true, stdout: "machine-a\n"},
		{name: "exit status", args: []string{"ssh", "--unit", "db", "--", "exit", "3"}, code: 3},
		{name: "not found", args: []string{"ssh", "--unit", "db", "nope"}, code: 127, stderr: "sh: nope: command not found\n"},
		{name: "global", args: []string{"ssh", "--unit", "monitor", "hostname"}, code: ExitError, stderr: "Unit monitor.service is global and runs on 2 machines (aaaa0000.../127.0.0.1, bbbb0000.../127.0.0.1): pick one with --machine"},
		{name: "global on one", args: []string{"ssh", "--unit", "monitor", "--machine", idA, "hostname"}, stdout: "machine-a\n"},
		{name: "no unit", args: []string{"ssh", "--unit", "nope", "hostname"}, code: ExitError, stderr: "Unit nope.service not found"},
		{name: "nothing", args: []string{"ssh", "nope", "hostname"}, code: ExitError, stderr: `no machine or unit "nope" in the cluster`},
		{name: "no terminal", args: []string{"ssh", "--unit", "db"}, code: ExitError, stderr: "standard input is not a terminal"},
		{name: "agent", args: []string{"ssh", "-A", "--machine", idA, "ssh-add", "-l"}, env: withAgent, stdout: "agent-key\n"},
		{name: "agent not forwarded", args: []string{"ssh", "--machine", idA, "ssh-add", "-l"}, env: withAgent, code: 2, stderr: "Could not open a connection to your authentication agent."},
		{name: "no agent", args: []string{"ssh", "-A", "--machine", idA, "hostname"}, code: ExitError, stderr: "SSH_AUTH_SOCK is not set"},
		{name: "tunnel", args: []string{viaTunnel, "ssh", "--unit", "db", "hostname"}, stdout: "machine-b\n"},
		{name: "tunnel API", args: []string{viaTunnel, "list-machines", "--no-legend", "--full"}, stdout: machines},
		{name: "tunnel etcd", args: []string{viaTunnel, "--driver=etcd", "--endpoint=" + etcdURL, "list-machines", "--no-legend", "--full"}, stdout: machines},
	}
}

// TestHostKeyOfAnotherType: a host whose known key is of another type
// than the one it shows is unknown, not changed, as with OpenSSH.
func TestHostKeyOfAnotherType(t *testing.T) {
	home, key := sshHome(t)
	srv := startSSHServer(t, "tunnel", key.PublicKey())
	fleetd, _ := fakeFleetd(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	host := "[127.0.0.1]:" + strconv.Itoa(srv.port())
	ecdsaLine := host + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	writeKnownHosts(t, home, ecdsaLine)
	env := []string{"HOME=" + home, "FLEETCTL_TUNNEL=" + srv.addr, "FLEETCTL_ENDPOINT=" + fleetd.URL}
	code, _, stderr := runArgs(t, env, "list-machines")
	if code != ExitError || !strings.Contains(stderr, "Keys of other types are known for this host") || strings.Contains(stderr, "CHANGED") {
		t.Fatalf("a key of a new type, strict: exit %d, %q", code, stderr)
	}
	code, _, stderr = runArgs(t, env, "--strict-host-key-checking=false", "list-machines")
	if code != ExitOK {
		t.Fatalf("a key of a new type, not strict: exit %d, %q", code, stderr)
	}
	checkKnownHosts(t, knownHostsFile(home), ecdsaLine+"\n"+srv.knownHostsLine()+"\n")
}

// TestSSHTimeout: a host that accepts the connection but never speaks
// SSH is given up after --ssh-timeout.
func TestSSHTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, silent, until the listener closes
		}
	}()
	home, _ := sshHome(t)
	start := time.Now()
	code, _, stderr := runArgs(t, []string{"HOME=" + home}, "--tunnel="+l.Addr().String(), "--ssh-timeout=0.2", "list-machines")
	if code != ExitError || !strings.Contains(stderr, "--tunnel="+l.Addr().String()) || !strings.Contains(stderr, "not connected within --ssh-timeout=200ms") {
		t.Fatalf("a silent host: exit %d, %q", code, stderr)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("gave up after %v, want about 200ms", took)
	}
}
