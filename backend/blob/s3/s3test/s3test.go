// Package s3test starts a real S3-compatible server for tests (and the soak,
// cmd/satchel-soak): versitygw over a temporary directory, on loopback.
package s3test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"satchel.dev/backend/blob/s3"
)

// VersitygwVersion is the version `make setup-tools` builds.
const VersitygwVersion = "v1.8.0"

const (
	accessKey = "satcheltestaccess"
	secretKey = "satcheltestsecret0123456789"
	bucket    = "satchel-test"
)

// Binary returns the path of versitygw: $SATCHEL_TOOLS_DIR/versitygw-<version>/versitygw, with
// SATCHEL_TOOLS_DIR defaulting to ~/.cache/satchel/tools (as the Makefile's).
func Binary() (string, error) {
	dir := os.Getenv("SATCHEL_TOOLS_DIR")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(cache, "satchel", "tools")
	}
	return filepath.Join(dir, "versitygw-"+VersitygwVersion, "versitygw"), nil
}

// Start runs a fresh versitygw (posix backend in a temporary directory) on a free loopback
// port, waits until it answers, and returns the s3.Config of a bucket in it (created by s3.New,
// as CreateBucket is set). The server is killed when t ends. Start fails t, never skips it, if
// versitygw is not built: `make setup-tools` builds it.
func Start(t testing.TB) s3.Config {
	t.Helper()
	s, err := Launch(t.TempDir())
	if err != nil {
		t.Fatalf("s3test: %v", err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("versitygw output:\n%s", s.Output())
		}
	})
	return s.Config
}

// Server is a versitygw process serving a directory on a loopback address. Stop and Start take
// it down and bring it back on the same address with the same objects (the soak's outages).
// Its methods are safe for concurrent use.
type Server struct {
	// Config is the s3.Config of the bucket (created by s3.New, as CreateBucket is set).
	Config s3.Config

	bin, dir string
	out      syncBuffer

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Launch runs versitygw over dir (its data/ and meta/ folders, created if missing) on a free
// loopback port and waits until it answers. Stop it when done; it also dies with this process.
func Launch(dir string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, fmt.Errorf("finding versitygw: %w", err)
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("versitygw %s not found at %s: run make setup-tools", VersitygwVersion, bin)
	}
	for _, d := range []string{"data", "meta"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	s := &Server{bin: bin, dir: dir}
	// The port is free when picked but may be taken before versitygw binds it: try again then.
	var errs []string
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		addr := l.Addr().String()
		l.Close()
		if err := s.start(addr); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		s.Config = s3.Config{Endpoint: addr, Region: "us-east-1", Bucket: bucket, AccessKey: accessKey,
			SecretKey: secretKey, CreateBucket: true}
		return s, nil
	}
	return nil, fmt.Errorf("starting versitygw:\n%s", strings.Join(errs, "\n"))
}

// Start brings a stopped server back on its address, with the objects it held, and waits until
// it answers. It does nothing while the server runs.
func (s *Server) Start() error {
	s.mu.Lock()
	running := s.cmd != nil
	s.mu.Unlock()
	if running {
		return nil
	}
	var err error
	for range 50 { // the address was just released; it may take a moment to be free again
		if err = s.start(s.Config.Endpoint); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// Stop kills the server (SIGKILL: connections drop at once) and waits until it is gone.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Output is what versitygw printed, over all its runs.
func (s *Server) Output() string { return s.out.String() }

// start runs versitygw on addr and waits until it answers.
func (s *Server) start(addr string) error {
	cmd := exec.Command(s.bin, "--access", accessKey, "--secret", secretKey, "--port", addr, "--quiet",
		"posix", "--sidecar", filepath.Join(s.dir, "meta"), filepath.Join(s.dir, "data"))
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = sysProcAttr()
	cmd.Stdout, cmd.Stderr = &s.out, &s.out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-exited:
			return fmt.Errorf("versitygw exited at start (%v):\n%s", cmd.ProcessState, s.out.String())
		default:
		}
		if resp, err := client.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
			break // any HTTP answer (403 without credentials) means it is up
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("versitygw did not answer on %s within 10s:\n%s", addr, s.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	return nil
}

// cleanEnv is the environment without versitygw's own settings, so the caller's cannot change
// the server under test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VGW_") || strings.HasPrefix(kv, "ROOT_") ||
			strings.HasPrefix(kv, "LOGFILE=") || strings.HasPrefix(kv, "WEBHOOK=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
