package fsutil_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"satchel.dev/desktop/internal/fsutil"
)

// TestDiskFull writes to /dev/full, which refuses every write as a full disk does.
func TestDiskFull(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = f.Write([]byte("x"))
	if !fsutil.DiskFull(err) || !fsutil.DiskFull(fmt.Errorf("extracting: %w", err)) {
		t.Errorf("DiskFull(%v) = false, want true", err)
	}
	_, other := os.Open(filepath.Join(t.TempDir(), "missing"))
	for _, err := range []error{nil, other} {
		if fsutil.DiskFull(err) {
			t.Errorf("DiskFull(%v) = true", err)
		}
	}
}

// TestSyncTree: SyncTree flushes a folder's file system, and says when the folder is missing.
func TestSyncTree(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "game.bin"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := fsutil.SyncTree(dir); err != nil {
		t.Fatalf("SyncTree = %v", err)
	}
	if err := fsutil.SyncTree(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("SyncTree of a missing folder = %v, want not exist", err)
	}
}
