package fleetd

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/api"
)

// script writes an executable shell script and returns its path.
func script(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCommandsStatus(t *testing.T) {
	ctx := context.Background()
	// Each argument on a line of its own: the name is one argument.
	echo := Commands{Systemctl: script(t, "systemctl", `printf '[%s]\n' "$@"; exit 3`)}
	got, err := echo.Status(ctx, "web@1.service")
	if want := "[status]\n[--no-pager]\n[--full]\n[--]\n[web@1.service]\n"; err != nil || got != want {
		t.Errorf("Status = %q, %v; want %q (exit 3 with a status is an answer)", got, err, want)
	}
	missing := Commands{Systemctl: script(t, "systemctl", `echo "Unit $5 could not be found." >&2; exit 4`)}
	if _, err := missing.Status(ctx, "gone.service"); err == nil || !strings.Contains(err.Error(), "Unit gone.service could not be found.") {
		t.Errorf("Status of a unit systemd does not know: %v", err)
	}
	if _, err := echo.Status(ctx, "$(reboot).service"); err == nil {
		t.Error("a bad unit name reached systemctl")
	}
	if _, err := (Commands{Systemctl: filepath.Join(t.TempDir(), "none")}).Status(ctx, "a.service"); err == nil {
		t.Error("a missing systemctl gave no error")
	}
}

func TestCommandsJournal(t *testing.T) {
	ctx := context.Background()
	echo := Commands{Journalctl: script(t, "journalctl", `printf '[%s]\n' "$@"`)}
	var b strings.Builder
	err := echo.Journal(ctx, "-x.service", api.JournalOptions{Lines: 5, Output: "cat"}, &b)
	if want := "[--no-pager]\n[--unit=-x.service]\n[--lines=5]\n[--output=cat]\n"; err != nil || b.String() != want {
		t.Errorf("Journal wrote %q, %v; want %q", b.String(), err, want)
	}
	failing := Commands{Journalctl: script(t, "journalctl", `echo "No journal files were found." >&2; exit 1`)}
	if err := failing.Journal(ctx, "a.service", api.JournalOptions{}, io.Discard); err == nil || !strings.Contains(err.Error(), "No journal files") {
		t.Errorf("a failing journalctl: %v", err)
	}
}

func TestCommandsJournalFollowStopsWithTheContext(t *testing.T) {
	follow := Commands{Journalctl: script(t, "journalctl", `echo "$4"; exec sleep 60`)}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- follow.Journal(ctx, "a.service", api.JournalOptions{Lines: 1, Follow: true}, pw)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || line != "--follow\n" {
		t.Fatalf("read %q, %v", line, err)
	}
	cancel()
	go io.Copy(io.Discard, pr)
	select {
	case err := <-done:
		if err == nil || ctx.Err() == nil {
			t.Errorf("Journal after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("journalctl -f goes on after its context ended")
	}
}
