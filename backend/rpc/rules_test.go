package rpc_test

import (
	"strings"
	"testing"
)

// TestBadInputIsRefusedClearly sends each kind of bad input and checks the Connect code and that
// the message names what to fix. Each case runs on the shared fixture; none changes it.
func TestBadInputIsRefusedClearly(t *testing.T) {
	b := setup(t)
	dev := "satchel.developer.v1.DeveloperService/"
	tests := []struct {
		name      string
		as        role
		procedure string
		body      map[string]any
		code      string
		mentions  string
	}{
		{"bad slug", owner, dev + "CreateGame", map[string]any{"slug": "Bad Slug!", "title": "x"}, "invalid_argument", "slug"},
		{"slug taken", other, dev + "CreateGame", map[string]any{"slug": "fixture-game", "title": "x"}, "already_exists", "taken"},
		{"no title", owner, dev + "CreateGame", map[string]any{"slug": "no-title"}, "invalid_argument", "title"},
		{"price over one bitcoin", owner, dev + "CreateGame", map[string]any{"slug": "pricey", "title": "x", "priceMsat": "100000000001"}, "invalid_argument", "100,000,000 sats"},
		{"negative price", owner, dev + "UpdateGame", map[string]any{"gameId": b.game.ID, "priceMsat": "-1"}, "invalid_argument", "sats"},
		{"long summary", owner, dev + "UpdateGame", map[string]any{"gameId": b.game.ID, "summary": strings.Repeat("s", 300)}, "invalid_argument", "summary"},
		{"malformed game id", owner, dev + "UpdateGame", map[string]any{"gameId": "1 OR 1=1", "title": "x"}, "invalid_argument", "game_id"},
		{"missing game id", owner, dev + "UpdateGame", map[string]any{"title": "x"}, "invalid_argument", "game_id is required"},
		{"unknown game", owner, dev + "UpdateGame", map[string]any{"gameId": "00000000-0000-4000-8000-000000000000", "title": "x"}, "not_found", "no game"},
		{"list without a published release", owner, dev + "SetGameStatus", map[string]any{"gameId": b.draft.ID, "status": "GAME_STATUS_LISTED"}, "failed_precondition", "publish"},
		{"developer features own game", owner, dev + "SetGameStatus", map[string]any{"gameId": b.game.ID, "status": "GAME_STATUS_FEATURED"}, "permission_denied", "admins"},
		{"no status", owner, dev + "SetGameStatus", map[string]any{"gameId": b.game.ID}, "invalid_argument", "status"},
		{"not semver", owner, dev + "CreateRelease", map[string]any{"gameId": b.game.ID, "version": "v1"}, "invalid_argument", "semantic version"},
		{"version exists", owner, dev + "CreateRelease", map[string]any{"gameId": b.game.ID, "version": "1.0.0"}, "already_exists", "1.0.0"},
		{"rename a published version", owner, dev + "UpdateRelease", map[string]any{"releaseId": b.published.ID, "version": "1.0.1"}, "failed_precondition", "published"},
		{"rename onto an existing version", owner, dev + "UpdateRelease", map[string]any{"releaseId": b.pending.ID, "version": "1.0.0"}, "already_exists", "1.0.0"},
		{"unknown release", owner, dev + "PublishRelease", map[string]any{"releaseId": "00000000-0000-4000-8000-000000000000"}, "not_found", "no release"},
		{"bad Lightning Address", player, dev + "SetPayoutAddress", map[string]any{"lnAddress": "not an address"}, "invalid_argument", "name@domain"},
		{"avatar not https", player, "satchel.account.v1.AccountService/UpdateProfile", map[string]any{"avatarUrl": "http://x.example/a.png"}, "invalid_argument", "https"},
		{"page size negative", anonymous, "satchel.catalog.v1.CatalogService/ListGames", map[string]any{"pageSize": -1}, "invalid_argument", "page_size"},
		{"bad page token", anonymous, "satchel.catalog.v1.CatalogService/ListGames", map[string]any{"pageToken": "xyz"}, "invalid_argument", "page_token"},
		{"draft hidden from players", player, "satchel.catalog.v1.CatalogService/GetGame", map[string]any{"slug": "fixture-draft"}, "not_found", "fixture-draft"},
		{"draft hidden from anonymous", anonymous, "satchel.catalog.v1.CatalogService/GetGame", map[string]any{"slug": "fixture-draft"}, "not_found", "fixture-draft"},
		{"draft shown to its developer", owner, "satchel.catalog.v1.CatalogService/GetGame", map[string]any{"slug": "fixture-draft"}, "ok", ""},
		{"unknown field type", owner, dev + "CreateGame", map[string]any{"slug": 5}, "invalid_argument", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := b.call(tt.as, tt.procedure, jsonBody(tt.body))
			if got.code != tt.code || !strings.Contains(got.message, tt.mentions) {
				t.Errorf("got %s %q, want %s mentioning %q", got.code, got.message, tt.code, tt.mentions)
			}
		})
	}
}

