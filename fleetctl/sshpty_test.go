//go:build linux

package fleetctl

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns a new pseudo-terminal: its controlling side, and the
// terminal a program reads as its standard input.
func openPTY(t *testing.T) (control, terminal *os.File) {
	t.Helper()
	control, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { control.Close() })
	fd := int(control.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("naming the pseudo-terminal: %v", err)
	}
	terminal, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: /dev/ptmx opens, its terminal does not: %v", err)
	}
	t.Cleanup(func() { terminal.Close() })
	return control, terminal
}

func setWindow(t *testing.T, f *os.File, cols, rows uint16) {
	t.Helper()
	if err := unix.IoctlSetWinsize(int(f.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: rows}); err != nil {
		t.Fatal(err)
	}
}

// TestSSHShellOnATerminal opens `fleetctl ssh MACHINE` with no command on
// a real pseudo-terminal: fleetctl asks the machine for a terminal of the
// local one's type and size, puts the local one in raw mode, passes keys
// through, tells the machine when the window changes, ends with the
// shell's exit status, and gives the terminal back as it found it.
func TestSSHShellOnATerminal(t *testing.T) {
	home, key := sshHome(t)
	srv := startSSHServer(t, "machine-a", key.PublicKey())
	writeKnownHosts(t, home, srv.knownHostsLine())
	fleetd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"machines":[{"id":"` + sshMachineA + `","primaryIP":"127.0.0.1","metadata":{}}]}`))
	}))
	t.Cleanup(fleetd.Close)

	control, terminal := openPTY(t)
	setWindow(t, terminal, 101, 33)
	before, err := unix.IoctlGetTermios(int(terminal.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut syncBuffer
	env := []string{"HOME=" + home, "TERM=xterm-test", "FLEETCTL_ENDPOINT=" + fleetd.URL}
	o := options{poll: 10 * time.Millisecond, sshPorts: map[string]int{sshMachineA: srv.port()}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"ssh", "--machine", sshMachineA[:8]}, stdio{in: terminal, out: &out, err: &errOut}, env, o)
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			select {
			case code := <-done:
				t.Fatalf("fleetctl ssh ended (exit %d, stderr %q) before %s", code, errOut.String(), what)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("waited 5s for %s; stdout %q, stderr %q", what, out.String(), errOut.String())
			}
		}
	}

	raw := func() bool {
		now, err := unix.IoctlGetTermios(int(terminal.Fd()), unix.TCGETS)
		return err == nil && now.Lflag&(unix.ECHO|unix.ICANON) == 0
	}
	waitFor("the terminal in raw mode", raw)
	if _, err := control.WriteString("hostname\r"); err != nil {
		t.Fatal(err)
	}
	waitFor("the shell's answer", func() bool { return strings.Contains(out.String(), "machine-a") })

	setWindow(t, terminal, 120, 40)
	syscall.Kill(os.Getpid(), syscall.SIGWINCH)
	waitFor("the window change", func() bool { return slices.Contains(srv.terminals(), "window 120x40") })

	if _, err := control.WriteString("exit 7\r"); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 7 {
			t.Errorf("fleetctl ssh ended with %d, want the shell's 7 (stderr %q)", code, errOut.String())
		}
	case <-ctx.Done():
		t.Fatalf("fleetctl ssh did not end; stdout %q, stderr %q", out.String(), errOut.String())
	}
	if got := srv.terminals(); len(got) == 0 || got[0] != "pty xterm-test 101x33" {
		t.Errorf("the machine was asked for terminals %q, first a pty xterm-test 101x33", got)
	}
	if want := "$ machine-a\n$ "; !strings.HasPrefix(out.String(), want) {
		t.Errorf("the shell showed %q, want it to start %q", out.String(), want)
	}
	after, err := unix.IoctlGetTermios(int(terminal.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if *after != *before {
		t.Errorf("the terminal was not restored:\n before %+v\n after  %+v", *before, *after)
	}
}

// TestUnknownHostPrompt: with a terminal on standard input, an unknown
// host under strict checking is put to the user, as fleet did; "yes"
// trusts it (added to the known hosts, the command goes on through it),
// anything else refuses it and writes nothing.
func TestUnknownHostPrompt(t *testing.T) {
	for _, answer := range []string{"yes", "no"} {
		t.Run(answer, func(t *testing.T) {
			home, key := sshHome(t)
			srv := startSSHServer(t, "tunnel", key.PublicKey())
			fleetd, hits := fakeFleetd(t)
			env := []string{"HOME=" + home, "FLEETCTL_TUNNEL=" + srv.addr, "FLEETCTL_ENDPOINT=" + fleetd.URL}
			host := "[127.0.0.1]:" + strconv.Itoa(srv.port())
			control, terminal := openPTY(t)
			var out, errOut syncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, []string{"list-machines", "--no-legend"}, stdio{in: terminal, out: &out, err: &errOut}, env, options{poll: 10 * time.Millisecond})
			}()
			prompt := "Are you sure you want to continue connecting (yes/no)? "
			for deadline := time.Now().Add(10 * time.Second); !strings.HasSuffix(errOut.String(), prompt); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("no prompt; stderr %q", errOut.String())
				}
			}
			for _, want := range []string{"The authenticity of host '" + host + "' can't be established.", "ssh-ed25519 key fingerprint is " + srv.fingerprint() + "."} {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("the prompt %q does not say %q", errOut.String(), want)
				}
			}
			if _, err := control.WriteString(answer + "\n"); err != nil {
				t.Fatal(err)
			}
			var code int
			select {
			case code = <-done:
			case <-ctx.Done():
				t.Fatalf("fleetctl did not end after the answer; stderr %q", errOut.String())
			}
			known := knownHostsFile(home)
			if answer == "yes" {
				if code != ExitOK || out.String() != "0acdd9bf...\t10.0.2.15\t-\n" || !strings.Contains(errOut.String(), "Permanently added '"+host+"' (ssh-ed25519)") {
					t.Fatalf("answered yes: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
				}
				checkKnownHosts(t, known, srv.knownHostsLine()+"\n")
				return
			}
			if code != ExitError || !strings.HasSuffix(errOut.String(), prompt+"Host key verification failed.\n") {
				t.Errorf("answered no: exit %d, stderr %q", code, errOut.String())
			}
			if _, err := os.Stat(known); !os.IsNotExist(err) {
				t.Errorf("answered no, yet %s was written: %v", known, err)
			}
			if n := hits.Load(); n != 0 {
				t.Errorf("answered no, yet fleetd got %d requests", n)
			}
		})
	}
}
