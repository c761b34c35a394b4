package fleetctl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// tlsTrouble explains why an https:// etcd did not answer when the
// reason is TLS: etcd's client only says that nothing came back within
// the timeout. It shakes hands with the first endpoint as the client
// did and returns what went wrong with a hint of the flag that fixes
// it, or nil when the handshake is not the problem.
func tlsTrouble(ctx context.Context, endpoint string, cfg *tls.Config, through dialFunc) error {
	u, err := url.Parse(strings.Split(endpoint, ",")[0])
	if err != nil || u.Scheme != "https" {
		return nil
	}
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	cfg = cfg.Clone()
	cfg.ServerName = u.Hostname()
	if through == nil {
		var d net.Dialer
		through = d.DialContext
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	raw, err := through(ctx, "tcp", u.Host)
	if err != nil {
		return nil // not TLS: the caller's error says it
	}
	conn := tls.Client(raw, cfg)
	defer conn.Close()
	if err := conn.HandshakeContext(ctx); err != nil {
		return explainTLS(err, len(cfg.Certificates) > 0)
	}
	// With TLS 1.3 the server judges the client's certificate after the
	// client's side of the handshake: its verdict is the first read.
	_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := conn.Read(make([]byte, 1)); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return explainTLS(err, len(cfg.Certificates) > 0)
	}
	return nil
}

// explainTLS names the flag behind a failed handshake; withCert says
// whether the client had a certificate to present. The cause is
// kept as text: ReachError would print a network error alone.
func explainTLS(err error, withCert bool) error {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("etcd's certificate is not signed by a known CA (give it with --ca-file): %v", err)
	case errors.As(err, &host):
		return fmt.Errorf("etcd's certificate is not for this address: %v", err)
	case strings.Contains(err.Error(), "certificate required") && !withCert:
		return fmt.Errorf("etcd requires a client certificate: give --cert-file and --key-file (%v)", err)
	case strings.Contains(err.Error(), "certificate required"), strings.Contains(err.Error(), "bad certificate"),
		strings.Contains(err.Error(), "unknown certificate authority"):
		// A client sends no certificate that etcd's CAs did not sign.
		return fmt.Errorf("etcd refused the client certificate of --cert-file: is it signed by etcd's CA? (%v)", err)
	}
	return fmt.Errorf("TLS handshake with etcd: %v", err)
}
