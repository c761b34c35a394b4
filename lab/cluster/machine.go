package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fleetsim/fleet/lab/nsboot"
)

// Machine is one machine of the cluster. Its identity (exported fields)
// stays the same across crashes and boots; its systemd is new at each
// boot. Its methods are safe for concurrent use.
type Machine struct {
	c *Cluster
	// Index is the machine's number, from 1.
	Index int
	// Hostname is core-01, core-02, ...
	Hostname string
	// IP is the machine's address on the bridge.
	IP string
	// ID is the machine's /etc/machine-id, fleet's machine ID.
	ID string
	// Metadata is what fleetd advertises: role, region, disk, ram.
	Metadata map[string]string
	// Member says whether the machine embeds an etcd member.
	Member bool

	mu      sync.Mutex
	nm      *nsboot.Machine // nil while down
	cut     bool            // its link is down
	reaped  chan struct{}   // closed once the current boot has been cleaned up
	downErr error           // what cleaning up after the last boot gave
}

// metadataKeys are the machine's metadata keys, in the order shown.
var metadataKeys = []string{"role", "region", "disk", "ram"}

// metadataFor gives machine i (from 1) metadata that varies along the
// cluster: roles web, web, db, worker; regions eu, us, us, asia, ...;
// disks ssd, hdd, ssd; ram 4096, 2048, 8192, 2048.
func metadataFor(i int) map[string]string {
	roles := []string{"web", "web", "db", "worker"}
	regions := []string{"eu", "us", "us", "asia", "eu"}
	disks := []string{"ssd", "hdd", "ssd"}
	rams := []string{"4096", "2048", "8192", "2048"}
	return map[string]string{
		"role":   roles[(i-1)%len(roles)],
		"region": regions[(i-1)%len(regions)],
		"disk":   disks[(i-1)%len(disks)],
		"ram":    rams[(i-1)%len(rams)],
	}
}

// newMachine describes machine i; it does not boot it.
func (c *Cluster) newMachine(i int) *Machine {
	var id [16]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails (Go 1.24 and later)
	members := min(Members, c.cfg.Machines)
	return &Machine{
		c:        c,
		Index:    i,
		Hostname: fmt.Sprintf("core-%02d", i),
		IP:       c.cfg.Subnet + "." + strconv.Itoa(10+i),
		ID:       hex.EncodeToString(id[:]),
		Metadata: metadataFor(i),
		Member:   i <= members,
	}
}

// MetadataString is the metadata as fleetd takes it: role=web,region=eu,...
func (m *Machine) MetadataString() string {
	parts := make([]string, 0, len(metadataKeys))
	for _, k := range metadataKeys {
		parts = append(parts, k+"="+m.Metadata[k])
	}
	return strings.Join(parts, ",")
}

// Endpoint is the machine's fleet API over HTTP.
func (m *Machine) Endpoint() string {
	return "http://" + m.IP + ":" + strconv.Itoa(m.c.cfg.APIPort)
}

// Veth is the name of the host's side of the machine's link.
func (m *Machine) Veth() string { return fmt.Sprintf("%s-%02d", m.c.cfg.Name, m.Index) }

// nsName is the machine's nsboot name.
func (m *Machine) nsName() string { return m.c.cfg.Name + "-" + m.Hostname }

// mac is the machine's fixed MAC address, 02:77 then the four octets of
// its IP: after a reboot its neighbours' ARP caches are still right.
func (m *Machine) mac() string {
	o := strings.Split(m.c.cfg.Subnet, ".")
	b := []byte{0x02, 0x77, 0, 0, 0, byte(10 + m.Index)}
	for i := range o {
		n, _ := strconv.Atoi(o[i]) // checked by withDefaults
		b[2+i] = byte(n)
	}
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}

// Disk is the host directory that serves as the machine's disk (its
// etcd data lives there); it is bind-mounted at the same path inside.
func (m *Machine) Disk() string { return filepath.Join(m.c.cfg.Dir, "disks", m.Hostname) }

// Up reports whether the machine is running.
func (m *Machine) Up() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.nm != nil
}

// Cut reports whether the machine's link is down (LinkDown).
func (m *Machine) Cut() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cut
}

// PID returns the host PID of the machine's systemd, or 0 while down.
func (m *Machine) PID() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.nm == nil {
		return 0
	}
	return m.nm.PID()
}

// current returns the running nsboot machine, or an error.
func (m *Machine) current() (*nsboot.Machine, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.nm == nil {
		return nil, fmt.Errorf("cluster: machine %s is down", m.Hostname)
	}
	return m.nm, nil
}

