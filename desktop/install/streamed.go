package install

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"satchel.dev/desktop/internal/fsutil"
	"satchel.dev/desktop/launch"
	"satchel.dev/desktop/state"
	"satchel.dev/shared/zipsafe"
)

// coalesceGap is the most bytes of unchanged entries an update fetches to join two ranges
// into one request.
const coalesceGap = 32 << 10

// maxRanges is how many ranges an update fetches at once.
const maxRanges = 4

// streamable returns the manifest of dl checked by the zip rules, sorted by offset, and the
// offset where the zip's tail (central directory, end records) starts, or a refusal.
func (in *Installer) streamable(dl Download) ([]zipsafe.Entry, int64, error) {
	entries, _ := located(dl.Files)
	sorted, err := zipsafe.CheckManifest(entries, dl.Size, in.cfg.Limits)
	if err != nil {
		return nil, 0, err
	}
	last := sorted[len(sorted)-1]
	tailStart := last.DataOffset + last.CompressedSize
	if dl.Size-tailStart > maxTail {
		return nil, 0, fmt.Errorf("%w: the zip has %d bytes after its last file, more than a central directory needs", ErrVerify, dl.Size-tailStart)
	}
	return sorted, tailStart, nil
}

// refuseBuild drops pending install p, whose build broke a rule or the manifest (err), with
// its temporary folder temp, records why, and returns the error to report.
func (in *Installer) refuseBuild(g Game, lib string, p *state.Pending, temp string, err error) error {
	if temp != "" {
		os.RemoveAll(temp)
	}
	reason := fmt.Sprintf("the build of %s %s cannot be installed: %v", g.Slug, p.Version, err)
	in.refuse(g.Slug, lib, p, reason)
	return fmt.Errorf("%w: %s; nothing was installed: tell the developer", ErrVerify, reason)
}

// bad reports whether err means the build itself is wrong (a zip rule, a file that does not
// match the manifest), as opposed to the network or the disk.
func bad(err error) bool {
	var ze *zipsafe.Error
	return errors.As(err, &ze) || errors.Is(err, ErrVerify)
}

// streamTemp returns the temporary folder of p and where its stream resumes: the folder an
// interrupted stream left, with its checkpoint, or a fresh one recorded in the state before
// anything is written to it.
func (in *Installer) streamTemp(slug string, p *state.Pending, lib string) (string, state.Stream, error) {
	if p.Temp != "" {
		temp := filepath.Join(lib, filepath.FromSlash(p.Temp))
		if fi, err := os.Stat(temp); err == nil && fi.IsDir() && !p.Stream.Update {
			return temp, *p.Stream, nil
		}
		os.RemoveAll(temp)
	}
	parent := filepath.Join(lib, slug)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", state.Stream{}, err
	}
	temp, err := os.MkdirTemp(parent, ".tmp-"+path.Base(p.Dir)+"-")
	if err != nil {
		return "", state.Stream{}, err
	}
	cp := state.Stream{Update: p.Stream.Update}
	_, err = in.state.Update(func(s *state.State) error {
		q := s.Game(slug).Pending
		if q == nil {
			return fmt.Errorf("the install of %s was cancelled meanwhile", slug)
		}
		q.Step, q.Temp, q.Stream = state.StepExtract, path.Join(slug, filepath.Base(temp)), &cp
		return nil
	})
	if err != nil {
		os.RemoveAll(temp)
		return "", cp, err
	}
	return temp, cp, nil
}

// saveStream records the checkpoint of slug's streamed install.
func (in *Installer) saveStream(slug string, cp state.Stream, size int64) error {
	_, err := in.state.Update(func(s *state.State) error {
		p := s.Game(slug).Pending
		if p == nil || p.Stream == nil {
			return fmt.Errorf("the install of %s was cancelled meanwhile", slug)
		}
		*p.Stream = cp
		return nil
	})
	if err == nil {
		in.hook("checkpoint", cp.Offset, size)
	}
	return err
}

// restoreHash sets h to the state s (nil: empty).
func restoreHash(h hash.Hash, s []byte) {
	h.Reset()
	if s != nil {
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(s); err != nil {
			h.Reset() // a damaged checkpoint: the sha256 check at the end fails the install
		}
	}
}

