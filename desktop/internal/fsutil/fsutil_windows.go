package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/windows"
)

// ExecBits reports whether the file system keeps executable bits. Windows has none: a
// program is an .exe by its name, so modes are neither set nor checked there.
const ExecBits = false

// MaxPath is the longest absolute path, in characters, a game is sure to open: MAX_PATH (260)
// less the terminating NUL. The launcher itself reaches longer paths (Go's os package adds
// the \\?\ prefix), but a game that is not long-path aware cannot open them.
const MaxPath = 259

// errHeld is what lockFile returns when another holder has the lock.
var errHeld = windows.ERROR_LOCK_VIOLATION

// lockOffset is where the locked byte sits: past any content the lock file has, so another
// process can still read the holder's pid at the start of the file (LockFileEx's locks are
// mandatory for the bytes they cover). SQLite locks at the same offset for the same reason.
const lockOffset = 1 << 30

// lockFile takes the exclusive LockFileEx lock on f, waiting for it when wait is set, and
// returns errHeld when it does not wait and another handle holds it. Windows releases it when
// the handle is closed or the process ends.
func lockFile(f *os.File, wait bool) error {
	flags := uint32(windows.LOCKFILE_EXCLUSIVE_LOCK)
	if !wait {
		flags |= windows.LOCKFILE_FAIL_IMMEDIATELY
	}
	return windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, &windows.Overlapped{Offset: lockOffset})
}

// unlockFile releases the lock lockFile took on f.
func unlockFile(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &windows.Overlapped{Offset: lockOffset})
}

// SyncDir does nothing on Windows: a directory cannot be flushed there, and Rename asks
// MoveFileEx to write the rename through before it returns.
func SyncDir(string) error { return nil }

// SyncTree flushes the files under dir to the disk, so that a power cut after a rename that
// publishes them cannot leave them empty or short: FlushFileBuffers on each file. A file that
// cannot be opened for writing is left to the system: the files an update reuses are hard
// links to the current version's, which a running game holds, and whose data is on the disk
// already; a virus scanner may hold a new one for a moment.
func SyncTree(dir string) error {
	return eachFile(dir, func(path string) error {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if inUse(err) {
			return nil
		}
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}

// renameRetry bounds how long Rename retries while another process (often a virus scanner or
// the search indexer, for a moment) has one of the files open.
const renameRetry = 2 * time.Second

// Rename renames oldpath to newpath, replacing newpath if it is a file, as one atomic step:
// MoveFileEx with MOVEFILE_REPLACE_EXISTING and MOVEFILE_WRITE_THROUGH. Windows refuses to
// replace a file another process has open, or to rename a folder holding one: Rename retries
// for up to two seconds, then returns the error, which says the file is in use. The installer
// never replaces a file of a game that may be running: each version gets a folder of its own.
func Rename(oldpath, newpath string) error {
	from, err := windows.UTF16PtrFromString(fixLongPath(oldpath))
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	to, err := windows.UTF16PtrFromString(fixLongPath(newpath))
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	deadline := time.Now().Add(renameRetry)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err = windows.MoveFileEx(from, to, windows.MOVEFILE_REPLACE_EXISTING|windows.MOVEFILE_WRITE_THROUGH)
		if err == nil {
			return nil
		}
		if !inUse(err) || time.Now().After(deadline) {
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
		}
		time.Sleep(wait)
	}
}

// inUse reports whether err is Windows refusing a file another process has open.
func inUse(err error) bool {
	return errors.Is(err, windows.ERROR_SHARING_VIOLATION) || errors.Is(err, windows.ERROR_ACCESS_DENIED) ||
		errors.Is(err, windows.ERROR_LOCK_VIOLATION)
}

// fixLongPath gives an absolute path over MAX_PATH the \\?\ prefix MoveFileEx needs to reach
// it (the os package does the same for its own calls).
func fixLongPath(p string) string {
	if len(p) < 248 || len(p) >= 4 && p[:4] == `\\?\` {
		return p
	}
	abs, err := filepath.Abs(p)
	if err != nil || len(abs) < 3 || abs[1] != ':' {
		return p // a UNC or relative path: left to Windows
	}
	return `\\?\` + abs
}

// CrossDevice reports whether err is a Rename that failed because the two paths are on
// different volumes, so the caller must copy instead.
func CrossDevice(err error) bool { return errors.Is(err, windows.ERROR_NOT_SAME_DEVICE) }

// DiskFull reports whether err is a write refused because the volume is full
// (ERROR_DISK_FULL, ERROR_HANDLE_DISK_FULL), or the user's quota on it is used up
// (ERROR_DISK_QUOTA_EXCEEDED).
func DiskFull(err error) bool {
	return errors.Is(err, windows.ERROR_DISK_FULL) || errors.Is(err, windows.ERROR_HANDLE_DISK_FULL) ||
		errors.Is(err, windows.ERROR_DISK_QUOTA_EXCEEDED)
}

// FreeSpace returns the bytes this user may still write on the volume that holds dir (quotas
// included).
func FreeSpace(dir string) (int64, error) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return 0, err
	}
	var avail, total, free uint64
	if err := windows.GetDiskFreeSpaceEx(p, &avail, &total, &free); err != nil {
		return 0, &os.PathError{Op: "GetDiskFreeSpaceEx", Path: dir, Err: err}
	}
	return int64(avail), nil
}
