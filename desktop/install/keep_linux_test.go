package install

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// TestKeptZipWriteFailureIsNotRetried keeps the download while streaming, and the disk under
// the kept zip fills up mid-way (its descriptor is swapped for /dev/full, whose writes fail
// with ENOSPC): the install stops at once with that error, without fetching the build again.
func TestKeptZipWriteFailureIsNotRetried(t *testing.T) {
	b := streamed(t, func(c *Config) { c.KeepDownloads = true })
	bd := b.addBuild("1.0.0", manyFiles("1.0.0", 6, 200<<10)...)
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	var once sync.Once
	inst, err := New(Config{State: b.state, Source: b.src, FreeSpace: b.inst.cfg.FreeSpace, KeepDownloads: true, Backoff: b.inst.cfg.Backoff,
		Hook: func(step string, done, _ int64) {
			if step != "stream" || done < bd.size/3 {
				return
			}
			once.Do(func() {
				lib := b.load().Library
				zip := filepath.Join(lib, filepath.FromSlash(b.load().Games["tiny-game"].Pending.Zip))
				fds, _ := os.ReadDir("/proc/self/fd")
				for _, fd := range fds {
					if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && target == zip {
						var n int
						if _, err := fmt.Sscan(fd.Name(), &n); err == nil {
							if err := syscall.Dup3(int(full.Fd()), n, 0); err != nil {
								t.Error(err)
							}
							return
						}
					}
				}
				t.Errorf("the kept zip %s is not open", zip)
			})
		}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = inst.Install(context.Background(), b.game, "", nil)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Install = %v, want the kept zip's ENOSPC", err)
	}
	if rs := b.srv.ranges(); len(rs) != 1 {
		t.Errorf("the build was fetched %d times (%q), want once", len(rs), rs)
	}
}
