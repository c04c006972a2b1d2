// Package app is the launcher window's bridge: it binds the engine (package core) and the
// identities (package signer) to the Wails window, and forwards the engine's events to it.
// It is the only package of the launcher that imports Wails (desktop/deps_test.go keeps it
// so). It runs no flow of its own: it keeps one Core open for the active identity, forwards
// each bound call to it (or to the signer's store), and turns the Core's events and callbacks
// into window events. Every bound method returns plain structs (JSON for the window) and
// errors whose text says what to do.
//
// Events sent to the window (runtime.EventsOn in the frontend):
//
//	"core"     core.Event: progress, installed, install-failed, library, sync, launched, exited, rolled-back
//	"purchase" core.Purchase: each status of a purchase being watched
//	"purchase-error" core.Purchase: following a purchase failed (FailureReason says why)
//	"upload"   core.UploadProgress: a build upload's phases
//	"move"     MoveProgress: a library move
//	"verify"   install.Progress: a verify or repair
//	"session"  Status: the identity or the server changed
package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"satchel.dev/desktop/core"
	"satchel.dev/desktop/install"
	"satchel.dev/desktop/launch"
	"satchel.dev/desktop/library"
	"satchel.dev/desktop/settings"
	"satchel.dev/desktop/signer"
	"satchel.dev/shared/nostr"
)

// Config configures the bridge.
type Config struct {
	// Dirs are the launcher's data and config folders. Required.
	Dirs settings.Dirs
	// Server overrides the server of the settings (SATCHEL_SERVER).
	Server string
	// Keyring holds the identities' secret keys; nil means the OS keyring.
	Keyring signer.Keyring
	// GameEnv is the environment of launched games; nil means the launcher's own.
	GameEnv []string
	// LaunchGrace is passed to core.Config.
	LaunchGrace time.Duration
	// Terminal is passed to core.Config: the terminal window terminal games run in; nil
	// means launch.TerminalCommand on this system ($SATCHEL_TERMINAL, x-terminal-emulator...).
	Terminal func() ([]string, error)
	// BootWait bounds how long index.html waits for the engine and the store's first page
	// before it is served without them; 0 means DefaultBootWait.
	BootWait time.Duration
	// Route is the screen the window opens on ("" for the store; "game/SLUG",
	// "checkout/SLUG", "library", "developer", "settings", "account").
	Route string
	// Ready hears one line "satchel-launcher: ready SCREEN" the first time each screen has
	// shown its data, for tests and benchmarks; nil discards them.
	Ready io.Writer
	// Emit sends an event to the window; nil means Wails' runtime.EventsEmit. Tests set it.
	Emit   func(name string, data any)
	Logger *slog.Logger
}

// App is the bridge: Wails binds its exported methods to the window.
type App struct {
	cfg  Config
	ids  *signer.Store
	emit func(name string, data any)
	wctx context.Context // Wails' context, for dialogs and the clipboard

	opened   chan struct{} // closed once the first Core is open
	reopenMu sync.Mutex    // one reopen at a time
	first    firstPage     // the store's first page, for the page's boot data

	mu         sync.Mutex
	core       *core.Core
	coreCtx    context.Context // ends when this Core is replaced or the window closes
	stopCore   context.CancelFunc
	coreDone   chan struct{} // closed when this Core's Run and event forwarding ended
	signer     nostr.Signer
	keyringErr string
	openErr    string
	testMoney  bool
	readyShown map[string]bool
	moving     bool
}

