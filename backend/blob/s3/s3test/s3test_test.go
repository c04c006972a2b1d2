package s3test_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"satchel.dev/backend/blob/s3/s3test"
)

// fatalRecorder is a testing.TB whose Fatalf records the message and ends the goroutine.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// Without versitygw, Start fails the test (never skips it) and says how to get it.
func TestStartFailsWithoutBinary(t *testing.T) {
	t.Setenv("SATCHEL_TOOLS_DIR", t.TempDir())
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s3test.Start(r)
	}()
	<-done
	if !strings.Contains(r.msg, "run make setup-tools") {
		t.Errorf("Start without versitygw: Fatalf(%q), want it to say: run make setup-tools", r.msg)
	}
}

func TestStart(t *testing.T) {
	a, b := s3test.Start(t), s3test.Start(t)
	if a.Endpoint == b.Endpoint || !strings.HasPrefix(a.Endpoint, "127.0.0.1:") {
		t.Errorf("two servers at %s and %s; want two loopback ports", a.Endpoint, b.Endpoint)
	}
}
