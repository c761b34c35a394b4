package nsboot

import "syscall"

// dieWithParent makes the kernel kill enter.sh (and so, through unshare's
// --kill-child, the machine) if the process that booted it dies without
// calling Shutdown.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
