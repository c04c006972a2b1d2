package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"satchel.dev/desktop/install"
	"satchel.dev/desktop/launch"
	"satchel.dev/desktop/library"
	"satchel.dev/desktop/state"
)

// Session is a game launched by the Core.
type Session struct {
	Slug      string `json:"slug"`
	Version   string `json:"version"`
	ReleaseID string `json:"release_id"`
	PID       int    `json:"pid"`
	Dir       string `json:"dir"`
	// RolledBack is set when the newly installed version failed to launch and the previous
	// version was put back and launched instead.
	RolledBack *Rollback `json:"rolled_back,omitempty"`
	proc       *launch.Process
	ended      chan struct{} // closed once the end is recorded
}

// Rollback says which version failed to launch and which one replaced it.
type Rollback struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// Wait waits for the game to end (and for its end to be recorded in the local state) and says
// how it ended.
func (s *Session) Wait() launch.Exit {
	<-s.ended
	return s.proc.Wait()
}

// Done is closed when the game has ended and its end is recorded.
func (s *Session) Done() <-chan struct{} { return s.ended }

// Stop asks the game to quit.
func (s *Session) Stop() error { return s.proc.Stop() }

// ErrLaunch: a game could not be launched.
var ErrLaunch = errors.New("launch failed")

// Launch starts the current version of slug from the local state alone (no network, no
// server: installed games play offline), when it is in the identity's library (see
// library.View) and returns once the launch is decided, at most
// Config.LaunchGrace later. The program comes from the build's satchel.toml (or its only
// top-level executable) and never from outside its install folder.
//
// The first launch of a newly installed version decides whether the update worked: if the
// game cannot start, or exits with a code other than 0 within LaunchGrace, the version
// failed to launch; when the previous version is still kept, Launch puts it back (the failed
// one is removed and recorded, so auto-update skips it) and launches it instead, saying so
// in Session.RolledBack. Once a new version has launched, the previous one is removed.
// Later crashes of a version that launched before are the game's own: the Session reports
// them through Wait.
func (c *Core) Launch(ctx context.Context, slug string) (*Session, error) {
	var rolled *Rollback
	for {
		st, err := c.state.Load()
		if err != nil {
			return nil, err
		}
		g := st.Games[slug]
		if g == nil || g.Current == nil {
			return nil, fmt.Errorf("%w: %s is not installed: `satchel install %s` installs it", install.ErrNotInstalled, slug, slug)
		}
		if !library.Visible(g, c.owner()) {
			return nil, fmt.Errorf("%w: %s is installed, but another identity owns it: switch to that identity, or buy it with this one", ErrUnknownGame, slug)
		}
		cur := *g.Current
		c.mu.Lock()
		if s := c.running[slug]; s != nil {
			c.mu.Unlock()
			return nil, fmt.Errorf("%s is already running (pid %d)", slug, s.PID)
		}
		c.mu.Unlock()
		dir := st.Path(slug, cur.Dir)
		proc, failure := c.start(ctx, slug, dir, cur)
		if failure == "" {
			s := &Session{Slug: slug, Version: cur.Version, ReleaseID: cur.ReleaseID, PID: proc.PID(), Dir: dir,
				RolledBack: rolled, proc: proc, ended: make(chan struct{})}
			if !cur.Launched {
				if err := c.inst.Launched(slug, cur.ReleaseID); err != nil {
					c.cfg.Logger.Warn("recording a first launch", "game", slug, "err", err)
				}
			}
			c.track(s)
			return s, nil
		}
		if cur.Launched || g.Previous == nil || rolled != nil {
			return nil, fmt.Errorf("%w: %s %s: %s", ErrLaunch, slug, cur.Version, failure)
		}
		prev, err := c.inst.Rollback(slug, cur.ReleaseID, failure)
		if err != nil {
			return nil, fmt.Errorf("%w: %s %s: %s; rolling back failed too: %v", ErrLaunch, slug, cur.Version, failure, err)
		}
		rolled = &Rollback{From: cur.Version, To: prev.Version, Reason: failure}
		c.cfg.Logger.Warn("rolled back a version that failed to launch", "game", slug, "from", cur.Version, "to", prev.Version, "reason", failure)
		c.events.publish(Event{Kind: EventRolledBack, Slug: slug, Version: prev.Version,
			Message: fmt.Sprintf("%s %s failed to launch (%s); back to %s", slug, cur.Version, failure, prev.Version)})
	}
}

