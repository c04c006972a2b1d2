package core_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"satchel.dev/desktop/core"
	"satchel.dev/desktop/settings"
	"satchel.dev/desktop/state"
	"satchel.dev/shared/nostr"
)

// TestNoIdentitySeesOnlyGuestGames: a launcher that two identities used, and where a game was
// bought as a guest, opened with no identity (the player removed the last one, or never made
// one). Its library and the store's marks show the guest purchase only: another identity's
// game, installed or not, is not in it, has no page from the library and does not launch. A
// face that reads no identity (the CLI's offline commands) still sees every game. Without an
// identity the Core asks the server for no library, so the window does not show it offline.
func TestNoIdentitySeesOnlyGuestGames(t *testing.T) {
	root := t.TempDir()
	dirs := settings.Dirs{Data: filepath.Join(root, "data"), Config: filepath.Join(root, "config")}
	store, err := state.OpenIn(dirs.Data, dirs.WithDefaults().State)
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := nostr.GenerateKey()
	bob, _ := nostr.GenerateKey()
	rel := state.Release{ReleaseID: "r1", Version: "1.0"}
	_, err = store.Update(func(st *state.State) error {
		st.Games["lantern-drift"] = &state.Game{Slug: "lantern-drift", GameID: "g1", Owned: true, Owners: []string{alice.PublicKey().Hex()},
			Latest: &rel, Current: &state.Install{Release: rel, Dir: "lantern-drift/1.0"}}
		st.Games["bobs-game"] = &state.Game{Slug: "bobs-game", GameID: "g2", Owned: true, Owners: []string{bob.PublicKey().Hex()}, Latest: &rel}
		st.Games["guest-game"] = &state.Game{Slug: "guest-game", GameID: "g3", Guest: true,
			Latest: &rel, Current: &state.Install{Release: rel, Dir: "guest-game/1.0"}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	c, err := core.Open(core.Config{Dirs: dirs, Server: env.server.URL})
	if err != nil {
		t.Fatal(err)
	}
	lib, err := c.Library()
	if err != nil || len(lib) != 1 || lib[0].Slug != "guest-game" || lib[0].Owned {
		t.Errorf("the library of no identity = %+v, %v; want the guest game alone", lib, err)
	}
	for _, slug := range []string{"lantern-drift", "bobs-game"} {
		if e, err := c.Game(slug); !errors.Is(err, core.ErrUnknownGame) {
			t.Errorf("Game(%s) = %+v, %v; want ErrUnknownGame", slug, e, err)
		}
	}
	if _, err := c.Game("guest-game"); err != nil {
		t.Errorf("Game(guest-game): %v", err)
	}
	if s, err := c.Launch(context.Background(), "lantern-drift"); !errors.Is(err, core.ErrUnknownGame) {
		t.Errorf("launching another identity's game = %+v, %v; want ErrUnknownGame", s, err)
	}
	page, err := c.Games(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range page.Games {
		if g.Owned {
			t.Errorf("the store marks %s owned for no identity", g.Slug)
		}
	}

	// Without an identity there is no library on the server to follow: refreshing and running
	// ask the server nothing and report no error (the window would say "Offline. Sign in first").
	if lib, err := c.Refresh(context.Background()); err != nil || len(lib) != 1 {
		t.Errorf("Refresh without an identity = %+v, %v; want the guest game, no error", lib, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want ctx's error", err)
	}
	if s := c.SyncStatus(); s.LastError != "" {
		t.Errorf("after Run without an identity, the sync status = %+v: the window shows it offline", s)
	}

	anyone, err := core.Open(core.Config{Dirs: dirs, Server: env.server.URL, AllIdentities: true})
	if err != nil {
		t.Fatal(err)
	}
	if lib, err := anyone.Library(); err != nil || len(lib) != 3 {
		t.Errorf("the library of a face that reads no identity = %+v, %v; want all three games", lib, err)
	}
}