// streamInstall installs dl by extracting its zip into p's temporary folder as it streams in:
// the manifest passes the zip rules first (zipsafe.CheckManifest), each local header is
// checked as it passes, each file inflated, written and checked against the manifest (size,
// CRC-32, sha256) while the next ones arrive, the whole zip hashed on the same pass and its
// central directory compared with the manifest at the end. No zip is kept on disk, unless p
// names one (the player keeps downloads): the zip's bytes are then written there too, as they
// are hashed (see keepZip). A dropped connection resumes (HTTP Range) at the first file not yet
// verified, and so does the next install after a crash, from the checkpoint kept in the
// state. A build that breaks a rule or its manifest twice is refused: its folder is removed
// and the failure recorded. After the first time it is fetched once more, in case its bytes
// were damaged on the way: from the last file verified, or all of it when every file matched
// but the whole zip did not. It returns the folder, every file verified, and the bytes it
// fetched; the caller marks it extracted (Installer.extracted) once the download slot is free.
func (in *Installer) streamInstall(ctx context.Context, g Game, p *state.Pending, lib string, dl Download, progress func(Progress)) (temp string, resumed, fetched int64, err error) {
	sorted, tailStart, err := in.streamable(dl)
	if err != nil {
		return "", 0, 0, in.refuseBuild(g, lib, p, "", err)
	}
	release := in.slots.acquire(ctx)
	if release == nil {
		return "", 0, 0, ctx.Err()
	}
	defer release()
	if err := in.checkStreamSpace(ctx, g.Slug, lib, p); err != nil {
		return "", 0, 0, err
	}
	temp, cp, err := in.streamTemp(g.Slug, p, lib)
	if err != nil {
		return "", 0, 0, err
	}
	resumed = cp.Offset
	root, err := os.OpenRoot(temp)
	if err != nil {
		return "", 0, 0, err
	}
	defer root.Close()
	x := newExtraction(root, sorted, sorted, filesTime(p))
	for i := range min(cp.Verified, len(sorted)) {
		x.verified[i] = true
	}
	h := sha256.New()
	restoreHash(h, cp.Hash)
	zip, err := in.keepZip(lib, p, cp.Offset)
	if err != nil {
		return "", 0, 0, err
	}
	if zip != nil {
		defer zip.Close()
	}
	url := dl.URL
	failures, refreshes, wait := 0, 0, in.cfg.Backoff
	refetched := false // after a file that did not match its manifest
	for {
		r := &route{x: x, pos: cp.Offset, i: cp.Verified, end: len(sorted), hash: h, tailStart: tailStart,
			snaps: map[int][]byte{cp.Verified: cp.Hash}}
		r.at.Store(cp.Offset)
		stop := in.watch(g.Slug, dl, r, cp, progress)
		var keepErr error // writing the kept zip failed
		n, err := in.fetchRange(ctx, url, cp.Offset, dl.Size-1, func(b []byte) error {
			if zip != nil {
				if _, err := zip.WriteAt(b, r.pos); err != nil {
					keepErr = fmt.Errorf("keeping the download in %s: %w", zip.Name(), err)
					return keepErr
				}
			}
			err := r.write(b)
			in.hook("stream", r.pos, dl.Size)
			return err
		})
		r.stop()
		last := stop()
		fetched += n
		if xerr := x.err(); xerr != nil {
			err = xerr
		}
		if err == nil && r.pos == dl.Size {
			err = in.finish(h, x, r.tail, tailStart, dl)
			if err == nil {
				if zip != nil {
					if err := zip.Sync(); err != nil {
						return "", resumed, fetched, fmt.Errorf("keeping the download in %s: %w", zip.Name(), err)
					}
				}
				break
			}
			if refetched {
				return "", resumed, fetched, in.refuseBuild(g, lib, p, temp, err)
			}
			// Every file matched, but not the whole zip: bytes between them (a header, the
			// directory) may have been damaged on the way. The build is fetched once more, all
			// of it, before it is refused.
			refetched = true
			in.cfg.Logger.Warn("the download does not match what the server published: fetching it once more", "game", g.Slug, "err", err)
			x.retry(0)
			cp = state.Stream{Update: cp.Update}
			if err := in.saveStream(g.Slug, cp, dl.Size); err != nil {
				return "", resumed, fetched, err
			}
			restoreHash(h, nil)
			continue
		}
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		retry := false
		if bad(err) && keepErr == nil {
			if refetched {
				return "", resumed, fetched, in.refuseBuild(g, lib, p, temp, err)
			}
			// Bytes damaged on the way (a proxy, a bad network card) look like a bad build:
			// before the build is refused, what follows the last file verified is fetched once
			// more.
			refetched, retry = true, true
			in.cfg.Logger.Warn("the download does not match the manifest: fetching it once more", "game", g.Slug, "err", err)
			x.retry(x.prefix())
		}
		if next, ok := r.checkpoint(last); ok {
			if serr := in.saveStream(g.Slug, next, dl.Size); serr != nil {
				return "", resumed, fetched, serr
			}
			last = next
		}
		cp = last
		restoreHash(h, cp.Hash)
		switch {
		case retry:
			continue
		case x.err() != nil || keepErr != nil:
			return "", resumed, fetched, err // writing the files failed (a full disk...): fetching again cannot help
		case ctx.Err() != nil:
			return "", resumed, fetched, ctx.Err()
		case expired(err):
			if refreshes++; refreshes > 3 {
				return "", resumed, fetched, fmt.Errorf("downloading %s %s: the server keeps refusing the download link (%v)", g.Slug, dl.Version, err)
			}
			if url, err = in.freshURL(ctx, g, dl); err != nil {
				return "", resumed, fetched, err
			}
			continue
		}
		if failures++; failures >= in.cfg.Attempts {
			return "", resumed, fetched, fmt.Errorf("downloading %s %s failed %d times (last: %w): check your connection and install again; it resumes where it stopped", g.Slug, dl.Version, failures, err)
		}
		in.cfg.Logger.Info("download interrupted, resuming", "game", g.Slug, "at", cp.Offset, "err", err, "wait", wait)
		select {
		case <-ctx.Done():
			return "", resumed, fetched, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 30*time.Second)
	}
	return temp, resumed, fetched, nil
}

