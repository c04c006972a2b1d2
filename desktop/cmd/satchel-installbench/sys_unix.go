//go:build unix

package main

import (
	"runtime"
	"syscall"
)

// flushWrites writes every dirty page to disk (sync(2)), so the next run does not pay for the
// writeback of the one before.
func flushWrites() { syscall.Sync() }

// peakRSSKiB is this process's peak resident memory in KiB (getrusage(2); macOS counts bytes).
func peakRSSKiB() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss) >> 10
	}
	return int64(ru.Maxrss)
}
