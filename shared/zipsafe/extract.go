package zipsafe

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// dest is the directory Extract writes into. It keeps the directory of the
// last file written open, since files usually come grouped by directory.
type dest struct {
	root    *os.Root
	cur     *os.Root // the directory curPath, or nil
	curPath string
}

func openRoot(dir string) (*dest, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("zipsafe: opening the extraction directory: %w", err)
	}
	return &dest{root: root}, nil
}

func (d *dest) close() {
	if d.cur != nil {
		d.cur.Close()
	}
	d.root.Close()
}

// mkdir creates the directory p (and those above it) for entry.
func (d *dest) mkdir(entry, p string) error {
	_, err := d.dir(entry, p)
	return err
}

// create creates the file p for entry, with mode perm, failing if anything
// of that name exists.
func (d *dest) create(entry, p string, perm fs.FileMode) (*os.File, error) {
	parent, base := "", p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		parent, base = p[:i], p[i+1:]
	}
	dir, err := d.dir(entry, parent)
	if err != nil {
		return nil, err
	}
	f, err := dir.OpenFile(base, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, fmt.Errorf("zipsafe: extracting %q: %w", entry, err)
	}
	if err := f.Chmod(perm); err != nil { // the umask may have taken bits away
		f.Close()
		return nil, fmt.Errorf("zipsafe: extracting %q: %w", entry, err)
	}
	return f, nil
}

// dir returns the directory p ("" for the root), creating the missing
// directories on the way. Every component must be a plain directory: a
// symbolic link, even one planted in the root by someone else, is refused,
// and each directory is opened relative to the one above it and checked to
// be the one just inspected, so that nothing is written through a link
// swapped in meanwhile.
func (d *dest) dir(entry, p string) (*os.Root, error) {
	if p == "" {
		return d.root, nil
	}
	if d.cur != nil && d.curPath == p {
		return d.cur, nil
	}
	if d.cur != nil {
		d.cur.Close()
		d.cur, d.curPath = nil, ""
	}
	parent := d.root
	closeParent := func() {
		if parent != d.root {
			parent.Close()
		}
	}
	sofar := ""
	for c := range strings.SplitSeq(p, "/") {
		sofar = path.Join(sofar, c)
		shown := filepath.Join(d.root.Name(), filepath.FromSlash(sofar))
		if err := parent.Mkdir(c, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			closeParent()
			return nil, fmt.Errorf("zipsafe: extracting %q: %w", entry, err)
		}
		fi, err := parent.Lstat(c)
		if err == nil && !fi.IsDir() {
			err = fmt.Errorf("%s is not a directory (a symbolic link?); refusing to write through it", shown)
		}
		var child *os.Root
		if err == nil {
			child, err = parent.OpenRoot(c)
		}
		if err == nil {
			var opened fs.FileInfo
			if opened, err = child.Stat("."); err == nil && !os.SameFile(fi, opened) {
				err = fmt.Errorf("%s changed while being extracted into; refusing to write through it", shown)
			}
			if err != nil {
				child.Close()
			}
		}
		closeParent()
		if err != nil {
			return nil, fmt.Errorf("zipsafe: extracting %q: %w", entry, err)
		}
		parent = child
	}
	d.cur, d.curPath = parent, p
	return parent, nil
}
