package fleetctl

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeys checks the keys SSH servers present against a known_hosts
// file (--known-hosts-file, OpenSSH's format), as fleet did:
//
//   - a known key lets the connection go on;
//   - a key that differs from the one on file for the host is refused,
//     always, with OpenSSH's warning (fleet printed it too);
//   - an unknown host, while --strict-host-key-checking is on, is put to
//     the user when standard input is a terminal (fleet's and OpenSSH's
//     question; "yes" adds the key to the file), and otherwise refused
//     with its fingerprint and how to accept it; with it off, the key is
//     trusted on first use and appended to the file.
type hostKeys struct {
	file   string
	strict bool
	warn   io.Writer // told of every key added to the file
}

// hostKeyProbe is a key no host has: checking it lists the keys on file
// for a host (in the KeyError), to prefer their algorithms.
type hostKeyProbe struct{}

func (hostKeyProbe) Type() string    { return "fleetctl-probe" }
func (hostKeyProbe) Marshal() []byte { return []byte("fleetctl-probe") }
func (hostKeyProbe) Verify([]byte, *ssh.Signature) error {
	return errors.New("fleetctl-probe: not a key")
}

// configure sets cfg's host key callback for addr (host:port), and puts
// the algorithms of the keys on file for it first, so that the server
// shows the key that is known when it has several.
func (h hostKeys) configure(cfg *ssh.ClientConfig, addr string) error {
	check, err := h.load()
	if err != nil {
		return err
	}
	cfg.HostKeyCallback = func(host string, remote net.Addr, key ssh.PublicKey) error {
		return h.verify(check, host, remote, key)
	}
	var known []string
	var ke *knownhosts.KeyError
	if errors.As(check(addr, zeroAddr(), hostKeyProbe{}), &ke) {
		for _, k := range ke.Want {
			known = append(known, keyAlgorithms(k.Key.Type())...)
		}
	}
	if len(known) > 0 {
		all := ssh.SupportedAlgorithms().HostKeys
		cfg.HostKeyAlgorithms = append(known, slices.DeleteFunc(all, func(a string) bool { return slices.Contains(known, a) })...)
	}
	return nil
}

// load reads the file; a missing file knows no host.
func (h hostKeys) load() (ssh.HostKeyCallback, error) {
	check, err := knownhosts.New(h.file)
	if errors.Is(err, fs.ErrNotExist) {
		return knownhosts.New()
	}
	if err != nil {
		return nil, fmt.Errorf("--known-hosts-file=%s: %w", h.file, err)
	}
	return check, nil
}

// verify is the host key callback.
func (h hostKeys) verify(check ssh.HostKeyCallback, host string, remote net.Addr, key ssh.PublicKey) error {
	err := check(host, remote, key)
	var (
		ke *knownhosts.KeyError
		re *knownhosts.RevokedError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return &HostKeyError{Host: knownhosts.Normalize(host), Key: key, File: h.file, Revoked: &re.Revoked}
	case errors.As(err, &ke) && sameType(ke.Want, key):
		return &HostKeyError{Host: knownhosts.Normalize(host), Key: key, File: h.file, Known: ke.Want}
	case errors.As(err, &ke) && h.strict:
		return &HostKeyError{Host: knownhosts.Normalize(host), Key: key, File: h.file, OtherTypes: len(ke.Want) > 0}
	case errors.As(err, &ke):
		return h.add(host, key)
	}
	return fmt.Errorf("--known-hosts-file=%s: checking %s: %w", h.file, host, err)
}

// add appends host's key to the file, making it and its directory if
// need be, private to the user.
func (h hostKeys) add(host string, key ssh.PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(h.file), 0o700); err != nil {
		return fmt.Errorf("--known-hosts-file: %w", err)
	}
	f, err := os.OpenFile(h.file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("--known-hosts-file: %w", err)
	}
	name := knownhosts.Normalize(host)
	_, err = fmt.Fprintln(f, knownhosts.Line([]string{name}, key))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("--known-hosts-file=%s: adding %s: %w", h.file, name, err)
	}
	if h.warn != nil {
		fmt.Fprintf(h.warn, "Warning: Permanently added '%s' (%s) to the list of known hosts in %s.\n", name, key.Type(), h.file)
	}
	return nil
}

// sameType tells whether one of the known keys has key's type: a
// different key of the same type means the host's key has changed.
func sameType(known []knownhosts.KnownKey, key ssh.PublicKey) bool {
	for _, k := range known {
		if k.Key.Type() == key.Type() {
			return true
		}
	}
	return false
}

