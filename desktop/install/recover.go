package install

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"satchel.dev/desktop/internal/fsutil"
	"satchel.dev/desktop/state"
)

// Recovery lists what Recover did, in words for a log.
type Recovery struct {
	Actions []string `json:"actions,omitempty"`
	// Skipped lists games another process is working on, left alone.
	Skipped []string `json:"skipped,omitempty"`
}

// Recover brings the library back to a consistent state after a crash (the launcher calls it
// at start). For every game no other process is working on:
//
//   - a streamed install keeps the files it verified, for the next install to resume after
//     them (see recoverStream);
//   - a partial download is kept, for the next install to resume (and removed if it is
//     longer than the build);
//   - an interrupted extraction, or an extraction renamed into place but not yet switched
//     to, is removed: the install goes back to "downloaded" (its verified zip is kept) and
//     the next install extracts again;
//   - temporary folders and version folders the state does not refer to are removed;
//   - a previous version recorded in the current version's folder (left by older launchers,
//     which reinstalled the kept previous version into its own folder) is forgotten, so
//     that the first launch does not remove the folder of the game being played;
//
// so the current version stays exactly as it was, and playable. Downloads and manifests no
// install refers to are removed too (a kept download, KeptZip, is referred to by its
// installed version while the player keeps downloads). An interrupted library move is left
// as it is: every game is complete in the old or the new folder, and MoveLibrary resumes it.
func (in *Installer) Recover() (Recovery, error) {
	var rec Recovery
	st, err := in.state.Load()
	if err != nil {
		return rec, err
	}
	if st.Move != nil {
		rec.Actions = append(rec.Actions, fmt.Sprintf("a move of the library to %s was interrupted: `satchel library move %s` resumes it", st.Move.To, st.Move.To))
		return rec, nil // folders are split between the two libraries: sweep nothing
	}
	lib := st.Library
	for _, slug := range st.Slugs() {
		lock, err := in.lockGame(slug)
		if errors.Is(err, ErrBusy) {
			rec.Skipped = append(rec.Skipped, slug)
			continue
		}
		if err != nil {
			return rec, err
		}
		acts, err := in.recoverGame(lib, slug)
		lock.Unlock()
		rec.Actions = append(rec.Actions, acts...)
		if err != nil {
			return rec, err
		}
	}
	if len(rec.Skipped) == 0 {
		rec.Actions = append(rec.Actions, in.sweepShared(lib)...)
	}
	return rec, nil
}

func (in *Installer) recoverGame(lib, slug string) ([]string, error) {
	var acts []string
	st, err := in.state.Update(func(s *state.State) error {
		g := s.Games[slug]
		if g != nil && g.Current != nil && g.Previous != nil && state.SameDir(g.Current.Dir, g.Previous.Dir) {
			// Left by a launcher that reinstalled the kept previous version in its own folder:
			// that folder is the current version's, and only that.
			g.Previous = nil
			acts = append(acts, fmt.Sprintf("%s: the previous version shared the folder of the current one (%s); kept it as the current version only", slug, g.Current.Dir))
		}
		if g == nil || g.Pending == nil {
			return nil
		}
		p := g.Pending
		if p.Stream != nil {
			acts = append(acts, recoverStream(lib, slug, g, p))
			return nil
		}
		zip := filepath.Join(lib, filepath.FromSlash(p.Zip))
		switch p.Step {
		case state.StepDownload:
			if fi, err := os.Stat(zip); err == nil && fi.Size() > p.Size {
				os.Remove(zip)
				acts = append(acts, fmt.Sprintf("%s %s: removed a download longer than the build", slug, p.Version))
			} else if err == nil {
				acts = append(acts, fmt.Sprintf("%s %s: kept %d of %d bytes downloaded, to resume", slug, p.Version, fi.Size(), p.Size))
			}
		case state.StepExtract, state.StepExtracted:
			if p.Temp != "" {
				os.RemoveAll(filepath.Join(lib, filepath.FromSlash(p.Temp)))
			}
			if !g.Uses(p.Dir) {
				os.RemoveAll(filepath.Join(lib, filepath.FromSlash(p.Dir)))
			}
			p.Temp, p.Step = "", state.StepDownloaded
			acts = append(acts, fmt.Sprintf("%s %s: removed an unfinished extraction; the verified download is kept", slug, p.Version))
		}
		if p.Step == state.StepDownloaded {
			if fi, err := os.Stat(zip); err != nil || fi.Size() != p.Size {
				p.Step = state.StepDownload
				acts = append(acts, fmt.Sprintf("%s %s: the downloaded build is missing; it will be downloaded again", slug, p.Version))
			}
		}
		return nil
	})
	if err != nil {
		return acts, err
	}
	g := st.Games[slug]
	// Sweep the game's folder: only the folders the state refers to stay.
	ents, err := os.ReadDir(filepath.Join(lib, slug))
	if err != nil {
		return acts, nil // no folder: nothing to sweep
	}
	for _, e := range ents {
		rel := path.Join(slug, e.Name())
		if g.Uses(rel) || (g.Pending != nil && state.SameDir(g.Pending.Temp, rel)) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(lib, slug, e.Name())); err != nil {
			return acts, err
		}
		what := "a folder no install refers to"
		if strings.HasPrefix(e.Name(), ".tmp-") {
			what = "a temporary folder"
		}
		acts = append(acts, fmt.Sprintf("%s: removed %s (%s)", slug, what, e.Name()))
	}
	return acts, nil
}

