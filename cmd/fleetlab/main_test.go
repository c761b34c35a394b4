package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "boot the lab and leave it running") {
		t.Errorf("no arguments: %d, %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"bogus"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown command "bogus"`) {
		t.Errorf("unknown command: %d, %q", code, errb.String())
	}
	if strings.Contains(out.String()+errb.String(), "supervise") {
		t.Error("the usage shows the hidden supervise command")
	}
}

func TestRefusesNonRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("runs as root: the refusal is for other users")
	}
	var out, errb bytes.Buffer
	if code := run([]string{"up"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "needs root") {
		t.Errorf("up as non-root: %d, %q", code, errb.String())
	}
}

func TestCommandsWithoutALab(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: fleetlab refuses other users before anything else")
	}
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"status"}, 1, "no lab"},
		{[]string{"kill"}, 2, "want one machine name"},
		{[]string{"kill", "core-01"}, 1, "no lab"},
		{[]string{"exec", "core-01"}, 2, "want a machine and a command"},
		{[]string{"up", "extra"}, 2, "takes no arguments"},
		{[]string{"down"}, 0, "is down"},
	} {
		var out, errb bytes.Buffer
		args := append([]string{c.args[0], "-name", "fleettst", "-dir", dir}, c.args[1:]...)
		code := run(args, &out, &errb)
		if code != c.code || !strings.Contains(out.String()+errb.String(), c.want) {
			t.Errorf("fleetlab %v: %d, %q %q; want %d and %q", args, code, out.String(), errb.String(), c.code, c.want)
		}
	}
}
