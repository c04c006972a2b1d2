//go:build e2e

package app

// The end-to-end tests of the window (build tag e2e, run by `make test-launcher`): a real X
// display (Xvfb), the launcher built as players get it or served by `wails dev`, and the
// server and keyring of TestMain. Everything they need is installed by the Makefile
// (Debian's xvfb, imagemagick and chromium, the Wails CLI, the frontend's npm packages).

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// desktopDir is the launcher's Wails project (desktop/).
func desktopDir(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// repoDir is the repository's top folder.
func repoDir(t testing.TB) string { return filepath.Dir(desktopDir(t)) }

// wailsCLI is the Wails CLI the Makefile installs (WAILS, or its tools cache).
func wailsCLI(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("WAILS"); p != "" {
		return p
	}
	p := filepath.Join(os.Getenv("SATCHEL_TOOLS_DIR"), "wails-v2.16.0", "wails")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the Wails CLI is not at %s: run the tests with `make test-launcher` (it installs it), or set WAILS", p)
	}
	return p
}

// display is an X server (Xvfb) of 1280x800.
type display struct {
	name string // ":N"
	cmd  *exec.Cmd
}

var displayOnce struct {
	sync.Once
	d   *display
	err error
}

// startDisplay starts one Xvfb for the test binary (stopped by TestMain's exit).
func startDisplay(t testing.TB) *display {
	t.Helper()
	displayOnce.Do(func() {
		r, w, err := os.Pipe()
		if err != nil {
			displayOnce.err = err
			return
		}
		cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset")
		cmd.ExtraFiles = []*os.File{w}
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			displayOnce.err = fmt.Errorf("starting Xvfb (apt-get install xvfb): %w", err)
			return
		}
		w.Close()
		num := make(chan string, 1)
		go func() {
			line, _ := bufio.NewReader(r).ReadString('\n')
			num <- strings.TrimSpace(line)
		}()
		select {
		case n := <-num:
			displayOnce.d = &display{name: ":" + n, cmd: cmd}
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			displayOnce.err = errors.New("Xvfb did not start in 15s")
		}
	})
	if displayOnce.err != nil {
		t.Fatal(displayOnce.err)
	}
	return displayOnce.d
}

// screenshot saves window (an X window id, or "root" for the whole screen) as a PNG, and returns
// its bytes and how many colours it shows (see colours).
func (d *display) screenshot(t testing.TB, window, path string) ([]byte, int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/usr/bin/import", "-display", d.name, "-window", window, path).CombinedOutput()
	if err != nil {
		t.Fatalf("import (imagemagick) failed: %v\n%s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b, colours(img)
}

// settledScreenshot takes screenshots of window into path until the window has drawn (a blank
// or nearly uniform picture has not: after 30 s of those, the test fails) and two in a row
// are the same (the paint has settled: no event marks the end of the paint of lazy parts such
// as Markdown or a QR code, or of a new layout), or for at most 5 s after it first drew for a
// screen that keeps changing (a download under way), keeping the last.
func (d *display) settledScreenshot(t testing.TB, window, path string) {
	t.Helper()
	blankUntil := time.Now().Add(30 * time.Second)
	var drawn time.Time
	var last []byte
	for {
		b, n := d.screenshot(t, window, path)
		if n < 40 {
			if time.Now().After(blankUntil) {
				t.Fatalf("%s shows only %d colours after 30 s: the window did not draw", path, n)
			}
			last = nil
			continue
		}
		if drawn.IsZero() {
			drawn = time.Now()
		}
		if bytes.Equal(b, last) || time.Since(drawn) > 5*time.Second {
			return
		}
		last = b
	}
}

// resize sets the launcher window of the process pid to width×height, as a player dragging
// its corner would (xdotool; there is no window manager), and returns the window's id once
// the X server reports the new size.
func (d *display) resize(t testing.TB, pid, width, height int) string {
	t.Helper()
	xdotool := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("xdotool", args...)
		cmd.Env = append(os.Environ(), "DISPLAY="+d.name)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("xdotool %s (apt-get install xdotool): %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	id, _, _ := strings.Cut(xdotool("search", "--sync", "--onlyvisible", "--pid", strconv.Itoa(pid)), "\n")
	xdotool("windowsize", "--sync", id, strconv.Itoa(width), strconv.Itoa(height))
	return id
}

// colours counts the distinct colours of img, sampled.
func colours(img image.Image) int {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>11)<<10|(g>>11)<<5|bl>>11] = true
		}
	}
	return len(seen)
}