// recoverStream brings game g's streamed install p (no zip kept) back to where it can go on:
// its temporary folder, with the files verified before its checkpoint, is kept for the
// stream to resume after them (or, once every file is verified, to finish; a folder renamed
// into place but not switched to is renamed back for that); an update that fetches only
// changed files, or an install whose folder is gone, starts again from nothing.
func recoverStream(lib, slug string, g *state.Game, p *state.Pending) string {
	dir := filepath.Join(lib, filepath.FromSlash(p.Dir))
	temp := ""
	if p.Temp != "" {
		temp = filepath.Join(lib, filepath.FromSlash(p.Temp))
	}
	if p.Step == state.StepExtracted && temp != "" && !exists(temp) && exists(dir) && !g.Uses(p.Dir) {
		// Renamed into place, not yet switched to: every file is verified, put it back.
		if err := fsutil.Rename(dir, temp); err == nil {
			return fmt.Sprintf("%s %s: the verified files were in place but not switched to; the next install switches", slug, p.Version)
		}
	}
	if !g.Uses(p.Dir) {
		os.RemoveAll(dir)
	}
	if fi, err := os.Stat(temp); temp != "" && err == nil && fi.IsDir() && (p.Step == state.StepExtracted || !p.Stream.Update) {
		return fmt.Sprintf("%s %s: kept the %d files verified so far, to resume after them", slug, p.Version, p.Stream.Verified)
	}
	if temp != "" {
		os.RemoveAll(temp)
	}
	p.Temp, p.Step = "", state.StepDownload
	*p.Stream = state.Stream{Update: p.Stream.Update}
	return fmt.Sprintf("%s %s: removed an unfinished install; it starts again", slug, p.Version)
}

// sweepShared removes downloads and manifests that no install refers to and that are older
// than an hour (a younger one may belong to an install another process is starting: it
// writes the manifest, then the state, then the download).
func (in *Installer) sweepShared(lib string) []string {
	old := func(p string) bool {
		fi, err := os.Stat(p)
		return err == nil && time.Since(fi.ModTime()) > time.Hour
	}
	var acts []string
	st, err := in.state.Load()
	if err != nil {
		return nil
	}
	zips, ids := map[string]bool{}, map[string]bool{}
	for _, g := range st.Games {
		if g.Pending != nil {
			zips[g.Pending.Zip] = true
			ids[g.Pending.ReleaseID] = true
		}
		for _, x := range []*state.Install{g.Current, g.Previous} {
			if x != nil {
				ids[x.ReleaseID] = true
				if in.keep.Load() {
					zips[KeptZip(g.Slug, x.ReleaseID)] = true
				}
			}
		}
	}
	if ents, err := os.ReadDir(filepath.Join(lib, ".downloads")); err == nil {
		for _, e := range ents {
			if !zips[path.Join(".downloads", e.Name())] && old(filepath.Join(lib, ".downloads", e.Name())) {
				os.RemoveAll(filepath.Join(lib, ".downloads", e.Name()))
				acts = append(acts, "removed a download no install refers to ("+e.Name()+")")
			}
		}
	}
	if have, err := in.state.Manifests(); err == nil {
		sort.Strings(have)
		for _, id := range have {
			if !ids[id] && old(filepath.Join(in.state.Dir(), "manifests", id+".json")) {
				_ = in.state.RemoveManifest(id)
			}
		}
	}
	return acts
}
