package market_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"satchel.dev/backend/market"
)

// TestDisplayTextRefusesInvisibleTricks: text other people see refuses C1 controls and bidi
// overrides everywhere, and direction marks where it is one line, while ordinary text in any
// script passes.
func TestDisplayTextRefusesInvisibleTricks(t *testing.T) {
	fields := []struct {
		name      string
		multiline bool
		check     func(string) error
	}{
		{"title", false, func(s string) error {
			return market.GameUpdate{Title: &s}.Validate(market.DefaultMinPriceMsat)
		}},
		{"summary", false, func(s string) error {
			return market.GameUpdate{Summary: &s}.Validate(market.DefaultMinPriceMsat)
		}},
		{"description_md", true, func(s string) error {
			return market.GameUpdate{DescriptionMD: &s}.Validate(market.DefaultMinPriceMsat)
		}},
		{"release_notes_md", true, market.ValidateNotes},
		{"display_name", false, func(s string) error { return market.ProfileUpdate{DisplayName: &s}.Validate(false) }},
		{"studio_name", false, func(s string) error { return market.ProfileUpdate{StudioName: &s}.Validate(true) }},
	}
	refusedEverywhere := map[string]string{
		"NEL (C1)":                  "Lantern\u0085Drift",
		"CSI (C1)":                  "Lantern\u009b31mDrift",
		"first C1":                  "\u0080Lantern",
		"last C1":                   "Lantern\u009f",
		"right-to-left override":    "Lantern \u202etfirD",
		"left-to-right embedding":   "\u202aLantern",
		"pop directional":           "Lantern\u202c",
		"right-to-left isolate":     "\u2067Lantern",
		"pop directional isolate":   "Lantern\u2069",
		"first strong isolate":      "\u2068Lantern",
		"left-to-right isolate":     "\u2066Lantern",
		"right-to-left embedding":   "\u202bLantern",
		"left-to-right override":    "\u202dLantern",
		"override in a longer text": "Buy " + strings.Repeat("x", 50) + "\u202e",
	}
	refusedInOneLine := map[string]string{
		"left-to-right mark":  "Lantern\u200e",
		"right-to-left mark":  "\u200fLantern",
		"Arabic letter mark":  "\u061cLantern",
		"line separator":      "Lantern\u2028Drift",
		"paragraph separator": "Lantern\u2029Drift",
	}
	allowed := map[string]string{
		"accents":          "Lanterne dérivante",
		"Hebrew":           "פנס נסחף",
		"Arabic":           "فانوس عائم",
		"Japanese":         "ランタン・ドリフト",
		"emoji":            "Lantern 🏮 Drift",
		"non-breaking gap": "Lantern\u00a0Drift",
		"Latin-1 letters":  "\u00c0\u00ff",
	}
	for _, f := range fields {
		for name, s := range refusedEverywhere {
			if err := f.check(s); market.ErrorCode(err) != market.CodeInvalid || !strings.Contains(err.Error(), f.name) {
				t.Errorf("%s with %s: %v, want invalid naming the field", f.name, name, err)
			}
		}
		for name, s := range refusedInOneLine {
			err := f.check(s)
			if f.multiline && err != nil {
				t.Errorf("%s (multiline) with %s: %v, want nil", f.name, name, err)
			}
			if !f.multiline && market.ErrorCode(err) != market.CodeInvalid {
				t.Errorf("%s with %s: %v, want invalid", f.name, name, err)
			}
		}
		for name, s := range allowed {
			if err := f.check(s); err != nil {
				t.Errorf("%s in %s: %v, want nil", f.name, name, err)
			}
		}
	}
}

