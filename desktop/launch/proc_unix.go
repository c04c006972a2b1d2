//go:build unix

package launch

import (
	"os/exec"
	"syscall"
)

// tree is a game's process tree on Unix: the process group its first process leads.
type tree struct{ pgid int }

// startTree starts cmd as the leader of a new process group, which its children join.
func startTree(cmd *exec.Cmd) (*tree, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &tree{pgid: cmd.Process.Pid}, nil
}

// stop sends SIGTERM to every process of the group, also after its leader has exited.
func (t *tree) stop() error { return syscall.Kill(-t.pgid, syscall.SIGTERM) }

// release is called once the first process has been waited for; a group holds nothing.
func (t *tree) release() {}
