// Package core is the launcher's engine without a face: it ties the signer's identity, the
// API client, the local state, the library sync, the installer and the game launcher
// together behind one API. The satchel CLI is one face on it; the desktop window (a thin
// Wails bridge) is another. It holds no globals: each Core is one launcher over one data
// folder, and several processes may share that folder.
//
// Queries (Library, Game, Activity, Jobs, Running, Settings, SyncStatus) read local state and
// never touch the network, so they answer when the server is down. Long actions (Install,
// Verify, MoveLibrary) report progress to a callback; everything that happens is also
// published as an Event to Subscribe's channels, which is what a window listens to. Flows of
// several steps live here, not in a face: Checkout buys, follows the payment and installs.
package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"satchel.dev/desktop/client"
	"satchel.dev/desktop/install"
	"satchel.dev/desktop/library"
	"satchel.dev/desktop/settings"
	"satchel.dev/desktop/state"
	"satchel.dev/shared/nostr"
)

// Config configures a Core.
type Config struct {
	// Dirs are the launcher's folders: Data and Config are required; State defaults to Data.
	Dirs settings.Dirs
	// Signer is the player's identity; nil limits the Core to what needs no signature (the
	// catalog, guest purchases, everything local).
	Signer nostr.Signer
	// AllIdentities is for a face that reads no identity (the CLI's offline commands): with no
	// Signer, Library, Game and Launch then cover every identity's games. Without it, a Core
	// with no Signer is a player without an identity, whose library is the guest purchases.
	AllIdentities bool
	// Server overrides the server of the settings.
	Server string
	// Transport carries the API calls and the downloads; nil means client.NewTransport().
	Transport http.RoundTripper
	// LaunchGrace is how long a newly installed version must run (or exit with code 0) to
	// count as launched; default 3s. A version that exits with another code sooner failed to
	// launch, and the previous version takes its place.
	LaunchGrace time.Duration
	// GameEnv is the environment of launched games; nil means the launcher's own.
	GameEnv []string
	// GameStdout and GameStderr receive the games' output (the command line's terminal); nil
	// writes it to the game's launch log (Core.LaunchLog), as the window does.
	GameStdout, GameStderr io.Writer
	// Terminal returns the terminal emulator command a terminal game (satchel.toml's
	// terminal = true) runs in (launch.Options.Terminal; the window's is launch.TerminalCommand);
	// nil runs terminal games like any other, in the command line's own terminal.
	Terminal func() ([]string, error)
	// GOOS and GOARCH choose the launch target; default the launcher's own.
	GOOS, GOARCH string
	// FreeSpace and Hook are passed to the installer (see install.Config); tests set them.
	FreeSpace func(dir string) (int64, error)
	Hook      func(step string, done, total int64)
	Logger    *slog.Logger
}

