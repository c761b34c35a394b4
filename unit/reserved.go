package unit

import (
	"errors"
	"fmt"
	"strings"
)

// ErrReservedName is wrapped by the error of CheckSubmittable for a unit
// name that fleet refuses to manage.
var ErrReservedName = errors.New("unit: reserved unit name")

// reservedPrefixes are unit name prefixes (the text before '@' or the
// type suffix) of the units a machine runs fleet with, whatever their
// type, template or instance: fleetd's own units (fleet's were named
// fleet), the etcd it may use, D-Bus (through which fleetd talks to
// systemd) and the sshd that fleetctl's --tunnel, ssh and journal reach
// the machine by. Submitting one would replace the machine's own unit;
// destroying it would stop it.
var reservedPrefixes = map[string]string{
	"fleetd":         "fleetd's own unit",
	"fleet":          "fleetd's own unit",
	"etcd":           "the etcd fleet keeps its state in",
	"etcd2":          "the etcd fleet keeps its state in",
	"etcd-member":    "the etcd fleet keeps its state in",
	"dbus":           "D-Bus, through which fleetd drives systemd",
	"sshd":           "sshd, through which fleetctl reaches machines",
	"ssh":            "sshd, through which fleetctl reaches machines",
	"NetworkManager": "the network, by which the machine is in the cluster",
}

// reservedStarts are name beginnings reserved for systemd's own units
// (systemd-journald.service, systemd-networkd.service, ...) and D-Bus's
// (dbus-broker.service, dbus-org.freedesktop.*).
var reservedStarts = []struct{ start, what string }{
	{"systemd-", "systemd's own units"},
	{"dbus-", "D-Bus's units, through which fleetd drives systemd"},
}

// reservedNames are systemd's special units (systemd.special(7)) that
// hold the machine together: the root mount and slices, the boot and
// shutdown targets (starting reboot.target reboots the machine; stopping
// multi-user.target stops most of it).
var reservedNames = map[string]bool{
	"-.mount": true, "-.slice": true, "init.scope": true, "system.slice": true, "user.slice": true, "machine.slice": true,
	"default.target": true, "multi-user.target": true, "graphical.target": true, "basic.target": true,
	"sysinit.target": true, "sockets.target": true, "timers.target": true, "paths.target": true, "slices.target": true,
	"local-fs.target": true, "remote-fs.target": true, "swap.target": true,
	"network.target": true, "network-online.target": true, "network-pre.target": true,
	"emergency.target": true, "rescue.target": true, "shutdown.target": true, "final.target": true, "umount.target": true,
	"reboot.target": true, "poweroff.target": true, "halt.target": true, "kexec.target": true, "exit.target": true,
	"ctrl-alt-del.target": true, "soft-reboot.target": true,
}

// CheckSubmittable reports whether a unit of this name may be submitted
// to the cluster: the name is valid (ParseName) and is not one of the
// units a machine cannot lose. The API and fleetctl both refuse a
// reserved name here, in one place, before anything is stored; the error
// wraps ErrReservedName and says what the unit is.
func CheckSubmittable(name string) error {
	n, err := ParseName(name)
	if err != nil {
		return err
	}
	if reservedNames[name] {
		return fmt.Errorf("%w %s: systemd's own %s, which the machine cannot lose", ErrReservedName, name, n.Suffix[1:])
	}
	if what, ok := reservedPrefixes[n.Prefix]; ok {
		return fmt.Errorf("%w %s: %s, which the machine cannot lose", ErrReservedName, name, what)
	}
	for _, r := range reservedStarts {
		if strings.HasPrefix(name, r.start) {
			return fmt.Errorf("%w %s: names starting with %q are %s, which the machine cannot lose", ErrReservedName, name, r.start, r.what)
		}
	}
	return nil
}

// Reserved reports whether name is one of the units a machine cannot
// lose (what CheckSubmittable refuses as reserved), without checking the
// rest of the name: a quick test for the agent, which sees the same names
// again and again.
func Reserved(name string) bool {
	if reservedNames[name] {
		return true
	}
	prefix := name
	if at := strings.IndexByte(name, '@'); at >= 0 {
		prefix = name[:at]
	} else if dot := strings.LastIndexByte(name, '.'); dot >= 0 {
		prefix = name[:dot]
	}
	if _, ok := reservedPrefixes[prefix]; ok {
		return true
	}
	for _, r := range reservedStarts {
		if strings.HasPrefix(name, r.start) {
			return true
		}
	}
	return false
}

// CheckSubmission is the whole check of a unit submitted to the cluster,
// shared by the API and fleetctl so that both accept exactly the same
// units: the name (CheckSubmittable), the options (NewFile: what systemd
// reads back unchanged, within the size limits) and the [X-Fleet]
// section (ParseRequirements). It returns the file and the warnings
// about [X-Fleet] keys fleet does not know.
func CheckSubmission(name string, opts []Option) (*File, []string, error) {
	if err := CheckSubmittable(name); err != nil {
		return nil, nil, err
	}
	f, err := NewFile(opts)
	if err != nil {
		return nil, nil, err
	}
	_, warnings, err := ParseRequirements(name, f.Options)
	if err != nil {
		return nil, warnings, err
	}
	return f, warnings, nil
}
