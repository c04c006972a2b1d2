//go:build unix

package fsutil

import (
	"errors"
	"os"
	"syscall"
)

// ExecBits reports whether the file system keeps executable bits. On Unix it does: an
// installed program needs its bits, and a file that lost them is damaged.
const ExecBits = true

// MaxPath is the longest absolute path, in characters, a game is sure to open; 0 means the
// operating system sets no limit a game meets in practice.
const MaxPath = 0

// errHeld is what lockFile returns when another holder has the lock.
var errHeld = syscall.EWOULDBLOCK

// lockFile takes the exclusive flock(2) lock on f, waiting for it when wait is set, and
// returns errHeld when it does not wait and another open file holds it.
func lockFile(f *os.File, wait bool) error {
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// unlockFile releases the lock lockFile took on f.
func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }

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

// Rename renames oldpath to newpath, replacing newpath if it is a file, as one atomic step
// (rename(2)). Files open elsewhere do not stop it: their readers keep the old content.
func Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// CrossDevice reports whether err is a Rename that failed because the two paths are on
// different file systems, so the caller must copy instead.
func CrossDevice(err error) bool { return errors.Is(err, syscall.EXDEV) }

// DiskFull reports whether err is a write refused because the file system is full (ENOSPC),
// or the user's quota on it is used up (EDQUOT).
func DiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// FreeSpace returns the bytes an unprivileged process may still write on the file system
// that holds dir.
func FreeSpace(dir string) (int64, error) {
	var sfs syscall.Statfs_t
	if err := syscall.Statfs(dir, &sfs); err != nil {
		return 0, err
	}
	return int64(sfs.Bavail) * int64(sfs.Bsize), nil
}
