package install

import (
	"archive/zip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"satchel.dev/desktop/internal/fsutil"
	"satchel.dev/desktop/state"
)

// PhaseVerifying is reported while Verify hashes installed files, PhaseRepairing while it
// fetches damaged ones.
const (
	PhaseVerifying Phase = "verifying"
	PhaseRepairing Phase = "repairing"
)

// Issue is a file of an install that does not match the build's manifest.
type Issue struct {
	Path string `json:"path"`
	// Problem is "missing", "not a regular file", "size", "sha256" or "not executable".
	Problem string `json:"problem"`
}

// Report says what Verify found and fixed.
type Report struct {
	Slug    string `json:"slug"`
	Version string `json:"version"`
	Dir     string `json:"dir"`
	// Checked is how many files of the manifest were checked.
	Checked int `json:"checked"`
	// Damaged lists the files that did not match.
	Damaged []Issue `json:"damaged,omitempty"`
	// Repaired lists the damaged files restored from the build.
	Repaired []string `json:"repaired,omitempty"`
	// Extra lists files in the install folder that the build does not have (saves,
	// settings); they are left alone.
	Extra []string `json:"extra,omitempty"`
	// Fetched is how many bytes of the build the repair downloaded.
	Fetched int64 `json:"fetched_bytes,omitempty"`
}

// OK reports whether every file matches (after repair, if there was one).
func (r Report) OK() bool { return len(r.Damaged) == len(r.Repaired) }

// Verify re-hashes the current install of g against its build's manifest. With repair, it
// restores only the damaged or missing files, each fetched from the build zip on the server
// by HTTP Range (the zip's central directory, then that file's bytes) and checked against the
// manifest before it replaces the damaged one. Files the build does not have are reported,
// never removed. Verify writes only inside the install folder, never through a symbolic link.
// Every file found (or made) right is stamped (see stampChecked), so an update trusts it again.
func (in *Installer) Verify(ctx context.Context, g Game, repair bool, progress func(Progress)) (Report, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	lock, err := in.lockGame(g.Slug)
	if err != nil {
		return Report{}, err
	}
	defer lock.Unlock()
	st, err := in.state.Load()
	if err != nil {
		return Report{}, err
	}
	gs := st.Games[g.Slug]
	if gs == nil || gs.Current == nil {
		return Report{}, fmt.Errorf("%w: %s is not installed", ErrNotInstalled, g.Slug)
	}
	cur := gs.Current
	files, err := in.state.Manifest(cur.ReleaseID)
	if err != nil {
		return Report{}, err
	}
	dir := st.Path(g.Slug, cur.Dir)
	rep := Report{Slug: g.Slug, Version: cur.Version, Dir: dir}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return rep, fmt.Errorf("%w: the folder of %s %s is gone (%v): install it again", ErrNotInstalled, g.Slug, cur.Version, err)
	}
	defer root.Close()

	var done int64
	byPath := map[string]state.File{}
	buf := make([]byte, 1<<20)
	stamp := cur.FilesTime
	if stamp.IsZero() {
		if stamp, err = in.newFilesTime(g.Slug, cur.ReleaseID); err != nil {
			return rep, err
		}
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		byPath[f.Path] = f
		rep.Checked++
		if problem, fi := checkFile(root, f, buf); problem != "" {
			rep.Damaged = append(rep.Damaged, Issue{Path: f.Path, Problem: problem})
		} else {
			stampChecked(root, f.Path, fi, stamp)
		}
		done += f.Size
		progress(Progress{Slug: g.Slug, Version: cur.Version, Phase: PhaseVerifying, Done: done, Total: cur.InstalledBytes})
	}
	_ = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if _, ok := byPath[p]; !ok {
				rep.Extra = append(rep.Extra, p)
			}
		}
		return nil
	})
	if !repair || len(rep.Damaged) == 0 {
		unstamp(root, rep.Damaged)
		if len(rep.Damaged) == 0 {
			return rep, in.checked(g.Slug, cur)
		}
		return rep, nil
	}

	if in.cfg.Source == nil {
		return rep, errors.New("install: no Source to repair from")
	}
	dl, err := in.cfg.Source.GetDownload(ctx, g.ID, cur.ReleaseID)
	if err != nil {
		return rep, err
	}
	if dl.SHA256 != cur.SHA256 {
		return rep, fmt.Errorf("the build of %s %s changed on the server since it was installed: reinstall the game", g.Slug, cur.Version)
	}
	rz := &remoteFile{ctx: ctx, hc: in.cfg.HTTP, url: dl.URL, size: dl.Size, throttle: in.throttle,
		refresh: func(ctx context.Context) (string, error) {
			fresh, err := in.cfg.Source.GetDownload(ctx, g.ID, cur.ReleaseID)
			return fresh.URL, err
		}}
	zr, err := zip.NewReader(rz, dl.Size)
	if err != nil {
		return rep, fmt.Errorf("reading the build of %s %s from the server: %w", g.Slug, cur.Version, err)
	}
	entries := map[string]*zip.File{}
	for _, zf := range zr.File {
		entries[zf.Name] = zf
	}
	var failed []string
	for i, issue := range rep.Damaged {
		progress(Progress{Slug: g.Slug, Version: cur.Version, Phase: PhaseRepairing, Done: int64(i), Total: int64(len(rep.Damaged))})
		f := byPath[issue.Path]
		if err := restore(root, f, entries[f.Path], issue.Problem, buf); err != nil {
			unstamp(root, []Issue{issue})
			failed = append(failed, fmt.Sprintf("%s: %v", f.Path, err))
			continue
		}
		_ = root.Chtimes(f.Path, time.Time{}, stamp)
		rep.Repaired = append(rep.Repaired, f.Path)
	}
	rep.Fetched = rz.fetched
	if len(failed) > 0 {
		return rep, fmt.Errorf("%w: could not repair %d of %d damaged files of %s: %s", ErrVerify, len(failed), len(rep.Damaged), g.Slug, strings.Join(failed, "; "))
	}
	return rep, in.checked(g.Slug, cur)
}