// Boot boots the machine: its link, its systemd, its network, then
// fleetd.service. It returns once fleetd.service has started (fleetd
// joins the cluster a moment later: see Cluster.WaitRegistered).
func (m *Machine) Boot(ctx context.Context) error {
	m.mu.Lock()
	if m.nm != nil {
		m.mu.Unlock()
		return fmt.Errorf("cluster: machine %s is already up", m.Hostname)
	}
	m.mu.Unlock()
	start := time.Now()
	if err := os.MkdirAll(m.Disk(), 0o700); err != nil {
		return fmt.Errorf("cluster: %s: disk: %w", m.Hostname, err)
	}
	if err := m.ensureCert(); err != nil {
		return err
	}
	peer := m.Veth() + "p"
	if err := addVeth(m.Veth(), peer, m.mac(), m.c.bridge); err != nil {
		return fmt.Errorf("cluster: %s: %w", m.Hostname, err)
	}
	nm, err := nsboot.Boot(ctx, nsboot.Options{
		Name: m.nsName(), Hostname: m.Hostname, MachineID: m.ID, PrivateNetwork: true,
		BindDirs: []string{m.Disk(), filepath.Dir(m.c.cfg.Fleetd)},
	})
	if err != nil {
		return errors.Join(fmt.Errorf("cluster: %s: %w", m.Hostname, err), delLink(m.Veth()))
	}
	m.c.cfg.Progress("%s %-12s systemd running after %v (pid %d)", m.Hostname, m.IP,
		time.Since(start).Round(10*time.Millisecond), nm.PID())
	if err := m.configure(ctx, nm, peer); err != nil {
		return errors.Join(fmt.Errorf("cluster: %s: %w", m.Hostname, err), nm.Shutdown(), delLink(m.Veth()))
	}
	m.mu.Lock()
	m.nm, m.cut, m.reaped = nm, false, make(chan struct{})
	reaped := m.reaped
	m.mu.Unlock()
	go m.reap(nm, reaped)
	m.c.cfg.Progress("%s %-12s fleetd.service started after %v (%s)", m.Hostname, m.IP,
		time.Since(start).Round(10*time.Millisecond), m.MetadataString())
	return m.c.saveState()
}

// configure moves the machine's end of its veth in, names it eth0, gives
// it the machine's address, then writes and starts fleetd.service.
func (m *Machine) configure(ctx context.Context, nm *nsboot.Machine, peer string) error {
	if err := ip("link", "set", peer, "netns", strconv.Itoa(nm.PID())); err != nil {
		return err
	}
	steps := [][]string{
		{"ip", "link", "set", peer, "name", "eth0"},
		{"ip", "addr", "add", m.IP + "/24", "dev", "eth0"},
		{"ip", "link", "set", "eth0", "up"},
		{"ip", "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if _, err := nm.Exec(ctx, s...); err != nil {
			return err
		}
	}
	unitPath := nm.Root() + "/etc/systemd/system/fleetd.service"
	if err := os.WriteFile(unitPath, []byte(m.fleetdUnit()), 0o644); err != nil {
		return fmt.Errorf("write fleetd.service: %w", err)
	}
	for _, s := range [][]string{{"systemctl", "daemon-reload"}, {"systemctl", "start", "fleetd.service"}} {
		if _, err := nm.Exec(ctx, s...); err != nil {
			return err
		}
	}
	return nil
}

// reap waits for a boot of the machine to end, however it ends, and
// removes what it left (its cgroups and work directory; its network
// namespace and veth went with it), then records it in the state file
// unless the cluster is closing.
func (m *Machine) reap(nm *nsboot.Machine, reaped chan struct{}) {
	defer close(reaped)
	<-nm.Done()
	err := nm.Shutdown()
	m.mu.Lock()
	if m.nm == nm {
		m.nm, m.cut = nil, false
	}
	m.downErr = err
	m.mu.Unlock()
	if err != nil {
		m.c.cfg.Progress("%s: cleaning up after it: %v", m.Hostname, err)
	}
	if m.c.isClosed() {
		return
	}
	if serr := m.c.saveState(); serr != nil {
		m.c.cfg.Progress("%s: %v", m.Hostname, serr)
	}
}

// Kill crashes the machine: SIGKILL to its systemd ends every process
// in it at once, fleetd and units alike, and its network goes with it.
// It returns once the machine has been cleaned up.
func (m *Machine) Kill() error {
	nm, err := m.current()
	if err != nil {
		return err
	}
	if err := nm.Kill(); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	return m.waitReaped()
}

// Poweroff asks the machine's systemd to power off, stopping its units
// and fleetd in order, and returns once it has and has been cleaned up.
func (m *Machine) Poweroff() error {
	nm, err := m.current()
	if err != nil {
		return err
	}
	if err := nm.Poweroff(); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	return m.waitReaped()
}

// waitReaped waits until the current boot's cleanup is done and returns
// its error.
func (m *Machine) waitReaped() error {
	m.mu.Lock()
	reaped := m.reaped
	m.mu.Unlock()
	select {
	case <-reaped:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("cluster: %s: not cleaned up after 30s", m.Hostname)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.downErr
}

// shutdown ends the machine if it is up, at once (SIGKILL to its
// systemd: the lab is going away, nothing in it needs an orderly stop),
// and returns what cleaning up gave.
func (m *Machine) shutdown() error {
	m.mu.Lock()
	nm := m.nm
	m.mu.Unlock()
	if nm == nil {
		return nil
	}
	if err := nm.Kill(); err != nil {
		return errors.Join(fmt.Errorf("cluster: %w", err), nm.Shutdown())
	}
	return m.waitReaped()
}

// LinkDown cuts the machine off: its veth goes down on the host's side.
// Its processes keep running; nothing reaches it and nothing leaves it.
func (m *Machine) LinkDown() error { return m.setLink(false) }

// LinkUp puts the machine's link back.
func (m *Machine) LinkUp() error { return m.setLink(true) }

func (m *Machine) setLink(up bool) error {
	if _, err := m.current(); err != nil {
		return err
	}
	state := "down"
	if up {
		state = "up"
	}
	if err := ip("link", "set", m.Veth(), state); err != nil {
		return fmt.Errorf("cluster: %s: %w", m.Hostname, err)
	}
	m.mu.Lock()
	m.cut = !up
	m.mu.Unlock()
	return nil
}

// Exec runs a command inside the machine and returns its output.
func (m *Machine) Exec(ctx context.Context, args ...string) (string, error) {
	nm, err := m.current()
	if err != nil {
		return "", err
	}
	out, err := nm.Exec(ctx, args...)
	if err != nil {
		return out, fmt.Errorf("cluster: %w", err)
	}
	return out, nil
}
