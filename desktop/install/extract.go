package install

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"satchel.dev/desktop/state"
	"satchel.dev/shared/zipsafe"
)

// extract extracts the verified zip into a fresh temporary folder beside the game's versions,
// checks every file against the manifest and returns the folder. The folder is recorded in
// the state before anything is written to it, so recovery can remove it after a crash. A zip
// that breaks a rule or the manifest is refused: its files and the download are deleted and
// the failure recorded.
func (in *Installer) extract(ctx context.Context, g Game, p *state.Pending, lib, zipPath string, files []state.File, progress func(Progress)) (string, error) {
	parent := filepath.Join(lib, g.Slug)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	temp, err := os.MkdirTemp(parent, ".tmp-"+path.Base(p.Dir)+"-")
	if err != nil {
		return "", err
	}
	if err := in.setStep(g.Slug, state.StepExtract, path.Join(g.Slug, filepath.Base(temp))); err != nil {
		os.RemoveAll(temp)
		return "", err
	}
	f, err := os.Open(zipPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	cr := &countingReaderAt{r: f, total: p.Size, hook: in.hook}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(in.cfg.ProgressEvery)
		defer t.Stop()
		for {
			progress(Progress{Slug: g.Slug, Version: p.Version, Phase: PhaseExtracting, Done: cr.done.Load(), Total: p.Size})
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	entries, err := zipsafe.Extract(cr, p.Size, temp, in.cfg.Limits)
	close(stop)
	wg.Wait()
	if err == nil {
		err = checkManifest(entries, files)
	}
	var ze *zipsafe.Error
	if err != nil && (errors.As(err, &ze) || errors.Is(err, ErrVerify)) {
		os.RemoveAll(temp)
		reason := fmt.Sprintf("the build of %s %s cannot be installed: %v", g.Slug, p.Version, err)
		in.refuse(g.Slug, lib, p, reason)
		return "", fmt.Errorf("%w: %s; nothing was installed and the download was deleted: tell the developer", ErrVerify, reason)
	}
	if err != nil {
		os.RemoveAll(temp)
		_ = in.setStep(g.Slug, state.StepDownloaded, "")
		return "", fmt.Errorf("extracting %s %s: %w", g.Slug, p.Version, err)
	}
	if err := ctx.Err(); err != nil {
		os.RemoveAll(temp)
		_ = in.setStep(g.Slug, state.StepDownloaded, "")
		return "", err
	}
	if root, err := os.OpenRoot(temp); err == nil {
		stampAll(root, files, filesTime(p)) // every file verified (checkManifest)
		root.Close()
	}
	if err := in.extracted(g.Slug, temp, p.Size); err != nil {
		os.RemoveAll(temp)
		_ = in.setStep(g.Slug, state.StepDownloaded, "")
		return "", err
	}
	return temp, nil
}

// refuse drops a pending install whose build is bad and records why.
func (in *Installer) refuse(slug, lib string, p *state.Pending, reason string) {
	_ = in.removeLeftovers(lib, p)
	_, _ = in.state.Update(func(s *state.State) error {
		g := s.Game(slug)
		g.Pending = nil
		g.Failed = &state.Failure{ReleaseID: p.ReleaseID, Version: p.Version, Reason: reason, At: time.Now().UTC()}
		return nil
	})
}

// checkManifest compares what was extracted with the server's manifest, file by file.
func checkManifest(got []zipsafe.Entry, want []state.File) error {
	w := map[string]state.File{}
	for _, f := range want {
		w[f.Path] = f
	}
	var problems []string
	seen := map[string]bool{}
	for _, e := range got {
		seen[e.Path] = true
		f, ok := w[e.Path]
		switch {
		case !ok:
			problems = append(problems, e.Path+": not in the server's file list")
		case f.Size != e.Size:
			problems = append(problems, fmt.Sprintf("%s: %d bytes, the server's list says %d", e.Path, e.Size, f.Size))
		case f.SHA256 != e.SHA256:
			problems = append(problems, e.Path+": sha256 differs from the server's list")
		case f.Mode&0o111 != uint32(e.Mode.Perm())&0o111:
			problems = append(problems, fmt.Sprintf("%s: mode %o, the server's list says %o", e.Path, e.Mode.Perm(), f.Mode))
		}
	}
	for _, f := range want {
		if !seen[f.Path] {
			problems = append(problems, f.Path+": in the server's file list but not in the zip")
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	if len(problems) > 5 {
		problems = append(problems[:5], fmt.Sprintf("and %d more", len(problems)-5))
	}
	return fmt.Errorf("%w: the extracted files do not match the build's manifest: %s", ErrVerify, strings.Join(problems, "; "))
}

// countingReaderAt tracks how far into the zip the extraction has read.
type countingReaderAt struct {
	r     io.ReaderAt
	total int64
	done  atomic.Int64
	hook  func(step string, done, total int64)
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	end := off + int64(n)
	for {
		cur := c.done.Load()
		if end <= cur || c.done.CompareAndSwap(cur, end) {
			break
		}
	}
	c.hook("extract", c.done.Load(), c.total)
	return n, err
}
