package launch

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// tree is a game's process tree on Windows: a Job Object holding its first process, which
// every process it starts joins. The job does not kill its processes when its last handle is
// closed, so the game outlives the launcher.
type tree struct {
	mu  sync.Mutex
	job windows.Handle // 0 once released
}

// startTree starts cmd suspended in a new process group (a console Ctrl-C does not reach it),
// puts it in a new Job Object, then lets it run: nothing it starts can escape the job.
func startTree(cmd *exec.Cmd) (*tree, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return nil, fmt.Errorf("creating a job object: %w", err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP | windows.CREATE_SUSPENDED}
	if err := cmd.Start(); err != nil {
		windows.CloseHandle(job)
		return nil, err
	}
	if err := adopt(job, uint32(cmd.Process.Pid)); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		windows.CloseHandle(job)
		return nil, err
	}
	return &tree{job: job}, nil
}

// adopt assigns the suspended process pid to job, then resumes its only thread.
func adopt(job windows.Handle, pid uint32) error {
	p, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, pid)
	if err != nil {
		return fmt.Errorf("opening the game's process: %w", err)
	}
	defer windows.CloseHandle(p)
	if err := windows.AssignProcessToJobObject(job, p); err != nil {
		return fmt.Errorf("putting the game in a job object: %w", err)
	}
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPTHREAD, 0)
	if err != nil {
		return fmt.Errorf("finding the game's thread: %w", err)
	}
	defer windows.CloseHandle(snap)
	e := windows.ThreadEntry32{Size: uint32(unsafe.Sizeof(windows.ThreadEntry32{}))}
	for err = windows.Thread32First(snap, &e); err == nil; err = windows.Thread32Next(snap, &e) {
		if e.OwnerProcessID != pid {
			continue
		}
		th, err := windows.OpenThread(windows.THREAD_SUSPEND_RESUME, false, e.ThreadID)
		if err != nil {
			return fmt.Errorf("opening the game's thread: %w", err)
		}
		defer windows.CloseHandle(th)
		if _, err := windows.ResumeThread(th); err != nil {
			return fmt.Errorf("resuming the game: %w", err)
		}
		return nil
	}
	return fmt.Errorf("the game's thread was not found: %w", err)
}

// stop ends every process of the job, with exit code 1.
func (t *tree) stop() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.job == 0 {
		return os.ErrProcessDone
	}
	return windows.TerminateJobObject(t.job, 1)
}

// release closes the job once the first process has been waited for; processes it started
// keep running.
func (t *tree) release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	windows.CloseHandle(t.job)
	t.job = 0
}