// keyAlgorithms are the host key algorithms that show a key of type t.
func keyAlgorithms(t string) []string {
	if t == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	}
	return []string{t}
}

// zeroAddr is the remote address of a connection tunnelled over SSH,
// which has none.
func zeroAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4zero} }

// HostKeyError is an SSH server's key that fleetctl does not trust: the
// host is unknown, its key has changed, or the key is revoked. fleetctl
// does not connect.
type HostKeyError struct {
	Host       string                // as in known_hosts: "host" or "[host]:port"
	Key        ssh.PublicKey         // the key the server presented
	File       string                // --known-hosts-file
	Known      []knownhosts.KnownKey // the keys on file, when the key changed
	Revoked    *knownhosts.KnownKey  // the @revoked line, when revoked
	OtherTypes bool                  // unknown key, but keys of other types are on file
}

// unknownHost reports whether the host has no key of this type on file
// (not changed, not revoked).
func (e *HostKeyError) unknownHost() bool { return e.Revoked == nil && len(e.Known) == 0 }

// Error explains what is wrong and what to do, in OpenSSH's words where
// an operator knows them.
func (e *HostKeyError) Error() string {
	fp := ssh.FingerprintSHA256(e.Key)
	var b strings.Builder
	switch {
	case e.Revoked != nil:
		fmt.Fprintf(&b, "The %s host key %s presented by %s is marked as revoked in %s:%d.\n", e.Key.Type(), fp, e.Host, e.Revoked.Filename, e.Revoked.Line)
	case len(e.Known) > 0:
		e.changed(&b, fp)
	default:
		e.unknown(&b, fp)
	}
	b.WriteString("Host key verification failed.")
	return b.String()
}

func (e *HostKeyError) changed(b *strings.Builder, fp string) {
	const banner = "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
	b.WriteString(banner + "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n" + banner)
	b.WriteString("IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n")
	b.WriteString("Someone could be eavesdropping on you right now (man-in-the-middle attack)!\n")
	b.WriteString("It is also possible that a host key has just been changed.\n")
	fmt.Fprintf(b, "The fingerprint for the %s key sent by the remote host %s is\n%s.\n", e.Key.Type(), e.Host, fp)
	b.WriteString("Please contact your system administrator.\n")
	fmt.Fprintf(b, "Add correct host key in %s to get rid of this message.\n", e.File)
	for _, k := range e.Known {
		if k.Key.Type() == e.Key.Type() {
			fmt.Fprintf(b, "Offending %s key in %s:%d\n", k.Key.Type(), k.Filename, k.Line)
		}
	}
}

// askToTrust asks, on out, whether to trust e's unknown host, as fleet
// and OpenSSH do, and reads the answer, a line, from in: "yes" or "y"
// trusts it. It reads one byte at a time, so that nothing after the
// line is taken from in.
func askToTrust(in io.Reader, out io.Writer, e *HostKeyError) (bool, error) {
	fmt.Fprintf(out, "The authenticity of host '%s' can't be established.\n%s key fingerprint is %s.\n", e.Host, e.Key.Type(), ssh.FingerprintSHA256(e.Key))
	if e.OtherTypes {
		fmt.Fprintln(out, "Keys of other types are known for this host, not this one.")
	}
	fmt.Fprint(out, "Are you sure you want to continue connecting (yes/no)? ")
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := in.Read(b)
		if n == 1 && b[0] != '\n' {
			line = append(line, b[0])
			continue
		}
		if n == 1 || errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return false, err
		}
	}
	answer := strings.ToLower(strings.TrimSpace(string(line)))
	return answer == "yes" || answer == "y", nil
}

func (e *HostKeyError) unknown(b *strings.Builder, fp string) {
	fmt.Fprintf(b, "The authenticity of host %s can't be established.\n", e.Host)
	fmt.Fprintf(b, "%s key fingerprint is %s.\n", e.Key.Type(), fp)
	if e.OtherTypes {
		b.WriteString("Keys of other types are known for this host, not this one.\n")
	}
	fmt.Fprintf(b, "It is not in %s, and --strict-host-key-checking is on.\n", e.File)
	b.WriteString("If this is the host's key, either run once with --strict-host-key-checking=false\n")
	b.WriteString("to trust it and add it to that file, or add this line to the file yourself:\n")
	fmt.Fprintf(b, "%s\n", knownhosts.Line([]string{e.Host}, e.Key))
}
