// Package fsutil holds the few file system operations the launcher's core needs to be crash
// safe, and every one that differs between operating systems: atomic file replacement,
// directory syncs, advisory locks between processes, free disk space and full-disk errors,
// executable bits and path lengths. fsutil_unix.go and fsutil_windows.go hold the per-OS
// halves, one small function each; everything else is shared.
package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// WriteFile replaces path with data as one atomic step: it writes a temporary file in the same
// directory, syncs it, renames it over path (Rename) and syncs the directory. After a crash at
// any point, path holds either the old or the new content, never a mix; a leftover temporary
// file (named .<base>.tmp-*) is harmless and replaced by the next write.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(dir)
}

// ErrLocked is returned (wrapped) by TryLock when another process holds the lock.
var ErrLocked = errors.New("locked by another process")

// Lock is an advisory lock on a file, held by this process until Unlock or until the process
// ends (the kernel releases it even after kill -9, so a crash never leaves a stale lock).
type Lock struct{ f *os.File }

// TryLock takes the exclusive lock on path, creating the file, without waiting. When another
// process holds it, it returns an error wrapping ErrLocked that names that process when known.
// Two calls in one process on the same path also exclude each other.
func TryLock(path string) (*Lock, error) {
	return lock(path, false)
}

// WaitLock takes the exclusive lock on path, waiting for the holder to release it.
func WaitLock(path string) (*Lock, error) {
	return lock(path, true)
}

func lock(path string, wait bool) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	err = lockFile(f, wait)
	if errors.Is(err, errHeld) {
		holder := ""
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				holder = fmt.Sprintf(" (pid %d)", pid)
			}
		}
		f.Close()
		return nil, fmt.Errorf("%w%s", ErrLocked, holder)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	// Record the holder for the message above; the lock, not this content, is what counts.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock. It is safe to call on a nil Lock and more than once.
func (l *Lock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	_ = unlockFile(l.f)
	l.f.Close()
	l.f = nil
}
