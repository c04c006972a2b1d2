// Package s3test starts a real S3-compatible server for tests: versitygw over a temporary
// directory, on loopback.
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
	bin, err := Binary()
	if err != nil {
		t.Fatalf("s3test: finding versitygw: %v", err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("s3test: versitygw %s not found at %s: run make setup-tools", VersitygwVersion, bin)
	}
	// The port is free when picked but may be taken before versitygw binds it: try again then.
	var errs []string
	for range 3 {
		addr, err := startOnce(t, bin)
		if err == nil {
			return s3.Config{
				Endpoint:     addr,
				Region:       "us-east-1",
				Bucket:       bucket,
				AccessKey:    accessKey,
				SecretKey:    secretKey,
				CreateBucket: true,
			}
		}
		errs = append(errs, err.Error())
	}
	t.Fatalf("s3test: starting versitygw:\n%s", strings.Join(errs, "\n"))
	return s3.Config{}
}

func startOnce(t testing.TB, bin string) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	l.Close()

	dir := t.TempDir()
	data, meta := filepath.Join(dir, "data"), filepath.Join(dir, "meta")
	for _, d := range []string{data, meta} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return "", err
		}
	}
	cmd := exec.Command(bin, "--access", accessKey, "--secret", secretKey, "--port", addr, "--quiet",
		"posix", "--sidecar", meta, data)
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = sysProcAttr()
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}

	deadline := time.Now().Add(10 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-exited:
			return "", fmt.Errorf("versitygw exited at start (%v):\n%s", cmd.ProcessState, out.String())
		default:
		}
		if resp, err := client.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
			break // any HTTP answer (403 without credentials) means it is up
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("versitygw did not answer on %s within 10s:\n%s", addr, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("versitygw output:\n%s", out.String())
		}
	})
	return addr, nil
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
