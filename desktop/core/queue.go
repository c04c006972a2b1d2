package core

import (
	"context"
	"errors"
	"fmt"

	"satchel.dev/desktop/client"
	"satchel.dev/desktop/install"
	"satchel.dev/desktop/internal/fsutil"
	"satchel.dev/desktop/library"
)

// The problems Problem tells apart, for a window to offer the action that fits.
const (
	ProblemOffline   = "offline"    // the server cannot be reached: try again later
	ProblemVerify    = "verify"     // a download or file does not match what the server published
	ProblemDiskSpace = "disk-space" // not enough free space: free some, or move the library
	ProblemBusy      = "busy"       // another launcher process is changing the game
	ProblemMoving    = "moving"     // the library is being moved
	ProblemRefused   = "refused"    // the server refused (not owned, no such release)
	ProblemCancelled = "cancelled"  // the player paused or cancelled it
	ProblemOther     = "other"
)

// Problem classifies an error of an install, update or repair.
func Problem(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return ProblemCancelled
	case client.Offline(err):
		return ProblemOffline
	case errors.Is(err, install.ErrVerify):
		return ProblemVerify
	case errors.Is(err, install.ErrDiskSpace), fsutil.DiskFull(err):
		return ProblemDiskSpace
	case errors.Is(err, install.ErrBusy):
		return ProblemBusy
	case errors.Is(err, install.ErrMoving):
		return ProblemMoving
	case errors.Is(err, client.ErrPermissionDenied), errors.Is(err, client.ErrNotFound),
		errors.Is(err, client.ErrFailedPrecondition), errors.Is(err, client.ErrUnauthenticated):
		return ProblemRefused
	}
	return ProblemOther
}

// PauseInstall stops slug's queued or running install; its partial download is kept, and
// Enqueue (or Install) resumes it where it stopped. Until then auto-update leaves that
// release alone (a newer release is installed as usual). Pausing a game with no install under
// way is an error.
func (c *Core) PauseInstall(slug string) error {
	return c.stopJob(slug, false)
}

// CancelInstall stops slug's install and deletes what it downloaded: a first install leaves
// the game not installed, a cancelled update leaves the current version as it was. Like
// PauseInstall, it keeps auto-update away from that release until the player installs it.
func (c *Core) CancelInstall(slug string) error {
	return c.stopJob(slug, true)
}

func (c *Core) stopJob(slug string, discard bool) error {
	st, err := c.state.Load()
	if err != nil {
		return err
	}
	g := st.Games[slug]
	var job *install.Job
	for _, j := range c.inst.Jobs() {
		if j.Game.Slug == slug {
			job = j
		}
	}
	if job == nil && (g == nil || g.Pending == nil) {
		return fmt.Errorf("%s has no install under way", slug)
	}
	release := ""
	switch {
	case g != nil && g.Pending != nil:
		release = g.Pending.ReleaseID
	case g != nil && g.Latest != nil:
		release = g.Latest.ReleaseID
	}
	c.mu.Lock()
	c.held[slug] = release
	c.mu.Unlock()
	if job != nil {
		job.Cancel()
		<-job.Done()
	}
	if discard {
		if err := c.inst.Discard(slug); err != nil {
			return err
		}
	}
	c.events.publish(Event{Kind: EventLibrary, Slug: slug})
	return nil
}

// Activity is what is happening to a game of the library now.
type Activity struct {
	// Job is its install under way, nil if none.
	Job *install.Progress
	// Paused is true when its install was paused or cancelled (see PauseInstall) after it
	// started, and waits for Install or Enqueue.
	Paused bool
	// Size is the size of its install when none runs: one paused or interrupted, with how
	// much of it is downloaded (Size.Done: where it stopped, and resumes), or the update
	// available, before it starts, once UpdateSize has measured it; nil otherwise.
	Size *install.Size
	// Running is true while a session this Core launched runs.
	Running bool
}

// Activity says what is happening to the game of e (an entry of Library, or one with only
// the Slug set for a game the launcher does not know). It never touches the network, and
// reads the local state only for an install that waits (its Size).
func (c *Core) Activity(e library.Entry) Activity {
	var a Activity
	for _, p := range c.Jobs() {
		if p.Slug == e.Slug {
			a.Job = &p
		}
	}
	c.mu.Lock()
	_, held := c.held[e.Slug]
	a.Running = c.running[e.Slug] != nil
	update, measured := c.sizes[e.Slug]
	c.mu.Unlock()
	a.Paused = held && a.Job == nil && e.Installing != ""
	switch {
	case a.Job != nil:
	case e.Installing != "":
		if sz, err := c.inst.PendingSize(e.Slug); err == nil {
			a.Size = &sz
		}
	case e.Status == library.StatusUpdateAvailable && measured && update.Version == e.Latest && update.BuildSize > 0:
		a.Size = &update
	}
	return a
}

// UpdateSize returns the size of the update of slug to its latest release, before it
// starts: what it downloads of the whole build ("Update 1.2.0: 14 MiB of 1.1 GiB"), which
// Activity shows from then on. It asks the server for the release's manifest (a GetDownload
// preview, which the server does not count as a download); an update under way or
// interrupted is sized from the local state alone.
func (c *Core) UpdateSize(ctx context.Context, slug string) (install.Size, error) {
	st, err := c.state.Load()
	if err != nil {
		return install.Size{}, err
	}
	g := st.Games[slug]
	if g == nil || g.Current == nil || g.Latest == nil || g.Latest.ReleaseID == g.Current.ReleaseID {
		return install.Size{}, fmt.Errorf("%w: %s has no update available", install.ErrNotInstalled, slug)
	}
	sz, err := c.inst.SizeOf(ctx, install.Game{ID: g.GameID, Slug: slug, Title: g.Title}, g.Latest.ReleaseID)
	if err != nil {
		return sz, err
	}
	c.mu.Lock()
	c.sizes[slug] = sz
	c.mu.Unlock()
	c.events.publish(Event{Kind: EventLibrary, Slug: slug})
	return sz, nil
}

// measureUpdate sizes slug's update to version (UpdateSize) in the background, once per
// version, for a window to show before the update starts.
func (c *Core) measureUpdate(ctx context.Context, slug, version string) {
	c.mu.Lock()
	if sz, ok := c.sizes[slug]; ok && sz.Version == version {
		c.mu.Unlock()
		return
	}
	c.sizes[slug] = install.Size{Version: version} // being measured
	c.mu.Unlock()
	go func() {
		if _, err := c.UpdateSize(ctx, slug); err != nil {
			c.cfg.Logger.Info("sizing an update", "game", slug, "err", err)
			c.mu.Lock()
			delete(c.sizes, slug) // tried again at the next look
			c.mu.Unlock()
		}
	}()
}

// heldBack reports whether auto-update must leave slug's release alone.
func (c *Core) heldBack(slug, releaseID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	held, ok := c.held[slug]
	return ok && (held == "" || held == releaseID)
}

// release lets auto-update install slug again: the player asked for it.
func (c *Core) release(slug string) {
	c.mu.Lock()
	delete(c.held, slug)
	c.mu.Unlock()
}