// WithDefaults returns c with unset fields given their defaults.
func (c Config) WithDefaults() Config {
	c.Dirs = c.Dirs.WithDefaults()
	if c.Transport == nil {
		c.Transport = client.NewTransport()
	}
	if c.LaunchGrace == 0 {
		c.LaunchGrace = 3 * time.Second
	}
	if c.GOOS == "" {
		c.GOOS, c.GOARCH = runtime.GOOS, runtime.GOARCH
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Core is one launcher.
type Core struct {
	cfg      Config
	settings *settings.Store
	state    *state.Store
	client   *client.Client
	inst     *install.Installer
	syncer   *library.Syncer
	requests requests
	recovery install.Recovery
	events   *broadcaster

	mu        sync.Mutex
	runCtx    context.Context // set while Run runs: auto-updates happen only then
	running   map[string]*Session
	applied   settings.Settings
	receipts  map[string]string       // guests' receipt codes by game id, for this process only
	checkouts map[string]*follower    // the purchases Checkout follows, by id
	held      map[string]string       // release ids auto-update leaves alone, by slug (see PauseInstall)
	sizes     map[string]install.Size // the updates UpdateSize measured, by slug
	uploads   *uploads                // this process's build uploads, by release id
}

// Open opens the launcher over cfg.Dirs: it creates the folders if needed, loads the settings
// and the local state (moving a state.json an older launcher kept in the data folder into the
// state folder, see state.OpenIn), and recovers from an earlier crash (Recovery says what it
// did). It does not touch the network.
func Open(cfg Config) (*Core, error) {
	cfg = cfg.WithDefaults()
	if cfg.Dirs.Data == "" || cfg.Dirs.Config == "" {
		return nil, errors.New("core: Config.Dirs is required")
	}
	for _, d := range []string{cfg.Dirs.Data, cfg.Dirs.Config} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	c := &Core{cfg: cfg, settings: settings.NewStore(cfg.Dirs.Config), events: newBroadcaster(), requests: requests{dir: cfg.Dirs.Data},
		running: map[string]*Session{}, receipts: map[string]string{}, checkouts: map[string]*follower{},
		held: map[string]string{}, sizes: map[string]install.Size{},
		uploads: &uploads{m: map[string]UploadProgress{}}}
	set, err := c.settings.Load()
	if err != nil {
		return nil, err
	}
	server := set.Server
	if cfg.Server != "" {
		server = cfg.Server
	}
	if c.client, err = client.New(client.Config{BaseURL: server, Signer: cfg.Signer, Transport: cfg.Transport}); err != nil {
		return nil, err
	}
	if c.state, err = state.OpenIn(cfg.Dirs.Data, cfg.Dirs.State); err != nil {
		return nil, err
	}
	c.inst, err = install.New(install.Config{
		State: c.state, Source: source{c: c.client, receipt: c.receipt}, HTTP: &http.Client{Transport: cfg.Transport},
		SpeedLimit: set.SpeedLimit, MaxDownloads: set.MaxDownloads, KeepDownloads: set.KeepDownloads, FreeSpace: cfg.FreeSpace, Hook: cfg.Hook,
		Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	c.applied = set
	if c.recovery, err = c.inst.Recover(); err != nil {
		return nil, fmt.Errorf("recovering the library after a crash: %w", err)
	}
	for _, a := range c.recovery.Actions {
		cfg.Logger.Info("recovered", "action", a)
	}
	c.syncer = library.NewSyncer(library.SyncConfig{API: c.client.Library, State: c.state, Owner: c.identity(), Logger: cfg.Logger,
		OnChange: c.libraryChanged,
		OnStatus: func(s library.SyncStatus) { c.events.publish(Event{Kind: EventSync, Sync: &s}) }})
	return c, nil
}

// identity is the hex public key of the Core's identity, "" without one.
func (c *Core) identity() string {
	if c.cfg.Signer == nil {
		return ""
	}
	return c.cfg.Signer.PublicKey().Hex()
}

// owner is whose library the Core shows (see library.View): its identity; without one,
// library.AnyIdentity for a face that reads no identity (Config.AllIdentities), else ""
// (the guest purchases only).
func (c *Core) owner() string {
	if c.cfg.Signer == nil && c.cfg.AllIdentities {
		return library.AnyIdentity
	}
	return c.identity()
}

func (c *Core) receipt(gameID string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.receipts[gameID]
}

// Close stops nothing that runs on its own (games keep running); it exists so callers can
// release the Core symmetrically with Open.
func (c *Core) Close() error { return nil }

// Recovery says what Open did to recover from an earlier crash.
func (c *Core) Recovery() install.Recovery { return c.recovery }

// Client is the API client, signed with the Core's identity.
func (c *Core) Client() *client.Client { return c.client }

// Server is the server's base URL.
func (c *Core) Server() string { return c.client.BaseURL }

// Settings returns the current settings.
func (c *Core) Settings() (settings.Settings, error) { return c.settings.Load() }

// SyncStatus is the state of the connection to the server's library stream.
func (c *Core) SyncStatus() library.SyncStatus { return c.syncer.Status() }

// Library returns the library of the Core's identity from the local state (no network): see
// library.View for which games that is.
func (c *Core) Library() ([]library.Entry, error) {
	st, err := c.state.Load()
	if err != nil {
		return nil, err
	}
	set, err := c.settings.Load()
	if err != nil {
		return nil, err
	}
	return library.View(st, set, c.owner()), nil
}

// ErrUnknownGame: the game is neither owned nor installed.
var ErrUnknownGame = errors.New("unknown game")

// Game returns one game of the identity's library from the local state; a game only another
// identity owns is ErrUnknownGame, even when it is installed.
func (c *Core) Game(slug string) (library.Entry, error) {
	st, err := c.state.Load()
	if err != nil {
		return library.Entry{}, err
	}
	set, err := c.settings.Load()
	if err != nil {
		return library.Entry{}, err
	}
	e, ok := library.Find(st, set, slug, c.owner())
	if !ok {
		return library.Entry{}, fmt.Errorf("%w: %s is not in your library (`satchel library` lists it; `satchel buy %s` buys it)", ErrUnknownGame, slug, slug)
	}
	return e, nil
}

// Refresh fetches the library from the server into the local state and returns it. When the
// server cannot be reached it returns the local library with the error (client.Offline).
// Without an identity there is no library on the server: it returns the local one (the
// guest purchases) and asks nothing.
func (c *Core) Refresh(ctx context.Context) ([]library.Entry, error) {
	if c.cfg.Signer == nil {
		return c.Library()
	}
	_, err := c.syncer.Refresh(ctx)
	lib, lerr := c.Library()
	if lerr != nil {
		return nil, lerr
	}
	return lib, err
}

// Run keeps the library in step with the server until ctx ends: it fetches it, follows the
// server's stream (reconnecting and catching up when it drops), and installs new games and
// releases by itself where auto-update is on. It also applies settings changed by another
// process (speed limit, parallel downloads, keeping downloads) within a second. Without an
// identity there is no library to follow (the sync status stays without an error, not
// offline): it only applies the settings. It returns ctx's error.
func (c *Core) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.runCtx != nil {
		c.mu.Unlock()
		return errors.New("core: Run is already running")
	}
	c.runCtx = ctx
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.runCtx = nil
		c.mu.Unlock()
	}()
	go c.watchSettings(ctx)
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.autoUpdateAll() // retries updates that failed for a passing reason
			}
		}
	}()
	if c.cfg.Signer == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	return c.syncer.Run(ctx)
}