// New returns the bridge; the window's startup opens it.
func New(cfg Config) *App {
	if cfg.Keyring == nil {
		cfg.Keyring = signer.OSKeyring{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Ready == nil {
		cfg.Ready = io.Discard
	}
	if cfg.BootWait == 0 {
		cfg.BootWait = DefaultBootWait
	}
	if cfg.Terminal == nil {
		cfg.Terminal = func() ([]string, error) {
			return launch.TerminalCommand(goruntime.GOOS, os.Getenv, exec.LookPath, filepath.EvalSymlinks)
		}
	}
	return &App{cfg: cfg, ids: signer.NewStore(cfg.Dirs.Config, cfg.Keyring), opened: make(chan struct{}),
		first: firstPage{done: make(chan struct{})}, readyShown: map[string]bool{}}
}

// Run opens the launcher window over assets (the built frontend) and returns when it closes.
func Run(assets fs.FS, cfg Config) error {
	a := New(cfg)
	return wails.Run(&options.App{
		Title:            "Satchel",
		Width:            1280,
		Height:           800,
		MinWidth:         720,
		MinHeight:        520,
		AssetServer:      &assetserver.Options{Assets: assets, Middleware: a.bootMiddleware},
		BackgroundColour: &options.RGBA{R: 17, G: 19, B: 26, A: 255},
		OnStartup:        a.startup,
		OnShutdown:       a.shutdownWindow,
		Bind:             []any{a},
		Linux: &linux.Options{
			ProgramName: "satchel-launcher",
			// No accelerated compositing: the window has nothing to animate that needs it, and
			// without a GPU (or with drivers WebKitGTK renders badly on) it costs the web
			// process about 100 MiB of software GL for nothing.
			WebviewGpuPolicy: linux.WebviewGpuPolicyNever,
		},
	})
}

// startup is Wails' OnStartup: it opens the Core for the active identity in the background,
// so the window shows at once; bound methods wait for it.
func (a *App) startup(ctx context.Context) {
	a.wctx = ctx
	a.emit = a.cfg.Emit
	if a.emit == nil {
		a.emit = func(name string, data any) { runtime.EventsEmit(ctx, name, data) }
	}
	go func() {
		a.reopen()
		close(a.opened)
		a.prefetch()
	}()
}

// shutdownWindow is Wails' OnShutdown: it stops the engine (games keep running).
func (a *App) shutdownWindow(context.Context) {
	a.mu.Lock()
	stop, done := a.stopCore, a.coreDone
	a.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// reopen (re)opens the Core with the active identity and starts its engine, after stopping
// the previous one. A keyring that does not answer leaves the launcher without an identity
// (the store and guest purchases still work) and says why in Status.
func (a *App) reopen() {
	a.reopenMu.Lock()
	defer a.reopenMu.Unlock()
	a.mu.Lock()
	stop, done := a.stopCore, a.coreDone
	a.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	var sg nostr.Signer
	keyringErr := ""
	if s, err := a.ids.Signer(""); err == nil {
		sg = s
	} else if !errors.Is(err, signer.ErrNoIdentity) {
		keyringErr = err.Error()
	}
	c, err := core.Open(core.Config{Dirs: a.cfg.Dirs, Signer: sg, Server: a.cfg.Server, GameEnv: a.cfg.GameEnv,
		LaunchGrace: a.cfg.LaunchGrace, Terminal: a.cfg.Terminal, Logger: a.cfg.Logger})
	a.mu.Lock()
	defer a.mu.Unlock()
	a.signer, a.keyringErr, a.openErr = sg, keyringErr, ""
	if err != nil {
		a.openErr = err.Error()
		a.core, a.stopCore, a.coreDone = nil, nil, nil
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.core, a.coreCtx, a.stopCore = c, ctx, cancel
	a.testMoney = false
	finished := make(chan struct{})
	a.coreDone = finished
	go a.askTestMoney(ctx, c)
	events, unsubscribe := c.Subscribe()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for e := range events {
			a.emit("core", e)
		}
	}()
	go func() {
		defer wg.Done()
		_ = c.Run(ctx)
		// Installs under way end with the Core they belong to.
		for _, j := range c.Installer().Jobs() {
			j.Cancel()
			<-j.Done()
		}
		unsubscribe()
	}()
	go func() {
		wg.Wait()
		close(finished)
	}()
}

// askTestMoney asks the server of c whether it takes test money only, and tells the window
// (a "session" event) when it does; a server out of reach is asked again once the engine's
// library stream connects.
func (a *App) askTestMoney(ctx context.Context, c *core.Core) {
	events, stop := c.Subscribe()
	defer stop()
	for {
		if tm, err := c.TestMoney(ctx); err == nil {
			a.mu.Lock()
			changed := a.core == c && a.testMoney != tm
			if changed {
				a.testMoney = tm
			}
			a.mu.Unlock()
			if changed {
				a.emit("session", a.Status())
			}
			return
		}
		for connected := false; !connected; {
			select {
			case <-ctx.Done():
				return
			case e := <-events:
				connected = e.Kind == core.EventSync && e.Sync.Connected
			}
		}
	}
}

// current waits for the Core and returns it with its context.
func (a *App) current() (*core.Core, context.Context, error) {
	<-a.opened
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.core == nil {
		return nil, nil, fmt.Errorf("the launcher could not open its files: %s", a.openErr)
	}
	return a.core, a.coreCtx, nil
}

// Identity is an identity as the window shows it: public parts only.
type Identity struct {
	Pubkey    string    `json:"pubkey"`
	Npub      string    `json:"npub"`
	Label     string    `json:"label,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	Active    bool      `json:"active"`
}

func identityFrom(id signer.Identity, active bool) Identity {
	return Identity{Pubkey: id.PublicKey.Hex(), Npub: id.Npub(), Label: id.Label, CreatedAt: id.CreatedAt, Active: active}
}

// Status is what the window needs to know first.
type Status struct {
	// Identity is the active identity, nil before the first one is created or imported.
	Identity *Identity `json:"identity,omitempty"`
	// KeyringError says why the active identity's key could not be read from the keyring.
	KeyringError string `json:"keyring_error,omitempty"`
	// Error says why the launcher's files could not be opened.
	Error  string `json:"error,omitempty"`
	Server string `json:"server"`
	// TestMoney is true when the server takes test money only (the dev invoice provider): no
	// real money. The bridge asks it as soon as the server answers ("session" event).
	TestMoney bool               `json:"test_money"`
	Sync      library.SyncStatus `json:"sync"`
	// Route is the screen to open first.
	Route string `json:"route,omitempty"`
	// Recovered lists what the launcher did to recover from a crash when it opened.
	Recovered []string `json:"recovered,omitempty"`
	// OS is the operating system the launcher runs on (runtime.GOOS: windows, darwin, linux...),
	// for the window to name the keyring that holds the secret keys.
	OS string `json:"os"`
	// Dirs are the launcher's folders.
	Dirs settings.Dirs `json:"dirs"`
}

// Status returns the launcher's status.
func (a *App) Status() Status {
	<-a.opened
	a.mu.Lock()
	c, sg := a.core, a.signer
	st := Status{KeyringError: a.keyringErr, Error: a.openErr, TestMoney: a.testMoney, Route: a.cfg.Route,
		OS: goruntime.GOOS, Dirs: a.cfg.Dirs.WithDefaults()}
	a.mu.Unlock()
	if c != nil {
		st.Server, st.Sync, st.Recovered = c.Server(), c.SyncStatus(), c.Recovery().Actions
	}
	if sg != nil {
		if id, err := a.ids.Resolve(""); err == nil {
			v := identityFrom(id, true)
			st.Identity = &v
		}
	}
	return st
}

// Ready records that the window shows screen with its data: the first time for each screen
// it writes "satchel-launcher: ready SCREEN" to Config.Ready.
func (a *App) Ready(screen string) {
	a.mu.Lock()
	first := !a.readyShown[screen]
	a.readyShown[screen] = true
	a.mu.Unlock()
	if first {
		fmt.Fprintf(a.cfg.Ready, "satchel-launcher: ready %s\n", screen)
	}
}

// identityChanged reopens the Core with the new active identity and tells the window.
func (a *App) identityChanged() Status {
	a.reopen()
	st := a.Status()
	a.emit("session", st)
	return st
}

// CreateIdentity creates a new identity, keeps its secret key in the OS keyring and makes it
// the active one (the window asks before it switches a player who has one).
func (a *App) CreateIdentity(label string) (Status, error) {
	<-a.opened
	if _, err := a.ids.Create(strings.TrimSpace(label)); err != nil {
		return a.Status(), err
	}
	return a.identityChanged(), nil
}

// ImportIdentity imports a secret key (nsec1... or 64 hex characters) into the OS keyring and
// makes it the active identity. The error never quotes the key.
func (a *App) ImportIdentity(secret, label string) (Status, error) {
	<-a.opened
	if _, err := a.ids.Import(secret, strings.TrimSpace(label)); err != nil {
		return a.Status(), err
	}
	return a.identityChanged(), nil
}

// Identities lists the identities (public keys only).
func (a *App) Identities() ([]Identity, error) {
	list, active, err := a.ids.List()
	if err != nil {
		return nil, err
	}
	out := []Identity{}
	for _, id := range list {
		out = append(out, identityFrom(id, id.PublicKey == active))
	}
	return out, nil
}

// UseIdentity makes the identity with this public key (hex or npub) the active one.
func (a *App) UseIdentity(pubkey string) (Status, error) {
	<-a.opened
	if _, err := a.ids.Use(pubkey); err != nil {
		return a.Status(), err
	}
	return a.identityChanged(), nil
}

// LabelIdentity names the identity with this public key (hex or npub) in the window's lists;
// an empty label removes its name.
func (a *App) LabelIdentity(pubkey, label string) (Identity, error) {
	id, err := a.ids.SetLabel(pubkey, strings.TrimSpace(label))
	if err != nil {
		return Identity{}, err
	}
	_, active, err := a.ids.List()
	return identityFrom(id, id.PublicKey == active), err
}

// RemoveIdentity deletes the identity with this public key (hex or npub): its secret key
// leaves the OS keyring, for good. The window asks the player to confirm first, showing its
// npub and offering ExportIdentity. Removing the active identity leaves the launcher without
// one (the store and guest purchases still work); its games stay installed.
func (a *App) RemoveIdentity(pubkey string) (Status, error) {
	<-a.opened
	id, err := a.ids.Resolve(pubkey)
	if err != nil {
		return a.Status(), err
	}
	_, active, err := a.ids.List()
	if err != nil {
		return a.Status(), err
	}
	if _, err := a.ids.Remove(id.PublicKey.Hex()); err != nil {
		return a.Status(), err
	}
	if id.PublicKey != active {
		return a.Status(), nil
	}
	return a.identityChanged(), nil
}

// ExportIdentity returns the secret key of the identity with this public key (hex or npub;
// "" for the active one) as nsec1...: the window asks the player to confirm first, and shows
// it only to them.
func (a *App) ExportIdentity(pubkey string) (string, error) {
	return a.ids.Export(pubkey)
}

// Games returns a page of the store.
func (a *App) Games(query, pageToken string) (core.GamePage, error) {
	c, ctx, err := a.current()
	if err != nil {
		return core.GamePage{}, err
	}
	return c.Games(ctx, strings.TrimSpace(query), pageToken)
}

// GameView is a game's page: the store's side and the player's.
type GameView struct {
	Game core.StoreGame `json:"game"`
	// Owned is true when the game is in the player's library.
	Owned bool `json:"owned"`
	// Entry is the game's install state, nil when the launcher does not know it.
	Entry *library.Entry `json:"entry,omitempty"`
	// Job is the install under way, nil if none.
	Job     *install.Progress `json:"job,omitempty"`
	Paused  bool              `json:"paused"`
	Running bool              `json:"running"`
	// Offline says why the store's side could not be fetched: Game then holds only what the
	// library knows (see core.StorePage).
	Offline string `json:"offline,omitempty"`
	// Guest is true when no identity is active: the game can then be bought as a guest only.
	Guest bool `json:"guest"`
}

// Game returns a game's page; offline, an installed game's page comes from the library.
func (a *App) Game(slug string) (GameView, error) {
	c, ctx, err := a.current()
	if err != nil {
		return GameView{}, err
	}
	g, err := c.StorePage(ctx, slug)
	if err != nil && g.Slug == "" {
		return GameView{}, err
	}
	a.mu.Lock()
	v := GameView{Game: g, Guest: a.signer == nil}
	a.mu.Unlock()
	if err != nil {
		v.Offline = err.Error()
	}
	e, err := c.Game(slug)
	if err == nil {
		v.Entry, v.Owned = &e, e.Owned
	} else {
		e = library.Entry{Slug: slug}
	}
	act := c.Activity(e)
	v.Job, v.Paused, v.Running = act.Job, act.Paused, act.Running
	return v, nil
}

// LibraryGame is one game of the library with what is happening to it.
type LibraryGame struct {
	Entry   library.Entry     `json:"entry"`
	Job     *install.Progress `json:"job,omitempty"`
	Paused  bool              `json:"paused"`
	Running bool              `json:"running"`
	// Size is the size of its install paused or interrupted (with how much is downloaded),
	// or of its update available before it starts (core.Activity's Size).
	Size *install.Size `json:"size,omitempty"`
}

// LibraryView is the library and the connection to the server.
type LibraryView struct {
	Games []LibraryGame      `json:"games"`
	Sync  library.SyncStatus `json:"sync"`
	// Error says why the server could not be asked (Refresh); the games are the local view.
	Error string `json:"error,omitempty"`
}

func libraryView(c *core.Core, entries []library.Entry) LibraryView {
	v := LibraryView{Games: []LibraryGame{}, Sync: c.SyncStatus()}
	for _, e := range entries {
		act := c.Activity(e)
		v.Games = append(v.Games, LibraryGame{Entry: e, Job: act.Job, Paused: act.Paused, Running: act.Running, Size: act.Size})
	}
	return v
}

// Library returns the library from the local state (no network).
func (a *App) Library() (LibraryView, error) {
	c, _, err := a.current()
	if err != nil {
		return LibraryView{}, err
	}
	entries, err := c.Library()
	if err != nil {
		return LibraryView{}, err
	}
	return libraryView(c, entries), nil
}

// RefreshLibrary asks the server for the library; when it cannot be reached, the local
// library comes back with Error set.
func (a *App) RefreshLibrary() (LibraryView, error) {
	c, ctx, err := a.current()
	if err != nil {
		return LibraryView{}, err
	}
	entries, rerr := c.Refresh(ctx)
	if entries == nil {
		return LibraryView{}, rerr
	}
	v := libraryView(c, entries)
	if rerr != nil {
		v.Error = rerr.Error()
	}
	return v, nil
}

// Buy opens a purchase of slug and follows it (core.Checkout): each status is sent as a
// "purchase" event, a failure to follow it as "purchase-error", and once it is PAID the game
// installs. With guest (or without an identity) it is a guest purchase, whose receipt code
// comes back in this answer only.
func (a *App) Buy(slug string, guest bool) (core.Purchase, error) {
	c, ctx, err := a.current()
	if err != nil {
		return core.Purchase{}, err
	}
	p, err := c.Checkout(ctx, slug, guest,
		func(u core.Purchase) { a.emit("purchase", u) },
		func(u core.Purchase) { a.emit("purchase-error", u) })
	if err != nil {
		return core.Purchase{}, err
	}
	a.mu.Lock()
	a.testMoney = a.testMoney || p.TestMoney
	a.mu.Unlock()
	return p, nil
}

// CloseCheckout stops following a purchase (the invoice stays payable until it expires).
func (a *App) CloseCheckout(purchaseID string) {
	if c, _, err := a.current(); err == nil {
		c.CloseCheckout(purchaseID)
	}
}

// PayTestMoney pays an invoice with test money; only a server with the dev invoice provider
// accepts it.
func (a *App) PayTestMoney(invoice string) error {
	c, ctx, err := a.current()
	if err != nil {
		return err
	}
	return c.PayTestMoney(ctx, invoice)
}

// ClaimReceipt moves a guest purchase to the active identity; the game joins its library.
func (a *App) ClaimReceipt(code string) (core.Purchase, error) {
	c, ctx, err := a.current()
	if err != nil {
		return core.Purchase{}, err
	}
	if c.Client().Signer() == nil {
		return core.Purchase{}, errors.New("create or import an identity first: the receipt moves to it")
	}
	return c.ClaimReceipt(ctx, strings.TrimSpace(code))
}

// Install queues an install (or update) of an owned game's latest release; progress comes as
// "core" events.
func (a *App) Install(slug string) error {
	c, ctx, err := a.current()
	if err != nil {
		return err
	}
	_, err = c.Enqueue(ctx, slug)
	return err
}

// Pause stops a game's download, keeping what it fetched; Install resumes it.
func (a *App) Pause(slug string) error {
	c, _, err := a.current()
	if err != nil {
		return err
	}
	return c.PauseInstall(slug)
}

// CancelInstall stops a game's install and deletes what it downloaded.
func (a *App) CancelInstall(slug string) error {
	c, _, err := a.current()
	if err != nil {
		return err
	}
	return c.CancelInstall(slug)
}

// Session is a game the launcher started.
type Session struct {
	Slug    string         `json:"slug"`
	Version string         `json:"version"`
	PID     int            `json:"pid"`
	Rolled  *core.Rollback `json:"rolled_back,omitempty"`
}

// Play launches a game (its end comes as an "exited" event).
func (a *App) Play(slug string) (Session, error) {
	c, ctx, err := a.current()
	if err != nil {
		return Session{}, err
	}
	s, err := c.Launch(ctx, slug)
	if err != nil {
		return Session{}, err
	}
	return Session{Slug: s.Slug, Version: s.Version, PID: s.PID, Rolled: s.RolledBack}, nil
}

// StopGame asks a running game to quit.
func (a *App) StopGame(slug string) error {
	c, _, err := a.current()
	if err != nil {
		return err
	}
	return c.StopGame(slug)
}

// Verify checks a game's files against its build's manifest and, with repair, restores the
// damaged ones; progress comes as "verify" events.
func (a *App) Verify(slug string, repair bool) (install.Report, error) {
	c, ctx, err := a.current()
	if err != nil {
		return install.Report{}, err
	}
	return c.Verify(ctx, slug, repair, func(p install.Progress) { a.emit("verify", p) })
}

// Uninstall removes a game's files.
func (a *App) Uninstall(slug string) error {
	c, _, err := a.current()
	if err != nil {
		return err
	}
	return c.Uninstall(slug)
}

// openFolderWait is how long OpenFolder waits for xdg-open to fail before it counts the
// folder as shown (xdg-open returns once the file manager has it, or fails at once).
const openFolderWait = 5 * time.Second

// OpenFolder opens a game's install folder in the file manager. When none opens it, the error
// says why and where the folder is, so the player can go there themselves.
func (a *App) OpenFolder(slug string) error {
	c, _, err := a.current()
	if err != nil {
		return err
	}
	e, err := c.Game(slug)
	if err != nil {
		return err
	}
	if e.Dir == "" {
		return fmt.Errorf("%s is not installed", slug)
	}
	return openWith("a file manager", "the game is in", e.Dir)
}

// OpenLaunchLog opens the log of the game's last launch (core.Core.LaunchLog) in the desktop's
// viewer for text files; when none opens, the error says where the log is.
func (a *App) OpenLaunchLog(slug string) error {
	c, _, err := a.current()
	if err != nil {
		return err
	}
	path := c.LaunchLog(slug)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s has no launch log yet: play it first", slug)
	}
	return openWith("a text viewer", "the log is", path)
}

// openWith opens path with the desktop's default application (xdg-open); when none starts
// or it fails at once, the error names what (the application) did not open it and says
// where path is (where).
func openWith(what, where, path string) error {
	cmd := exec.Command("xdg-open", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("no %s could be started (%v): %s %s", strings.TrimPrefix(what, "a "), err, where, path)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			why := strings.TrimSpace(stderr.String())
			if why == "" {
				why = err.Error()
			}
			return fmt.Errorf("no %s opened it (%s): %s %s", strings.TrimPrefix(what, "a "), why, where, path)
		}
	case <-time.After(openFolderWait): // still at it: the application is opening it
	}
	return nil
}

// SetGameAutoUpdate sets a game's auto-update: "on", "off", or "default" (the global one).
func (a *App) SetGameAutoUpdate(slug, mode string) error {
	c, _, err := a.current()
	if err != nil {
		return err
	}
	var on *bool
	switch mode {
	case "on", "off":
		v := mode == "on"
		on = &v
	case "default":
	default:
		return fmt.Errorf("auto-update is on, off or default, not %q", mode)
	}
	return c.SetAutoUpdate(slug, on)
}

// SettingsView is the settings screen.
type SettingsView struct {
	Server string `json:"server"`
	// Library is the library folder; Moving is true while it is being moved.
	Library    string `json:"library"`
	Moving     bool   `json:"moving"`
	SpeedLimit int64  `json:"speed_limit"` // bytes per second, 0: unlimited
	AutoUpdate bool   `json:"auto_update"`
	// KeepDownloads keeps each installed version's build zip (core.Core.SetKeepDownloads).
	KeepDownloads bool `json:"keep_downloads"`
	// ServerFixed is true when the server comes from SATCHEL_SERVER, which wins over the
	// setting.
	ServerFixed bool `json:"server_fixed"`
}

// Settings returns the settings.
func (a *App) Settings() (SettingsView, error) {
	c, _, err := a.current()
	if err != nil {
		return SettingsView{}, err
	}
	set, err := c.Settings()
	if err != nil {
		return SettingsView{}, err
	}
	lib, err := c.Installer().Library()
	if err != nil {
		return SettingsView{}, err
	}
	a.mu.Lock()
	moving := a.moving
	a.mu.Unlock()
	return SettingsView{Server: c.Server(), Library: lib, Moving: moving, SpeedLimit: set.SpeedLimit,
		AutoUpdate: set.AutoUpdate == nil || *set.AutoUpdate, KeepDownloads: set.KeepDownloads, ServerFixed: a.cfg.Server != ""}, nil
}

// SetServer changes the server and reconnects to it.
func (a *App) SetServer(server string) (Status, error) {
	c, _, err := a.current()
	if err != nil {
		return a.Status(), err
	}
	if a.cfg.Server != "" {
		return a.Status(), errors.New("the server is set by SATCHEL_SERVER for this launcher: unset it to choose one here")
	}
	if _, err := c.UpdateSettings(func(s *settings.Settings) error { s.Server = strings.TrimSpace(server); return nil }); err != nil {
		return a.Status(), err
	}
	return a.identityChanged(), nil
}

// SetSpeedLimit sets the download speed limit in bytes per second (0: unlimited), at once.
func (a *App) SetSpeedLimit(bps int64) error {
	c, _, err := a.current()
	if err != nil {
		return err
	}
	return c.SetSpeedLimit(bps)
}

// SetAutoUpdate turns auto-update on or off for every game without its own setting.
func (a *App) SetAutoUpdate(on bool) error {
	c, _, err := a.current()
	if err != nil {
		return err
	}
	return c.SetAutoUpdate("", &on)
}

// SetKeepDownloads turns keeping downloads on or off.
func (a *App) SetKeepDownloads(on bool) error {
	c, _, err := a.current()
	if err != nil {
		return err
	}
	return c.SetKeepDownloads(on)
}

// ChooseFolder asks for a folder with the system's dialog; "" when cancelled.
func (a *App) ChooseFolder(title string) (string, error) {
	return runtime.OpenDirectoryDialog(a.wctx, runtime.OpenDialogOptions{Title: title, CanCreateDirectories: true})
}

// ChooseBuildZip asks for a build zip with the system's dialog; "" when cancelled.
func (a *App) ChooseBuildZip() (string, error) {
	return runtime.OpenFileDialog(a.wctx, runtime.OpenDialogOptions{Title: "Choose the build zip",
		Filters: []runtime.FileFilter{{DisplayName: "Zip archives (*.zip)", Pattern: "*.zip"}}})
}

// MoveProgress is a library move's progress ("move" events); Done and Error end it.
type MoveProgress struct {
	To       string `json:"to"`
	Copied   int64  `json:"copied"`
	Total    int64  `json:"total"`
	Finished bool   `json:"finished"`
	Error    string `json:"error,omitempty"`
}

// MoveLibrary moves the library to dir in the background; progress and the end come as
// "move" events. Calling it again after an interruption resumes the move.
func (a *App) MoveLibrary(dir string) error {
	c, ctx, err := a.current()
	if err != nil {
		return err
	}
	dir = strings.TrimSpace(dir)
	if dir == "" {
		return errors.New("choose a folder to move the library to")
	}
	a.mu.Lock()
	if a.moving {
		a.mu.Unlock()
		return errors.New("the library is already being moved")
	}
	a.moving = true
	a.mu.Unlock()
	go func() {
		err := c.MoveLibrary(ctx, dir, func(p install.Progress) {
			a.emit("move", MoveProgress{To: dir, Copied: p.Done, Total: p.Total})
		})
		a.mu.Lock()
		a.moving = false
		a.mu.Unlock()
		end := MoveProgress{To: dir, Finished: true}
		if err != nil {
			end.Error = err.Error()
		}
		a.emit("move", end)
	}()
	return nil
}

// Account returns the active identity's account on the server.
func (a *App) Account() (core.Account, error) {
	c, ctx, err := a.current()
	if err != nil {
		return core.Account{}, err
	}
	return c.Account(ctx)
}

// BecomeDeveloper sets the Lightning Address sales are paid to.
func (a *App) BecomeDeveloper(lnAddress string) (core.Account, error) {
	c, ctx, err := a.current()
	if err != nil {
		return core.Account{}, err
	}
	return c.BecomeDeveloper(ctx, lnAddress)
}

// SetStudio sets the studio name the developer's games are shown "by".
func (a *App) SetStudio(name string) (core.Account, error) {
	c, ctx, err := a.current()
	if err != nil {
		return core.Account{}, err
	}
	return c.SetStudio(ctx, name)
}

// ChooseImage asks for an image file (a cover or a screenshot); "" when cancelled.
func (a *App) ChooseImage(title string) (string, error) {
	return runtime.OpenFileDialog(a.wctx, runtime.OpenDialogOptions{Title: title,
		Filters: []runtime.FileFilter{{DisplayName: "Images (*.png, *.jpg, *.webp)", Pattern: "*.png;*.jpg;*.jpeg;*.webp"}}})
}

// UploadImage adds an image to a game: its cover (cover true, replacing it) or its last
// screenshot; it returns the game with its images.
func (a *App) UploadImage(gameID string, cover bool, path string) (core.DevGame, error) {
	c, ctx, err := a.current()
	if err != nil {
		return core.DevGame{}, err
	}
	return c.UploadImage(ctx, gameID, cover, path)
}

// DeleteImage removes an image from a game and returns the game.
func (a *App) DeleteImage(gameID, imageID string) (core.DevGame, error) {
	c, ctx, err := a.current()
	if err != nil {
		return core.DevGame{}, err
	}
	return c.DeleteImage(ctx, gameID, imageID)
}

// MyGames returns the developer's games with their releases.
func (a *App) MyGames() ([]core.DevGame, error) {
	c, ctx, err := a.current()
	if err != nil {
		return nil, err
	}
	return c.MyGames(ctx)
}

// CreateGame creates a game (a draft).
func (a *App) CreateGame(d core.GameDraft) (core.DevGame, error) {
	c, ctx, err := a.current()
	if err != nil {
		return core.DevGame{}, err
	}
	return c.CreateGame(ctx, d)
}

// UpdateGame saves a game's title, summary, description and price.
func (a *App) UpdateGame(gameID string, d core.GameDraft) (core.DevGame, error) {
	c, ctx, err := a.current()
	if err != nil {
		return core.DevGame{}, err
	}
	return c.UpdateGame(ctx, gameID, d)
}

// SetGameStatus sets a game's listing: DRAFT, UNLISTED or LISTED.
func (a *App) SetGameStatus(gameID, status string) (core.DevGame, error) {
	c, ctx, err := a.current()
	if err != nil {
		return core.DevGame{}, err
	}
	return c.SetGameStatus(ctx, gameID, status)
}

// CreateRelease creates an unpublished release.
func (a *App) CreateRelease(gameID, version, notesMD string) (core.DevRelease, error) {
	c, ctx, err := a.current()
	if err != nil {
		return core.DevRelease{}, err
	}
	return c.CreateRelease(ctx, gameID, version, notesMD)
}

// PreviewBuild compares a build zip with the previous release's build.
func (a *App) PreviewBuild(releaseID, zip string) (core.BuildDiff, error) {
	c, ctx, err := a.current()
	if err != nil {
		return core.BuildDiff{}, err
	}
	return c.PreviewBuild(ctx, releaseID, strings.TrimSpace(zip))
}

// UploadBuild uploads a build zip for a release in the background; its phases come as
// "upload" events, the last one ready, refused or failed.
func (a *App) UploadBuild(releaseID, zip string) error {
	c, ctx, err := a.current()
	if err != nil {
		return err
	}
	zip = strings.TrimSpace(zip)
	if _, err := os.Stat(zip); err != nil {
		return fmt.Errorf("cannot read the build: %w", err)
	}
	go func() {
		_, _ = c.UploadBuild(ctx, releaseID, zip, func(p core.UploadProgress) { a.emit("upload", p) })
	}()
	return nil
}

// PublishRelease publishes a release whose build is ready.
func (a *App) PublishRelease(releaseID string) (core.DevRelease, error) {
	c, ctx, err := a.current()
	if err != nil {
		return core.DevRelease{}, err
	}
	return c.PublishRelease(ctx, releaseID)
}

// Sales returns a game's sales and totals.
func (a *App) Sales(gameID string) (core.SalesReport, error) {
	c, ctx, err := a.current()
	if err != nil {
		return core.SalesReport{}, err
	}
	return c.Sales(ctx, gameID)
}

// Ledger returns a game's ledger entries.
func (a *App) Ledger(gameID string) ([]core.LedgerEntry, error) {
	c, ctx, err := a.current()
	if err != nil {
		return nil, err
	}
	return c.Ledger(ctx, gameID)
}

// Payouts returns a game's payouts.
func (a *App) Payouts(gameID string) ([]core.Payout, error) {
	c, ctx, err := a.current()
	if err != nil {
		return nil, err
	}
	return c.Payouts(ctx, gameID)
}
