package fleetctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// keyFiles are the private keys fleetctl logs in with, besides the
// agent's, when they are readable and need no passphrase: OpenSSH's
// defaults, in its order.
func keyFiles() []string { return []string{"id_ed25519", "id_ecdsa", "id_rsa"} }

// sshDialer opens fleetctl's SSH connections: to the --tunnel host, and
// from there or directly to a machine (fleetctl ssh). It logs in as
// --ssh-username with the keys of the agent at $SSH_AUTH_SOCK and the
// user's unencrypted keyFiles, checks host keys (hostKeys), and gives up
// a connection whose handshake is not done within --ssh-timeout. A
// session has one; close ends what it opened.
type sshDialer struct {
	user       string
	timeout    time.Duration
	hostKeys   hostKeys
	home       string // where ~/.ssh is
	agentSock  string // $SSH_AUTH_SOCK
	tunnelAddr string // --tunnel as host:port; "" for none

	keysOnce  sync.Once
	signers   []ssh.Signer
	notes     []string // why keys that might have been used were not
	agentConn net.Conn

	mu     sync.Mutex
	tunnel *ssh.Client

	// ask, when set, asks the user whether to trust an unknown host
	// (fleetctl's standard input is a terminal).
	ask func(*HostKeyError) (bool, error)
}

// newSSHDialer reads the SSH settings of g and env; it does no I/O.
func newSSHDialer(g *globals, env map[string]string, warn io.Writer) *sshDialer {
	d := &sshDialer{
		user:      g.sshUser,
		timeout:   time.Duration(g.sshTimeout * float64(time.Second)),
		hostKeys:  hostKeys{file: g.knownHosts, strict: g.strictHostKeys, warn: warn},
		home:      env["HOME"],
		agentSock: env["SSH_AUTH_SOCK"],
	}
	if g.tunnel != "" {
		d.tunnelAddr = withPort(g.tunnel, "22")
	}
	return d
}

// withPort adds port to a host that has none.
func withPort(hostport, port string) string {
	if _, _, err := net.SplitHostPort(hostport); err == nil {
		return hostport
	}
	return net.JoinHostPort(strings.Trim(hostport, "[]"), port)
}

// close ends the tunnel and the agent's connection.
func (d *sshDialer) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	if d.tunnel != nil {
		errs = append(errs, d.tunnel.Close())
		d.tunnel = nil
	}
	if d.agentConn != nil {
		errs = append(errs, d.agentConn.Close())
		d.agentConn = nil
	}
	return errors.Join(errs...)
}

// tunnelClient returns the connection to the --tunnel host, opened on
// first use.
func (d *sshDialer) tunnelClient(ctx context.Context) (*ssh.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tunnel != nil {
		return d.tunnel, nil
	}
	if d.tunnelAddr == "" {
		return nil, errors.New("no --tunnel given")
	}
	c, err := d.dial(ctx, nil, d.tunnelAddr)
	if err != nil {
		return nil, tunnelError(d.tunnelAddr, err)
	}
	d.tunnel = c
	return c, nil
}

// tunnelError names the tunnel in err, unless err is a host key
// error, which names the host itself, or the user's refusal of the host.
func tunnelError(addr string, err error) error {
	var hk *HostKeyError
	if errors.As(err, &hk) || errors.Is(err, errHostNotTrusted) {
		return err
	}
	return fmt.Errorf("--tunnel=%s: %w", addr, err)
}

// dialFromTunnel opens a connection to addr (a TCP host:port, or a unix
// socket's path) from the --tunnel host. A failure is a *net.OpError,
// as a direct dial's would be.
func (d *sshDialer) dialFromTunnel(ctx context.Context, network, addr string) (net.Conn, error) {
	t, err := d.tunnelClient(ctx)
	if err != nil {
		return nil, err
	}
	c, err := t.DialContext(ctx, network, addr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: remoteAddr{network, addr}, Err: err}
	}
	return c, nil
}

// remoteAddr is an address as seen from the tunnel host.
type remoteAddr struct{ network, addr string }

func (a remoteAddr) Network() string { return a.network }
func (a remoteAddr) String() string  { return a.addr }

