package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"satchel.dev/desktop/core"
	"satchel.dev/desktop/internal/testenv"
	"satchel.dev/desktop/library"
	"satchel.dev/desktop/settings"
)

// env holds the real parts every test of this package runs against: satchel-server with its
// private PostgreSQL cluster and the demo catalog, and a D-Bus session with gnome-keyring (the
// OS keyring the bridge keeps identities in). The end-to-end tests (tag e2e) add a display,
// `wails dev`, the built launcher and a browser.
var env struct {
	root    string
	bin     string
	server  *testenv.Server
	session *testenv.Session
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	// Short: the keyring's sockets live under it.
	if env.root, err = os.MkdirTemp("", "sl-app"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(env.root)
	env.bin = filepath.Join(env.root, "bin")
	if err = testenv.Build(env.bin, testenv.ServerPackages()...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if env.server, err = testenv.StartServer(env.bin, filepath.Join(env.root, "server")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { env.server.Stop() }() // the server of the end, which a test may have restarted
	if env.session, err = testenv.StartSession(filepath.Join(env.root, "kr")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.session.Stop()
	if err = env.session.Setenv(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// event is one event the bridge sent to the window.
type event struct {
	name string
	data any
}

// window plays the window: it records the bridge's events.
type window struct {
	mu     sync.Mutex
	events []event
	signal chan struct{}
}

func (w *window) emit(name string, data any) {
	w.mu.Lock()
	w.events = append(w.events, event{name, data})
	w.mu.Unlock()
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

// wait returns the first event from index from on that matches, and the index after it.
func (w *window) wait(t *testing.T, from int, what string, match func(event) bool) (event, int) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		w.mu.Lock()
		for i := from; i < len(w.events); i++ {
			e := w.events[i]
			if ce, ok := e.data.(core.Event); ok && ce.Kind == core.EventInstallFailed && ce.Problem != core.ProblemCancelled {
				w.mu.Unlock()
				t.Fatalf("waiting for %s: install failed: %s", what, ce.Message)
			}
			if match(e) {
				w.mu.Unlock()
				return e, i + 1
			}
		}
		w.mu.Unlock()
		select {
		case <-w.signal:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no event: %s", what)
		}
	}
}

func (w *window) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.events)
}

func coreEvent(kind core.EventKind, slug string) func(event) bool {
	return func(e event) bool {
		ce, ok := e.data.(core.Event)
		return e.name == "core" && ok && ce.Kind == kind && ce.Slug == slug
	}
}

// launcher starts a bridge over fresh folders, as the window's startup does.
type launcher struct {
	*App
	w      *window
	dirs   settings.Dirs
	marker string
}

func start(t *testing.T, tweak ...func(*Config)) *launcher {
	t.Helper()
	root := t.TempDir()
	l := &launcher{w: &window{signal: make(chan struct{}, 1)},
		dirs:   settings.Dirs{Data: filepath.Join(root, "data"), Config: filepath.Join(root, "config")},
		marker: filepath.Join(root, "marker")}
	cfg := Config{Dirs: l.dirs, Server: env.server.URL, LaunchGrace: 300 * time.Millisecond,
		GameEnv: append(os.Environ(), "SATCHEL_DEMO_MARKER="+l.marker), Emit: l.w.emit,
		Terminal: func() ([]string, error) { return []string{"env"}, nil }} // no desktop here: terminal games run directly
	for _, f := range tweak {
		f(&cfg)
	}
	l.App = New(cfg)
	l.startup(context.Background())
	t.Cleanup(func() { l.shutdownWindow(context.Background()) })
	return l
}

func (l *launcher) game(t *testing.T, slug string) LibraryGame {
	t.Helper()
	v, err := l.Library()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range v.Games {
		if g.Entry.Slug == slug {
			return g
		}
	}
	t.Fatalf("%s is not in the library: %+v", slug, v.Games)
	return LibraryGame{}
}

// TestPlayer goes through a player's first run as the window does: create an identity, browse
// the store, buy with test money and see PAID from the purchase stream within a second, watch
// the game install by itself, play it, and uninstall it for good.
func TestPlayer(t *testing.T) {
	l := start(t)
	if st := l.Status(); st.Identity != nil || st.Error != "" || st.Server != env.server.URL {
		t.Fatalf("first run status: %+v", st)
	}
	st, err := l.CreateIdentity("")
	if err != nil {
		t.Fatal(err)
	}
	if st.Identity == nil || !strings.HasPrefix(st.Identity.Npub, "npub1") {
		t.Fatalf("status after creating an identity: %+v", st)
	}
	// The secret is in the keyring only: the config folder names the public key and no more.
	b, err := os.ReadFile(filepath.Join(l.dirs.Config, "identities.json"))
	if err != nil || strings.Contains(string(b), "nsec") || !strings.Contains(string(b), st.Identity.Pubkey) {
		t.Fatalf("identities.json: %s, %v", b, err)
	}

	page, err := l.Games("", "")
	if err != nil || len(page.Games) < 4 || page.Games[0].Slug != "lantern-drift" || !page.Games[0].Featured {
		t.Fatalf("Games = %+v, %v", page, err)
	}
	if found, err := l.Games("orbits", ""); err != nil || len(found.Games) != 1 || found.Games[0].Slug != "pocket-orbits" {
		t.Errorf("searching the store: %+v, %v", found, err)
	}
	view, err := l.Game("lantern-drift")
	if err != nil || view.Owned || view.Game.PriceMsat != 2_100_000 || view.Game.Latest != "1.0.0" || view.Game.LatestSize == 0 ||
		!strings.Contains(view.Game.DescriptionMD, "# Lantern Drift") || len(view.Game.Releases) != 2 || view.Game.Releases[0].Version != "1.0.0" {
		t.Fatalf("Game = %+v, %v", view, err)
	}

	p, err := l.Buy("lantern-drift", false)
	if err != nil || p.Status != "PENDING" || !strings.HasPrefix(p.Invoice, "lnbcrt") || !p.TestMoney || p.Guest || p.AmountMsat != 2_100_000 {
		t.Fatalf("Buy = %+v, %v", p, err)
	}
	if !l.Status().TestMoney {
		t.Error("Status does not say the server takes test money")
	}
	from := l.w.count()
	if err := l.PayTestMoney(p.Invoice); err != nil {
		t.Fatal(err)
	}
	l.w.wait(t, from, "PAID", func(e event) bool {
		u, ok := e.data.(core.Purchase)
		return e.name == "purchase" && ok && u.ID == p.ID && u.Status == "PAID"
	})
	l.w.wait(t, from, "progress", coreEvent(core.EventProgress, "lantern-drift"))
	l.w.wait(t, from, "installed", coreEvent(core.EventInstalled, "lantern-drift"))
	if g := l.game(t, "lantern-drift"); !g.Entry.Owned || g.Entry.Installed != "1.0.0" || g.Job != nil {
		t.Fatalf("library after the purchase: %+v", g)
	}
	if v, err := l.Game("lantern-drift"); err != nil || !v.Owned || v.Entry == nil || v.Entry.Installed != "1.0.0" {
		t.Errorf("game page after the purchase: %+v, %v", v, err)
	}

	from = l.w.count()
	s, err := l.Play("lantern-drift")
	if err != nil || s.Version != "1.0.0" || s.PID == 0 {
		t.Fatalf("Play = %+v, %v", s, err)
	}
	l.w.wait(t, from, "exited", coreEvent(core.EventExited, "lantern-drift"))
	if b, _ := os.ReadFile(l.marker); !strings.HasPrefix(string(b), "Lantern Drift ") {
		t.Errorf("marker = %q", b)
	}
	// Without a file manager, Open folder says where the folder is.
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "xdg-open"), []byte("#!/bin/sh\necho \"xdg-open: no method available for opening '$1'\" >&2\nexit 3\n"), 0o755)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := l.game(t, "lantern-drift").Entry.Dir
	if err := l.OpenFolder("lantern-drift"); err == nil || !strings.Contains(err.Error(), "no method available") || !strings.HasSuffix(err.Error(), "the game is in "+dir) {
		t.Errorf("OpenFolder without a file manager = %v, want where the folder (%s) is", err, dir)
	}
	rep, err := l.Verify("lantern-drift", false)
	if err != nil || !rep.OK() || rep.Checked == 0 {
		t.Errorf("Verify = %+v, %v", rep, err)
	}
	if err := l.Uninstall("lantern-drift"); err != nil {
		t.Fatal(err)
	}
	if g := l.game(t, "lantern-drift"); g.Entry.Installed != "" || !g.Entry.Owned {
		t.Errorf("after uninstalling: %+v", g)
	}
	// It stays uninstalled: a refresh runs auto-update over every game before it returns, and
	// auto-update updates installed games only.
	if _, err := l.RefreshLibrary(); err != nil {
		t.Fatal(err)
	}
	if g := l.game(t, "lantern-drift"); g.Job != nil || g.Entry.Installing != "" || g.Entry.Installed != "" {
		t.Errorf("auto-update installed an uninstalled game again: %+v", g)
	}
}

// TestGuest buys without an identity, keeps the receipt code, and claims the purchase once
// an identity exists.
func TestGuest(t *testing.T) {
	l := start(t)
	p, err := l.Buy("signal-garden", false) // no identity: a guest purchase
	if err != nil || !p.Guest || p.ReceiptCode == "" || p.Status != "PENDING" {
		t.Fatalf("Buy = %+v, %v", p, err)
	}
	from := l.w.count()
	if err := l.PayTestMoney(p.Invoice); err != nil {
		t.Fatal(err)
	}
	l.w.wait(t, from, "PAID", func(e event) bool {
		u, ok := e.data.(core.Purchase)
		return ok && u.ID == p.ID && u.Status == "PAID" && u.ReceiptCode == p.ReceiptCode
	})
	l.w.wait(t, from, "installed", coreEvent(core.EventInstalled, "signal-garden"))
	if _, err := l.ClaimReceipt(p.ReceiptCode); err == nil {
		t.Error("claimed a receipt without an identity")
	}
	if _, err := l.CreateIdentity("guest no more"); err != nil {
		t.Fatal(err)
	}
	c, err := l.ClaimReceipt(" " + p.ReceiptCode + " ")
	if err != nil || c.ID != p.ID {
		t.Fatalf("ClaimReceipt = %+v, %v", c, err)
	}
	if g := l.game(t, "signal-garden"); !g.Entry.Owned || g.Entry.Installed == "" {
		t.Errorf("after the claim: %+v", g)
	}
}

// TestCheckoutSurvivesServerRestart: with the checkout open, the server stops and starts
// again. The window hears that the checkout is reconnecting, then, the invoice paid after the
// restart, PAID; the game installs. Opening the checkout again meanwhile returns the same
// purchase, never a second invoice.
func TestCheckoutSurvivesServerRestart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := filepath.Join(env.root, "restart") // short: the server's database socket lives under it
	srv, err := testenv.StartServer(env.bin, dir, "--listen", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Stop() }()
	l := start(t, func(c *Config) { c.Server = srv.URL })
	if _, err := l.CreateIdentity(""); err != nil {
		t.Fatal(err)
	}
	p, err := l.Buy("lantern-drift", false)
	if err != nil || p.Status != core.PurchasePending {
		t.Fatalf("Buy = %+v, %v", p, err)
	}
	purchase := func(match func(core.Purchase) bool) func(event) bool {
		return func(e event) bool {
			u, ok := e.data.(core.Purchase)
			if e.name == "purchase-error" {
				t.Fatalf("following the purchase failed: %+v", e.data)
			}
			return e.name == "purchase" && ok && u.ID == p.ID && match(u)
		}
	}
	_, from := l.w.wait(t, 0, "the purchase followed", purchase(func(u core.Purchase) bool { return !u.Reconnecting }))

	if err := srv.Stop(); err != nil {
		t.Logf("the server stopped with %v", err) // its exit code is the server's business here
	}
	_, from = l.w.wait(t, from, "reconnecting", purchase(func(u core.Purchase) bool { return u.Reconnecting }))
	if srv, err = testenv.StartServer(env.bin, dir, "--listen", addr); err != nil {
		t.Fatal(err)
	}
	again, err := l.Buy("lantern-drift", false)
	if err != nil || again.ID != p.ID || again.Invoice != p.Invoice {
		t.Fatalf("the checkout opened again = %+v, %v; want the open purchase %s", again, err, p.ID)
	}
	if err := l.PayTestMoney(p.Invoice); err != nil {
		t.Fatal(err)
	}
	l.w.wait(t, from, "PAID", purchase(func(u core.Purchase) bool { return u.Status == core.PurchasePaid && !u.Reconnecting }))
	l.w.wait(t, from, "installed", coreEvent(core.EventInstalled, "lantern-drift"))
}

