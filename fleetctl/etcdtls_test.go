package fleetctl

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/fleetsim/fleet/internal/pki"
	"github.com/fleetsim/fleet/registry/etcdtest"
)

// TestEtcdDriverWithClientCertificates runs the etcd driver against an
// etcd that requires client certificates, as the embedded members of a
// cluster beyond loopback do.
func TestEtcdDriverWithClientCertificates(t *testing.T) {
	_, sf, cf := testCerts(t, "etcd")
	srv := etcdtest.StartTuned(t, func(cfg *embed.Config) {
		u := url.URL{Scheme: "https", Host: cfg.ListenClientUrls[0].Host}
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{u}, []url.URL{u}
		cfg.ClientTLSInfo.CertFile, cfg.ClientTLSInfo.KeyFile = sf.Cert, sf.Key
		cfg.ClientTLSInfo.TrustedCAFile, cfg.ClientTLSInfo.ClientCertAuth = sf.CA, true
	})
	endpoint := "--endpoint=https://" + srv.Etcd.Clients[0].Addr().String()
	base := []string{"--driver=etcd", endpoint, "--request-timeout=1"}

	code, stdout, stderr := runArgs(t, nil, append(base, "--ca-file="+cf.CA, "--cert-file="+cf.Cert, "--key-file="+cf.Key, "list-machines")...)
	if code != ExitOK || !strings.HasPrefix(stdout, "MACHINE") {
		t.Fatalf("with a client certificate: exit %d, %q, %q", code, stdout, stderr)
	}
	code, _, stderr = runArgs(t, nil, append(base, "--ca-file="+cf.CA, "list-machines")...)
	if code != ExitError || !strings.Contains(stderr, "etcd requires a client certificate: give --cert-file and --key-file") {
		t.Errorf("without a client certificate: exit %d, %q", code, stderr)
	}
	code, _, stderr = runArgs(t, nil, append(base, "--cert-file="+cf.Cert, "--key-file="+cf.Key, "list-machines")...)
	if code != ExitError || !strings.Contains(stderr, "not signed by a known CA (give it with --ca-file)") {
		t.Errorf("without the CA: exit %d, %q", code, stderr)
	}
	_, _, of := testCerts(t, "another")
	code, _, stderr = runArgs(t, nil, append(base, "--ca-file="+cf.CA, "--cert-file="+of.Cert, "--key-file="+of.Key, "list-machines")...)
	if code != ExitError || !strings.Contains(stderr, "etcd refused the client certificate of --cert-file") {
		t.Errorf("a certificate of another CA: exit %d, %q", code, stderr)
	}
	// The environment carries the files as fleet's FLEETCTL_* did.
	env := []string{"FLEETCTL_CA_FILE=" + cf.CA, "FLEETCTL_CERT_FILE=" + cf.Cert, "FLEETCTL_KEY_FILE=" + cf.Key}
	if code, _, stderr = runArgs(t, env, append(base, "list-units")...); code != ExitOK {
		t.Errorf("files from the environment: exit %d, %q", code, stderr)
	}
}

// TestAPIWithClientCertificates reaches a fleetd API over https that
// requires client certificates, as fleetd's api_cafile makes it.
func TestAPIWithClientCertificates(t *testing.T) {
	ca, sf, cf := testCerts(t, "fleetd")
	cert, err := tls.LoadX509KeyPair(sf.Cert, sf.Key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"machines":[]}`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	code, _, stderr := runArgs(t, nil, "--endpoint="+srv.URL, "--ca-file="+cf.CA, "--cert-file="+cf.Cert, "--key-file="+cf.Key, "list-machines")
	if code != ExitOK {
		t.Fatalf("with a client certificate: exit %d, %q", code, stderr)
	}
	code, _, stderr = runArgs(t, nil, "--endpoint="+srv.URL, "--ca-file="+cf.CA, "list-machines")
	if code != ExitError || !strings.Contains(stderr, "certificate required (the server requires a client certificate: --cert-file and --key-file)") {
		t.Errorf("without a client certificate: exit %d, %q", code, stderr)
	}
	code, _, stderr = runArgs(t, nil, "--endpoint="+srv.URL, "--cert-file="+cf.Cert, "--key-file="+cf.Key, "list-machines")
	if code != ExitError || !strings.Contains(stderr, "(give the server's CA with --ca-file)") {
		t.Errorf("without the CA: exit %d, %q", code, stderr)
	}
}

// testCerts makes a CA and writes its certificate, a server's (for
// server) and fleetctl's as a client, in a temporary directory.
func testCerts(t *testing.T, server string) (*pki.CA, pki.Files, pki.Files) {
	t.Helper()
	ca, err := pki.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, p pki.Pair, err error) pki.Files {
		if err != nil {
			t.Fatal(err)
		}
		f, err := ca.Write(dir, name, p)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	sp, err := ca.Machine(server)
	sf := write(server, sp, err)
	cp, err := ca.Client("fleetctl")
	return ca, sf, write("fleetctl", cp, err)
}