// watchSettings applies the settings when another process (the satchel CLI) rewrites the
// file. Any rewrite counts, even one that ends where it started: auto-update turned off and on
// again between two looks still runs auto-update. A change made since the Core loaded the
// settings, before the watch began, is applied at once.
func (c *Core) watchSettings(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	seen, _ := os.Stat(c.settings.Path())
	if set, err := c.settings.Load(); err == nil {
		c.applySettings(set, false)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fi, err := os.Stat(c.settings.Path())
		if err != nil {
			continue
		}
		rewritten := seen == nil || !os.SameFile(seen, fi) || !fi.ModTime().Equal(seen.ModTime())
		seen = fi
		if !rewritten {
			continue
		}
		set, err := c.settings.Load()
		if err != nil {
			continue
		}
		c.applySettings(set, true)
	}
}

// applySettings applies changed download settings at once, and runs auto-update when its
// settings changed (turned on for a game that waits for an update), or when rewritten says
// they may have changed and back since they were last applied.
func (c *Core) applySettings(set settings.Settings, rewritten bool) {
	c.mu.Lock()
	if set.SpeedLimit != c.applied.SpeedLimit {
		c.inst.SetSpeedLimit(set.SpeedLimit)
	}
	if set.MaxDownloads != c.applied.MaxDownloads {
		c.inst.SetMaxDownloads(set.MaxDownloads)
	}
	if set.KeepDownloads != c.applied.KeepDownloads {
		c.inst.SetKeepDownloads(set.KeepDownloads)
	}
	autoChanged := rewritten || *set.AutoUpdate != *c.applied.AutoUpdate || !maps.Equal(set.GameAutoUpdate, c.applied.GameAutoUpdate)
	c.applied = set
	c.mu.Unlock()
	if autoChanged {
		c.autoUpdateAll()
	}
}

// UpdateSettings changes the settings with fn, saves them and applies them at once.
func (c *Core) UpdateSettings(fn func(*settings.Settings) error) (settings.Settings, error) {
	set, err := c.settings.Update(fn)
	if err != nil {
		return set, err
	}
	c.applySettings(set, false)
	return set, nil
}

// SetSpeedLimit sets the download speed limit in bytes per second (0: none), at once, also
// for downloads under way.
func (c *Core) SetSpeedLimit(bps int64) error {
	_, err := c.UpdateSettings(func(s *settings.Settings) error { s.SpeedLimit = bps; return nil })
	return err
}

// SetKeepDownloads turns keeping downloads on or off (settings.Settings.KeepDownloads): on,
// the installs that start afterwards keep their build's zip; off, none is kept after an
// install, and those kept before are removed when the launcher next starts (Open).
func (c *Core) SetKeepDownloads(on bool) error {
	_, err := c.UpdateSettings(func(s *settings.Settings) error { s.KeepDownloads = on; return nil })
	return err
}

