package unit

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckSubmittableRefusesReserved(t *testing.T) {
	for _, tt := range []struct{ name, says string }{
		{"fleetd.service", "fleetd's own unit"},
		{"fleetd.socket", "fleetd's own unit"},
		{"fleet.service", "fleetd's own unit"},
		{"etcd-member.service", "etcd"},
		{"dbus.service", "D-Bus"},
		{"dbus.socket", "D-Bus"},
		{"dbus-broker.service", `names starting with "dbus-"`},
		{"systemd-journald.service", `names starting with "systemd-" are systemd's own units`},
		{"systemd-networkd.socket", "systemd's own units"},
		{"systemd-fsck@dev-sda1.service", "systemd's own units"},
		{"sshd.service", "sshd"},
		{"sshd.socket", "sshd"},
		{"sshd@0-10.0.0.1:22-10.0.0.2:4242.service", "sshd"},
		{"ssh.service", "sshd"},
		{"NetworkManager.service", "network"},
		{"reboot.target", "systemd's own target"},
		{"multi-user.target", "systemd's own target"},
		{"-.mount", "systemd's own mount"},
		{"system.slice", "systemd's own slice"},
	} {
		err := CheckSubmittable(tt.name)
		if !errors.Is(err, ErrReservedName) || !strings.Contains(err.Error(), tt.name+": ") ||
			!strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), "cannot lose") {
			t.Errorf("CheckSubmittable(%q) = %v, want ErrReservedName saying %q", tt.name, err, tt.says)
		}
	}
}

func TestCheckSubmittableAccepts(t *testing.T) {
	for _, name := range []string{
		"hello.service", "fleetdemo.service", "my-fleetd.service", "fleetd-ui.service", "sshdx.service",
		"web@dbus.service", "mysystemd-x.service", "docker.service", "reboot-once.target", "app.slice",
		strings.Repeat("a", MaxNameLength-len(".service")) + ".service",
	} {
		if err := CheckSubmittable(name); err != nil {
			t.Errorf("CheckSubmittable(%q): %v", name, err)
		}
	}
	if err := CheckSubmittable("bad name.service"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("invalid name: %v, want ErrInvalidName", err)
	}
}

func TestCheckSubmission(t *testing.T) {
	opts := []Option{{"Service", "ExecStart", "/bin/true"}, {FleetSection, "Nope", "x"}}
	f, warnings, err := CheckSubmission("hello.service", opts)
	if err != nil || len(f.Options) != 2 || len(warnings) != 1 {
		t.Fatalf("CheckSubmission = %v, %q, %v", f, warnings, err)
	}
	for _, tt := range []struct {
		name string
		opts []Option
		is   error
	}{
		{"fleetd.service", opts, ErrReservedName},
		{"bad name.service", opts, ErrInvalidName},
		{"hello.service", []Option{{"Service", "ExecStart", "a\nb"}}, ErrInvalidFile},
		{"hello.service", []Option{{FleetSection, "Global", "maybe"}}, ErrInvalidRequirements},
	} {
		if _, _, err := CheckSubmission(tt.name, tt.opts); !errors.Is(err, tt.is) {
			t.Errorf("CheckSubmission(%s, %q) = %v, want %v", tt.name, tt.opts, err, tt.is)
		}
	}
}

// Reserved says of every name what CheckSubmittable says of it.
func TestReservedAgreesWithCheckSubmittable(t *testing.T) {
	for _, name := range []string{"fleetd.service", "fleet.socket", "etcd-member.service", "dbus.service", "dbus.socket",
		"dbus-broker.service", "sshd@1.service", "ssh.socket", "systemd-journald.service", "systemd-networkd.socket",
		"multi-user.target", "-.mount", "NetworkManager.service", "web.service", "fleetdx.service", "my-systemd.service",
		"sshd-keygen.service", "web@fleetd.service", "a.b.service", "etcd.mount"} {
		want := errors.Is(CheckSubmittable(name), ErrReservedName)
		if got := Reserved(name); got != want {
			t.Errorf("Reserved(%q) = %v, CheckSubmittable says %v", name, got, want)
		}
	}
}