// checked records that every file of cur, slug's current version, was found right: it is no
// longer Unchecked. The caller holds the game's lock.
func (in *Installer) checked(slug string, cur *state.Install) error {
	if !cur.Unchecked {
		return nil
	}
	_, err := in.state.Update(func(s *state.State) error {
		if g := s.Games[slug]; g != nil && g.Current != nil && g.Current.ReleaseID == cur.ReleaseID {
			g.Current.Unchecked = false
		}
		return nil
	})
	return err
}

// checkFile returns what is wrong with the installed file f, or "", and what the file looked
// like before it was read.
func checkFile(root *os.Root, f state.File, buf []byte) (string, fs.FileInfo) {
	fi, err := root.Lstat(f.Path)
	switch {
	case err != nil:
		return "missing", nil
	case !fi.Mode().IsRegular():
		return "not a regular file", fi
	case fi.Size() != f.Size:
		return "size", fi
	}
	r, err := root.Open(f.Path)
	if err != nil {
		return "missing", fi
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, r, buf); err != nil || hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
		return "sha256", fi
	}
	if fsutil.ExecBits && f.Mode&0o100 != 0 && fi.Mode().Perm()&0o100 == 0 {
		return "not executable", fi
	}
	return "", fi
}

// restore replaces the damaged file f with its bytes from the build, checked against the
// manifest before the rename.
func restore(root *os.Root, f state.File, zf *zip.File, problem string, buf []byte) error {
	perm := fs.FileMode(0o644)
	if f.Mode&0o111 != 0 {
		perm = 0o755
	}
	if problem == "not executable" {
		return root.Chmod(f.Path, perm)
	}
	if zf == nil {
		return errors.New("the build on the server does not have this file")
	}
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	parent := path.Dir(f.Path)
	if parent != "." {
		if fi, err := root.Lstat(parent); err == nil && !fi.IsDir() {
			if err := root.RemoveAll(parent); err != nil {
				return err
			}
		}
		if err := root.MkdirAll(parent, 0o755); err != nil {
			return err
		}
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := path.Join(parent, ".satchel-repair-"+hex.EncodeToString(rnd[:]))
	out, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(out, h), io.LimitReader(rc, f.Size+1), buf)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && (n != f.Size || hex.EncodeToString(h.Sum(nil)) != f.SHA256) {
		err = errors.New("the build's copy does not match the manifest either")
	}
	if err == nil {
		err = root.Chmod(tmp, perm)
	}
	if err == nil {
		if fi, lerr := root.Lstat(f.Path); lerr == nil && fi.IsDir() {
			err = root.RemoveAll(f.Path)
		}
	}
	if err == nil {
		err = root.Rename(tmp, f.Path)
	}
	if err != nil {
		root.Remove(tmp)
	}
	return err
}