// keepZip opens the zip that streamed install p also writes (p.Zip, when the player keeps
// downloads), cut to offset, where the stream resumes; nil when p keeps none. A zip shorter
// than offset (removed meanwhile, or keeping turned on after the stream started) cannot become
// whole from this stream: it is removed, and nil returned, so the install keeps no zip.
func (in *Installer) keepZip(lib string, p *state.Pending, offset int64) (*os.File, error) {
	if p.Zip == "" {
		return nil, nil
	}
	name := filepath.Join(lib, filepath.FromSlash(p.Zip))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() < offset {
		f.Close()
		in.cfg.Logger.Info("not keeping the download: its start is gone", "zip", name, "have", fi.Size(), "resume", offset)
		return nil, os.Remove(name)
	}
	if err == nil {
		err = f.Truncate(offset)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// finish checks that h, the hash of the whole zip, is the sha256 dl published, that every
// entry of x is verified, and that the zip's central directory, in tail (from tailStart), is
// the manifest the entries were extracted by.
func (in *Installer) finish(h hash.Hash, x *extraction, tail []byte, tailStart int64, dl Download) error {
	if got := hex.EncodeToString(h.Sum(nil)); got != dl.SHA256 {
		return fmt.Errorf("%w: the zip's sha256 is %s, the server published %s", ErrVerify, got, dl.SHA256)
	}
	if err := x.complete(); err != nil {
		return err
	}
	return checkDirectory(tail, tailStart, dl.Size, x.all, in.cfg.Limits)
}

// extracted marks the install of slug extracted into temp, every file verified, once the
// files are on the disk.
func (in *Installer) extracted(slug, temp string, size int64) error {
	// Set the exec bits of the launch target if the zip lacked them; a build that cannot
	// launch still installs, and says why when launched.
	_, _ = launch.Resolve(temp, runtime.GOOS, runtime.GOARCH)
	// On the disk before the state says so: a power cut must not leave files extracted,
	// verified and switched to that are empty or short once the machine is back.
	if err := fsutil.SyncTree(temp); err != nil {
		return fmt.Errorf("writing the extracted files to the disk: %w", err)
	}
	in.hook("synced", size, size)
	if err := in.setStepKeep(slug, state.StepExtracted); err != nil {
		return err
	}
	in.hook("extracted", size, size)
	return nil
}

// setStepKeep moves slug's pending install to step, keeping its folder and stream.
func (in *Installer) setStepKeep(slug string, step state.Step) error {
	_, err := in.state.Update(func(s *state.State) error {
		p := s.Game(slug).Pending
		if p == nil {
			return fmt.Errorf("the install of %s was cancelled meanwhile", slug)
		}
		p.Step = step
		return nil
	})
	return err
}

// freshURL asks the Source for a new signed URL of dl, refusing a build that changed.
func (in *Installer) freshURL(ctx context.Context, g Game, dl Download) (string, error) {
	fresh, err := in.cfg.Source.GetDownload(ctx, g.ID, dl.ReleaseID)
	if err != nil {
		return "", err
	}
	if fresh.SHA256 != dl.SHA256 || fresh.Size != dl.Size {
		return "", fmt.Errorf("the build of %s %s changed on the server during the download: install again", g.Slug, dl.Version)
	}
	in.cfg.Logger.Info("download link refused, asked for a fresh one", "game", g.Slug)
	return fresh.URL, nil
}

// watch reports the progress of route r every ProgressEvery and records its checkpoint when
// more files are verified, until the returned function is called; that returns the last
// checkpoint recorded.
func (in *Installer) watch(slug string, dl Download, r *route, cp state.Stream, progress func(Progress)) func() state.Stream {
	done := make(chan struct{})
	var wg sync.WaitGroup
	from := r.at.Load()
	wg.Go(func() {
		t := time.NewTicker(in.cfg.ProgressEvery)
		defer t.Stop()
		var m meter
		for {
			p := Progress{Slug: slug, Version: dl.Version, Phase: PhaseDownloading, Done: r.at.Load(), Total: dl.Size, Resumed: from}
			m.measure(&p, time.Now())
			progress(p)
			if next, ok := r.checkpoint(cp); ok && in.saveStream(slug, next, dl.Size) == nil {
				cp = next
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() state.Stream {
		close(done)
		wg.Wait()
		return cp
	}
}

// worthUpdating reports whether an update from the installed files (their manifest) to dl
// should fetch only what changed: when the files it lacks (by sha256) are at most half of
// the zip's compressed bytes. Otherwise the whole zip streams in.
func worthUpdating(installed []state.File, dl Download) bool {
	changed, total := lacking(installed, dl.Files)
	return changed*2 <= total
}

// lacking returns the compressed bytes of the files of next whose sha256 none of installed
// has, and of all the files of next.
func lacking(installed, next []state.File) (changed, total int64) {
	have := map[string]bool{}
	for _, f := range installed {
		have[f.SHA256] = true
	}
	for _, f := range next {
		total += f.CompressedSize
		if !have[f.SHA256] {
			changed += f.CompressedSize
		}
	}
	return changed, total
}

// Size is the size of an install: under way, interrupted, or not yet started.
type Size struct {
	Version string `json:"version"`
	// Fetch is how many bytes it downloads in all: for an update that fetches only what
	// changed, the compressed bytes of the files the current version lacks (more if some of
	// its files turn out damaged); else the whole zip, BuildSize.
	Fetch     int64 `json:"fetch_bytes"`
	BuildSize int64 `json:"build_size"`
	// Update is set when only what changed is fetched.
	Update bool `json:"update,omitempty"`
	// Done is how many of the Fetch bytes are already here, where the install resumes: a
	// streamed install's checkpoint, a partial zip's size (0 for an update that fetches only
	// what changed, which starts again from nothing).
	Done int64 `json:"done_bytes"`
}

// PendingSize returns the size of slug's install under way (in this process or another) or
// interrupted, and how far it got, from the local state alone, so that a face can say "Update
// 1.2.0: 14 MiB of 1.1 GiB" before and while it downloads, and where a paused download
// stopped. It returns ErrNotInstalled when none is pending.
func (in *Installer) PendingSize(slug string) (Size, error) {
	st, err := in.state.Load()
	if err != nil {
		return Size{}, err
	}
	g := st.Games[slug]
	if g == nil || g.Pending == nil {
		return Size{}, fmt.Errorf("%w: no install of %s is under way", ErrNotInstalled, slug)
	}
	p := g.Pending
	sz := Size{Version: p.Version, Fetch: p.Size, BuildSize: p.Size}
	if p.Stream != nil && p.Stream.Update && g.Current != nil {
		// The current version's manifest gone, the update falls back to the whole zip.
		if cur, err := in.state.Manifest(g.Current.ReleaseID); err == nil {
			next, err := in.state.Manifest(p.ReleaseID)
			if err != nil {
				return Size{}, err
			}
			sz.Fetch, _ = lacking(cur, next)
			sz.Update = true
		}
	}
	switch {
	case p.Stream != nil && p.Step != state.StepExtracted:
		sz.Done = p.Stream.Offset // 0 for an update, which starts again from nothing
	case p.Stream == nil && p.Step == state.StepDownload:
		if fi, err := os.Stat(filepath.Join(st.Library, filepath.FromSlash(p.Zip))); err == nil {
			sz.Done = min(fi.Size(), p.Size)
		}
	default:
		sz.Done = sz.Fetch // every byte is here
	}
	return sz, nil
}

// SizeOf returns the size of installing release releaseID ("" for the latest published
// one) of g: the install of that release under way or interrupted (PendingSize), or else the
// one that would start now, from the release's manifest, which it asks the Source for (the
// network; Source.Manifest, which is not a download), against the installed version's.
func (in *Installer) SizeOf(ctx context.Context, g Game, releaseID string) (Size, error) {
	st, err := in.state.Load()
	if err != nil {
		return Size{}, err
	}
	gs := st.Games[g.Slug]
	if gs != nil && gs.Pending != nil && (releaseID == "" || gs.Pending.ReleaseID == releaseID) {
		return in.PendingSize(g.Slug)
	}
	if in.cfg.Source == nil {
		return Size{}, errors.New("install: no Source to ask for the release's manifest")
	}
	dl, err := in.cfg.Source.Manifest(ctx, g.ID, releaseID)
	if err != nil {
		return Size{}, err
	}
	sz := Size{Version: dl.Version, Fetch: dl.Size, BuildSize: dl.Size}
	if _, ok := located(dl.Files); ok {
		if cur, update := in.updateFrom(gs, dl); update {
			sz.Fetch, _ = lacking(cur, dl.Files)
			sz.Update = true
		}
	}
	return sz, nil
}

// updateFrom reports whether a streamed install of dl into game (nil: unknown) is an update
// that fetches only what changed (worthUpdating), with the installed version's manifest.
func (in *Installer) updateFrom(game *state.Game, dl Download) ([]state.File, bool) {
	if game == nil || game.Current == nil {
		return nil, false
	}
	cur, err := in.state.Manifest(game.Current.ReleaseID)
	return cur, err == nil && worthUpdating(cur, dl)
}

// update installs dl into a fresh temporary folder with only what changed since the current
// version (in curDir, with manifest cur). Two things run at once: each file whose sha256 the
// current version has is hard-linked or copied from there and hashed against the new
// manifest (reuser.reuseAll, on every CPU), while the files it lacks stream in by HTTP Range
// from dl's URL (fetchEntries), with the zip's central directory. A reused file that is
// damaged or missing is never carried forward: it is fetched in a second round once the
// reuse has finished. Every file is verified, and the central directory compared with the
// manifest, before it returns. A build that breaks a rule or its manifest is updated to once
// more from nothing (its bytes may have been damaged on the way), then refused as by
// streamInstall. An interrupted update starts again from nothing. It returns the folder, the
// bytes fetched and the bytes reused. The caller marks the folder extracted, as
// for streamInstall.
func (in *Installer) update(ctx context.Context, g Game, p *state.Pending, lib string, curInstall *state.Install, curDir string, cur []state.File, dl Download, progress func(Progress)) (string, int64, int64, error) {
	sorted, tailStart, err := in.streamable(dl)
	if err != nil {
		return "", 0, 0, in.refuseBuild(g, lib, p, "", err)
	}
	release := in.slots.acquire(ctx)
	if release == nil {
		return "", 0, 0, ctx.Err()
	}
	defer release()
	if err := in.checkStreamSpace(ctx, g.Slug, lib, p); err != nil {
		return "", 0, 0, err
	}
	var fetched, reused int64
	for try := 1; ; try++ {
		temp, f, r, err := in.updateOnce(ctx, g, p, lib, curInstall, curDir, cur, dl, sorted, tailStart, progress)
		fetched, reused = fetched+f, reused+r
		switch {
		case err == nil:
			return temp, fetched, reused, nil
		case !bad(err):
			return "", fetched, reused, err
		case try == 2:
			return "", fetched, reused, in.refuseBuild(g, lib, p, temp, err)
		}
		in.cfg.Logger.Warn("the update does not match the manifest: updating once more", "game", g.Slug, "err", err)
		os.RemoveAll(temp)
	}
}

// updateOnce is one attempt of update, with dl's manifest sorted and its tail's start: it
// returns the folder (also with an error, when one was made), the bytes fetched and reused.
func (in *Installer) updateOnce(ctx context.Context, g Game, p *state.Pending, lib string, curInstall *state.Install, curDir string, cur []state.File, dl Download, sorted []zipsafe.Entry, tailStart int64, progress func(Progress)) (string, int64, int64, error) {
	temp, _, err := in.streamTemp(g.Slug, p, lib)
	if err != nil {
		return "", 0, 0, err
	}
	root, err := os.OpenRoot(temp)
	if err != nil {
		return "", 0, 0, err
	}
	defer root.Close()
	src, err := os.OpenRoot(curDir)
	if err != nil {
		return "", 0, 0, err
	}
	defer src.Close()
	var game *os.Root // holds both versions' folders, to hard-link between them
	if filepath.Dir(curDir) == filepath.Dir(temp) {
		if game, err = os.OpenRoot(filepath.Dir(temp)); err != nil {
			return "", 0, 0, err
		}
		defer game.Close()
	}
	rs := reuser{src: src, dst: root, game: game, srcName: filepath.Base(curDir), dstName: filepath.Base(temp),
		stamped: curInstall.FilesTime, stamp: filesTime(p), from: map[string][]string{}, hook: in.hook}
	if curInstall.Unchecked {
		rs.stamped = time.Time{} // a failed version may have written into its files: read each
	}
	for _, f := range cur {
		rs.from[f.SHA256] = append(rs.from[f.SHA256], f.Path)
	}
	var have, lack []zipsafe.Entry
	for _, e := range sorted {
		if len(rs.from[e.SHA256]) > 0 {
			have = append(have, e)
		} else {
			lack = append(lack, e)
		}
	}

	fx := fetcher{in: in, g: g, dl: dl, root: root, all: sorted, tailStart: tailStart, stamp: filesTime(p), url: dl.URL, progress: progress}
	stopWatch := fx.watch(in.cfg.ProgressEvery)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var damaged []zipsafe.Entry
	var reused int64
	var rerr error
	var wg sync.WaitGroup
	wg.Go(func() {
		if damaged, reused, rerr = rs.reuseAll(rctx, have); rerr != nil {
			cancel() // the new folder cannot be written: stop the fetch too
		}
	})
	tail, err := fx.fetchEntries(rctx, lack, true)
	if err != nil {
		cancel()
	}
	wg.Wait()
	if err == nil || errors.Is(err, context.Canceled) && rerr != nil {
		err = rerr
	}
	if err == nil && len(damaged) > 0 {
		in.cfg.Logger.Info("fetching files the current version has damaged", "game", g.Slug, "files", len(damaged))
		_, err = fx.fetchEntries(ctx, damaged, false)
	}
	stopWatch()
	if err == nil {
		err = checkDirectory(tail, tailStart, dl.Size, sorted, in.cfg.Limits)
	}
	return temp, fx.fetched, reused, err
}

// fetcher fetches entries of an update's build by HTTP Range into its folder (root), and
// counts the bytes; its URL is renewed when it expires. It reports progress (watch) with Total
// the bytes it plans to fetch, BuildSize the whole zip's.
type fetcher struct {
	in        *Installer
	g         Game
	dl        Download
	root      *os.Root
	all       []zipsafe.Entry // the manifest, sorted by HeaderOffset
	tailStart int64
	stamp     time.Time // each fetched file's time once verified (see filesTime)
	progress  func(Progress)

	mu             sync.Mutex
	url            string
	fetched, total int64
	arrived        int64 // bytes of the spans received so far, for progress
}

// watch reports the fetch's progress every ProgressEvery, with its rate (meter), until the
// returned function is called, which reports it once more. Reports hold f.mu, so progress is
// never called concurrently.
func (f *fetcher) watch(every time.Duration) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var m meter
	report := func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		p := Progress{Slug: f.g.Slug, Version: f.dl.Version, Phase: PhaseDownloading, Done: min(f.arrived, f.total), Total: f.total, BuildSize: f.dl.Size}
		m.measure(&p, time.Now())
		f.progress(p)
	}
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				report()
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		report()
	}
}

// fetchEntries fetches and extracts need (sorted by HeaderOffset), each checked as in
// streamInstall, with the zip's tail (its central directory) when withTail, which it returns:
// neighbours within coalesceGap are joined into one range, maxRanges ranges are fetched at
// once. It returns an error unless every entry of need is verified.
func (f *fetcher) fetchEntries(ctx context.Context, need []zipsafe.Entry, withTail bool) ([]byte, error) {
	x := newExtraction(f.root, f.all, need, f.stamp)
	type span struct {
		from, to int64
		i, end   int // entries of need in the span
	}
	var spans []span
	for i, e := range need {
		if n := len(spans); n > 0 && e.HeaderOffset-spans[n-1].to <= coalesceGap {
			spans[n-1].to, spans[n-1].end = e.DataOffset+e.CompressedSize, i+1
			continue
		}
		spans = append(spans, span{from: e.HeaderOffset, to: e.DataOffset + e.CompressedSize, i: i, end: i + 1})
	}
	if withTail {
		spans = append(spans, span{from: f.tailStart, to: f.dl.Size, i: len(need), end: len(need)})
	}
	f.mu.Lock()
	for _, s := range spans {
		f.total += s.to - s.from
	}
	f.mu.Unlock()

	var tail []byte
	var firstErr error
	sem := make(chan struct{}, maxRanges)
	var wg sync.WaitGroup
	for _, s := range spans {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			r, err := f.fetchSpan(ctx, x, s.from, s.to, s.i, s.end)
			f.mu.Lock()
			defer f.mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			if s.i == len(need) && r != nil {
				tail = r.tail
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return tail, x.complete()
}

// fetchSpan fetches bytes [from, to) of the build into x's entries i to end (or, past the
// last entry, keeps them as the zip's tail), retrying a dropped connection from the start of
// the span and renewing an expired URL. It returns the span's route.
func (f *fetcher) fetchSpan(ctx context.Context, x *extraction, from, to int64, i, end int) (*route, error) {
	in, g, dl := f.in, f.g, f.dl
	failures, refreshes, wait := 0, 0, in.cfg.Backoff
	for {
		r := &route{x: x, pos: from, i: i, end: end, tailStart: -1}
		if i == len(x.entries) {
			r.tailStart = f.tailStart
		}
		f.mu.Lock()
		u := f.url
		f.mu.Unlock()
		n, err := in.fetchRange(ctx, u, from, to-1, func(b []byte) error {
			f.mu.Lock()
			f.arrived += int64(len(b))
			f.mu.Unlock()
			err := r.write(b)
			in.hook("stream", r.pos, dl.Size)
			return err
		})
		r.stop()
		f.mu.Lock()
		f.fetched += n
		f.mu.Unlock()
		if xerr := x.err(); xerr != nil {
			err = xerr
		}
		switch {
		case err == nil:
			return r, nil
		case bad(err) || x.err() != nil || ctx.Err() != nil:
			return nil, err // a bad build, files that cannot be written (a full disk...), or stopped
		case expired(err):
			if refreshes++; refreshes > 3 {
				return nil, fmt.Errorf("updating %s to %s: the server keeps refusing the download link (%v)", g.Slug, dl.Version, err)
			}
			fresh, err := in.freshURL(ctx, g, dl)
			if err != nil {
				return nil, err
			}
			f.mu.Lock()
			f.url = fresh
			f.mu.Unlock()
			continue
		}
		if failures++; failures >= in.cfg.Attempts {
			return nil, fmt.Errorf("updating %s to %s failed %d times (last: %w): check your connection and update again", g.Slug, dl.Version, failures, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 30*time.Second)
	}
}

// reuser puts files of the current version (src, the folder srcName of game, its files
// stamped at stamped) in the new one (dst, the folder dstName), each checked against the new
// manifest and then stamped at stamp. from lists the current version's paths by sha256.
type reuser struct {
	src, dst, game   *os.Root // game is nil when the two folders are not side by side
	srcName, dstName string
	stamped, stamp   time.Time
	from             map[string][]string
	hook             func(step string, done, total int64)
}

// reuseAll puts each entry of have in the new folder from one of the current version's files
// with its sha256 (reuse), on every CPU at once, largest files first. It returns the entries
// none of whose sources matched (damaged or missing: to fetch), sorted by HeaderOffset, and
// the bytes reused; an error only when the new folder cannot be written or ctx ends. It calls
// the hook "reuse" after each file, with the bytes reused so far.
func (rs reuser) reuseAll(ctx context.Context, have []zipsafe.Entry) ([]zipsafe.Entry, int64, error) {
	todo := slices.SortedFunc(slices.Values(have), func(a, b zipsafe.Entry) int { return cmp.Compare(b.Size, a.Size) })
	var total int64
	for _, e := range have {
		total += e.Size
	}
	var mu sync.Mutex
	var next int
	var reused int64
	var damaged []zipsafe.Entry
	var firstErr error
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(todo)) {
		wg.Go(func() {
			buf := make([]byte, 1<<20)
			for {
				mu.Lock()
				if next == len(todo) || firstErr != nil {
					mu.Unlock()
					return
				}
				e := todo[next]
				next++
				mu.Unlock()
				ok, err := false, ctx.Err()
				for _, from := range rs.from[e.SHA256] {
					if err != nil || ok {
						break
					}
					ok, err = rs.reuse(from, e, buf)
				}
				mu.Lock()
				switch {
				case err != nil && firstErr == nil:
					firstErr = err
				case ok:
					reused += e.Size
					rs.hook("reuse", reused, total)
				case err == nil:
					damaged = append(damaged, e)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.SortFunc(damaged, func(a, b zipsafe.Entry) int { return cmp.Compare(a.HeaderOffset, b.HeaderOffset) })
	return damaged, reused, firstErr
}

// reuse puts the file from of the current version at e's place in the new one, and reports
// whether it matches e (size, sha256; a mismatch is removed), reading it once through buf. It
// hard-links the file where the file system allows and the modes agree (the two versions then
// share it until the older is removed, once the new one has launched), and copies it
// otherwise. A linked file not written since it was verified (see unchanged) is not read. A
// file that matches is stamped with the new install's time, unless it was written meanwhile
// (see stampChecked). Only errors writing the new folder are returned: a source that is
// missing, not a regular file or damaged reports false, so the file is fetched instead.
func (rs reuser) reuse(from string, e zipsafe.Entry, buf []byte) (bool, error) {
	fi, err := rs.src.Lstat(from)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != e.Size {
		return false, nil
	}
	if dir := path.Dir(e.Path); dir != "." {
		if err := rs.dst.MkdirAll(dir, 0o755); err != nil {
			return false, fmt.Errorf("copying %s: %w", e.Path, err)
		}
	}
	if rs.game != nil && (!fsutil.ExecBits || fi.Mode().Perm() == e.Mode) &&
		rs.game.Link(rs.srcName+"/"+from, rs.dstName+"/"+e.Path) == nil {
		linked, err := rs.dst.Lstat(e.Path)
		if err != nil { // take the link away: what is written at e.Path next must not reach from
			if err := rs.dst.Remove(e.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return false, err
			}
			return false, nil
		}
		if os.SameFile(fi, linked) && unchanged(linked, e.Size, rs.stamped) {
			stampChecked(rs.dst, e.Path, linked, rs.stamp) // the file looked at is the one linked, not written since
			return true, nil
		}
		same, err := hashes(rs.dst, e, buf)
		rs.hook("hashed", 0, 0)
		if same {
			stampChecked(rs.dst, e.Path, linked, rs.stamp)
		}
		if same || err != nil {
			return same, err
		}
		return false, rs.dst.Remove(e.Path)
	}
	ok, err := copyVerified(rs.src, from, rs.dst, e, buf)
	if ok && err == nil {
		_ = rs.dst.Chtimes(e.Path, time.Time{}, rs.stamp) // a copy of its own: refused, it is hashed when an update comes
	}
	return ok, err
}

// hashes reports whether the file e.Path in root is e (a regular file of its size and sha256).
func hashes(root *os.Root, e zipsafe.Entry, buf []byte) (bool, error) {
	f, err := root.Open(e.Path)
	if err != nil {
		return false, nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() != e.Size {
		return false, nil
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, buf); err != nil {
		return false, nil
	}
	return hex.EncodeToString(h.Sum(nil)) == e.SHA256, nil
}

// copyVerified copies the file from of the current version (src) to e's place in dst, hashing
// it as it goes, and reports whether the copy matches e (size and sha256); a copy that does
// not is removed. Only errors writing dst are returned: a source that is missing, not a
// regular file or damaged reports false.
func copyVerified(src *os.Root, from string, dst *os.Root, e zipsafe.Entry, buf []byte) (bool, error) {
	in, err := src.Open(from)
	if err != nil {
		return false, nil
	}
	defer in.Close()
	if fi, err := in.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() != e.Size {
		return false, nil
	}
	out, err := dst.OpenFile(e.Path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, e.Mode)
	if err != nil {
		return false, fmt.Errorf("copying %s: %w", e.Path, err)
	}
	defer out.Close()
	if err := out.Chmod(e.Mode); err != nil {
		return false, fmt.Errorf("copying %s: %w", e.Path, err)
	}
	h := sha256.New()
	n, rerr := io.CopyBuffer(io.MultiWriter(out, h), io.LimitReader(in, e.Size+1), buf)
	if werr := out.Close(); werr != nil {
		return false, fmt.Errorf("copying %s: %w", e.Path, werr)
	}
	if rerr != nil || n != e.Size || hex.EncodeToString(h.Sum(nil)) != e.SHA256 {
		return false, dst.Remove(e.Path)
	}
	return true, nil
}
