//go:build unix && !linux

package fsutil

import (
	"os"
	"syscall"
)

// SyncTree flushes the files under dir to the disk, so that a power cut after a rename that
// publishes them cannot leave them empty or short: fsync(2) on each file (not macOS's
// F_FULLFSYNC, which would wait for the drive's own cache once per file).
func SyncTree(dir string) error {
	return eachFile(dir, func(path string) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := syscall.Fsync(int(f.Fd())); err != nil {
			return &os.PathError{Op: "fsync", Path: path, Err: err}
		}
		return nil
	})
}
