package fleetd

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
)

// listen opens one API listener: unix://PATH (mode 0660, a stale socket
// replaced), http://HOST:PORT (loopback when HOST is empty), or
// https://HOST:PORT with the certificate of files (and the client
// certificates it requires, when it names a CA).
func listen(spec string, files TLSFiles) (net.Listener, error) {
	u, err := url.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("%w: api_listen %q: %w", ErrConfig, spec, err)
	}
	switch u.Scheme {
	case "unix":
		return listenUnix(u.Path)
	case "http", "https":
		var cfg *tls.Config
		if u.Scheme == "https" {
			if cfg, err = serverTLS(files); err != nil {
				return nil, err
			}
		}
		host := u.Hostname()
		if host == "" {
			host = "127.0.0.1"
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, u.Port()))
		if err != nil {
			return nil, fmt.Errorf("fleetd: listen on %s: %w", spec, err)
		}
		if cfg != nil {
			return httpsListener{tls.NewListener(l, cfg)}, nil
		}
		return l, nil
	}
	return nil, fmt.Errorf("%w: api_listen %q: want unix://PATH, http://HOST:PORT or https://HOST:PORT", ErrConfig, spec)
}

func listenUnix(path string) (net.Listener, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: api_listen: unix:// needs a path", ErrConfig)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("fleetd: socket directory: %w", err)
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("fleetd: %s is in use by another fleetd", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("fleetd: remove stale socket %s: %w", path, err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("fleetd: listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o660); err != nil {
		l.Close()
		return nil, fmt.Errorf("fleetd: chmod %s: %w", path, err)
	}
	return l, nil
}

// httpsListener marks a listener that speaks TLS.
type httpsListener struct{ net.Listener }

// scheme is how a client speaks to listener l: unix, http or https.
func scheme(l net.Listener) string {
	switch {
	case l.Addr().Network() == "unix":
		return "unix"
	case isHTTPS(l):
		return "https"
	}
	return "http"
}

func isHTTPS(l net.Listener) bool {
	_, ok := l.(httpsListener)
	return ok
}

// endpoint is how a client reaches listener l.
func endpoint(l net.Listener) string {
	return scheme(l) + "://" + l.Addr().String()
}

// advertisedURL is the API URL this machine publishes for other fleetds
// (unless api_url says): that of its first http(s):// listener not bound to
// loopback, else of its first loopback one; on publicIP when it listens
// on every address. "" when it listens on unix sockets only: other
// fleetds cannot forward to it then.
func advertisedURL(listeners []net.Listener, publicIP string) string {
	var loopback string
	for _, l := range listeners {
		a, ok := l.Addr().(*net.TCPAddr)
		if !ok {
			continue
		}
		host := a.IP.String()
		if a.IP.IsUnspecified() {
			host = publicIP
			if host == "" {
				host = "127.0.0.1"
			}
		}
		u := scheme(l) + "://" + net.JoinHostPort(host, strconv.Itoa(a.Port))
		if !a.IP.IsLoopback() {
			return u
		}
		if loopback == "" {
			loopback = u
		}
	}
	return loopback
}