// TestIdentitiesKeptApart: two identities on one launcher. The second does not see (or play)
// the first one's game, though its files are installed; a game bought as a guest is in both
// libraries as a guest's, not as one that left them. Identities are labelled and removed, the
// removed one's key gone from the keyring.
func TestIdentitiesKeptApart(t *testing.T) {
	l := start(t)
	first, err := l.CreateIdentity("first")
	if err != nil {
		t.Fatal(err)
	}
	from := l.w.count()
	if p, err := l.Buy("moss-and-mortar", false); err != nil || p.Status != core.PurchasePaid {
		t.Fatalf("Buy = %+v, %v", p, err)
	}
	l.w.wait(t, from, "installed", coreEvent(core.EventInstalled, "moss-and-mortar"))

	second, err := l.CreateIdentity("")
	if err != nil || second.Identity.Pubkey == first.Identity.Pubkey {
		t.Fatalf("CreateIdentity = %+v, %v", second, err)
	}
	slugs := func() map[string]library.Entry {
		t.Helper()
		v, err := l.Library()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]library.Entry{}
		for _, g := range v.Games {
			out[g.Entry.Slug] = g.Entry
		}
		return out
	}
	if lib := slugs(); len(lib) != 0 {
		t.Errorf("the second identity's library: %+v", lib)
	}
	if v, err := l.Game("moss-and-mortar"); err != nil || v.Owned || v.Entry != nil {
		t.Errorf("the first identity's game, seen by the second: %+v, %v", v, err)
	}
	if _, err := l.Play("moss-and-mortar"); err == nil || !strings.Contains(err.Error(), "another identity owns it") {
		t.Errorf("the second identity played the first one's game: %v", err)
	}

	p, err := l.Buy("signal-garden", true)
	if err != nil || !p.Guest {
		t.Fatalf("guest Buy = %+v, %v", p, err)
	}
	from = l.w.count()
	if err := l.PayTestMoney(p.Invoice); err != nil {
		t.Fatal(err)
	}
	l.w.wait(t, from, "installed", coreEvent(core.EventInstalled, "signal-garden"))
	if e := slugs()["signal-garden"]; !e.Guest || e.Owned || e.Installed == "" {
		t.Errorf("a guest purchase in the library: %+v", e)
	}

	if id, err := l.LabelIdentity(first.Identity.Npub, " renamed "); err != nil || id.Label != "renamed" || id.Active {
		t.Errorf("LabelIdentity = %+v, %v", id, err)
	}
	if _, err := l.UseIdentity(first.Identity.Pubkey); err != nil {
		t.Fatal(err)
	}
	if lib := slugs(); len(lib) != 2 || !lib["moss-and-mortar"].Owned || !lib["signal-garden"].Guest {
		t.Errorf("the first identity's library: %+v", lib)
	}

	if _, err := l.ExportIdentity(second.Identity.Pubkey); err != nil {
		t.Fatal(err)
	}
	if st, err := l.RemoveIdentity(second.Identity.Pubkey); err != nil || st.Identity == nil || st.Identity.Pubkey != first.Identity.Pubkey {
		t.Fatalf("RemoveIdentity = %+v, %v", st, err)
	}
	if ids, err := l.Identities(); err != nil || len(ids) != 1 || ids[0].Label != "renamed" {
		t.Errorf("Identities = %+v, %v", ids, err)
	}
	if _, err := l.ExportIdentity(second.Identity.Pubkey); err == nil {
		t.Error("a removed identity's key can still be exported")
	}
}

