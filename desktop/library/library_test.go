package library_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	catalogv1 "satchel.dev/shared/api/satchel/catalog/v1"
	purchasev1 "satchel.dev/shared/api/satchel/purchase/v1"
	"satchel.dev/shared/nostr"

	"satchel.dev/desktop/client"
	"satchel.dev/desktop/internal/testenv"
	"satchel.dev/desktop/library"
	"satchel.dev/desktop/publish"
	"satchel.dev/desktop/settings"
	"satchel.dev/desktop/state"
)

var env struct {
	bin    string
	server *testenv.Server
}

func TestMain(m *testing.M) {
	root, err := os.MkdirTemp("", "satchel-library")
	if err == nil {
		env.bin = filepath.Join(root, "bin")
		err = testenv.Build(env.bin, testenv.ServerPackages()...)
	}
	if err == nil {
		env.server, err = testenv.StartServer(env.bin, filepath.Join(root, "server"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	env.server.Stop()
	os.RemoveAll(root)
	os.Exit(code)
}

// TestSyncCatchesUpAfterReconnect follows a player's library through a connection that
// drops: a release published while the player is cut off arrives once the stream reconnects,
// replayed from the last resume token (no re-list).
func TestSyncCatchesUpAfterReconnect(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	u, _ := url.Parse(env.server.URL)
	proxy, err := testenv.StartProxy(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	// The player's requests name the server's URL (NIP-98 signs it) but go through the proxy.
	tr := client.NewTransport()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, proxy.Addr)
	}
	key, _ := nostr.GenerateKey()
	player, err := client.New(client.Config{BaseURL: env.server.URL, Signer: key, Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var changes [][]string
	s := library.NewSyncer(library.SyncConfig{API: player.Library, State: store, Owner: key.PublicKey().Hex(), MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		OnChange: func(slugs []string) {
			mu.Lock()
			changes = append(changes, slugs)
			mu.Unlock()
		}})
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, "connected", func() bool { return s.Status().Connected })

	// Buying the free demo game arrives on the stream.
	gg, err := player.Catalog.GetGame(ctx, &catalogv1.GetGameRequest{Slug: "moss-and-mortar"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := player.Purchase.CreatePurchase(ctx, &purchasev1.CreatePurchaseRequest{GameId: gg.GetGame().GetId(), RequestId: "sync-test-0001"}); err != nil {
		t.Fatal(err)
	}
	latest := func(v string) func() bool {
		return func() bool {
			st, _ := store.Load()
			g := st.Games["moss-and-mortar"]
			return g != nil && g.Owned && g.Latest != nil && g.Latest.Version == v
		}
	}
	waitFor(t, "the purchase arrives", latest("1.2.0"))

	// Cut the connection and refuse new ones; publish meanwhile.
	proxy.Cut(true)
	waitFor(t, "disconnected", func() bool { return !s.Status().Connected })
	mu.Lock()
	changes = nil
	mu.Unlock()
	zip := filepath.Join(t.TempDir(), "build.zip")
	files, err := testenv.GameBuild(filepath.Join(env.bin, "satchel-demo-game"), "moss-and-mortar", "Moss & Mortar", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := testenv.WriteZip(zip, files); err != nil {
		t.Fatal(err)
	}
	dev, err := client.New(client.Config{BaseURL: env.server.URL, Signer: testenv.DemoDeveloperKey()})
	if err != nil {
		t.Fatal(err)
	}
	pusher := &publish.Pusher{Client: dev, HTTP: http.DefaultClient}
	if _, err := pusher.Push(ctx, publish.PushOptions{Slug: "moss-and-mortar", Version: "1.3.0", Zip: zip, Publish: true}, nil); err != nil {
		t.Fatal(err)
	}
	// Two reconnects begun after the publish: the first of them has been tried and refused.
	tried := s.Status().Reconnects + 2
	waitFor(t, "reconnects through the cut", func() bool { return s.Status().Reconnects >= tried })
	if latest("1.3.0")() {
		t.Fatal("the release arrived through a cut connection")
	}

	proxy.Restore()
	waitFor(t, "the missed release arrives", latest("1.3.0"))
	mu.Lock()
	got := slices.Clone(changes)
	mu.Unlock()
	if diff := cmp.Diff([][]string{{"moss-and-mortar"}}, got); diff != "" {
		t.Errorf("changes after the reconnect (-want +got), want only the replayed one (no re-list):\n%s", diff)
	}
	if st := s.Status(); st.Reconnects < 1 || !st.Connected {
		t.Errorf("status = %+v", st)
	}

	st, _ := store.Load()
	view := library.View(st, settings.Settings{}.WithDefaults(), key.PublicKey().Hex())
	if len(view) != 1 || view[0].Status != library.StatusNotInstalled || view[0].Latest != "1.3.0" || !view[0].AutoUpdate {
		t.Errorf("view = %+v", view)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

// TestView: what the library of the identity "me" shows of each game, what auto-update
// does with it (updates installed games only; installs a game just bought), and what the
// library of no identity shows (the guest purchases, never another identity's games).
func TestView(t *testing.T) {
	rel := func(id, v string) *state.Release { return &state.Release{ReleaseID: id, Version: v} }
	inst := func(id, v string) *state.Install { return &state.Install{Release: *rel(id, v), Dir: "g/" + v} }
	off := false
	mine, theirs := []string{"me"}, []string{"them"}
	tests := []struct {
		name    string
		game    state.Game
		set     settings.Settings
		want    library.Status // "": not in my library
		owned   bool
		auto    bool
		update  bool // NeedsUpdate
		install bool // NeedsInstall
		guest   bool // in the library of no identity
	}{
		{"owned, not installed", state.Game{Owned: true, Owners: mine, Latest: rel("r1", "1.0")}, settings.Settings{}, library.StatusNotInstalled, true, true, false, true, false},
		{"no release yet", state.Game{Owned: true, Owners: mine}, settings.Settings{}, library.StatusNoRelease, true, true, false, false, false},
		{"up to date", state.Game{Owned: true, Owners: mine, Latest: rel("r1", "1.0"), Current: inst("r1", "1.0")}, settings.Settings{}, library.StatusInstalled, true, true, false, false, false},
		{"update available", state.Game{Owned: true, Owners: mine, Latest: rel("r2", "2.0"), Current: inst("r1", "1.0")}, settings.Settings{AutoUpdate: &off}, library.StatusUpdateAvailable, true, false, true, true, false},
		{"per-game override", state.Game{Owned: true, Owners: mine, Latest: rel("r2", "2.0"), Current: inst("r1", "1.0")}, settings.Settings{GameAutoUpdate: map[string]bool{"g": false}}, library.StatusUpdateAvailable, true, false, true, true, false},
		{"installing", state.Game{Owned: true, Owners: mine, Latest: rel("r2", "2.0"), Current: inst("r1", "1.0"), Pending: &state.Pending{Release: *rel("r2", "2.0")}}, settings.Settings{}, library.StatusInstalling, true, true, true, true, false},
		{"failed release skipped", state.Game{Owned: true, Owners: mine, Latest: rel("r2", "2.0"), Current: inst("r1", "1.0"), Failed: &state.Failure{ReleaseID: "r2"}}, settings.Settings{}, library.StatusUpdateAvailable, true, true, false, false, false},
		{"no longer owned", state.Game{Latest: rel("r2", "2.0"), Current: inst("r1", "1.0")}, settings.Settings{}, library.StatusInstalled, false, true, false, false, false},
		{"bought as a guest", state.Game{Guest: true, Latest: rel("r1", "1.0"), Current: inst("r1", "1.0")}, settings.Settings{}, library.StatusInstalled, false, true, false, false, true},
		{"another identity's, installed", state.Game{Owned: true, Owners: theirs, Latest: rel("r2", "2.0"), Current: inst("r1", "1.0")}, settings.Settings{}, "", false, true, false, false, false},
		{"another identity's", state.Game{Owned: true, Owners: theirs, Latest: rel("r1", "1.0")}, settings.Settings{}, "", false, true, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.game
			g.Slug = "g"
			st := &state.State{Library: "/lib", Games: map[string]*state.Game{"g": &g}}
			// A face that reads no identity: every identity's games.
			if all := library.View(st, tt.set.WithDefaults(), library.AnyIdentity); len(all) != 1 || all[0].Owned != g.Owned {
				t.Errorf("the view of any identity = %+v", all)
			}
			// No identity: the guest purchases only, owned by nobody.
			none := library.View(st, tt.set.WithDefaults(), "")
			_, noneFound := library.Find(st, tt.set.WithDefaults(), "g", "")
			if len(none) != 1 && tt.guest || len(none) != 0 && !tt.guest || noneFound != tt.guest || tt.guest && none[0].Owned {
				t.Errorf("the view of no identity = %+v, Find %v; want the game: %v", none, noneFound, tt.guest)
			}
			view := library.View(st, tt.set.WithDefaults(), "me")
			e, found := library.Find(st, tt.set.WithDefaults(), "g", "me")
			switch {
			case tt.want == "" && (len(view) != 0 || found):
				t.Errorf("in my library: view %+v, Find %+v", view, e)
			case tt.want != "" && (len(view) != 1 || !found || view[0] != e):
				t.Errorf("view = %+v, Find = %+v, %v", view, e, found)
			case tt.want != "" && (e.Status != tt.want || e.Owned != tt.owned || e.AutoUpdate != tt.auto):
				t.Errorf("entry = %+v, want status %q owned %v auto-update %v", e, tt.want, tt.owned, tt.auto)
			}
			if got := library.NeedsUpdate(&g, "me"); got != tt.update {
				t.Errorf("NeedsUpdate = %v, want %v", got, tt.update)
			}
			if got := library.NeedsInstall(&g, "me"); got != tt.install {
				t.Errorf("NeedsInstall = %v, want %v", got, tt.install)
			}
		})
	}
}

// TestSyncKeepsIdentitiesApart: two identities share one launcher's state. Each one's library
// is its own; one's sync never takes a game from the other; a game is granted when its
// identity first gets it (and stays granted until an install starts), and a game owned before
// owners were recorded is adopted, not granted.
func TestSyncKeepsIdentitiesApart(t *testing.T) {
	ctx := context.Background()
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	set := settings.Settings{}.WithDefaults()
	type player struct {
		pub    string
		api    *client.Client
		syncer *library.Syncer
	}
	newPlayer := func() *player {
		key, _ := nostr.GenerateKey()
		api, err := client.New(client.Config{BaseURL: env.server.URL, Signer: key})
		if err != nil {
			t.Fatal(err)
		}
		p := &player{pub: key.PublicKey().Hex(), api: api}
		p.syncer = library.NewSyncer(library.SyncConfig{API: api.Library, State: store, Owner: p.pub})
		return p
	}
	a, b := newPlayer(), newPlayer()
	gg, err := a.api.Catalog.GetGame(ctx, &catalogv1.GetGameRequest{Slug: "moss-and-mortar"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.api.Purchase.CreatePurchase(ctx, &purchasev1.CreatePurchaseRequest{GameId: gg.GetGame().GetId(), RequestId: "apart-test-0001"}); err != nil {
		t.Fatal(err)
	}
	slugs := func(p *player) []string {
		st, err := store.Load()
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, e := range library.View(st, set, p.pub) {
			out = append(out, e.Slug)
		}
		return out
	}
	// A's purchase as the state of an older launcher knew it: owned, by nobody in particular.
	// A's first sync adopts it: no grant, as it is no new purchase.
	if _, err := store.Update(func(st *state.State) error {
		st.Games["moss-and-mortar"] = &state.Game{Slug: "moss-and-mortar", GameID: gg.GetGame().GetId(), Owned: true}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	buyB := func() {
		if _, err := b.api.Purchase.CreatePurchase(ctx, &purchasev1.CreatePurchaseRequest{GameId: gg.GetGame().GetId(), RequestId: "apart-test-0002"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []struct {
		before       func()
		who          *player
		wantA, wantB []string
		wantGrantee  *player
	}{
		{nil, a, []string{"moss-and-mortar"}, []string{}, nil},
		{nil, b, []string{"moss-and-mortar"}, []string{}, nil},
		{nil, a, []string{"moss-and-mortar"}, []string{}, nil},
		{buyB, b, []string{"moss-and-mortar"}, []string{"moss-and-mortar"}, b},
		{nil, a, []string{"moss-and-mortar"}, []string{"moss-and-mortar"}, b},
	} {
		if step.before != nil {
			step.before()
		}
		if _, err := step.who.syncer.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(step.wantA, slugs(a)); diff != "" {
			t.Errorf("A's library (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(step.wantB, slugs(b)); diff != "" {
			t.Errorf("B's library (-want +got):\n%s", diff)
		}
		st, err := store.Load()
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		if step.wantGrantee != nil {
			want = step.wantGrantee.pub
		}
		if got := st.Games["moss-and-mortar"].GrantedTo; got != want {
			t.Errorf("granted to %q, want %q", got, want)
		}
	}
}

// TestInstalledGameIsNotGranted: a game already installed when the identity gets it (a guest
// install whose receipt is claimed, another identity's install) is no new game to install:
// it is not granted, so uninstalling it later leaves it uninstalled.
func TestInstalledGameIsNotGranted(t *testing.T) {
	ctx := context.Background()
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, _ := nostr.GenerateKey()
	api, err := client.New(client.Config{BaseURL: env.server.URL, Signer: key})
	if err != nil {
		t.Fatal(err)
	}
	gg, err := api.Catalog.GetGame(ctx, &catalogv1.GetGameRequest{Slug: "moss-and-mortar"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.Purchase.CreatePurchase(ctx, &purchasev1.CreatePurchaseRequest{GameId: gg.GetGame().GetId(), RequestId: "installed-test-0001"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Update(func(st *state.State) error {
		st.Games["moss-and-mortar"] = &state.Game{Slug: "moss-and-mortar", GameID: gg.GetGame().GetId(), Guest: true,
			Current: &state.Install{Release: state.Release{ReleaseID: "r1", Version: "1.2.0"}, Dir: "moss-and-mortar/1.2.0"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	pub := key.PublicKey().Hex()
	if _, err := library.NewSyncer(library.SyncConfig{API: api.Library, State: store, Owner: pub}).Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	if g := st.Games["moss-and-mortar"]; !g.OwnedBy(pub) || g.GrantedTo != "" {
		t.Errorf("owned by the identity %v, granted to %q; want owned, not granted", g.OwnedBy(pub), g.GrantedTo)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}
