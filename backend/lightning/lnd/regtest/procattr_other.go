//go:build !linux

package regtest

import "syscall"

// sysProcAttr: elsewhere than Linux the daemons outlive a program that dies without Stop.
func sysProcAttr() *syscall.SysProcAttr { return nil }
