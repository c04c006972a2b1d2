package fsutil_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"satchel.dev/desktop/internal/fsutil"
)

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locks", "game.lock")
	l, err := fsutil.TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fsutil.TryLock(path)
	if !errors.Is(err, fsutil.ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("(pid %d)", os.Getpid())) {
		t.Fatalf("second TryLock = %v, want ErrLocked naming this process", err)
	}
	l.Unlock()
	l.Unlock() // twice is harmless
	l2, err := fsutil.WaitLock(path)
	if err != nil {
		t.Fatalf("WaitLock after Unlock: %v", err)
	}
	l2.Unlock()
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	for _, content := range []string{"one", "two"} {
		if err := fsutil.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != content {
			t.Fatalf("read %q, %v; want %q", b, err, content)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files in the folder, want only state.json", len(ents))
	}
}

func TestFreeSpace(t *testing.T) {
	if n, err := fsutil.FreeSpace(t.TempDir()); err != nil || n <= 0 {
		t.Errorf("FreeSpace = %d, %v", n, err)
	}
	if _, err := fsutil.FreeSpace(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("FreeSpace of a missing folder: no error")
	}
}
