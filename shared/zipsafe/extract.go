package zipsafe

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// dest is the directory Extract writes into. It keeps the directories of
// the last path it walked open, since files usually come grouped by
// directory.
type dest struct {
	// open[0] is the root; open[i] is the directory named by the first i
	// components of the last path walked, names[:i].
	open  []*os.Root
	names []string
}

// openRoot opens dir, which must exist, for Extract.
func openRoot(dir string) (*dest, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("zipsafe: opening the extraction directory: %w", err)
	}
	return &dest{open: []*os.Root{root}}, nil
}

// close closes every directory d holds open.
func (d *dest) close() {
	for _, r := range slices.Backward(d.open) {
		r.Close()
	}
}

// mkdir creates the directory p (and those above it) for entry.
func (d *dest) mkdir(entry, p string) error {
	_, err := d.dir(entry, strings.Split(p, "/"))
	return err
}

// create creates the file p for entry, with mode perm, failing if anything
// of that name exists.
func (d *dest) create(entry, p string, perm fs.FileMode) (*os.File, error) {
	names := strings.Split(p, "/")
	dir, err := d.dir(entry, names[:len(names)-1])
	if err != nil {
		return nil, err
	}
	f, err := dir.OpenFile(names[len(names)-1], os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, fmt.Errorf("zipsafe: extracting %q: %w", entry, err)
	}
	if err := f.Chmod(perm); err != nil { // the umask may have taken bits away
		f.Close()
		return nil, fmt.Errorf("zipsafe: extracting %q: %w", entry, err)
	}
	return f, nil
}

// dir returns the directory named by names (the root if there are none),
// creating the missing ones on the way. Every component must be a plain
// directory: a symbolic link, even one planted in the root by someone else,
// is refused, and each directory is opened relative to the one above it and
// checked to be the one just inspected, so that nothing is written through
// a link swapped in meanwhile.
func (d *dest) dir(entry string, names []string) (*os.Root, error) {
	keep := 0
	for keep < min(len(names), len(d.names)) && names[keep] == d.names[keep] {
		keep++
	}
	if keep == len(names) { // names is open already, maybe with directories below it
		return d.open[keep], nil
	}
	for _, r := range d.open[keep+1:] {
		r.Close()
	}
	d.open, d.names = d.open[:keep+1], d.names[:keep]
	for _, c := range names[keep:] {
		child, err := openDir(d.open[len(d.open)-1], c)
		if err != nil {
			shown := filepath.Join(d.open[0].Name(), filepath.FromSlash(strings.Join(d.names, "/")), c)
			return nil, fmt.Errorf("zipsafe: extracting %q: %s: %w", entry, shown, err)
		}
		d.open, d.names = append(d.open, child), append(d.names, c)
	}
	return d.open[len(d.open)-1], nil
}

// openDir opens the directory name in parent, creating it if it does not
// exist, and refuses anything but a plain directory.
func openDir(parent *os.Root, name string) (*os.Root, error) {
	if err := parent.Mkdir(name, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	fi, err := parent.Lstat(name)
	switch {
	case err != nil:
		return nil, err
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, errors.New("a symbolic link is in the way; refusing to write through it")
	case !fi.IsDir():
		return nil, errors.New("a file that is not a directory is in the way")
	}
	child, err := parent.OpenRoot(name)
	if err != nil {
		return nil, err
	}
	opened, err := child.Stat(".")
	if err == nil && !os.SameFile(fi, opened) {
		err = errors.New("the directory was replaced while being extracted into; refusing to write through it")
	}
	if err != nil {
		child.Close()
		return nil, err
	}
	return child, nil
}
