package s3test

import "syscall"

// sysProcAttr kills versitygw if the test process dies without running its cleanups (a test
// timeout, a kill).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
