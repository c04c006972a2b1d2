//go:build unix

package local_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"satchel.dev/backend/blob/blobtest"
)

// A refused GET does not open the file: the key is a FIFO here, whose opening would block until
// a writer comes, so an open would hang the test instead of answering 403.
func TestRefusedGetDoesNotOpen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	blobtest.Upload(t, b.store, "builds/r/other.zip", strings.NewReader("x"), 1)
	if err := syscall.Mkfifo(filepath.Join(b.dir, "builds/r/fifo.zip"), 0o600); err != nil {
		t.Fatal(err)
	}
	u, err := b.store.DownloadURL(t.Context(), "builds/r/fifo.zip", time.Nanosecond, "x.zip")
	if err != nil {
		t.Fatal(err)
	}
	other, err := b.store.DownloadURL(t.Context(), "builds/r/other.zip", time.Minute, "x.zip")
	if err != nil {
		t.Fatal(err)
	}
	for name, tampered := range map[string]string{
		"with another key":  strings.Replace(other, "other.zip", "fifo.zip", 1),
		"with another name": strings.Replace(u, "fn=x.zip", "fn=y.zip", 1),
	} {
		if resp := blobtest.Get(t, tampered, ""); resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s: status %d, want 403", name, resp.StatusCode)
		}
	}
	// Links expire in whole seconds of the real clock (no clock to inject): sleep past the
	// nanosecond link's whole second.
	time.Sleep(1100 * time.Millisecond)
	if resp := blobtest.Get(t, u, ""); resp.StatusCode != http.StatusForbidden || string(resp.Body) != "blob: link expired\n" {
		t.Errorf("GET expired: status %d %q, want 403", resp.StatusCode, resp.Body)
	}
}