// start runs the version cur installed in dir and waits until its launch is decided. It
// returns the process, or why the launch failed. A version that launched before is never
// judged: its exit codes are the game's business.
func (c *Core) start(ctx context.Context, slug, dir string, cur state.Install) (*launch.Process, string) {
	spec, err := launch.Resolve(dir, c.cfg.GOOS, c.cfg.GOARCH)
	if err != nil {
		c.recordRun(slug, &state.Run{Version: cur.Version, StartedAt: time.Now().UTC(), EndedAt: time.Now().UTC(), ExitCode: -1, Error: err.Error()})
		return nil, err.Error()
	}
	proc, err := launch.Start(spec, launch.Options{Env: c.cfg.GameEnv, Stdout: c.cfg.GameStdout, Stderr: c.cfg.GameStderr})
	if err != nil {
		c.recordRun(slug, &state.Run{Version: cur.Version, StartedAt: time.Now().UTC(), EndedAt: time.Now().UTC(), ExitCode: -1, Error: err.Error()})
		return nil, err.Error()
	}
	c.recordRun(slug, &state.Run{Version: cur.Version, StartedAt: proc.StartedAt().UTC()})
	if cur.Launched {
		return proc, ""
	}
	select {
	case <-proc.Done():
		if e := proc.Wait(); !e.Success() {
			reason := fmt.Sprintf("it ended after %s with %s", e.Ran.Round(time.Millisecond), e)
			c.recordRun(slug, &state.Run{Version: cur.Version, StartedAt: proc.StartedAt().UTC(), EndedAt: time.Now().UTC(), ExitCode: e.Code, Error: reason})
			return nil, reason
		}
	case <-time.After(c.cfg.LaunchGrace):
	case <-ctx.Done():
		// Undecided: the game runs on, its first launch unconfirmed.
	}
	return proc, ""
}

// track follows a session until the game ends.
func (c *Core) track(s *Session) {
	c.mu.Lock()
	c.running[s.Slug] = s
	c.mu.Unlock()
	c.events.publish(Event{Kind: EventLaunched, Slug: s.Slug, Version: s.Version, PID: s.PID})
	go func() {
		defer close(s.ended)
		e := s.proc.Wait()
		c.mu.Lock()
		delete(c.running, s.Slug)
		c.mu.Unlock()
		c.recordRun(s.Slug, &state.Run{Version: s.Version, StartedAt: s.proc.StartedAt().UTC(), EndedAt: time.Now().UTC(), ExitCode: e.Code})
		c.events.publish(Event{Kind: EventExited, Slug: s.Slug, Version: s.Version, PID: s.PID, ExitCode: e.Code, Message: e.String()})
	}()
}

func (c *Core) recordRun(slug string, r *state.Run) {
	if _, err := c.state.Update(func(st *state.State) error {
		if g := st.Games[slug]; g != nil {
			g.LastRun = r
		}
		return nil
	}); err != nil {
		c.cfg.Logger.Warn("recording a run", "game", slug, "err", err)
	}
}

// StopGame asks slug's running game, launched by this Core, to quit; a game that is not
// running is an error.
func (c *Core) StopGame(slug string) error {
	c.mu.Lock()
	s := c.running[slug]
	c.mu.Unlock()
	if s == nil {
		return fmt.Errorf("%s is not running", slug)
	}
	return s.Stop()
}

// Running returns the games this Core launched that are still running.
func (c *Core) Running() []*Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Session, 0, len(c.running))
	for _, s := range c.running {
		out = append(out, s)
	}
	return out
}
