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

// dial connects to the cluster through the chosen driver. The API driver
// does no I/O here; the etcd driver checks that etcd answers.
func dial(ctx context.Context, g *globals, debug io.Writer) (*conn, error) {
	if g.tunnel != "" {
		return nil, fmt.Errorf("--tunnel=%s: SSH tunnels are not supported by this fleetctl yet; run it on a machine of the cluster, or reach fleetd over http(s) with --endpoint", g.tunnel)
	}
	if !g.debug {
		debug = nil
	}
	if g.driver == driverEtcd {
		return dialEtcd(ctx, g, debug)
	}
	return dialAPI(g, debug)
}

// dialAPI returns a connection to fleetd's API at --endpoint.
func dialAPI(g *globals, debug io.Writer) (*conn, error) {
	hc, base, err := httpClient(g, debug)
	if err != nil {
		return nil, err
	}
	c, err := api.NewClient(base, hc)
	if err != nil {
		return nil, usageErrorf("", "--endpoint=%s: %w", g.endpoint, err)
	}
	return &conn{
		Cluster:  reachable{c: c, endpoint: g.endpoint, what: "fleetd"},
		endpoint: g.endpoint,
		serverVersion: func(ctx context.Context) (string, error) {
			v, err := serverVersion(ctx, hc, base)
			return v, reachability(g.endpoint, "fleetd", err)
		},
	}, nil
}

// httpClient builds the client of --endpoint and the base URL to give
// api.NewClient: a unix endpoint is dialed here, so that --debug can
// wrap the transport.
func httpClient(g *globals, debug io.Writer) (*http.Client, string, error) {
	u, err := url.Parse(g.endpoint)
	if err != nil {
		return nil, "", usageErrorf("", "--endpoint=%s: %w", g.endpoint, err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if tr.TLSClientConfig, err = tlsConfig(g); err != nil {
		return nil, "", err
	}
	base := g.endpoint
	switch u.Scheme {
	case "http", "https":
	case "unix":
		sock := u.Host + u.Path
		if sock == "" {
			return nil, "", usageErrorf("", "--endpoint=%s: no socket path", g.endpoint)
		}
		var d net.Dialer
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", sock)
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
