package dbus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"
)

// systemd's name and object on the bus, and the prefix of its units'
// object paths.
const (
	systemdBusName   = "org.freedesktop.systemd1"
	systemdPath      = godbus.ObjectPath("/org/freedesktop/systemd1")
	unitPaths        = godbus.ObjectPath("/org/freedesktop/systemd1/unit")
	unitInterface    = "org.freedesktop.systemd1.Unit"
	managerSubscribe = "org.freedesktop.systemd1.Manager.Subscribe"
)

// Connect dials the bus, subscribes to systemd's signals and starts
// watching the installed units' states. ctx bounds the connection's life,
// not only the dial: when it ends, the connection closes.
//
// The bus is the one WithBusAddress names, or else the system bus:
// DBUS_SYSTEM_BUS_ADDRESS, or its default socket. Calls go through
// go-systemd's connection; signals come on a connection of their own, so
// that none is lost and none is dropped when the agent is slow to read.
func (s *Systemd) Connect(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		return errors.New("dbus: connect: already connected")
	}
	names, err := s.installedNames()
	if err != nil {
		return fmt.Errorf("dbus: connect: %w", err)
	}
	conn, err := sddbus.NewConnection(func() (*godbus.Conn, error) { return s.busConn(ctx) })
	if err != nil {
		return fmt.Errorf("dbus: connect to systemd: %w", err)
	}
	sig, signals, err := s.subscribe(ctx)
	if err != nil {
		conn.Close()
		return fmt.Errorf("dbus: subscribe to systemd's signals: %w", err)
	}
	s.ours = make(map[godbus.ObjectPath]bool, len(names))
	for _, n := range names {
		s.ours[unitPath(n)] = true
	}
	s.conn, s.sig, s.done = conn, sig, make(chan struct{})
	go s.watch(signals, s.done)
	return nil
}

// busConn opens an authenticated connection to the bus, as go-systemd's
// NewSystemConnectionContext does (EXTERNAL authentication by uid, then
// Hello), to the configured address if there is one.
func (s *Systemd) busConn(ctx context.Context) (*godbus.Conn, error) {
	var c *godbus.Conn
	var err error
	if s.busAddress != "" {
		c, err = godbus.Dial(s.busAddress, godbus.WithContext(ctx))
	} else {
		c, err = godbus.SystemBusPrivate(godbus.WithContext(ctx))
	}
	if err != nil {
		return nil, err
	}
	if err := c.Auth([]godbus.Auth{godbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
		return nil, errors.Join(err, c.Close())
	}
	if err := c.Hello(); err != nil {
		return nil, errors.Join(err, c.Close())
	}
	return c, nil
}

// subscribe opens the signal connection: it asks the bus for systemd's
// PropertiesChanged signals of units and asks systemd to send them.
func (s *Systemd) subscribe(ctx context.Context) (*godbus.Conn, <-chan *godbus.Signal, error) {
	sig, err := s.busConn(ctx)
	if err != nil {
		return nil, nil, err
	}
	err = sig.AddMatchSignalContext(ctx,
		godbus.WithMatchSender(systemdBusName),
		godbus.WithMatchInterface("org.freedesktop.DBus.Properties"),
		godbus.WithMatchMember("PropertiesChanged"),
		godbus.WithMatchPathNamespace(unitPaths),
		godbus.WithMatchArg(0, unitInterface))
	if err != nil {
		return nil, nil, errors.Join(err, sig.Close())
	}
	// godbus never drops a signal: when this buffer is full it queues.
	signals := make(chan *godbus.Signal, 64)
	sig.Signal(signals)
	if err := sig.Object(systemdBusName, systemdPath).CallWithContext(ctx, managerSubscribe, 0).Err; err != nil {
		return nil, nil, errors.Join(err, sig.Close())
	}
	return sig, signals, nil
}

// Close closes the connections and stops watching. Installed units stay
// as they are. Close on a Systemd that is not connected does nothing.
func (s *Systemd) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	close(s.done)
	s.conn.Close()
	err := s.sig.Close()
	s.conn, s.sig, s.done = nil, nil, nil
	if err != nil {
		return fmt.Errorf("dbus: close: %w", err)
	}
	return nil
}

// connection returns the open connection or ErrNotConnected.
func (s *Systemd) connection() (*sddbus.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil, ErrNotConnected
	}
	return s.conn, nil
}

// unitPath is the D-Bus object path of unit name.
func unitPath(name string) godbus.ObjectPath {
	return unitPaths + "/" + godbus.ObjectPath(sddbus.PathBusEscape(name))
}
