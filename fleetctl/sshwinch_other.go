//go:build !unix

package fleetctl

import "golang.org/x/crypto/ssh"

// watchWindow does nothing where there is no SIGWINCH: the remote
// terminal keeps the size it started with.
func watchWindow(int, *ssh.Session) (stop func()) { return func() {} }
