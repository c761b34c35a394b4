package cluster

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"

	"github.com/fleetsim/fleet/internal/pki"
)

// TLSDir is the folder of a cluster's directory that holds the lab's CA
// certificate and the client certificate for the host (fleetctl
// --driver=etcd, the soak): ca.pem, fleetctl.pem, fleetctl-key.pem.
const TLSDir = "tls"

// ClientName names the host's client certificate files in TLSDir.
const ClientName = "fleetctl"

// TLSFiles are the host's files for the cluster's etcd: the CA that
// signed every certificate, and a client certificate and key. Empty
// when the lab runs without TLS.
type TLSFiles struct {
	CAFile   string `json:"caFile,omitempty"`
	CertFile string `json:"certFile,omitempty"`
	KeyFile  string `json:"keyFile,omitempty"`
}

// makeCA makes the lab's CA, kept in memory only (it signs the
// certificates of machines the owner boots or adds), and writes its
// certificate and the host's client certificate into TLSDir.
func (c *Cluster) makeCA() error {
	ca, err := pki.NewCA("fleet lab " + c.cfg.Name + " CA")
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	pair, err := ca.Client(ClientName)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	f, err := ca.Write(filepath.Join(c.cfg.Dir, TLSDir), ClientName, pair)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	c.ca, c.tls = ca, TLSFiles{CAFile: f.CA, CertFile: f.Cert, KeyFile: f.Key}
	return nil
}

// TLS returns the host's files for the cluster's etcd, or empty ones
// when it runs without TLS.
func (c *Cluster) TLS() TLSFiles { return c.tls }

// certFiles are the machine's certificate files, on its disk: etcd
// serves them to peers and clients, and fleetd presents them to etcd.
func (m *Machine) certFiles() pki.Files {
	dir := filepath.Join(m.Disk(), TLSDir)
	return pki.Files{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, m.Hostname+".pem"),
		Key: filepath.Join(dir, m.Hostname+"-key.pem")}
}

// ensureCert issues the machine's certificate (for its address, its
// hostname and loopback) unless its disk holds one from an earlier boot.
func (m *Machine) ensureCert() error {
	ca := m.c.ca
	if ca == nil {
		return nil
	}
	f := m.certFiles()
	if _, err := os.Stat(f.Key); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cluster: %s: %w", m.Hostname, err)
	}
	pair, err := ca.Machine(m.Hostname, net.ParseIP(m.IP))
	if err != nil {
		return fmt.Errorf("cluster: %s: %w", m.Hostname, err)
	}
	if _, err := ca.Write(filepath.Dir(f.Cert), m.Hostname, pair); err != nil {
		return fmt.Errorf("cluster: %s: %w", m.Hostname, err)
	}
	return nil
}

// tlsEnv is fleetd's TLS configuration on the machine: its member's
// listeners require certificates the lab's CA signed, and fleetd
// presents the machine's to etcd.
func (m *Machine) tlsEnv() [][2]string {
	if m.c.ca == nil {
		return [][2]string{{"FLEET_ETCD_INSECURE", "true"}}
	}
	f := m.certFiles()
	env := [][2]string{{"FLEET_ETCD_CAFILE", f.CA}, {"FLEET_ETCD_CERTFILE", f.Cert}, {"FLEET_ETCD_KEYFILE", f.Key}}
	if !m.Member {
		return env
	}
	for _, l := range []string{"PEER", "CLIENT"} {
		env = append(env, [2]string{"FLEET_ETCD_" + l + "_CAFILE", f.CA}, [2]string{"FLEET_ETCD_" + l + "_CERTFILE", f.Cert},
			[2]string{"FLEET_ETCD_" + l + "_KEYFILE", f.Key})
	}
	return env
}

// etcdScheme is the scheme of the members' URLs.
func (c *Cluster) etcdScheme() string {
	if c.ca == nil {
		return "http"
	}
	return "https"
}