// TestListingRules walks a game through its life: drafts are visible to their developer only,
// banned games to admins only, and only LISTED or FEATURED games appear in the store.
func TestListingRules(t *testing.T) {
	b := setup(t)
	inStore := func() map[string]bool {
		t.Helper()
		out := map[string]bool{}
		games, _ := b.call(anonymous, "satchel.catalog.v1.CatalogService/ListGames", "{}").body["games"].([]any)
		for _, g := range games {
			out[g.(map[string]any)["slug"].(string)] = true
		}
		return out
	}
	status := func(as role, service, s string) string {
		t.Helper()
		body := map[string]any{"gameId": b.game.ID, "status": "GAME_STATUS_" + s}
		if strings.HasPrefix(service, "admin.") {
			body["reason"] = "rules test" // admins say why (required to ban)
		}
		return b.call(as, "satchel."+service+"/SetGameStatus", jsonBody(body)).code
	}
	getGame := func(as role) string {
		return b.call(as, "satchel.catalog.v1.CatalogService/GetGame", jsonBody(map[string]any{"slug": b.game.Slug})).code
	}
	if s := inStore(); !s["fixture-game"] || s["fixture-draft"] {
		t.Fatalf("store = %v, want the listed game and not the draft", s)
	}
	if c := status(owner, "developer.v1.DeveloperService", "UNLISTED"); c != "ok" {
		t.Fatal(c)
	}
	if s := inStore(); s["fixture-game"] {
		t.Error("an UNLISTED game is in the store")
	}
	if c := getGame(anonymous); c != "ok" {
		t.Errorf("UNLISTED game by slug: %s, want ok", c)
	}
	if c := status(admin, "admin.v1.AdminService", "BANNED"); c != "ok" {
		t.Fatal(c)
	}
	for _, r := range []role{anonymous, player, owner} {
		if c := getGame(r); c != "not_found" {
			t.Errorf("BANNED game as %s: %s, want not_found", r, c)
		}
	}
	if c := getGame(admin); c != "ok" {
		t.Errorf("BANNED game as admin: %s, want ok", c)
	}
	if c := status(owner, "developer.v1.DeveloperService", "LISTED"); c != "permission_denied" {
		t.Errorf("developer unbans: %s, want permission_denied", c)
	}
	mine := b.call(owner, "satchel.developer.v1.DeveloperService/ListMyGames", "{}").body["games"].([]any)
	if len(mine) != 2 {
		t.Errorf("ListMyGames has %d games, want 2 (banned and draft included)", len(mine))
	}
	if c := status(admin, "admin.v1.AdminService", "FEATURED"); c != "ok" {
		t.Fatal(c)
	}
	got := b.call(anonymous, "satchel.catalog.v1.CatalogService/GetGame", jsonBody(map[string]any{"slug": b.game.Slug}))
	game := got.body["game"].(map[string]any)
	if game["status"] != "GAME_STATUS_FEATURED" || game["latestRelease"].(map[string]any)["version"] != "1.0.0" {
		t.Errorf("featured game = %v", game)
	}
	if rs := got.body["releases"].([]any); len(rs) != 1 {
		t.Errorf("a player sees %d releases, want only the published one", len(rs))
	}
	if rs := b.call(owner, "satchel.catalog.v1.CatalogService/GetGame", jsonBody(map[string]any{"slug": b.game.Slug})).body["releases"].([]any); len(rs) != 2 {
		t.Errorf("the developer sees %d releases, want 2", len(rs))
	}
	// Publishing twice changes nothing.
	first := b.call(owner, "satchel.developer.v1.DeveloperService/PublishRelease", jsonBody(map[string]any{"releaseId": b.pending.ID}))
	second := b.call(owner, "satchel.developer.v1.DeveloperService/PublishRelease", jsonBody(map[string]any{"releaseId": b.pending.ID}))
	if first.code != "ok" || second.code != "ok" ||
		first.body["release"].(map[string]any)["publishedAt"] != second.body["release"].(map[string]any)["publishedAt"] {
		t.Errorf("publishing twice: %v then %v", first.body, second.body)
	}
}
