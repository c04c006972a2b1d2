//go:build !linux

package fsutil

import (
	"io/fs"
	"path/filepath"
)

// eachFile calls f with the path of every regular file under dir, and stops at its first error.
func eachFile(dir string, f func(path string) error) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		return f(path)
	})
}
