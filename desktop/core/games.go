package core

import (
	"context"
	"errors"
	"fmt"
	"strings"

	catalogv1 "satchel.dev/shared/api/satchel/catalog/v1"
	libraryv1 "satchel.dev/shared/api/satchel/library/v1"

	"satchel.dev/desktop/client"
	"satchel.dev/desktop/install"
	"satchel.dev/desktop/state"
)

// source gives the installer download URLs and manifests from the server's GetDownload.
type source struct {
	c *client.Client
	// receipt returns a guest's receipt code for the game, "" if none.
	receipt func(gameID string) string
}

func (s source) GetDownload(ctx context.Context, gameID, releaseID string) (install.Download, error) {
	return s.get(ctx, gameID, releaseID, false)
}

// Manifest asks GetDownload for a preview: the manifest, no URL, no download counted.
func (s source) Manifest(ctx context.Context, gameID, releaseID string) (install.Download, error) {
	return s.get(ctx, gameID, releaseID, true)
}

// get calls GetDownload, a preview or not, and returns its answer as the installer's.
func (s source) get(ctx context.Context, gameID, releaseID string, preview bool) (install.Download, error) {
	res, err := s.c.Library.GetDownload(ctx, &libraryv1.GetDownloadRequest{GameId: gameID, ReleaseId: releaseID,
		ReceiptCode: s.receipt(gameID), Preview: preview})
	if err != nil {
		return install.Download{}, err
	}
	dl := install.Download{ReleaseID: res.GetReleaseId(), Version: res.GetVersion(), URL: res.GetUrl(),
		SHA256: res.GetSha256(), Size: res.GetSizeBytes()}
	if res.GetExpiresAt() != nil {
		dl.ExpiresAt = res.GetExpiresAt().AsTime()
	}
	for _, f := range res.GetFiles() {
		e := f.GetEntry()
		dl.Files = append(dl.Files, state.File{Path: f.GetPath(), Size: f.GetSizeBytes(), Mode: f.GetMode(), SHA256: f.GetSha256(),
			HeaderOffset: e.GetHeaderOffset(), DataOffset: e.GetDataOffset(), CompressedSize: e.GetCompressedSizeBytes(),
			Method: zipMethod(e.GetMethod()), CRC32: e.GetCrc32()})
	}
	return dl, nil
}

// zipMethod is the zip format's number of the API's compression method (Store 0, Deflate
// 8); any other is 0xffff, which the installer's zip rules refuse.
func zipMethod(m libraryv1.ZipEntry_Method) uint16 {
	switch m {
	case libraryv1.ZipEntry_METHOD_STORE:
		return 0
	case libraryv1.ZipEntry_METHOD_DEFLATE:
		return 8
	}
	return 0xffff
}

// InstallOptions refine Install.
type InstallOptions struct {
	// Version installs that version instead of the latest published one (the developer may
	// name an unpublished one).
	Version string
	// ReceiptCode downloads a guest purchase.
	ReceiptCode string
}

// Install installs (or updates to) the latest release of slug, or opts.Version, reporting
// progress, with the speed limit of the settings as they change; it finishes an interrupted install of the same release, resuming its download. A
// game not yet in the local library is looked up on the server (the library, then the
// catalog, so a developer can install their own game).
func (c *Core) Install(ctx context.Context, slug string, opts InstallOptions, progress func(install.Progress)) (install.Result, error) {
	c.release(slug)
	g, releaseID, err := c.resolve(ctx, slug, opts)
	if err != nil {
		return install.Result{}, err
	}
	if opts.ReceiptCode != "" {
		c.mu.Lock()
		c.receipts[g.ID] = opts.ReceiptCode
		c.mu.Unlock()
	}
	// A speed limit changed meanwhile (by the window, or `satchel config set speed-limit` in
	// another process) applies to this download within a second.
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go c.watchSettings(watchCtx)
	res, err := c.inst.Install(ctx, g, releaseID, func(p install.Progress) {
		c.events.publish(Event{Kind: EventProgress, Slug: p.Slug, Progress: &p})
		if progress != nil {
			progress(p)
		}
	})
	if err == nil && opts.ReceiptCode != "" {
		err = c.markGuest(g.ID, true)
	}
	if err == nil && !res.AlreadyInstalled {
		c.events.publish(Event{Kind: EventInstalled, Slug: slug, Version: res.Version})
	}
	return res, err
}

