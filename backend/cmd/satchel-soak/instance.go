package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// instance is one satchel-server process on the shared database. Its addresses stay the same
// across restarts, so clients reach it again once it is back. Its methods are safe for
// concurrent use.
type instance struct {
	n          int
	url        string // http://127.0.0.1:PORT, also its public URL
	metricsURL string
	bin        string
	args       []string
	env        []string
	logPath    string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	samples []metricSample // of the current process, since it started
	lives   [][]metricSample
}

// metricSample is one reading of an instance's /metrics.
type metricSample struct {
	at         time.Time
	goroutines float64
	rssBytes   float64
}

// newInstance describes instance n of the servers of e, to run from bin.
func newInstance(n int, bin string, e *env) (*instance, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	in := &instance{n: n, bin: bin, url: "http://127.0.0.1:" + strconv.Itoa(ports[0]),
		metricsURL: "http://127.0.0.1:" + strconv.Itoa(ports[1]) + "/metrics",
		logPath:    filepath.Join(e.dir, fmt.Sprintf("server-%d.log", n))}
	p := e.network.Platform.Config()
	relays := make([]string, len(e.relays))
	for i, r := range e.relays {
		relays[i] = r.URL
	}
	in.args = []string{"serve", "--listen", strings.TrimPrefix(in.url, "http://"),
		"--metrics-listen", strings.TrimPrefix(strings.TrimSuffix(in.metricsURL, "/metrics"), "http://"),
		"--data-dir", filepath.Join(e.dir, fmt.Sprintf("server-%d", n)), "--log-format", "json",
		"--invoice-provider", "lnd", "--lnd-url", p.URL, "--lnd-tls-cert", p.TLSCertPath,
		"--lnd-macaroon", p.MacaroonPath, "--lnd-network", "bcrt",
		"--s3-endpoint", e.s3.Config.Endpoint, "--s3-bucket", e.s3.Config.Bucket, "--s3-region", e.s3.Config.Region,
		"--s3-access-key", e.s3.Config.AccessKey,
		"--nostr-relays", strings.Join(relays, ","), "--admins", e.admin.PublicKey().Hex(),
		"--purchase-rate", "100000"}
	in.env = append(os.Environ(), "DATABASE_URL="+e.dsn, "SATCHEL_SECRET="+e.secret,
		"SATCHEL_S3_SECRET_KEY="+e.s3.Config.SecretKey, "SATCHEL_NOSTR_KEY="+e.platform.Hex())
	return in, nil
}

// start runs the server and returns once it serves, or fails naming what it waited for.
func (in *instance) start(ctx context.Context) error {
	in.mu.Lock()
	if in.cmd != nil {
		in.mu.Unlock()
		return nil
	}
	logFile, err := os.OpenFile(in.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		in.mu.Unlock()
		return err
	}
	serving := &watchWriter{w: logFile, marker: "is serving on", seen: make(chan struct{})}
	cmd := exec.Command(in.bin, in.args...)
	cmd.Env = in.env
	cmd.Stdout, cmd.Stderr = serving, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the soak
	if err := cmd.Start(); err != nil {
		in.mu.Unlock()
		logFile.Close()
		return fmt.Errorf("starting %s (make soak builds it): %w", in.bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logFile.Close(); close(exited) }()
	in.cmd, in.exited, in.samples = cmd, exited, nil
	in.mu.Unlock()

	t := time.NewTimer(2 * time.Minute)
	defer t.Stop()
	select {
	case <-serving.seen:
		return nil
	case <-exited:
		in.forget(cmd)
		return fmt.Errorf("server %d exited before serving; its log is %s", in.n, in.logPath)
	case <-t.C:
		return fmt.Errorf("server %d was not serving 2 minutes after its start; its log is %s", in.n, in.logPath)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// kill ends the process at once (SIGKILL) and waits until it is gone. It reports whether it
// was running.
func (in *instance) kill() bool {
	in.mu.Lock()
	cmd, exited := in.cmd, in.exited
	in.mu.Unlock()
	if cmd == nil {
		return false
	}
	_ = cmd.Process.Kill()
	<-exited
	in.forget(cmd)
	return true
}

// stop asks the process to stop (SIGTERM) and waits until it is gone.
func (in *instance) stop() {
	in.mu.Lock()
	cmd, exited := in.cmd, in.exited
	in.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
	in.forget(cmd)
}

// forget records that cmd is no longer the running process, keeping its metric samples.
func (in *instance) forget(cmd *exec.Cmd) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.cmd == cmd {
		in.cmd = nil
		if len(in.samples) > 0 {
			in.lives = append(in.lives, in.samples)
		}
		in.samples = nil
	}
}

// up reports whether the process runs.
func (in *instance) up() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.cmd != nil
}

// ready reports whether /readyz answers 200 (the database answers).
func (in *instance) ready(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, in.url+"/readyz", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// sample reads goroutines and resident memory from /metrics (Go's and the process collector).
func (in *instance) sample(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, in.metricsURL, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer res.Body.Close()
	s := metricSample{at: time.Now(), goroutines: -1, rssBytes: -1}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		switch {
		case err != nil:
		case name == "go_goroutines":
			s.goroutines = v
		case name == "process_resident_memory_bytes":
			s.rssBytes = v
		}
	}
	if s.goroutines < 0 || s.rssBytes < 0 {
		return
	}
	in.mu.Lock()
	if in.cmd != nil {
		in.samples = append(in.samples, s)
	}
	in.mu.Unlock()
}

// allLives returns the metric samples of every process the instance ran, the running one last.
func (in *instance) allLives() [][]metricSample {
	in.mu.Lock()
	defer in.mu.Unlock()
	lives := append([][]metricSample(nil), in.lives...)
	if len(in.samples) > 0 {
		lives = append(lives, append([]metricSample(nil), in.samples...))
	}
	return lives
}

// watchWriter passes output on to w and closes seen once marker has been written. exec.Cmd
// writes to it from one goroutine.
type watchWriter struct {
	w      io.Writer
	marker string
	seen   chan struct{}
	done   bool
	tail   []byte
}

func (ww *watchWriter) Write(p []byte) (int, error) {
	if !ww.done {
		ww.tail = append(ww.tail, p...)
		if strings.Contains(string(ww.tail), ww.marker) {
			ww.done, ww.tail = true, nil
			close(ww.seen)
		} else if len(ww.tail) > 4096 {
			ww.tail = ww.tail[len(ww.tail)-len(ww.marker):]
		}
	}
	return ww.w.Write(p)
}

// freePorts returns n distinct ports free on 127.0.0.1 right now.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
