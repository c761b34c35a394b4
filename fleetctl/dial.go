package fleetctl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/fleetsim/fleet/api"
)

// dialFunc opens a connection to the endpoint: network is "tcp" or
// "unix", addr a host:port or a socket's path.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// dial connects to the cluster through the chosen driver. With --tunnel,
// it opens the SSH connection to the tunnel host first (sd's), and every
// connection to --endpoint is made from there, as that host sees it.
// Otherwise the API driver does no I/O here; the etcd driver checks that
// etcd answers.
func dial(ctx context.Context, g *globals, debug io.Writer, sd *sshDialer) (*conn, error) {
	if !g.debug {
		debug = nil
	}
	var through dialFunc
	if g.tunnel != "" {
		if _, err := sd.tunnelClient(ctx); err != nil {
			return nil, err
		}
		through = sd.dialFromTunnel
	}
	if g.driver == driverEtcd {
		return dialEtcd(ctx, g, debug, through)
	}
	return dialAPI(g, debug, through)
}

// endpointName is --endpoint as error messages name it, with the tunnel
// it is reached through.
func endpointName(g *globals) string {
	if g.tunnel == "" {
		return g.endpoint
	}
	return g.endpoint + " (through --tunnel=" + g.tunnel + ")"
}

// dialAPI returns a connection to fleetd's API at --endpoint, reached
// with through when it is not nil.
func dialAPI(g *globals, debug io.Writer, through dialFunc) (*conn, error) {
	hc, base, err := httpClient(g, debug, through)
	if err != nil {
		return nil, err
	}
	c, err := api.NewClient(base, hc)
	if err != nil {
		return nil, usageErrorf("", "--endpoint=%s: %w", g.endpoint, err)
	}
	where := endpointName(g)
	return &conn{
		Cluster:  reachable{c: c, endpoint: where, what: "fleetd"},
		endpoint: g.endpoint,
		serverVersion: func(ctx context.Context) (string, error) {
			v, err := serverVersion(ctx, hc, base)
			return v, reachability(where, "fleetd", err)
		},
	}, nil
}

// httpClient builds the client of --endpoint and the base URL to give
// api.NewClient: a unix endpoint is dialed here, so that --debug can
// wrap the transport. Connections are opened with through, when it is
// not nil.
func httpClient(g *globals, debug io.Writer, through dialFunc) (*http.Client, string, error) {
	u, err := url.Parse(g.endpoint)
	if err != nil {
		return nil, "", usageErrorf("", "--endpoint=%s: %w", g.endpoint, err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if tr.TLSClientConfig, err = tlsConfig(g); err != nil {
		return nil, "", err
	}
	if through != nil {
		tr.DialContext, tr.Proxy = through, nil
	} else {
		var d net.Dialer
		through = d.DialContext
	}
	base := g.endpoint
	switch u.Scheme {
	case "http", "https":
	case "unix":
		sock := u.Host + u.Path
		if sock == "" {
			return nil, "", usageErrorf("", "--endpoint=%s: no socket path", g.endpoint)
		}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return through(ctx, "unix", sock)
		}
		tr.Proxy = nil
		base = "http://fleet.sock"
	default:
		return nil, "", usageErrorf("", "--endpoint=%s: want unix://PATH, http://HOST:PORT or https://HOST:PORT", g.endpoint)
	}
	var rt http.RoundTripper = tr
	if debug != nil {
		rt = debugTransport{next: tr, w: debug}
	}
	return &http.Client{Transport: rt, Timeout: g.timeout()}, base, nil
}

// tlsConfig reads --ca-file, --cert-file and --key-file; nil when none
// is given.
func tlsConfig(g *globals) (*tls.Config, error) {
	if g.caFile == "" && g.certFile == "" && g.keyFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if g.caFile != "" {
		pem, err := os.ReadFile(g.caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca-file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-file=%s: no PEM certificate in it", g.caFile)
		}
	}
	if (g.certFile == "") != (g.keyFile == "") {
		return nil, usageErrorf("", "--cert-file and --key-file go together: give both or neither")
	}
	if g.certFile != "" {
		cert, err := tls.LoadX509KeyPair(g.certFile, g.keyFile)
		if err != nil {
			return nil, fmt.Errorf("--cert-file=%s --key-file=%s: %w", g.certFile, g.keyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// serverVersion reads fleetd's version from the Server header of its
// discovery document: "fleetd/<version>".
func serverVersion(ctx context.Context, hc *http.Client, base string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+api.BasePath+"/discovery?alt=json", nil)
	if err != nil {
		return "", fmt.Errorf("version: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("version: %w", err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)); err != nil {
		return "", fmt.Errorf("version: reading the answer: %w", err)
	}
	name, v, ok := strings.Cut(resp.Header.Get("Server"), "/")
	if name != "fleetd" || !ok || v == "" {
		return "unknown", nil
	}
	return v, nil
}

// debugTransport logs every request and its answer (--debug).
type debugTransport struct {
	next http.RoundTripper
	w    io.Writer
}

func (t debugTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		fmt.Fprintf(t.w, "DEBUG: %s %s: %v (%v)\n", req.Method, req.URL, err, took)
		return nil, err
	}
	fmt.Fprintf(t.w, "DEBUG: %s %s: %s (%v)\n", req.Method, req.URL, resp.Status, took)
	return resp, nil
}
