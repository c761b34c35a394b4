//go:build unix

package fleetctl

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/crypto/ssh"
	"golang.org/x/term"
)

// watchWindow tells sess the new size of the terminal fd whenever it
// changes, until stop is called. A size that cannot be read or sent is
// skipped: the shell goes on at the old size.
func watchWindow(fd int, sess *ssh.Session) (stop func()) {
	changed := make(chan os.Signal, 1)
	signal.Notify(changed, syscall.SIGWINCH)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-changed:
				if w, h, err := term.GetSize(fd); err == nil {
					sess.WindowChange(h, w)
				}
			}
		}
	}()
	return func() {
		signal.Stop(changed)
		close(done)
	}
}
