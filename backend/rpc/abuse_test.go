package rpc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"satchel.dev/backend/market"
	"satchel.dev/backend/purchases"
)

// TestDraftGameIsNotRevealedByID: to a stranger (anonymous, a player, another developer),
// every RPC that takes a game or release id answers for a DRAFT game's ids exactly as for ids
// that name nothing: same code, same message but for the id it was given.
func TestDraftGameIsNotRevealedByID(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	draftRelease := b.mustR(b.games.CreateRelease(ctx, b.actor(owner), b.draft.ID, "1.0.0", "secret"))
	const unknownGame, unknownRelease = "7d1f3a52-9c4e-4b8a-a0f1-2e3d4c5b6a79", "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9"
	const dev = "satchel.developer.v1.DeveloperService/"
	rpcs := []struct {
		procedure string
		body      func(gameID, releaseID string) map[string]any
	}{
		{"satchel.purchase.v1.PurchaseService/CreatePurchase", func(g, _ string) map[string]any { return map[string]any{"gameId": g} }},
		{getDownload, func(g, _ string) map[string]any { return map[string]any{"gameId": g} }},
		{getDownload, func(g, r string) map[string]any { return map[string]any{"gameId": g, "releaseId": r} }},
		{getDownload, func(g, _ string) map[string]any { return map[string]any{"gameId": g, "receiptCode": b.receipt} }},
		{dev + "UpdateGame", func(g, _ string) map[string]any { return map[string]any{"gameId": g, "title": "Mine now"} }},
		{dev + "SetGameStatus", func(g, _ string) map[string]any {
			return map[string]any{"gameId": g, "status": "GAME_STATUS_UNLISTED"}
		}},
		{dev + "CreateRelease", func(g, _ string) map[string]any { return map[string]any{"gameId": g, "version": "9.0.0"} }},
		{dev + "UpdateRelease", func(_, r string) map[string]any { return map[string]any{"releaseId": r, "releaseNotesMd": "x"} }},
		{dev + "PublishRelease", func(_, r string) map[string]any { return map[string]any{"releaseId": r} }},
		{dev + "CreateUpload", func(_, r string) map[string]any {
			return map[string]any{"releaseId": r, "sizeBytes": 100, "sha256": strings.Repeat("ab", 32)}
		}},
		{dev + "ListSales", func(g, _ string) map[string]any { return map[string]any{"gameId": g} }},
		{dev + "ListLedger", func(g, _ string) map[string]any { return map[string]any{"gameId": g} }},
		{dev + "ListPayouts", func(g, _ string) map[string]any { return map[string]any{"gameId": g} }},
	}
	// answer is a reply's code and message, which may name the id it was given and nothing
	// else that differs.
	type answer struct{ code, message string }
	blind := func(r reply, ids ...string) answer {
		for _, id := range ids {
			r.message = strings.ReplaceAll(r.message, id, "<id>")
		}
		return answer{r.code, r.message}
	}
	for _, who := range []role{anonymous, player, other} {
		for _, rpc := range rpcs {
			draft := blind(b.call(who, rpc.procedure, jsonBody(rpc.body(b.draft.ID, draftRelease.ID))), b.draft.ID, draftRelease.ID)
			unknown := blind(b.call(who, rpc.procedure, jsonBody(rpc.body(unknownGame, unknownRelease))), unknownGame, unknownRelease)
			if draft != unknown || draft.code == "ok" {
				t.Errorf("%s as %s %v:\n draft id:   %s %q\n unknown id: %s %q", rpc.procedure, who, rpc.body("G", "R"),
					draft.code, draft.message, unknown.code, unknown.message)
			}
		}
		draft := blind(b.call(who, "satchel.catalog.v1.CatalogService/GetGame", jsonBody(map[string]any{"slug": b.draft.Slug})), b.draft.Slug)
		unknown := blind(b.call(who, "satchel.catalog.v1.CatalogService/GetGame", jsonBody(map[string]any{"slug": "no-such-game"})), "no-such-game")
		if draft != unknown || draft.code != "not_found" {
			t.Errorf("GetGame as %s: draft slug %s %q, unknown slug %s %q", who, draft.code, draft.message, unknown.code, unknown.message)
		}
	}
	// Its developer still reaches it.
	if got := b.call(owner, dev+"UpdateGame", jsonBody(map[string]any{"gameId": b.draft.ID, "title": "Still a draft"})); got.code != "ok" {
		t.Errorf("the developer's UpdateGame on their draft: %s %q", got.code, got.message)
	}
	if got := b.call(owner, dev+"UpdateRelease", jsonBody(map[string]any{"releaseId": draftRelease.ID, "releaseNotesMd": "y"})); got.code != "ok" {
		t.Errorf("the developer's UpdateRelease on their draft: %s %q", got.code, got.message)
	}
}

// TestGuestsAreLimitedPerAddress: guests do not share one bucket, so a client that uses up its
// purchases blocks nobody else; an IPv6 client counts with its whole /64.
func TestGuestsAreLimitedPerAddress(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	limited := b.newPurchases(purchases.Config{CreatePer: time.Hour, CreateBurst: 2})
	create := func(ip string) error {
		_, _, err := limited.Create(ctx, market.Actor{}, b.game.ID, "", "", market.Client{IP: ip})
		return err
	}
	for _, ip := range []string{"203.0.113.9", "203.0.113.9", "2001:db8:1:2::1", "2001:db8:1:2:aaaa:bbbb:cccc:dddd"} {
		if err := create(ip); err != nil {
			t.Fatalf("a guest's purchase from %s: %v", ip, err)
		}
	}
	for _, ip := range []string{"203.0.113.9", "::ffff:203.0.113.9", "2001:db8:1:2::3", "2001:db8:1:2:ffff::"} {
		if err := create(ip); market.ErrorCode(err) != market.CodeResourceExhausted {
			t.Errorf("a third guest purchase from %s (an address, or a /64, that had two): %v, want resource_exhausted", ip, err)
		}
	}
	for _, ip := range []string{"203.0.113.10", "198.51.100.1", "2001:db8:1:3::1"} {
		if err := create(ip); err != nil {
			t.Errorf("a guest's purchase from %s while others are limited: %v", ip, err)
		}
	}
}

// TestWrongReceiptCodesCountPerSlash64: a guesser cannot get a fresh allowance of wrong receipt
// codes by moving to another address of its IPv6 /64.
func TestWrongReceiptCodesCountPerSlash64(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	s := b.newPurchases(purchases.Config{CodePer: time.Hour, CodeBurst: 3})
	var wrong [16]byte
	for i := range 3 {
		wrong[0] = byte(i)
		guesser := market.Client{IP: "2001:db8:5:6::" + string(rune('1'+i))}
		if _, err := s.Get(ctx, market.Actor{}, b.guest.ID, market.NewReceiptCode(wrong), guesser); market.ErrorCode(err) != market.CodeNotFound {
			t.Fatalf("wrong code %d: %v, want not_found", i+1, err)
		}
	}
	if _, err := s.Get(ctx, market.Actor{}, b.guest.ID, b.receipt, market.Client{IP: "2001:db8:5:6:ffff::9"}); market.ErrorCode(err) != market.CodeResourceExhausted {
		t.Errorf("from another address of the guesser's /64: %v, want resource_exhausted", err)
	}
	if _, err := s.Get(ctx, market.Actor{}, b.guest.ID, b.receipt, market.Client{IP: "2001:db8:5:7::1"}); err != nil {
		t.Errorf("from the next /64 with the right code: %v", err)
	}
}