// SetAutoUpdate turns auto-update on or off, for every game (slug "") or for one game (on nil
// removes the game's own setting, so the global one applies).
func (c *Core) SetAutoUpdate(slug string, on *bool) error {
	_, err := c.UpdateSettings(func(s *settings.Settings) error {
		switch {
		case slug == "" && on != nil:
			s.AutoUpdate = on
		case slug == "":
			return errors.New("say on or off")
		case on == nil:
			delete(s.GameAutoUpdate, slug)
		default:
			if s.GameAutoUpdate == nil {
				s.GameAutoUpdate = map[string]bool{}
			}
			s.GameAutoUpdate[slug] = *on
		}
		return nil
	})
	return err
}

// libraryChanged is the Syncer's callback.
func (c *Core) libraryChanged(slugs []string) {
	for _, slug := range slugs {
		c.events.publish(Event{Kind: EventLibrary, Slug: slug})
	}
	c.autoUpdate(slugs)
}

func (c *Core) autoUpdateAll() {
	st, err := c.state.Load()
	if err != nil {
		return
	}
	c.autoUpdate(st.Slugs())
}

// autoUpdate queues, while Run runs and where auto-update is on, the updates of the installed
// games of slugs (see library.NeedsUpdate) and the installs of those granted to the identity
// (state.Game.GrantedTo), whichever process heard of the grant. A game the player uninstalled
// stays uninstalled until they install it.
func (c *Core) autoUpdate(slugs []string) {
	c.mu.Lock()
	ctx := c.runCtx
	c.mu.Unlock()
	if ctx == nil {
		return
	}
	st, err := c.state.Load()
	if err != nil {
		return
	}
	set, err := c.settings.Load()
	if err != nil {
		return
	}
	owner := c.identity()
	for _, slug := range slugs {
		g := st.Games[slug]
		needs := library.NeedsUpdate(g, owner) || (g != nil && g.GrantedTo == owner && library.NeedsInstall(g, owner))
		if !needs {
			continue
		}
		if !set.AutoUpdateFor(slug) || c.heldBack(slug, g.Latest.ReleaseID) {
			if g.Current != nil && g.Pending == nil {
				c.measureUpdate(ctx, slug, g.Latest.Version) // for the window to show before it starts
			}
			continue
		}
		c.enqueue(ctx, install.Game{ID: g.GameID, Slug: slug, Title: g.Title}, g.Latest.ReleaseID)
	}
}

// Enqueue queues an install of the latest release of slug, as auto-update does, and returns
// the job; progress and the outcome are published as events.
func (c *Core) Enqueue(ctx context.Context, slug string) (*install.Job, error) {
	st, err := c.state.Load()
	if err != nil {
		return nil, err
	}
	g := st.Games[slug]
	if g == nil || g.GameID == "" {
		return nil, fmt.Errorf("%w: %s is not in your library", ErrUnknownGame, slug)
	}
	c.release(slug)
	return c.enqueue(ctx, install.Game{ID: g.GameID, Slug: slug, Title: g.Title}, ""), nil
}

func (c *Core) enqueue(ctx context.Context, g install.Game, releaseID string) *install.Job {
	j := c.inst.Enqueue(ctx, g, releaseID, func(p install.Progress) {
		c.events.publish(Event{Kind: EventProgress, Slug: p.Slug, Progress: &p})
	})
	go func() {
		res, err := j.Wait(context.Background())
		if err != nil {
			c.cfg.Logger.Warn("install failed", "game", g.Slug, "err", err)
			c.events.publish(Event{Kind: EventInstallFailed, Slug: g.Slug, Message: err.Error(), Problem: Problem(err)})
			return
		}
		c.events.publish(Event{Kind: EventInstalled, Slug: g.Slug, Version: res.Version})
	}()
	return j
}

// Jobs returns the progress of the queued and running installs.
func (c *Core) Jobs() []install.Progress {
	var out []install.Progress
	for _, j := range c.inst.Jobs() {
		out = append(out, j.Progress())
	}
	return out
}

// Installer is the Core's installer.
func (c *Core) Installer() *install.Installer { return c.inst }

// Subscribe returns a channel of every event from now on, and the function that ends the
// subscription. Events are dropped for a subscriber that does not keep up (progress comes
// again; the state is always there to query).
func (c *Core) Subscribe() (<-chan Event, func()) { return c.events.subscribe() }