// dial opens an SSH connection to addr (host:port), through via when it
// is not nil. An unknown host under --strict-host-key-checking is refused
// unless the user, asked, trusts it: its key is then added to the known
// hosts and the connection made again, so that no prompt waits on an
// open handshake.
func (d *sshDialer) dial(ctx context.Context, via *ssh.Client, addr string) (*ssh.Client, error) {
	c, err := d.dialOnce(ctx, via, addr)
	var hk *HostKeyError
	if d.ask == nil || !errors.As(err, &hk) || !hk.unknownHost() {
		return c, err
	}
	trust, aerr := d.ask(hk)
	switch {
	case aerr != nil:
		return nil, fmt.Errorf("ssh: asking whether to trust %s: %w", hk.Host, aerr)
	case !trust:
		return nil, errHostNotTrusted
	}
	if err := d.hostKeys.add(hk.Host, hk.Key); err != nil {
		return nil, err
	}
	return d.dialOnce(ctx, via, addr)
}

// errHostNotTrusted is the answer "no" to askToTrust, in OpenSSH's words.
var errHostNotTrusted = refusal("Host key verification failed.")

// refusal is an error that is its text, as printed.
type refusal string

func (r refusal) Error() string { return string(r) }

// dialOnce makes one attempt of dial's.
func (d *sshDialer) dialOnce(ctx context.Context, via *ssh.Client, addr string) (*ssh.Client, error) {
	who := d.user + "@" + addr
	cfg := &ssh.ClientConfig{User: d.user, Auth: []ssh.AuthMethod{ssh.PublicKeysCallback(d.keys)}}
	if err := d.hostKeys.configure(cfg, addr); err != nil {
		return nil, err
	}
	if d.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.timeout)
		defer cancel()
	}
	nc, err := connect(ctx, via, addr)
	if err != nil {
		return nil, fmt.Errorf("ssh %s: %w", who, d.timeoutError(ctx, err))
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	if !stop() {
		if err == nil {
			sc.Close()
		}
		return nil, fmt.Errorf("ssh %s: %w", who, d.timeoutError(ctx, ctx.Err()))
	}
	if err != nil {
		nc.Close()
		var (
			hk *HostKeyError
			nk *noKeyError
		)
		switch {
		case errors.As(err, &hk):
			return nil, hk
		case errors.As(err, &nk):
			return nil, fmt.Errorf("ssh %s: %w", who, nk)
		}
		return nil, fmt.Errorf("ssh %s: %w%s", who, err, d.noteText())
	}
	return ssh.NewClient(sc, chans, reqs), nil
}

// connect opens the TCP connection an SSH connection runs over.
func connect(ctx context.Context, via *ssh.Client, addr string) (net.Conn, error) {
	if via != nil {
		return via.DialContext(ctx, "tcp", addr)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, "tcp", addr)
}

// timeoutError says that --ssh-timeout ran out, when it did.
func (d *sshDialer) timeoutError(ctx context.Context, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("not connected within --ssh-timeout=%v: %w", d.timeout, err)
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("interrupted: %w", err)
	}
	return err
}

// keys returns the signers to log in with: the agent's, then the
// files'. They are read once, when a server first asks.
func (d *sshDialer) keys() ([]ssh.Signer, error) {
	d.keysOnce.Do(d.loadKeys)
	if len(d.signers) == 0 {
		return nil, &noKeyError{notes: d.noteText()}
	}
	return d.signers, nil
}

// noKeyError says that there is no key to log in with.
type noKeyError struct{ notes string }

func (e *noKeyError) Error() string {
	return fmt.Sprintf("no SSH key to log in with: no agent at $SSH_AUTH_SOCK and no ~/.ssh/{%s} readable without a passphrase%s",
		strings.Join(keyFiles(), ","), e.notes)
}

// loadKeys reads the agent's keys and the key files.
func (d *sshDialer) loadKeys() {
	if d.agentSock != "" {
		if c, err := net.Dial("unix", d.agentSock); err != nil {
			d.notes = append(d.notes, fmt.Sprintf("SSH agent: %v", err))
		} else if ss, err := agent.NewClient(c).Signers(); err != nil {
			d.notes = append(d.notes, fmt.Sprintf("SSH agent at %s: %v", d.agentSock, err))
			c.Close()
		} else {
			d.agentConn, d.signers = c, ss
		}
	}
	for _, name := range keyFiles() {
		path := filepath.Join(d.home, ".ssh", name)
		pem, err := os.ReadFile(path)
		if err != nil {
			continue // no such key: the usual case
		}
		s, err := ssh.ParsePrivateKey(pem)
		var pm *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &pm):
			d.notes = append(d.notes, path+" needs a passphrase: add it to your SSH agent")
		case err != nil:
			d.notes = append(d.notes, fmt.Sprintf("%s: %v", path, err))
		default:
			d.signers = append(d.signers, s)
		}
	}
}

// noteText is the notes on keys, for an error message.
func (d *sshDialer) noteText() string {
	if len(d.notes) == 0 {
		return ""
	}
	return " (" + strings.Join(d.notes, "; ") + ")"
}
