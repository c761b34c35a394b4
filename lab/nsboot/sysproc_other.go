//go:build !linux

package nsboot

import "syscall"

// dieWithParent is never reached off Linux: Check refuses first.
func dieWithParent() *syscall.SysProcAttr { return nil }
