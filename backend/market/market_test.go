package market_test

import (
	"strings"
	"testing"
	"time"

	"satchel.dev/backend/market"
)

func ptr[T any](v T) *T { return &v }

func TestNewGameValidate(t *testing.T) {
	ok := market.NewGame{Slug: "lantern-drift", Title: "Lantern Drift", PriceMsat: 1_000_000}
	tests := []struct {
		name string
		edit func(*market.NewGame)
		want market.Code
	}{
		{"valid", func(*market.NewGame) {}, ""},
		{"three character slug", func(g *market.NewGame) { g.Slug = "abc" }, ""},
		{"64 character slug", func(g *market.NewGame) { g.Slug = strings.Repeat("a", 64) }, ""},
		{"65 character slug", func(g *market.NewGame) { g.Slug = strings.Repeat("a", 65) }, market.CodeInvalid},
		{"two character slug", func(g *market.NewGame) { g.Slug = "ab" }, market.CodeInvalid},
		{"uppercase slug", func(g *market.NewGame) { g.Slug = "Lantern" }, market.CodeInvalid},
		{"slug ending in dash", func(g *market.NewGame) { g.Slug = "lantern-" }, market.CodeInvalid},
		{"slug starting with dash", func(g *market.NewGame) { g.Slug = "-lantern" }, market.CodeInvalid},
		{"slug with slash", func(g *market.NewGame) { g.Slug = "a/../b" }, market.CodeInvalid},
		{"slug with newline", func(g *market.NewGame) { g.Slug = "abc\n" }, market.CodeInvalid},
		{"empty title", func(g *market.NewGame) { g.Title = "" }, market.CodeInvalid},
		{"blank title", func(g *market.NewGame) { g.Title = "   " }, market.CodeInvalid},
		{"title with newline", func(g *market.NewGame) { g.Title = "a\nb" }, market.CodeInvalid},
		{"100 rune title", func(g *market.NewGame) { g.Title = strings.Repeat("é", 100) }, ""},
		{"101 rune title", func(g *market.NewGame) { g.Title = strings.Repeat("é", 101) }, market.CodeInvalid},
		{"long summary", func(g *market.NewGame) { g.Summary = strings.Repeat("x", 281) }, market.CodeInvalid},
		{"multiline description", func(g *market.NewGame) { g.DescriptionMD = "# A\n\n\tb" }, ""},
		{"NUL in description", func(g *market.NewGame) { g.DescriptionMD = "a\x00b" }, market.CodeInvalid},
		{"long description", func(g *market.NewGame) { g.DescriptionMD = strings.Repeat("x", 20_001) }, market.CodeInvalid},
		{"invalid UTF-8", func(g *market.NewGame) { g.Summary = "\xff" }, market.CodeInvalid},
		{"free", func(g *market.NewGame) { g.PriceMsat = 0 }, ""},
		{"one bitcoin", func(g *market.NewGame) { g.PriceMsat = 100_000_000_000 }, ""},
		{"over one bitcoin", func(g *market.NewGame) { g.PriceMsat = 100_000_000_001 }, market.CodeInvalid},
		{"negative price", func(g *market.NewGame) { g.PriceMsat = -1 }, market.CodeInvalid},
		{"below the minimum", func(g *market.NewGame) { g.PriceMsat = market.DefaultMinPriceMsat - 1 }, market.CodeInvalid},
		{"one msat", func(g *market.NewGame) { g.PriceMsat = 1 }, market.CodeInvalid},
		{"the minimum", func(g *market.NewGame) { g.PriceMsat = market.DefaultMinPriceMsat }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := ok
			tt.edit(&g)
			if got := market.ErrorCode(g.Validate(market.DefaultMinPriceMsat)); got != tt.want {
				t.Errorf("Validate() code = %q, want %q (err: %v)", got, tt.want, g.Validate(market.DefaultMinPriceMsat))
			}
		})
	}
}

// A paid game below the minimum is refused with the range in sats, as people type prices.
func TestCheckPriceNamesSats(t *testing.T) {
	err := market.CheckPrice(21_000, market.DefaultMinPriceMsat)
	if market.ErrorCode(err) != market.CodeInvalid || !strings.Contains(err.Error(), "a price of 21 sats") ||
		!strings.Contains(err.Error(), "costs 1,000 to 100,000,000 sats") {
		t.Errorf("CheckPrice(21 sats) = %v, want invalid naming 21 sats and the range 1,000 to 100,000,000 sats", err)
	}
	if err := market.CheckPrice(1500, 1000); err != nil {
		t.Errorf("CheckPrice(1.5 sats, minimum 1 sat) = %v, want nil", err)
	}
	if err := market.CheckPrice(500, 1000); err == nil || !strings.Contains(err.Error(), "0.5 sats") {
		t.Errorf("CheckPrice(0.5 sats) = %v, want an error naming 0.5 sats", err)
	}
}

