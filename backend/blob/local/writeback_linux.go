package local

import (
	"os"
	"syscall"
)

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE of sync_file_range(2).
const syncFileRangeWrite = 0x2

// startWriteback asks the kernel to start writing bytes [off, off+n) of f to disk now,
// without waiting for them (sync_file_range(2) with SYNC_FILE_RANGE_WRITE), so that the fsync
// that ends an upload finds little left to write. It is a hint: errors are ignored, and the
// fsync alone is what makes the file durable.
func startWriteback(f *os.File, off, n int64) {
	sc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = sc.Control(func(fd uintptr) { _ = syscall.SyncFileRange(int(fd), off, n, syncFileRangeWrite) })
}
