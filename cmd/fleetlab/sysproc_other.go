//go:build !unix

package main

import "syscall"

// detached does nothing here: the lab runs on Linux only, and fleetlab
// says so before it would start a supervisor.
func detached() *syscall.SysProcAttr { return nil }