// markGuest records whether the game of gameID is installed from a guest purchase (see
// state.Game.Guest), which puts it in every identity's library until it is claimed.
func (c *Core) markGuest(gameID string, guest bool) error {
	_, err := c.state.Update(func(st *state.State) error {
		for _, g := range st.Games {
			if g.GameID == gameID {
				g.Guest = guest
			}
		}
		return nil
	})
	return err
}

// resolve finds the game id and release id to install.
func (c *Core) resolve(ctx context.Context, slug string, opts InstallOptions) (install.Game, string, error) {
	st, err := c.state.Load()
	if err != nil {
		return install.Game{}, "", err
	}
	g := st.Games[slug]
	if opts.Version == "" && g != nil && g.GameID != "" && g.Pending != nil && g.Pending.Step != state.StepDownload {
		// Finish an interrupted install from its verified download, even offline.
		return install.Game{ID: g.GameID, Slug: slug, Title: g.Title}, g.Pending.ReleaseID, nil
	}
	if (g == nil || g.GameID == "") && c.client.Signer() != nil {
		if _, err := c.syncer.Refresh(ctx); err != nil {
			return install.Game{}, "", err
		}
		if st, err = c.state.Load(); err != nil {
			return install.Game{}, "", err
		}
		g = st.Games[slug]
	}
	if g != nil && g.GameID != "" && opts.Version == "" {
		return install.Game{ID: g.GameID, Slug: slug, Title: g.Title}, "", nil
	}
	gg, err := c.client.Catalog.GetGame(ctx, &catalogv1.GetGameRequest{Slug: slug})
	if errors.Is(err, client.ErrNotFound) {
		return install.Game{}, "", fmt.Errorf("%w: there is no game %q", ErrUnknownGame, slug)
	}
	if err != nil {
		return install.Game{}, "", err
	}
	game := install.Game{ID: gg.GetGame().GetId(), Slug: slug, Title: gg.GetGame().GetTitle()}
	if opts.Version == "" {
		return game, "", nil
	}
	var have []string
	for _, r := range gg.GetReleases() {
		if r.GetVersion() == opts.Version {
			return game, r.GetId(), nil
		}
		have = append(have, r.GetVersion())
	}
	return install.Game{}, "", fmt.Errorf("%w: %s has no release %s (it has: %s)", ErrUnknownGame, slug, opts.Version, strings.Join(have, ", "))
}

// Uninstall removes slug's files and install state.
func (c *Core) Uninstall(slug string) error {
	c.mu.Lock()
	s := c.running[slug]
	c.mu.Unlock()
	if s != nil {
		return fmt.Errorf("%s is running (pid %d): quit it first", slug, s.PID)
	}
	if err := c.inst.Uninstall(slug); err != nil {
		return err
	}
	c.events.publish(Event{Kind: EventLibrary, Slug: slug})
	return nil
}

// Verify checks slug's installed files against its build's manifest and, with repair,
// restores the damaged ones from the server (see install.Installer.Verify).
func (c *Core) Verify(ctx context.Context, slug string, repair bool, progress func(install.Progress)) (install.Report, error) {
	st, err := c.state.Load()
	if err != nil {
		return install.Report{}, err
	}
	g := st.Games[slug]
	if g == nil || g.Current == nil {
		return install.Report{}, fmt.Errorf("%w: %s is not installed", install.ErrNotInstalled, slug)
	}
	return c.inst.Verify(ctx, install.Game{ID: g.GameID, Slug: slug, Title: g.Title}, repair, progress)
}

// MoveLibrary moves the library to dir (see install.Installer.MoveLibrary); calling it again
// after an interruption resumes the move.
func (c *Core) MoveLibrary(ctx context.Context, dir string, progress func(install.Progress)) error {
	c.mu.Lock()
	n := len(c.running)
	c.mu.Unlock()
	if n > 0 {
		return errors.New("a game is running: quit it before moving the library")
	}
	return c.inst.MoveLibrary(ctx, dir, progress)
}