func TestClip(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"lantern-drift", "lantern-drift"},
		{strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{strings.Repeat("a", 65), strings.Repeat("a", 64) + "…"},
		{strings.Repeat("é", 100), strings.Repeat("é", 64) + "…"},
		{strings.Repeat("\xff", 100), strings.Repeat("\xff", 64) + "…"},
	}
	for _, tt := range tests {
		if got := market.Clip(tt.in); got != tt.want {
			t.Errorf("Clip(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestErrorsQuoteClippedInput: an error that quotes what a user sent quotes at most 64
// characters of it, however much they sent.
func TestErrorsQuoteClippedInput(t *testing.T) {
	long := strings.Repeat("x", 10_000)
	errs := map[string]error{
		"slug":       market.NewGame{Slug: long, Title: "T"}.Validate(market.DefaultMinPriceMsat),
		"version":    market.ValidateVersion(long),
		"id":         market.ValidateID("game_id", long),
		"ln_address": func() error { _, err := market.NormalizeLNAddress(long[:300]); return err }(),
	}
	for name, err := range errs {
		if err == nil {
			t.Errorf("%s: nil error, want one", name)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, strings.Repeat("x", 64)+"…") || strings.Contains(msg, strings.Repeat("x", 65)) {
			t.Errorf("%s: message quotes %d characters: %.200s", name, utf8.RuneCountInString(msg), msg)
		}
	}
}

// TestHiddenGameAnswersNotFound: a stranger asking about a DRAFT game gets the very error an id
// that names no game gets; its developer and admins, and a stranger asking about a public or a
// banned game, get the usual answers.
func TestHiddenGameAnswersNotFound(t *testing.T) {
	owner := market.Actor{UserID: "owner", Pubkey: "p1"}
	other := market.Actor{UserID: "other", Pubkey: "p2"}
	admin := market.Actor{UserID: "admin", Pubkey: "p3", Admin: true}
	const gameID, releaseID = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
	game := func(s market.GameStatus) market.Game {
		return market.Game{ID: gameID, Slug: "secret-sequel", DeveloperUserID: "owner", Status: s}
	}
	release := market.Release{ID: releaseID, GameID: gameID, Version: "1.0.0"}
	checks := map[string]func(market.Actor, market.Game) error{
		"CheckOwner":       market.CheckOwner,
		"CheckPurchasable": market.CheckPurchasable,
		"CheckDownload":    func(a market.Actor, g market.Game) error { return market.CheckDownload(a, g, false) },
		"CheckDeveloperStatus": func(a market.Actor, g market.Game) error {
			return market.CheckDeveloperStatus(a, g, market.StatusUnlisted, true)
		},
	}
	releaseChecks := map[string]func(market.Actor, market.Game) error{
		"CheckReleaseOwner": func(a market.Actor, g market.Game) error { return market.CheckReleaseOwner(a, g, releaseID) },
		"CheckUpload": func(a market.Actor, g market.Game) error {
			return market.CheckUpload(a, g, release, 100, strings.Repeat("ab", 32), 1000)
		},
	}
	for name, check := range checks {
		if diff := cmp.Diff(error(market.GameNotFound(gameID)), check(other, game(market.StatusDraft))); diff != "" {
			t.Errorf("%s by a stranger on a draft (-an unknown id +got):\n%s", name, diff)
		}
	}
	for name, check := range releaseChecks {
		if diff := cmp.Diff(error(market.ReleaseNotFound(releaseID)), check(other, game(market.StatusDraft))); diff != "" {
			t.Errorf("%s by a stranger on a draft (-an unknown id +got):\n%s", name, diff)
		}
	}
	for name, check := range checks {
		if err := check(market.Actor{}, game(market.StatusDraft)); market.ErrorCode(err) != market.CodeNotFound &&
			market.ErrorCode(err) != market.CodeUnauthenticated {
			t.Errorf("%s anonymous on a draft: %v, want not_found or unauthenticated (as for an unknown id)", name, err)
		}
		if err := check(owner, game(market.StatusDraft)); market.ErrorCode(err) == market.CodeNotFound {
			t.Errorf("%s by the developer on their draft: %v", name, err)
		}
		if err := check(admin, game(market.StatusDraft)); market.ErrorCode(err) == market.CodeNotFound {
			t.Errorf("%s by an admin on a draft: %v", name, err)
		}
		for _, s := range []market.GameStatus{market.StatusListed, market.StatusBanned} {
			if err := check(other, game(s)); market.ErrorCode(err) == market.CodeNotFound {
				t.Errorf("%s by a stranger on a %s game: %v, want the usual answer", name, s, err)
			}
		}
	}
	if err := market.CheckDownload(other, game(market.StatusBanned), true); market.ErrorCode(err) != market.CodePermissionDenied ||
		!strings.Contains(err.Error(), "banned") {
		t.Errorf("a buyer's download of a banned game: %v, want permission_denied saying it is banned", err)
	}
}
