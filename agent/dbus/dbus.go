// Package dbus is the agent's real systemd: an agent.Systemd that installs
// unit files in a directory of its own, links them into systemd's runtime
// unit directory and drives systemd over D-Bus, as fleet's agent did.
//
// Files: a unit is written in canonical form (unit.File.Serialize) to
// <units dir>/<name>; a port the scheduler gave it goes in a drop-in,
// <units dir>/<name>.d/fleet-port.conf, which sets FLEET_PORT in the
// unit's environment. Linking a unit file (LinkUnitFiles) does not carry
// the drop-in directory next to it, so Load also makes the symlink
// <runtime dir>/<name>.d -> <units dir>/<name>.d, where systemd looks for
// drop-ins and follows symlinked drop-in directories. Both links point at
// paths as systemd sees them, so the units directory must have the same
// path for this process and for systemd (the same host, or a bind mount
// at the same path).
//
// The runtime directory is /run/systemd/system as this process sees it;
// when systemd runs in another mount namespace (a test machine booted by
// lab/nsboot), WithRuntimeDir points at it through /proc/<pid>/root. Load
// never creates that directory: systemd does, and a host without a
// running systemd must not get one.
//
// State: Units lists the units directory and asks systemd for their
// states in one call. Changed is fed by systemd's PropertiesChanged
// signals for those units, not by polling.
//
// The bus is the system bus (DBUS_SYSTEM_BUS_ADDRESS, or its default
// socket) unless WithBusAddress names another, such as a lab machine's.
package dbus

import (
	"errors"
	"sync"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"

	"github.com/fleetsim/fleet/agent"
)

// ErrNotConnected is returned by the methods that need systemd before
// Connect or after Close.
var ErrNotConnected = errors.New("dbus: not connected to systemd")

// DefaultRuntimeDir is systemd's runtime unit directory.
const DefaultRuntimeDir = "/run/systemd/system"

// Systemd is an agent.Systemd over D-Bus. Create it with New, then
// Connect. Its methods are safe for concurrent use.
type Systemd struct {
	unitsDir   string
	runtimeDir string
	busAddress string
	changed    chan struct{}
	jobs       chan agent.JobResult

	mu   sync.Mutex
	conn *sddbus.Conn               // calls to systemd (go-systemd)
	sig  *godbus.Conn               // systemd's signals, read by watch
	done chan struct{}              // closed by Close: stops watch
	ours map[godbus.ObjectPath]bool // D-Bus paths of the installed units
}

var _ agent.Systemd = (*Systemd)(nil)

// Option configures a Systemd.
type Option func(*Systemd)

// WithBusAddress makes Connect dial this D-Bus address instead of the
// system bus (which DBUS_SYSTEM_BUS_ADDRESS or the default socket names).
func WithBusAddress(addr string) Option { return func(s *Systemd) { s.busAddress = addr } }

// WithRuntimeDir says where this process sees systemd's runtime unit
// directory (DefaultRuntimeDir), for port drop-in links.
func WithRuntimeDir(dir string) Option { return func(s *Systemd) { s.runtimeDir = dir } }

// New returns a Systemd that installs unit files in unitsDir. It does no
// I/O.
func New(unitsDir string, opts ...Option) *Systemd {
	s := &Systemd{
		unitsDir:   unitsDir,
		runtimeDir: DefaultRuntimeDir,
		changed:    make(chan struct{}, 1),
		jobs:       make(chan agent.JobResult, 64),
		ours:       map[godbus.ObjectPath]bool{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}
