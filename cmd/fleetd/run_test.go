package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestBadOptionsExitTwoNamingTheOption(t *testing.T) {
	cases := map[string][]string{
		"unknown flag: --bogus":                 {"--bogus"},
		"flag --agent-ttl: agent_ttl=\"never\"": {"--agent-ttl=never"},
		"disable_engine":                        {"--disable-engine=perhaps"},
	}
	for want, args := range cases {
		var out, errb bytes.Buffer
		if code := run(args, nil, &out, &errb); code != exitUsage {
			t.Errorf("run(%v) = %d, want %d", args, code, exitUsage)
		}
		if !strings.Contains(errb.String(), want) {
			t.Errorf("run(%v) said %q, want it to name %q", args, errb.String(), want)
		}
	}
}

func TestVersionAndHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--version"}, nil, &out, &errb); code != exitOK || !strings.Contains(out.String(), version) {
		t.Fatalf("--version: %d %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"--help"}, nil, &out, &errb); code != exitOK || !strings.Contains(out.String(), "--etcd-servers") ||
		!strings.Contains(out.String(), "(fleet.conf agent_ttl; default 30s)") {
		t.Fatalf("--help: %d %q", code, out.String())
	}
}

// Bare on/off flags parse: fleetd goes on to reach systemd.
func TestBareBooleanFlags(t *testing.T) {
	var out, errb bytes.Buffer
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
	code := run([]string{"--config=/dev/null", "--disable-engine", "--purge-on-shutdown", "--log-format", "json"}, nil, &out, &errb)
	if code != exitRuntime || !strings.Contains(errb.String(), "cannot reach systemd") {
		t.Fatalf("run with bare booleans: %d %q", code, errb.String())
	}
}

func TestNoSystemdIsARuntimeError(t *testing.T) {
	var out, errb bytes.Buffer
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
	code := run([]string{"--config=/dev/null"}, nil, &out, &errb)
	if code != exitRuntime || !strings.Contains(errb.String(), "cannot reach systemd") {
		t.Fatalf("run without systemd: %d %q", code, errb.String())
	}
}
