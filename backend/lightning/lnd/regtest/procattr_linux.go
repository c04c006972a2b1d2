package regtest

import "syscall"

// sysProcAttr puts a daemon in a process group of its own, so that a Ctrl-C meant for the
// program running the network does not reach it (Stop shuts the daemons down in order:
// LND before btcd), and has the kernel kill it if the thread that started it dies without
// calling Stop.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
