package install

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"satchel.dev/desktop/internal/fsutil"
	"satchel.dev/desktop/state"
)

// PhaseMoving is reported while MoveLibrary copies files.
const PhaseMoving Phase = "moving"

// MoveLibrary moves the whole library (every game's folder and the downloads in progress) to
// the folder to, which must be empty or missing and not inside the library, and makes it the
// library. Within one file system each game is renamed at once; across file systems it is
// copied (with progress in bytes) into a temporary folder, renamed into place, and then
// removed from the old library. The move is recorded in the state game by game, so an
// interrupted move (crash, cancel) leaves every game complete in one of the two folders,
// still playable, and calling MoveLibrary again with the same folder resumes it. It needs
// every game's lock: no install may run meanwhile.
func (in *Installer) MoveLibrary(ctx context.Context, to string, progress func(Progress)) error {
	if progress == nil {
		progress = func(Progress) {}
	}
	to, err := filepath.Abs(to)
	if err != nil {
		return err
	}
	st, err := in.state.Load()
	if err != nil {
		return err
	}
	var locks []*fsutil.Lock
	defer func() {
		for _, l := range locks {
			l.Unlock()
		}
	}()
	for _, slug := range st.Slugs() {
		l, err := in.lockGame(slug)
		if err != nil {
			return err
		}
		locks = append(locks, l)
	}
	from, moved := st.Library, []string(nil)
	if st.Move != nil {
		if st.Move.To != to {
			return fmt.Errorf("%w to %s: finish that move first (`satchel library move %s`)", ErrMoving, st.Move.To, st.Move.To)
		}
		from, moved = st.Move.From, st.Move.Done
	}
	removeProbes(from)
	removeProbes(to)
	if st.Move == nil {
		if err := checkMoveTarget(from, to); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	var todo []string
	var total int64
	for _, e := range append(st.Slugs(), ".downloads") {
		if slices.Contains(moved, e) {
			continue
		}
		todo = append(todo, e)
		if !exists(filepath.Join(to, e)) { // else only the old copy is left to remove
			total += treeSize(filepath.Join(from, e))
		}
	}
	if st.Move == nil {
		// Checked before a move starts only: a move under way must be finished, and what an
		// interrupted copy left in to would count twice.
		if err := in.checkMoveSpace(from, to, total); err != nil {
			return err
		}
		if _, err := in.state.Update(func(s *state.State) error {
			s.Move = &state.Move{From: from, To: to}
			return nil
		}); err != nil {
			return err
		}
	}
	var done int64
	for _, e := range todo {
		if err := ctx.Err(); err != nil {
			return err
		}
		src, dst := filepath.Join(from, e), filepath.Join(to, e)
		switch {
		case exists(dst) && exists(src):
			// Copied and renamed into place before an interruption: only the old copy is left.
			if err := os.RemoveAll(src); err != nil {
				return err
			}
		case exists(dst) || !exists(src):
			// Already moved, or nothing to move.
		default:
			n, err := in.moveEntry(ctx, src, dst, func(n int64) {
				progress(Progress{Slug: e, Phase: PhaseMoving, Done: done + n, Total: total})
			})
			if err != nil {
				return fmt.Errorf("moving %s to %s: %w", e, to, err)
			}
			done += n
		}
		if _, err := in.state.Update(func(s *state.State) error {
			s.Move.Done = append(s.Move.Done, e)
			return nil
		}); err != nil {
			return err
		}
		progress(Progress{Slug: e, Phase: PhaseMoving, Done: done, Total: total})
	}
	if _, err := in.state.Update(func(s *state.State) error {
		s.Library, s.Move = to, nil
		return nil
	}); err != nil {
		return err
	}
	_ = os.Remove(from) // only if empty: anything else there is not ours
	return nil
}

// checkMoveSpace refuses a move of size bytes from the folder from to the folder to when to
// is on another file system (each game is copied there) with less room than that.
func (in *Installer) checkMoveSpace(from, to string, size int64) error {
	if size == 0 {
		return nil
	}
	cross, err := in.crossDevice(from, to)
	if err != nil || !cross {
		return err
	}
	free, err := in.cfg.FreeSpace(to)
	if err != nil {
		return fmt.Errorf("checking free disk space in %s: %w", to, err)
	}
	if need := size + 8<<20; free < need {
		return fmt.Errorf("%w in %s to move the library there: it needs %s, only %s is free: choose another folder, or free some space there; nothing was moved",
			ErrDiskSpace, to, Bytes(need), Bytes(free))
	}
	return nil
}

// probePrefix begins the name of crossDevice's probe file.
const probePrefix = ".satchel-probe-"

// crossDevice reports whether the folders from and to are on different file systems, where
// the library moves by copy, by renaming an empty file (a probe) from one to the other.
func (in *Installer) crossDevice(from, to string) (bool, error) {
	if in.moveByCopy {
		return true, nil
	}
	f, err := os.CreateTemp(from, probePrefix)
	if err != nil {
		return false, err
	}
	f.Close()
	moved := filepath.Join(to, filepath.Base(f.Name()))
	if err := fsutil.Rename(f.Name(), moved); err != nil {
		os.Remove(f.Name())
		if fsutil.CrossDevice(err) {
			return true, nil
		}
		return false, err
	}
	return false, os.Remove(moved)
}

// removeProbes removes from dir the probes an interrupted crossDevice left there.
func removeProbes(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), probePrefix) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// checkMoveTarget refuses a target inside the library, or one that holds files.
func checkMoveTarget(from, to string) error {
	if rel, err := filepath.Rel(from, to); err == nil && (rel == "." || filepath.IsLocal(rel)) {
		return fmt.Errorf("cannot move the library into itself (%s is inside %s)", to, from)
	}
	ents, err := os.ReadDir(to)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return fmt.Errorf("%s is not empty: choose an empty or new folder for the library", to)
	}
	return nil
}

