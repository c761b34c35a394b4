package fleetctl

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// sshServer is an SSH server in process, on 127.0.0.1, for fleetctl's
// SSH paths: it lets in the keys it is given, runs a few fake commands
// (fakeCommand) for "exec" requests, and forwards "direct-tcpip" and
// "direct-streamlocal@openssh.com" channels to 127.0.0.1 and to local
// unix sockets, recording where.
type sshServer struct {
	name    string // what `hostname` prints
	addr    string // 127.0.0.1:port
	hostKey ssh.Signer
	cfg     *ssh.ServerConfig

	mu        sync.Mutex
	forwarded []string // "tcp 127.0.0.1:80", "unix /path"
	logins    int
	terminal  []string // "pty TERM COLSxROWS", "window COLSxROWS", in order
}

// newSigner returns a fresh ed25519 key.
func newSigner(t *testing.T) (ssh.Signer, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, priv
}

// startSSHServer serves SSH as name until the test ends, to the users
// who hold one of keys.
func startSSHServer(t *testing.T, name string, keys ...ssh.PublicKey) *sshServer {
	t.Helper()
	s := &sshServer{name: name}
	s.hostKey, _ = newSigner(t)
	s.cfg = &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		for _, ok := range keys {
			if string(ok.Marshal()) == string(k.Marshal()) {
				return nil, nil
			}
		}
		return nil, errors.New("unknown key")
	}}
	s.cfg.AddHostKey(s.hostKey)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(nc)
		}
	}()
	return s
}

// port is the server's TCP port.
func (s *sshServer) port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// knownHostsLine is the server's line in a known_hosts file.
func (s *sshServer) knownHostsLine() string {
	return fmt.Sprintf("[127.0.0.1]:%d %s", s.port(), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.hostKey.PublicKey()))))
}

// terminals returns the terminal requests seen so far.
func (s *sshServer) terminals() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.terminal...)
}

func (s *sshServer) noteTerminal(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.terminal = append(s.terminal, fmt.Sprintf(format, args...))
}

// fingerprint is the SHA256 fingerprint of the server's host key.
func (s *sshServer) fingerprint() string { return ssh.FingerprintSHA256(s.hostKey.PublicKey()) }

// stats returns the logins so far and the forwarded destinations.
func (s *sshServer) stats() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins, append([]string(nil), s.forwarded...)
}

func (s *sshServer) serve(nc net.Conn) {
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.cfg)
	if err != nil {
		nc.Close() // a client that refused the host key, or had no key
		return
	}
	defer sc.Close()
	s.mu.Lock()
	s.logins++
	s.mu.Unlock()
	go ssh.DiscardRequests(reqs)
	for nch := range chans {
		switch nch.ChannelType() {
		case "session":
			go s.session(sc, nch)
		case "direct-tcpip", "direct-streamlocal@openssh.com":
			go s.forward(nch)
		default:
			nch.Reject(ssh.UnknownChannelType, nch.ChannelType())
		}
	}
}

// forward connects a forwarding channel to its destination.
func (s *sshServer) forward(nch ssh.NewChannel) {
	network, addr, err := destination(nch)
	if err != nil {
		nch.Reject(ssh.Prohibited, err.Error())
		return
	}
	s.mu.Lock()
	s.forwarded = append(s.forwarded, network+" "+addr)
	s.mu.Unlock()
	c, err := net.Dial(network, addr)
	if err != nil {
		nch.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nch.Accept()
	if err != nil {
		c.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	go func() {
		io.Copy(c, ch)
		if uc, ok := c.(interface{ CloseWrite() error }); ok {
			uc.CloseWrite()
		}
	}()
	io.Copy(ch, c)
	ch.Close()
	c.Close()
}

// destination reads where a forwarding channel goes (RFC 4254 7.2, and
// OpenSSH's PROTOCOL 2.4); only 127.0.0.1 is reachable over TCP.
func destination(nch ssh.NewChannel) (network, addr string, err error) {
	if nch.ChannelType() == "direct-streamlocal@openssh.com" {
		var p struct {
			Path      string
			Reserved0 string
			Reserved1 uint32
		}
		if err := ssh.Unmarshal(nch.ExtraData(), &p); err != nil {
			return "", "", err
		}
		return "unix", p.Path, nil
	}
	var p struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if err := ssh.Unmarshal(nch.ExtraData(), &p); err != nil {
		return "", "", err
	}
	if p.Host != "127.0.0.1" {
		return "", "", fmt.Errorf("test server: forwarding to %s: only 127.0.0.1", p.Host)
	}
	return "tcp", net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port))), nil
}

