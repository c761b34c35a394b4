package vagrant

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/fleetsim/fleet/internal/pki"
)

// ClientName names the host's client certificate: fleetctl.pem and
// fleetctl-key.pem, for fleetctl --driver=etcd and the API over https.
const ClientName = "fleetctl"

// WriteCerts makes the Vagrant lab's CA and writes into dir its
// certificate (ca.pem), one certificate per machine, named NAME=IP
// (NAME.pem, NAME-key.pem), and the host's (fleetctl.pem,
// fleetctl-key.pem). The Vagrantfile uploads each machine's files to it.
// A dir that already has a ca.pem is kept as it is (made reports false):
// remove it to make new ones.
func WriteCerts(dir string, machines []string) (made bool, err error) {
	if _, err := os.Stat(filepath.Join(dir, "ca.pem")); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if len(machines) == 0 {
		return false, errors.New("vagrant: no machines: want NAME=IP arguments, like core-01=172.17.8.101")
	}
	ca, err := pki.NewCA("fleet Vagrant lab CA")
	if err != nil {
		return false, err
	}
	tmp := dir + ".new"
	if err := os.RemoveAll(tmp); err != nil {
		return false, err
	}
	for _, m := range machines {
		name, addr, ok := strings.Cut(m, "=")
		ip := net.ParseIP(addr)
		if !ok || name == "" || strings.ContainsAny(name, "/ ") || ip == nil {
			return false, fmt.Errorf("vagrant: machine %q: want NAME=IP, like core-01=172.17.8.101", m)
		}
		pair, err := ca.Machine(name, ip)
		if err != nil {
			return false, err
		}
		if _, err := ca.Write(tmp, name, pair); err != nil {
			return false, err
		}
	}
	pair, err := ca.Client(ClientName)
	if err != nil {
		return false, err
	}
	if _, err := ca.Write(tmp, ClientName, pair); err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return false, err
	}
	// All or nothing: a half-written dir would be kept by the next run.
	if err := os.Rename(tmp, dir); err != nil {
		return false, fmt.Errorf("vagrant: %w", err)
	}
	return true, nil
}
