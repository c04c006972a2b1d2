package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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
	// Log is the launch log: what was run, the game's output (unless the command line shows
	// it, or a terminal window does), and how it ended.
	Log string `json:"log"`
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
// library.View) and returns once the launch is decided, at most Config.LaunchGrace later
// (after a rollback, also the time to read the previous version's files once). The program
// comes from the build's satchel.toml (or its only top-level executable) and never from
// outside its install folder.
//
// The first launch of a newly installed version decides whether the update worked: if the
// game cannot start, or exits with a code other than 0 within LaunchGrace, the version
// failed to launch; when the previous version is still kept, Launch puts it back (the failed
// one is removed and recorded, so auto-update skips it), verifies it (the files the two
// versions shared may hold what the failed one wrote), repairs what the failed one wrote
// (from the server, as the Core's identity) and launches it instead, saying so in
// Session.RolledBack. When such files cannot be put back (offline, or a Core with no
// identity), or the previous version cannot be checked (another process is changing the
// game), it launches nothing and says how to repair it; so does every later launch, until a
// Verify finds every file right (state.Install.Unchecked). Once a new version has launched,
// the previous one is removed. Later crashes of a version that launched before are the game's
// own: the Session reports them through Wait.
func (c *Core) Launch(ctx context.Context, slug string) (*Session, error) {
	var rolled *Rollback
	checked := false // the version put back by a rollback was verified in this call
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
		if cur.Unchecked {
			if checked {
				return nil, fmt.Errorf("%w: %s %s changed while it was checked: launch it again", ErrLaunch, slug, cur.Version)
			}
			if err := c.checkRolledBack(ctx, g, cur, rolled); err != nil {
				return nil, err
			}
			checked = true
			continue // verified: read the state again
		}
		dir := st.Path(slug, cur.Dir)
		proc, failure := c.start(ctx, slug, dir, cur)
		if failure == "" {
			s := &Session{Slug: slug, Version: cur.Version, ReleaseID: cur.ReleaseID, PID: proc.PID(), Dir: dir, Log: c.LaunchLog(slug),
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

// checkRolledBack verifies cur, the version of g a rollback put back, and repairs from the
// server (as the Core's identity) what the version rolled back from wrote into the files the
// two shared (hard links), before it runs again. rolled is the rollback when this launch made
// it. It says how to repair what it could not check or put back.
func (c *Core) checkRolledBack(ctx context.Context, g *state.Game, cur state.Install, rolled *Rollback) error {
	slug := g.Slug
	why := fmt.Sprintf("%s %s was put back after a version that failed to launch", slug, cur.Version)
	if rolled != nil {
		why = fmt.Sprintf("%s %s: %s; back to %s", slug, rolled.From, rolled.Reason, rolled.To)
	}
	rep, err := c.inst.Verify(ctx, install.Game{ID: g.GameID, Slug: slug, Title: g.Title}, true, nil)
	switch {
	case len(rep.Damaged) > len(rep.Repaired):
		return fmt.Errorf("%w: %s, but %d of its files were written into and could not be put back (%v): `satchel verify %s --repair` (Repair in the window) restores them from the server",
			ErrLaunch, why, len(rep.Damaged)-len(rep.Repaired), err, slug)
	case err != nil:
		return fmt.Errorf("%w: %s, which could not be checked (%v): `satchel verify %s --repair` (Repair in the window) checks it, then launch it again",
			ErrLaunch, why, err, slug)
	case len(rep.Repaired) > 0:
		c.cfg.Logger.Warn("put back files the failed version wrote into", "game", slug, "version", cur.Version, "files", rep.Repaired)
	}
	return nil
}

// QuickFailure is how soon after it starts a game that exits with an error is said to have
// failed, with the last lines of its log, rather than to have ended.
const QuickFailure = 10 * time.Second

// tailLines is how many of the log's last lines a quick failure shows.
const tailLines = 12

// LaunchLog is the path of slug's launch log, written anew at each launch:
// <data>/logs/<slug>.log.
func (c *Core) LaunchLog(slug string) string {
	return filepath.Join(c.cfg.Dirs.Data, "logs", slug+".log")
}

// start runs the version cur installed in dir, writing its launch log, and waits until its
// launch is decided. It returns the process, or why the launch failed. A version that
// launched before is never judged: its exit codes are the game's business.
func (c *Core) start(ctx context.Context, slug, dir string, cur state.Install) (*launch.Process, string) {
	failed := func(err error) (*launch.Process, string) {
		c.recordRun(slug, &state.Run{Version: cur.Version, StartedAt: time.Now().UTC(), EndedAt: time.Now().UTC(), ExitCode: -1, Error: err.Error()})
		return nil, err.Error()
	}
	spec, err := launch.Resolve(dir, c.cfg.GOOS, c.cfg.GOARCH)
	if err != nil {
		return failed(err)
	}
	opts := launch.Options{Env: c.cfg.GameEnv, Stdout: c.cfg.GameStdout, Stderr: c.cfg.GameStderr}
	if spec.Terminal && c.cfg.Terminal != nil {
		if opts.Terminal, err = c.cfg.Terminal(); err != nil {
			return failed(err)
		}
	}
	log, err := c.openLog(slug, cur.Version, spec, opts)
	if err != nil {
		return failed(err)
	}
	defer log.Close() // the game has its own copy
	if opts.Stdout == nil {
		opts.Stdout, opts.Stderr = log, log
	}
	proc, err := launch.Start(spec, opts)
	if err != nil {
		fmt.Fprintf(log, "satchel: %v\n", err)
		return failed(err)
	}
	c.recordRun(slug, &state.Run{Version: cur.Version, StartedAt: proc.StartedAt().UTC()})
	if cur.Launched {
		return proc, ""
	}
	select {
	case <-proc.Done():
		if e := proc.Wait(); !e.Success() {
			reason := fmt.Sprintf("it ended after %s with %s", e.Ran.Round(time.Millisecond), e)
			c.recordRun(slug, &state.Run{Version: cur.Version, StartedAt: proc.StartedAt().UTC(), EndedAt: time.Now().UTC(), ExitCode: e.Code,
				Error: reason, Tail: c.endLog(slug, e)})
			return nil, reason
		}
	case <-time.After(c.cfg.LaunchGrace):
	case <-ctx.Done():
		// Undecided: the game runs on, its first launch unconfirmed.
	}
	return proc, ""
}

// openLog starts slug's launch log anew, saying what is run and where its output goes.
func (c *Core) openLog(slug, version string, spec launch.Spec, opts launch.Options) (*os.File, error) {
	path := c.LaunchLog(slug)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("the launch log: %w", err)
	}
	fmt.Fprintf(f, "satchel: %s: launching %s %s (%s): %q %q in %s\n", time.Now().Format(time.RFC3339), slug, version, spec.Source,
		spec.Path, spec.Args, spec.WorkDir)
	switch {
	case spec.Terminal && len(opts.Terminal) > 0:
		fmt.Fprintf(f, "satchel: it runs in a terminal window (%s): its output is there\n", strings.Join(opts.Terminal, " "))
	case opts.Stdout != nil:
		fmt.Fprintf(f, "satchel: its output goes to the command line's terminal\n")
	}
	return f, nil
}

// endLog writes how a game ended at the end of its launch log and returns the log's last
// lines when it failed within QuickFailure (nil otherwise).
func (c *Core) endLog(slug string, e launch.Exit) []string {
	path := c.LaunchLog(slug)
	if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
		fmt.Fprintf(f, "satchel: %s: ended after %s with %s\n", time.Now().Format(time.RFC3339), e.Ran.Round(time.Millisecond), e)
		f.Close()
	}
	if e.Success() || e.Ran >= QuickFailure {
		return nil
	}
	return tail(path, tailLines)
}

// tail returns the last n lines of the file at path (of its last 64 KiB at most).
func tail(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	off := max(fi.Size()-64<<10, 0)
	b, err := io.ReadAll(io.NewSectionReader(f, off, fi.Size()-off))
	if err != nil {
		return nil
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return lines[max(len(lines)-n, 0):]
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
		run := &state.Run{Version: s.Version, StartedAt: s.proc.StartedAt().UTC(), EndedAt: time.Now().UTC(), ExitCode: e.Code}
		msg := e.String()
		if run.Tail = c.endLog(s.Slug, e); run.Tail != nil {
			msg = fmt.Sprintf("%s exited with an error after %s (%s)", s.Slug, e.Ran.Round(100*time.Millisecond), e)
			run.Error = msg
		}
		c.recordRun(s.Slug, run)
		c.events.publish(Event{Kind: EventExited, Slug: s.Slug, Version: s.Version, PID: s.PID, ExitCode: e.Code, Message: msg, Tail: run.Tail})
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
