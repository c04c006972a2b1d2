package market_test

import (
	"testing"

	"satchel.dev/backend/market"
)

func TestStatusAnnouncement(t *testing.T) {
	tests := []struct {
		from, to market.GameStatus
		want     market.AnnouncementKind
	}{
		{market.StatusDraft, market.StatusListed, market.AnnounceListed},
		{market.StatusUnlisted, market.StatusListed, market.AnnounceListed},
		{market.StatusBanned, market.StatusListed, market.AnnounceListed},
		{market.StatusListed, market.StatusFeatured, market.AnnounceFeatured},
		{market.StatusDraft, market.StatusFeatured, market.AnnounceFeatured},
		{market.StatusFeatured, market.StatusListed, ""}, // unfeaturing is not news
		{market.StatusListed, market.StatusListed, ""},
		{market.StatusFeatured, market.StatusFeatured, ""},
		{market.StatusListed, market.StatusUnlisted, ""},
		{market.StatusDraft, market.StatusUnlisted, ""},
		{market.StatusListed, market.StatusBanned, ""},
	}
	for _, tt := range tests {
		got, ok := market.StatusAnnouncement(tt.from, tt.to)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s -> %s announces %q %v, want %q", tt.from, tt.to, got, ok, tt.want)
		}
	}
	for s, want := range map[market.GameStatus]bool{market.StatusDraft: false, market.StatusUnlisted: false,
		market.StatusListed: true, market.StatusFeatured: true, market.StatusBanned: false} {
		if got := market.PublishAnnounced(market.Game{Status: s}); got != want {
			t.Errorf("publishing a release of a %s game announced: %v, want %v", s, got, want)
		}
	}
}

func TestAdminRules(t *testing.T) {
	admin := market.Actor{UserID: "u1", Pubkey: "ab", Admin: true}
	player := market.Actor{UserID: "u2", Pubkey: "cd"}
	if _, err := market.NewAudit(market.Actor{}, market.ActionRefundPurchase, market.TargetPurchase, "p", "why", true); market.ErrorCode(err) != market.CodeUnauthenticated {
		t.Errorf("anonymous: %v", err)
	}
	if _, err := market.NewAudit(player, market.ActionRefundPurchase, market.TargetPurchase, "p", "why", true); market.ErrorCode(err) != market.CodePermissionDenied {
		t.Errorf("player: %v", err)
	}
	if _, err := market.NewAudit(admin, market.ActionRefundPurchase, market.TargetPurchase, "p", " \n ", true); market.ErrorCode(err) != market.CodeInvalid {
		t.Errorf("blank reason where one is required: %v", err)
	}
	if r, err := market.NewAudit(admin, market.ActionRetryPayout, market.TargetPayout, "x", " fixed ", false); err != nil || r.Reason != "fixed" || r.AdminPubkey != "ab" {
		t.Errorf("audit record %+v %v", r, err)
	}

	banned := market.Game{Slug: "g", Status: market.StatusBanned}
	for _, tt := range []struct {
		before       market.GameStatus
		hasPublished bool
		want         market.GameStatus
	}{
		{market.StatusFeatured, true, market.StatusFeatured},
		{market.StatusListed, true, market.StatusListed},
		{market.StatusListed, false, market.StatusUnlisted}, // no longer listable
		{market.StatusDraft, false, market.StatusDraft},
		{"", true, market.StatusUnlisted}, // unknown
	} {
		if got, err := market.CheckUnban(admin, banned, tt.before, tt.hasPublished); err != nil || got != tt.want {
			t.Errorf("unban of a game %s before its ban: %s %v, want %s", tt.before, got, err, tt.want)
		}
	}
	if _, err := market.CheckUnban(admin, market.Game{Status: market.StatusListed}, "", true); market.ErrorCode(err) != market.CodeFailedPrecondition {
		t.Errorf("unbanning a game that is not banned: %v", err)
	}

	for _, tt := range []struct {
		p           market.Purchase
		unaccounted int64
		want        market.Code
	}{
		{market.Purchase{Status: market.PurchasePaid, Provider: "lnd"}, 0, ""},
		{market.Purchase{Status: market.PurchasePaid}, 0, market.CodeFailedPrecondition}, // free
		{market.Purchase{Status: market.PurchasePending, Provider: "lnd"}, 0, market.CodeFailedPrecondition},
		{market.Purchase{Status: market.PurchasePending, Provider: "lnd"}, 5, market.CodeFailedPrecondition},
		{market.Purchase{Status: market.PurchaseRefunded, Provider: "lnd"}, 0, market.CodeFailedPrecondition},
		{market.Purchase{Status: market.PurchaseExpired, Provider: "lnd"}, 0, market.CodeFailedPrecondition},
		{market.Purchase{Status: market.PurchaseExpired, Provider: "lnd"}, 5, ""}, // paid late
		{market.Purchase{Status: market.PurchaseFailed, Provider: "lnd"}, 5, ""},  // underpaid, or paid twice
	} {
		if got := market.ErrorCode(market.CheckRefund(tt.p, tt.unaccounted)); got != tt.want {
			t.Errorf("refund of %+v: %q, want %q", tt.p, got, tt.want)
		}
	}
}
