package fsutil

import (
	"os"

	"golang.org/x/sys/unix"
)

// SyncTree flushes the files under dir to the disk, so that a power cut after a rename that
// publishes them cannot leave them empty or short. On Linux it flushes dir's whole file
// system in one call (syncfs(2)): one wait for the disk, however many files there are.
func SyncTree(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: dir, Err: err}
	}
	return nil
}
