package install

import (
	"io/fs"
	"os"
	"time"

	"satchel.dev/desktop/state"
)

// Installed files are stamped: as each file of an install is verified against the manifest
// (written and hashed, or found unchanged), it gets the install's state.Install.FilesTime as
// its modification time. A file that still has that time (and its size) has not been written
// since, so an update reuses it without reading it again. Any write (the game itself, a mod,
// an editor, a file replaced) gives it a newer time, and the update hashes it and fetches it
// if it is damaged. Damage that keeps the time (a failing disk, a tool that restores times) is
// what Verify finds: it reads every file.

// stampTime returns the time to stamp files verified after at with: a whole second at least
// two seconds before, so no later write can give a file the same time, even on file systems
// that keep times in 2-second steps.
func stampTime(at time.Time) time.Time {
	return at.UTC().Truncate(time.Second).Add(-2 * time.Second)
}

// filesTime is the time the files of pending install p are stamped with as each is verified
// (the same across its resumptions); zero for an install recorded without a start time,
// whose files are then never trusted.
func filesTime(p *state.Pending) time.Time {
	if p.StartedAt.IsZero() {
		return time.Time{}
	}
	return stampTime(p.StartedAt)
}

// stampAll gives every file of files in root the modification time t; a file the file system
// refuses it keeps its own, and is hashed when an update comes.
func stampAll(root *os.Root, files []state.File, t time.Time) {
	for _, f := range files {
		_ = root.Chtimes(f.Path, time.Time{}, t)
	}
}

// stampChecked stamps the file p in root with t if it is still fi, as looked at before it was
// hashed (the same file, size and modification time): a file written while it was hashed
// keeps its newer time, so it is hashed again when an update comes.
func stampChecked(root *os.Root, p string, fi fs.FileInfo, t time.Time) {
	now, err := root.Lstat(p)
	if err == nil && os.SameFile(fi, now) && now.Size() == fi.Size() && now.ModTime().Equal(fi.ModTime()) {
		_ = root.Chtimes(p, time.Time{}, t)
	}
}

// unchanged reports whether fi, a file of an install stamped at t, has size and was not
// written since it was verified.
func unchanged(fi fs.FileInfo, size int64, t time.Time) bool {
	return !t.IsZero() && fi.Mode().IsRegular() && fi.Size() == size && fi.ModTime().Equal(t)
}
