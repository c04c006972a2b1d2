package pgcluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// watchdog is a small shell process that stops a throwaway cluster's server
// when the process that started it dies without calling Stop (a panicking
// test binary, os.Exit, SIGKILL, a test timeout): it blocks reading a pipe
// whose only writer is this process, so the kernel closing that pipe wakes
// it. Stop tells it to exit quietly instead by writing "quit". It runs in a
// session of its own so that a Ctrl-C sent to the terminal's process group
// does not kill it before it has done its job (pg_ctl likewise detaches the
// server).
type watchdog struct {
	cmd *exec.Cmd
	w   *os.File
}

const watchdogScript = `read -r line
[ "$line" = quit ] && exit 0
exec "$0" stop -D "$1" -m immediate -w -t 60 >/dev/null 2>&1
`

func (c *Cluster) startWatchdog() (*watchdog, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("pgcluster: watchdog: %w", err)
	}
	defer r.Close()
	cmd := exec.Command("/bin/sh", "-c", watchdogScript, filepath.Join(c.binDir, "pg_ctl"), c.dataDir)
	c.setupCmd(cmd)
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	cmd.Stdin = r
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("pgcluster: start watchdog: %w", err)
	}
	return &watchdog{cmd: cmd, w: w}, nil
}

// quit makes the watchdog exit without touching the server, and reaps it.
func (wd *watchdog) quit() {
	_, _ = wd.w.WriteString("quit\n")
	wd.w.Close()
	_ = wd.cmd.Wait()
}