func TestValidateVersion(t *testing.T) {
	for _, v := range []string{"0.0.1", "1.0.0", "10.20.30", "1.2.0-beta.1", "1.0.0-rc.1+build.5", "2.0.0+20260101"} {
		if err := market.ValidateVersion(v); err != nil {
			t.Errorf("ValidateVersion(%q) = %v, want nil", v, err)
		}
	}
	for _, v := range []string{"", "1", "1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "1.0.0 ", "1..0", strings.Repeat("1", 70) + ".0.0"} {
		if got := market.ErrorCode(market.ValidateVersion(v)); got != market.CodeInvalid {
			t.Errorf("ValidateVersion(%q) code = %q, want invalid", v, got)
		}
	}
}

func TestNormalizeLNAddress(t *testing.T) {
	good := map[string]string{
		"alice@example.com":        "alice@example.com",
		" Alice@Example.COM ":      "alice@example.com",
		"a.b-c_d+e@pay.example.io": "a.b-c_d+e@pay.example.io",
		"demo@127.0.0.1:8080":      "demo@127.0.0.1:8080",
		"demo@localhost:8080":      "demo@localhost:8080",
	}
	for in, want := range good {
		got, err := market.NormalizeLNAddress(in)
		if err != nil || got != want {
			t.Errorf("NormalizeLNAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "alice", "alice@", "@example.com", "alice@intranet", "alice@exa mple.com", "alice@example.com:x",
		"al ice@example.com", "alice@@example.com", "alice@example.com/x", "lnurl1dp68gurn8ghj7", "alice@-example.com"} {
		if _, err := market.NormalizeLNAddress(in); market.ErrorCode(err) != market.CodeInvalid {
			t.Errorf("NormalizeLNAddress(%q) err = %v, want invalid", in, err)
		}
	}
}

func TestProfileUpdateValidate(t *testing.T) {
	tests := []struct {
		u         market.ProfileUpdate
		developer bool
		want      market.Code
	}{
		{market.ProfileUpdate{DisplayName: ptr("Ada")}, false, ""},
		{market.ProfileUpdate{DisplayName: ptr("")}, false, ""},
		{market.ProfileUpdate{DisplayName: ptr(strings.Repeat("a", 65))}, false, market.CodeInvalid},
		{market.ProfileUpdate{AvatarURL: ptr("https://example.com/a.png")}, false, ""},
		{market.ProfileUpdate{AvatarURL: ptr("")}, false, ""},
		{market.ProfileUpdate{AvatarURL: ptr("http://example.com/a.png")}, false, market.CodeInvalid},
		{market.ProfileUpdate{AvatarURL: ptr("javascript:alert(1)")}, false, market.CodeInvalid},
		{market.ProfileUpdate{AvatarURL: ptr("https://example.com/" + strings.Repeat("a", 600))}, false, market.CodeInvalid},
		{market.ProfileUpdate{StudioName: ptr("Lantern Works")}, true, ""},
		{market.ProfileUpdate{StudioName: ptr("Lantern Works")}, false, market.CodeFailedPrecondition},
		{market.ProfileUpdate{StudioName: ptr("")}, false, ""},
		{market.ProfileUpdate{StudioName: ptr(strings.Repeat("a", 65))}, true, market.CodeInvalid},
	}
	for _, tt := range tests {
		if got := market.ErrorCode(tt.u.Validate(tt.developer)); got != tt.want {
			t.Errorf("Validate(%+v) = %q, want %q", tt.u, got, tt.want)
		}
	}
}

func TestVisibilityAndStatusRules(t *testing.T) {
	owner := market.Actor{UserID: "owner", Pubkey: "p1"}
	other := market.Actor{UserID: "other", Pubkey: "p2"}
	admin := market.Actor{UserID: "admin", Pubkey: "p3", Admin: true}
	anon := market.Actor{}
	game := func(s market.GameStatus) market.Game {
		return market.Game{Slug: "g-1", DeveloperUserID: "owner", Status: s}
	}
	visible := map[market.GameStatus][4]bool{ // anon, other, owner, admin
		market.StatusDraft:    {false, false, true, true},
		market.StatusUnlisted: {true, true, true, true},
		market.StatusListed:   {true, true, true, true},
		market.StatusFeatured: {true, true, true, true},
		market.StatusBanned:   {false, false, false, true},
	}
	for s, want := range visible {
		for i, a := range []market.Actor{anon, other, owner, admin} {
			if got := market.CanView(a, game(s)); got != want[i] {
				t.Errorf("CanView(actor %d, %s) = %v, want %v", i, s, got, want[i])
			}
		}
	}

	devTests := []struct {
		a         market.Actor
		from, to  market.GameStatus
		published bool
		want      market.Code
	}{
		{owner, market.StatusDraft, market.StatusUnlisted, false, ""},
		{owner, market.StatusDraft, market.StatusListed, false, market.CodeFailedPrecondition},
		{owner, market.StatusDraft, market.StatusListed, true, ""},
		{owner, market.StatusListed, market.StatusDraft, true, ""},
		{owner, market.StatusListed, market.StatusFeatured, true, market.CodePermissionDenied},
		{owner, market.StatusListed, market.StatusBanned, true, market.CodePermissionDenied},
		{owner, market.StatusBanned, market.StatusListed, true, market.CodePermissionDenied},
		{owner, market.StatusDraft, "", true, market.CodeInvalid},
		{other, market.StatusDraft, market.StatusUnlisted, true, market.CodeNotFound}, // a stranger does not learn a draft exists
		{other, market.StatusListed, market.StatusUnlisted, true, market.CodePermissionDenied},
		{anon, market.StatusDraft, market.StatusUnlisted, true, market.CodeUnauthenticated},
	}
	for _, tt := range devTests {
		err := market.CheckDeveloperStatus(tt.a, game(tt.from), tt.to, tt.published)
		if got := market.ErrorCode(err); got != tt.want {
			t.Errorf("CheckDeveloperStatus(%s, %s -> %s, published %v) = %q, want %q (%v)", tt.a.UserID, tt.from, tt.to, tt.published, got, tt.want, err)
		}
	}

	adminTests := []struct {
		a         market.Actor
		to        market.GameStatus
		published bool
		want      market.Code
	}{
		{admin, market.StatusFeatured, true, ""},
		{admin, market.StatusFeatured, false, market.CodeFailedPrecondition},
		{admin, market.StatusBanned, false, ""},
		{admin, "", true, market.CodeInvalid},
		{owner, market.StatusFeatured, true, market.CodePermissionDenied},
		{anon, market.StatusBanned, true, market.CodeUnauthenticated},
	}
	for _, tt := range adminTests {
		err := market.CheckAdminStatus(tt.a, game(market.StatusListed), tt.to, tt.published)
		if got := market.ErrorCode(err); got != tt.want {
			t.Errorf("CheckAdminStatus(%s -> %s) = %q, want %q", tt.a.UserID, tt.to, got, tt.want)
		}
	}
}

func TestReleaseUpdateCheck(t *testing.T) {
	published := market.Release{Version: "1.0.0", PublishedAt: &time.Time{}}
	draft := market.Release{Version: "1.0.0"}
	if err := (market.ReleaseUpdate{Version: ptr("1.0.1")}).Check(draft); err != nil {
		t.Errorf("changing an unpublished version: %v", err)
	}
	if got := market.ErrorCode((market.ReleaseUpdate{Version: ptr("1.0.1")}).Check(published)); got != market.CodeFailedPrecondition {
		t.Errorf("changing a published version: code %q, want failed_precondition", got)
	}
	if err := (market.ReleaseUpdate{NotesMD: ptr("fixed")}).Check(published); err != nil {
		t.Errorf("changing published notes: %v", err)
	}
}

func TestGameFilterLimit(t *testing.T) {
	for in, want := range map[int]int{0: 20, 1: 1, 100: 100, 1000: 100} {
		if got, err := (market.GameFilter{PageSize: in}).Limit(); err != nil || got != want {
			t.Errorf("Limit(%d) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := (market.GameFilter{PageSize: -1}).Limit(); market.ErrorCode(err) != market.CodeInvalid {
		t.Errorf("Limit(-1) err = %v, want invalid", err)
	}
}