// session serves one session channel: an "exec" runs a fake command.
func (s *sshServer) session(sc *ssh.ServerConn, nch ssh.NewChannel) {
	ch, reqs, err := nch.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	agentForwarded := false
	for req := range reqs {
		switch req.Type {
		case "auth-agent-req@openssh.com":
			agentForwarded = true
			req.Reply(true, nil)
		case "env":
			req.Reply(req.WantReply, nil)
		case "pty-req":
			var p struct {
				Term                      string
				Cols, Rows, Width, Height uint32
				Modes                     string
			}
			if err := ssh.Unmarshal(req.Payload, &p); err != nil {
				req.Reply(false, nil)
				continue
			}
			s.noteTerminal("pty %s %dx%d", p.Term, p.Cols, p.Rows)
			req.Reply(true, nil)
		case "window-change":
			var p struct{ Cols, Rows, Width, Height uint32 }
			if ssh.Unmarshal(req.Payload, &p) == nil {
				s.noteTerminal("window %dx%d", p.Cols, p.Rows)
			}
		case "shell":
			req.Reply(true, nil)
			go func() { // requests such as window-change go on meanwhile
				status := s.fakeShell(sc, ch)
				ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
				ch.Close()
			}()
		case "exec":
			var p struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &p); err != nil {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			status := s.fakeCommand(sc, ch, p.Command, agentForwarded)
			ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
			return
		default:
			req.Reply(false, nil)
		}
	}
}

// fakeShell reads command lines, ended by a carriage return as a
// terminal in raw mode sends them, and runs each as fakeCommand does,
// until "exit N" or the end of input.
func (s *sshServer) fakeShell(sc *ssh.ServerConn, ch ssh.Channel) uint32 {
	var line []byte
	buf := make([]byte, 256)
	io.WriteString(ch, "$ ")
	for {
		n, err := ch.Read(buf)
		for _, c := range buf[:n] {
			if c != '\r' && c != '\n' {
				line = append(line, c)
				continue
			}
			command := strings.TrimSpace(string(line))
			line = line[:0]
			if words := strings.Fields(command); len(words) == 2 && words[0] == "exit" {
				n, _ := strconv.Atoi(words[1])
				return uint32(n)
			}
			if command != "" {
				s.fakeCommand(sc, ch, command, false)
			}
			io.WriteString(ch, "$ ")
		}
		if err != nil {
			return 0
		}
	}
}

// fakeCommand runs command: hostname, whoami, echo WORDS, exit N,
// ssh-add -l (lists the forwarded agent's keys by comment); anything
// else is not found.
func (s *sshServer) fakeCommand(sc *ssh.ServerConn, ch ssh.Channel, command string, agentForwarded bool) uint32 {
	words := strings.Fields(command)
	switch {
	case command == "hostname":
		fmt.Fprintln(ch, s.name)
	case command == "whoami":
		fmt.Fprintln(ch, sc.User())
	case len(words) > 0 && words[0] == "echo":
		fmt.Fprintln(ch, strings.Join(words[1:], " "))
	case len(words) == 2 && words[0] == "exit":
		n, _ := strconv.Atoi(words[1])
		return uint32(n)
	case command == "ssh-add -l" && agentForwarded:
		return listAgent(sc, ch)
	case command == "ssh-add -l":
		fmt.Fprintln(ch.Stderr(), "Could not open a connection to your authentication agent.")
		return 2
	default:
		fmt.Fprintf(ch.Stderr(), "sh: %s: command not found\n", command)
		return 127
	}
	return 0
}

// listAgent prints the comments of the keys of the client's agent.
func listAgent(sc *ssh.ServerConn, ch ssh.Channel) uint32 {
	ach, reqs, err := sc.OpenChannel("auth-agent@openssh.com", nil)
	if err != nil {
		fmt.Fprintln(ch.Stderr(), "agent channel:", err)
		return 2
	}
	defer ach.Close()
	go ssh.DiscardRequests(reqs)
	keys, err := agent.NewClient(ach).List()
	if err != nil {
		fmt.Fprintln(ch.Stderr(), "agent:", err)
		return 2
	}
	for _, k := range keys {
		fmt.Fprintln(ch, k.Comment)
	}
	return 0
}