// windowEnv is the environment of a launcher window on d: the test's keyring session and
// the given folders and server.
func windowEnv(d *display, data, config string, extra ...string) []string {
	vars := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "DISPLAY=" + d.name, "NO_AT_BRIDGE=1",
		"GDK_BACKEND=x11", "SATCHEL_DATA_DIR=" + data, "SATCHEL_CONFIG_DIR=" + config, "SATCHEL_SERVER=" + env.server.URL}
	for _, k := range []string{"SATCHEL_TOOLS_DIR", "GOCACHE", "GOPATH", "GOMODCACHE", "GOFLAGS", "GOTOOLCHAIN", "npm_config_cache"} {
		if v, ok := os.LookupEnv(k); ok {
			vars = append(vars, k+"="+v)
		}
	}
	vars = append(vars, env.session.Env...)
	return append(vars, extra...)
}

// process is a program started by the tests, in its own process group.
type process struct {
	cmd     *exec.Cmd
	started time.Time
	out     *lines
	done    chan struct{}
}

// lines collects a process's output and tells who waits for a line.
type lines struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	seen  []string
	times []time.Time
	wake  chan struct{}
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		i := bytes.IndexByte(l.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		l.seen = append(l.seen, string(l.buf.Next(i+1)))
		l.times = append(l.times, time.Now())
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.seen, "") + l.buf.String()
}

// spawn runs name with args in dir, output collected.
func spawn(t testing.TB, dir string, env []string, name string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	out := &lines{wake: make(chan struct{}, 1)}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p
}

// waitLine waits for a line of output containing s and returns when it came.
func (p *process) waitLine(t testing.TB, s string, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.After(timeout)
	for {
		p.out.mu.Lock()
		for i, l := range p.out.seen {
			if strings.Contains(l, s) {
				at := p.out.times[i]
				p.out.mu.Unlock()
				return at
			}
		}
		p.out.mu.Unlock()
		select {
		case <-p.out.wake:
		case <-p.done:
			t.Fatalf("%s ended before printing %q:\n%s", p.cmd.Path, s, p.out)
		case <-deadline:
			t.Fatalf("%s did not print %q in %s:\n%s", p.cmd.Path, s, timeout, p.out)
		}
	}
}

// stop ends the process group: SIGTERM, then SIGKILL.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// rss sums the resident memory of the process and all its descendants, in bytes.
func (p *process) rss(t testing.TB) int64 {
	t.Helper()
	children := map[int][]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) > 1 {
			ppid, _ := strconv.Atoi(fields[1])
			children[ppid] = append(children[ppid], pid)
		}
	}
	var total int64
	queue := []int{p.cmd.Process.Pid}
	for len(queue) > 0 {
		pid := queue[0]
		queue = append(queue[1:], children[pid]...)
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
				total += kb << 10
			}
		}
	}
	return total
}

// buildLauncher builds the launcher as `make launcher-build` does (wails build), unless
// SATCHEL_LAUNCHER_BIN names one already built, and returns its path.
func buildLauncher(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SATCHEL_LAUNCHER_BIN"); p != "" {
		return p
	}
	dir := desktopDir(t)
	cmd := exec.Command(wailsCLI(t), "build", "-m", "-nosyncgomod", "-trimpath", "-nocolour", "-skipbindings")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wails build: %v\n%s", err, out)
	}
	return filepath.Join(dir, "build", "bin", "satchel-launcher")
}

// freePort returns a free loopback port.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitHTTP waits until url answers 200.
func waitHTTP(t testing.TB, url string, timeout time.Duration, p *process) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		res, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("%s ended:\n%s", p.cmd.Path, p.out)
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not answer in %s:\n%s", url, timeout, p.out)
}
