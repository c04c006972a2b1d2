// Package fsutil holds the few file system operations the launcher's core needs to be crash
// safe: atomic file replacement, directory syncs and advisory locks between processes.
package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// WriteFile replaces path with data as one atomic step: it writes a temporary file in the same
// directory, syncs it, renames it over path and syncs the directory. After a crash at any
// point, path holds either the old or the new content, never a mix; a leftover temporary file
// (named .<base>.tmp-*) is harmless and replaced by the next write.
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
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(dir)
}

// SyncDir makes the entries of dir (files created, renamed or removed in it) durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
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
	return lock(path, syscall.LOCK_EX|syscall.LOCK_NB)
}

// WaitLock takes the exclusive lock on path, waiting for the holder to release it.
func WaitLock(path string) (*Lock, error) {
	return lock(path, syscall.LOCK_EX)
}

func lock(path string, how int) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
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
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
}
