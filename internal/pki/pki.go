// Package pki makes the certificates of a fleet cluster: a CA, and for
// each machine one certificate that its etcd member serves and presents
// to its peers and that its fleetd presents to etcd, and client
// certificates for fleetctl. The lab and the Vagrant lab use it so that
// their etcd members speak TLS and require certificates by default; it
// is pure Go (crypto/x509), with no openssl to install.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Validity is how long the certificates last: a lab's lifetime, with
// room to keep one up for a while.
const Validity = 365 * 24 * time.Hour

// CA signs a cluster's certificates.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
	PEM  []byte // the CA certificate, PEM-encoded
}

// Pair is one certificate and its key, PEM-encoded.
type Pair struct{ Cert, Key []byte }

// NewCA makes a CA named name, valid from now for Validity.
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(Validity),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("pki: CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: CA certificate: %w", err)
	}
	return &CA{Cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Machine issues a machine's certificate: for name and ips (and
// localhost), good to serve TLS and to present as a client, as an etcd
// member does to its peers and fleetd to its member.
func (ca *CA) Machine(name string, ips ...net.IP) (Pair, error) {
	ips = append(ips, net.IPv4(127, 0, 0, 1))
	return ca.issue(name, []string{name, "localhost"}, ips, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
}

// Client issues a client certificate named name, as fleetctl presents.
func (ca *CA) Client(name string) (Pair, error) {
	return ca.issue(name, nil, nil, x509.ExtKeyUsageClientAuth)
}

func (ca *CA) issue(name string, dns []string, ips []net.IP, usage ...x509.ExtKeyUsage) (Pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Pair{}, fmt.Errorf("pki: key of %s: %w", name, err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(Validity),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: usage, DNSNames: dns, IPAddresses: ips}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return Pair{}, fmt.Errorf("pki: certificate of %s: %w", name, err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return Pair{}, fmt.Errorf("pki: key of %s: %w", name, err)
	}
	return Pair{Cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		Key: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})}, nil
}

// Files are where one machine's or client's PEM files were written.
type Files struct{ CA, Cert, Key string }

// Write writes the CA certificate and p into dir as ca.pem, NAME.pem and
// NAME-key.pem (the key readable by its owner only), and returns their
// paths.
func (ca *CA) Write(dir, name string, p Pair) (Files, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, fmt.Errorf("pki: %w", err)
	}
	f := Files{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, name+".pem"), Key: filepath.Join(dir, name+"-key.pem")}
	err := errors.Join(os.WriteFile(f.CA, ca.PEM, 0o644), os.WriteFile(f.Cert, p.Cert, 0o644), os.WriteFile(f.Key, p.Key, 0o600))
	if err != nil {
		return Files{}, fmt.Errorf("pki: %w", err)
	}
	return f, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic("pki: no randomness: " + err.Error())
	}
	return n
}