// remoteFile reads a build zip on the server by HTTP Range. Scattered reads (the zip's
// directory, the start of a file) fetch 64 KiB; reads that continue where the last fetch
// ended fetch twice as much each time, up to 4 MiB, so a large file streams in few requests.
// The last few pieces are kept, as the zip reader reads in small steps. A refused URL
// (expired) is replaced by a fresh one.
type remoteFile struct {
	ctx      context.Context
	hc       *http.Client
	url      string
	size     int64
	refresh  func(context.Context) (string, error)
	throttle *throttle

	mu      sync.Mutex
	pieces  []piece // most recent last
	fetched int64
}

type piece struct {
	start int64
	b     []byte
}

const (
	minPiece = 64 << 10
	maxPiece = 4 << 20
)

func (r *remoteFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	n := 0
	for n < len(p) {
		at := off + int64(n)
		if at >= r.size {
			return n, io.EOF
		}
		pc, err := r.piece(at)
		if err != nil {
			return n, err
		}
		n += copy(p[n:], pc.b[at-pc.start:])
	}
	return n, nil
}

// piece returns a fetched piece holding offset at.
func (r *remoteFile) piece(at int64) (piece, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.pieces) - 1; i >= 0; i-- {
		if pc := r.pieces[i]; at >= pc.start && at < pc.start+int64(len(pc.b)) {
			return pc, nil
		}
	}
	size := int64(minPiece)
	if k := len(r.pieces); k > 0 {
		if last := r.pieces[k-1]; last.start+int64(len(last.b)) == at {
			size = min(int64(len(last.b))*2, maxPiece)
		}
	}
	end := min(at+size, r.size) - 1
	b, status, err := r.get(at, end)
	if status == http.StatusForbidden || status == http.StatusNotFound || status == http.StatusGone {
		if r.url, err = r.refresh(r.ctx); err != nil {
			return piece{}, err
		}
		b, _, err = r.get(at, end)
	}
	if err != nil {
		return piece{}, err
	}
	pc := piece{start: at, b: b}
	r.pieces = append(r.pieces, pc)
	if len(r.pieces) > 4 {
		r.pieces = r.pieces[1:]
	}
	r.fetched += int64(len(b))
	return pc, nil
}

func (r *remoteFile) get(start, end int64) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", start, end))
	res, err := r.hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusPartialContent {
		return nil, res.StatusCode, fmt.Errorf("the server answered HTTP %d to a ranged read of the build", res.StatusCode)
	}
	if s, ok := contentRangeStart(res); !ok || s != start {
		return nil, res.StatusCode, fmt.Errorf("the server sent the wrong range (%q)", res.Header.Get("Content-Range"))
	}
	want := end - start + 1
	b := make([]byte, want)
	if _, err := io.ReadFull(res.Body, b); err != nil {
		return nil, res.StatusCode, fmt.Errorf("reading a range of the build: %w", err)
	}
	if r.throttle != nil {
		_ = r.throttle.WaitN(r.ctx, len(b))
	}
	return b, res.StatusCode, nil
}

// unstamp gives the damaged files left as they are the time now, so that no update trusts
// them (see unchanged) whatever time their damage kept.
func unstamp(root *os.Root, damaged []Issue) {
	now := time.Now()
	for _, d := range damaged {
		_ = root.Chtimes(d.Path, time.Time{}, now)
	}
}

// newFilesTime gives the current install (releaseID) of slug, which has none, a time to stamp
// its files with (see stampAll), and returns it.
func (in *Installer) newFilesTime(slug, releaseID string) (time.Time, error) {
	t := stampTime(time.Now())
	_, err := in.state.Update(func(s *state.State) error {
		if g := s.Games[slug]; g != nil && g.Current != nil && g.Current.ReleaseID == releaseID {
			g.Current.FilesTime = t
		}
		return nil
	})
	return t, err
}
