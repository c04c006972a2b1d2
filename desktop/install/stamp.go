package install

import (
	"io/fs"
	"os"
	"time"

	"satchel.dev/desktop/state"
)

// Installed files are stamped: once an install's files are verified against the manifest,
// each gets the install's state.Install.FilesTime as its modification time. A file that
// still has that time (and its size) has not been written since, so an update reuses it
// without reading it again. Any write (the game itself, a mod, an editor, a file replaced)
// gives it a newer time, and the update hashes it and fetches it if it is damaged. Damage that
// keeps the time (a failing disk, a tool that restores times) is what Verify finds: it reads
// every file.

// stampTime returns the time to stamp an install's files with: a whole second at least two
// seconds ago, so no later write can give a file the same time, even on file systems that
// keep times in 2-second steps.
func stampTime() time.Time {
	return time.Now().UTC().Truncate(time.Second).Add(-2 * time.Second)
}

// stampAll gives every file of files in dir the modification time it returns; the zero time
// (nothing is trusted) when the file system refuses.
func stampAll(dir string, files []state.File) time.Time {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return time.Time{}
	}
	defer root.Close()
	t := stampTime()
	for _, f := range files {
		if err := root.Chtimes(f.Path, time.Time{}, t); err != nil {
			return time.Time{}
		}
	}
	return t
}

// unchanged reports whether fi, a file of an install stamped at t, has size and was not
// written since it was verified.
func unchanged(fi fs.FileInfo, size int64, t time.Time) bool {
	return !t.IsZero() && fi.Mode().IsRegular() && fi.Size() == size && fi.ModTime().Equal(t)
}