// TestDownloadQueue pauses, resumes and cancels a slowed-down download.
func TestDownloadQueue(t *testing.T) {
	l := start(t)
	if _, err := l.CreateIdentity(""); err != nil {
		t.Fatal(err)
	}
	if err := l.SetSpeedLimit(32 << 10); err != nil {
		t.Fatal(err)
	}
	if set, err := l.Settings(); err != nil || set.SpeedLimit != 32<<10 || !set.AutoUpdate || set.Library == "" {
		t.Fatalf("Settings = %+v, %v", set, err)
	}
	p, err := l.Buy("moss-and-mortar", false) // free: PAID at once, installs by itself
	if err != nil || p.Status != "PAID" {
		t.Fatalf("Buy = %+v, %v", p, err)
	}
	l.w.wait(t, 0, "download progress", func(e event) bool {
		ce, ok := e.data.(core.Event)
		return ok && ce.Kind == core.EventProgress && ce.Progress.Phase == "downloading" && ce.Progress.Done > 0
	})
	if err := l.Pause("moss-and-mortar"); err != nil {
		t.Fatal(err)
	}
	g := l.game(t, "moss-and-mortar")
	if !g.Paused || g.Job != nil || g.Entry.Installing == "" {
		t.Fatalf("paused: %+v", g)
	}
	// A library refresh runs auto-update over every game before it returns.
	if _, err := l.RefreshLibrary(); err != nil {
		t.Fatal(err)
	}
	if g := l.game(t, "moss-and-mortar"); g.Job != nil {
		t.Fatalf("auto-update resumed a paused download: %+v", g)
	}
	from := l.w.count()
	if err := l.Install("moss-and-mortar"); err != nil {
		t.Fatal(err)
	}
	l.w.wait(t, from, "a resumed download", func(e event) bool {
		ce, ok := e.data.(core.Event)
		return ok && ce.Kind == core.EventProgress && ce.Progress.Resumed > 0
	})
	if err := l.CancelInstall("moss-and-mortar"); err != nil {
		t.Fatal(err)
	}
	g = l.game(t, "moss-and-mortar")
	if g.Job != nil || g.Paused || g.Entry.Installing != "" || g.Entry.Installed != "" {
		t.Fatalf("cancelled: %+v", g)
	}
	if left, _ := filepath.Glob(filepath.Join(l.dirs.Data, "library", ".downloads", "*")); len(left) > 0 {
		t.Errorf("a cancelled download left %v", left)
	}
	// The limit off, an install goes through.
	if err := l.SetSpeedLimit(0); err != nil {
		t.Fatal(err)
	}
	from = l.w.count()
	if err := l.Install("moss-and-mortar"); err != nil {
		t.Fatal(err)
	}
	l.w.wait(t, from, "installed", coreEvent(core.EventInstalled, "moss-and-mortar"))
}