// moveEntry renames src to dst, or copies it when they are on different file systems.
func (in *Installer) moveEntry(ctx context.Context, src, dst string, progress func(int64)) (int64, error) {
	size := treeSize(src)
	if !in.moveByCopy {
		err := fsutil.Rename(src, dst)
		if err == nil {
			progress(size)
			return size, fsutil.SyncDir(filepath.Dir(dst))
		}
		if !fsutil.CrossDevice(err) {
			return 0, err
		}
	}
	tmp := filepath.Join(filepath.Dir(dst), ".moving-"+filepath.Base(dst))
	if err := os.RemoveAll(tmp); err != nil {
		return 0, err
	}
	n, err := copyTree(ctx, src, tmp, progress)
	if err != nil {
		os.RemoveAll(tmp)
		return n, err
	}
	if err := fsutil.Rename(tmp, dst); err != nil {
		return n, err
	}
	if err := fsutil.SyncDir(filepath.Dir(dst)); err != nil {
		return n, err
	}
	return n, os.RemoveAll(src)
}

// copyTree copies the folder src to dst (regular files and folders; anything else is
// skipped), syncing each file.
func copyTree(ctx context.Context, src, dst string, progress func(int64)) (int64, error) {
	var done int64
	buf := make([]byte, 1<<20)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, fi.Mode().Perm()|0o700)
		case !fi.Mode().IsRegular():
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
		if err != nil {
			return err
		}
		for {
			n, rerr := in.Read(buf)
			if n > 0 {
				if _, err := out.Write(buf[:n]); err != nil {
					out.Close()
					return err
				}
				done += int64(n)
				progress(done)
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				out.Close()
				return rerr
			}
		}
		if err := out.Sync(); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	return done, err
}

// treeSize is the total size of the regular files under p (0 if p is missing).
func treeSize(p string) int64 {
	var n int64
	_ = filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
