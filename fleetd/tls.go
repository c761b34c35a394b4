package fleetd

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"

	"go.etcd.io/etcd/client/pkg/v3/transport"
)

// listenerTLS checks the TLS files of one listener of the embedded etcd
// ("peer" or "client", listening at u) and returns etcd's settings for
// it. A listener beyond loopback must have TLS and a CA for the
// certificates of whoever connects: etcd's HTTP gateway and its peer
// port take writes from anyone who reaches them, and a job and a body
// written there run as root on a machine. etcd_insecure accepts that.
func listenerTLS(which string, u *url.URL, f TLSFiles, insecure bool) (transport.TLSInfo, error) {
	key := "etcd_" + which + "_"
	info := transport.TLSInfo{CertFile: f.CertFile, KeyFile: f.KeyFile, TrustedCAFile: f.CAFile, ClientCertAuth: f.CAFile != ""}
	if err := f.check(key); err != nil {
		return info, err
	}
	switch {
	case f.CertFile != "" && u.Scheme != "https":
		return info, fmt.Errorf("%w: etcd_%s_url %s: %scertfile is set, so the URL must be https://", ErrConfig, which, u, key)
	case f.CertFile == "" && u.Scheme == "https":
		return info, fmt.Errorf("%w: etcd_%s_url %s is https:// but %scertfile and %skeyfile are not set", ErrConfig, which, u, key, key)
	case u.Scheme != "http" && u.Scheme != "https":
		return info, fmt.Errorf("%w: etcd_%s_url %s: want http:// or https://", ErrConfig, which, u)
	}
	if isLoopback(u.Hostname()) || insecure || (f.CertFile != "" && f.CAFile != "") {
		return info, nil
	}
	missing := key + "certfile, " + key + "keyfile and " + key + "cafile"
	if f.CertFile != "" {
		missing = key + "cafile (without it, any client is accepted)"
	}
	return info, fmt.Errorf("%w: etcd_%s_url %s listens beyond loopback without TLS and client certificates, "+
		"so anyone who reaches it could write units that run as root: set %s, or etcd_insecure=true to accept that",
		ErrConfig, which, u, missing)
}

// check reads the files, so that a missing or wrong one is named at
// start rather than in a failed handshake later. key prefixes the
// option names in errors ("etcd_peer_", "api_").
func (f TLSFiles) check(key string) error {
	if (f.CertFile == "") != (f.KeyFile == "") {
		return fmt.Errorf("%w: %scertfile and %skeyfile go together: set both or neither", ErrConfig, key, key)
	}
	if f.CAFile != "" && f.CertFile == "" {
		return fmt.Errorf("%w: %scafile is set without %scertfile and %skeyfile: a listener checks client certificates only over TLS", ErrConfig, key, key, key)
	}
	if f.CertFile != "" {
		if _, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile); err != nil {
			return fmt.Errorf("%w: %scertfile %s, %skeyfile %s: %w", ErrConfig, key, f.CertFile, key, f.KeyFile, err)
		}
	}
	if f.CAFile != "" {
		if _, err := readCA(f.CAFile); err != nil {
			return fmt.Errorf("%w: %scafile: %w", ErrConfig, key, err)
		}
	}
	return nil
}

// readCA reads a PEM file of CA certificates.
func readCA(name string) (*x509.CertPool, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", name)
	}
	return pool, nil
}

// serverTLS is the TLS configuration of the https:// API listeners: the
// certificate, and when api_cafile is set, client certificates it signs
// required.
func serverTLS(f TLSFiles) (*tls.Config, error) {
	if f.CertFile == "" {
		return nil, fmt.Errorf("%w: api_listen has an https:// listener but api_certfile and api_keyfile are not set", ErrConfig)
	}
	if err := f.check("api_"); err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: api_certfile %s, api_keyfile %s: %w", ErrConfig, f.CertFile, f.KeyFile, err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if f.CAFile != "" {
		if cfg.ClientCAs, err = readCA(f.CAFile); err != nil {
			return nil, fmt.Errorf("%w: api_cafile: %w", ErrConfig, err)
		}
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// isLoopback reports whether host names only this machine: a loopback
// address or "localhost". "" and 0.0.0.0 listen everywhere.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// apiForwarder is the client this fleetd forwards status and journal
// calls with to other machines' https:// APIs: it trusts api_cafile and
// presents api_certfile, which must then also be a client certificate.
// nil (api's default) when the API has no TLS files.
func apiForwarder(f TLSFiles) (*http.Client, error) {
	if !f.Enabled() {
		return nil, nil
	}
	if err := f.check("api_"); err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.CAFile != "" {
		pool, err := readCA(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: api_cafile: %w", ErrConfig, err)
		}
		cfg.RootCAs = pool
	}
	if f.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: api_certfile %s, api_keyfile %s: %w", ErrConfig, f.CertFile, f.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy, tr.TLSClientConfig = nil, cfg
	return &http.Client{Transport: tr}, nil
}