// TestDeveloper works the Developer tab as the demo developer: a new game, a release, a
// preview of a build against the previous one, an upload in phases, a refused build, and
// publishing.
func TestDeveloper(t *testing.T) {
	l := start(t)
	if _, err := l.Account(); err == nil {
		t.Error("Account without an identity")
	}
	key := testenv.DemoDeveloperKey()
	if _, err := l.ImportIdentity(hex.EncodeToString(key[:]), "demo developer"); err != nil {
		t.Fatal(err)
	}
	acct, err := l.Account()
	if err != nil || !acct.Developer || acct.Pubkey != key.PublicKey().Hex() {
		t.Fatalf("Account = %+v, %v", acct, err)
	}
	var rnd [4]byte
	rand.Read(rnd[:])
	slug := "test-" + hex.EncodeToString(rnd[:])
	g, err := l.CreateGame(core.GameDraft{Slug: slug, Title: "Test Game", Summary: "s", DescriptionMD: "# Test", PriceMsat: 5_000_000})
	if err != nil || g.Status != "DRAFT" || g.Slug != slug {
		t.Fatalf("CreateGame = %+v, %v", g, err)
	}
	if g, err = l.UpdateGame(g.ID, core.GameDraft{Title: "Test Game 2", Summary: "s2", DescriptionMD: "# Two", PriceMsat: 7_000_000}); err != nil || g.Title != "Test Game 2" || g.PriceMsat != 7_000_000 {
		t.Fatalf("UpdateGame = %+v, %v", g, err)
	}
	dir := t.TempDir()
	files, err := testenv.GameBuild(filepath.Join(env.bin, "satchel-demo-game"), slug, "Test Game", nil)
	if err != nil {
		t.Fatal(err)
	}
	zip1 := filepath.Join(dir, "v1.zip")
	if _, _, err := testenv.WriteZip(zip1, files); err != nil {
		t.Fatal(err)
	}
	r1, err := l.CreateRelease(g.ID, "1.0.0", "First.")
	if err != nil {
		t.Fatal(err)
	}
	diff, err := l.PreviewBuild(r1.ID, zip1)
	if err != nil || diff.Against != "" || diff.Files != 3 || len(diff.Added) != 3 {
		t.Fatalf("PreviewBuild of the first build = %+v, %v", diff, err)
	}
	phases := upload(t, l, r1.ID, zip1)
	if strings.Join(phases, " ") != "hashing uploading checking ready" {
		t.Errorf("upload phases: %v", phases)
	}
	if _, err := l.PublishRelease(r1.ID); err != nil {
		t.Fatal(err)
	}
	if g, err = l.SetGameStatus(g.ID, "LISTED"); err != nil || g.Status != "LISTED" {
		t.Fatalf("SetGameStatus = %+v, %v", g, err)
	}

	r2, err := l.CreateRelease(g.ID, "1.1.0", "")
	if err != nil {
		t.Fatal(err)
	}
	files[0].Body = append(files[0].Body, "# changed\n"...)
	zip2 := filepath.Join(dir, "v2.zip")
	if _, _, err := testenv.WriteZip(zip2, append(files, testenv.File{Name: "levels/new.txt", Body: []byte("x")})); err != nil {
		t.Fatal(err)
	}
	diff, err = l.PreviewBuild(r2.ID, zip2)
	if err != nil || diff.Against != "1.0.0" || len(diff.Added) != 1 || diff.Added[0].Path != "levels/new.txt" ||
		len(diff.Changed) != 1 || diff.Changed[0].Path != "satchel.toml" || len(diff.Removed) != 0 || diff.Unchanged != 2 {
		t.Fatalf("PreviewBuild against 1.0.0 = %+v, %v", diff, err)
	}
	bad := filepath.Join(dir, "bad.zip")
	os.WriteFile(bad, []byte("not a zip at all"), 0o644)
	if _, err := l.PreviewBuild(r2.ID, bad); err == nil || !strings.Contains(err.Error(), "cannot be a build") {
		t.Errorf("PreviewBuild of a non-zip: %v", err)
	}
	phases = upload(t, l, r2.ID, bad)
	if phases[len(phases)-1] != "refused" {
		t.Errorf("uploading a non-zip: %v", phases)
	}
	games, err := l.MyGames()
	if err != nil {
		t.Fatal(err)
	}
	for _, mg := range games {
		if mg.ID != g.ID {
			continue
		}
		if len(mg.Releases) != 2 || mg.Releases[0].Version != "1.1.0" || mg.Releases[0].Upload == nil ||
			mg.Releases[0].Upload.Phase != core.UploadRefused || mg.Releases[0].Upload.Error == "" || !mg.Releases[1].Published || mg.Releases[1].Build == nil {
			b, _ := json.Marshal(mg)
			t.Errorf("MyGames: %s", b)
		}
	}
	if rep, err := l.Sales(g.ID); err != nil || rep.Totals.Count != 0 {
		t.Errorf("Sales = %+v, %v", rep, err)
	}
	if _, err := l.Ledger(g.ID); err != nil {
		t.Error(err)
	}
	if _, err := l.Payouts(g.ID); err != nil {
		t.Error(err)
	}
}

