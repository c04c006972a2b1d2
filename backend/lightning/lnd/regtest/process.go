package regtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// process is one daemon of the network (btcd or lnd), its output appended to a log file.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed once the process has exited and been reaped
	err     error         // how it exited; read after done
}

// startProcess starts bin with args, its stdout and stderr appended to logPath.
func startProcess(name, bin string, args, env []string, logPath string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("regtest: %s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = env
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("regtest: start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended, and how.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// stop asks the process to shut down (SIGTERM), waits up to grace or ctx, then kills it.
func (p *process) stop(ctx context.Context, grace time.Duration) error {
	if done, _ := p.exited(); done {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("regtest: %s did not stop within %v of SIGTERM: killed", p.name, grace)
}

// kill ends the process at once.
func (p *process) kill() {
	if done, _ := p.exited(); !done {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// exitError describes a process that ended while it was expected to run, with the end of
// its log.
func (p *process) exitError() error {
	return fmt.Errorf("regtest: %s exited (%v); end of %s:\n%s", p.name, p.err, p.logPath, logTail(p.logPath, 25))
}

// logTail is the last n lines of a log file.
func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// addrInUse reports whether a log says the daemon could not bind its port.
func addrInUse(logPath string) bool {
	return strings.Contains(logTail(logPath, 60), "address already in use")
}

// freePorts returns n distinct ports free on 127.0.0.1 right now. Another process can take
// one before the daemon binds it; starts that fail so are retried with new ports.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("regtest: find a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// poll calls f every interval until it reports done, fails, or limit (or ctx) ends; the
// timeout error names what was awaited and f's last complaint.
func poll(ctx context.Context, limit time.Duration, what string, f func() (done bool, err error)) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var last error
	for {
		done, err := f()
		if done {
			return nil
		}
		var fatal *fatalError
		if errors.As(err, &fatal) {
			return fatal.err
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("regtest: waiting for %s: %w (last: %v)", what, ctx.Err(), last)
			}
			return fmt.Errorf("regtest: waiting for %s: %w", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// fatalError stops a poll at once.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