// upload uploads zip for release and returns the phases it went through, in order.
func upload(t *testing.T, l *launcher, release, zip string) []string {
	t.Helper()
	from := l.w.count()
	if err := l.UploadBuild(release, zip); err != nil {
		t.Fatal(err)
	}
	var phases []string
	for {
		e, next := l.w.wait(t, from, "upload progress", func(e event) bool { return e.name == "upload" })
		from = next
		p := e.data.(core.UploadProgress)
		if len(phases) == 0 || phases[len(phases)-1] != string(p.Phase) {
			phases = append(phases, string(p.Phase))
		}
		if p.Phase == core.UploadReady || p.Phase == core.UploadRefused || p.Phase == core.UploadFailed {
			return phases
		}
	}
}

// TestTestMoneyAtOnce: the window hears that the server takes test money only as soon as the
// launcher opens, before any purchase, so its banner shows in the main window.
func TestTestMoneyAtOnce(t *testing.T) {
	l := start(t)
	l.w.wait(t, 0, "a session event with test money", func(e event) bool {
		st, ok := e.data.(Status)
		return e.name == "session" && ok && st.TestMoney
	})
	if !l.Status().TestMoney {
		t.Error("Status does not say the server takes test money")
	}
}

// TestBootData checks the page the window loads: index.html carries the status and the
// store's first page, and other files pass unchanged.
func TestBootData(t *testing.T) {
	// The page waits on the data itself, not on a clock that a loaded machine outruns.
	l := start(t, func(c *Config) { c.BootWait = time.Minute })
	// The startup fetches the first page once; a new identity reopening the engine meanwhile
	// would cancel that fetch.
	<-l.first.done
	if l.first.page == nil {
		t.Fatal("the startup did not fetch the store's first page")
	}
	if _, err := l.CreateIdentity(""); err != nil {
		t.Fatal(err)
	}
	assets := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><html><head><title>x</title></head><body>"+r.URL.Path+"</body></html>")
	})
	h := l.bootMiddleware(assets)
	res := httptest.NewRecorder()
	h.ServeHTTP(res, httptest.NewRequest(http.MethodGet, "/", nil))
	page := res.Body.String()
	const prefix = "<head><script>window.__satchelBoot = "
	i := strings.Index(page, prefix)
	j := strings.Index(page, ";</script><title>")
	if i < 0 || j < i || res.Header().Get("Content-Length") != fmt.Sprint(len(page)) {
		t.Fatalf("index.html: %s", page)
	}
	var b boot
	if err := json.Unmarshal([]byte(page[i+len(prefix):j]), &b); err != nil {
		t.Fatal(err)
	}
	if b.Status == nil || b.Status.Identity == nil || b.Games == nil || b.Games.Games[0].Slug != "lantern-drift" {
		t.Errorf("boot data: %+v", b)
	}
	res = httptest.NewRecorder()
	h.ServeHTTP(res, httptest.NewRequest(http.MethodGet, "/assets/x.js", nil))
	if strings.Contains(res.Body.String(), "__satchelBoot") {
		t.Errorf("another file got the boot data: %s", res.Body)
	}
}
