package payouts_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"satchel.dev/backend/market"
	"satchel.dev/backend/payouts"
)

// TestDeveloperViews: a developer's sales, ledger and payouts, per game and in total, page by
// page, with a failed payout's error; and who may see them.
func TestDeveloperViews(t *testing.T) {
	t.Parallel()
	d := setupDev(t)
	cfg := payouts.Config{MaxAttempts: 1, LNURL: payouts.LNURLConfig{AllowHTTP: true, AllowPrivate: true, RequestTimeout: time.Second}}
	d.startClient(d.worker(d.dev, cfg), clientOpts{})
	svc := payouts.NewService(d.repo, d.dev, d.log)
	dev := d.shop.Developer

	// One sale whose payout fails (nobody answers at the address), then five that are paid:
	// three of game A, two of game B.
	if err := d.shop.SetAddress(d.ctx, "nobody@127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	failed := d.waitStatus(d.sell().ID, 10*time.Second, payouts.StatusFailed)
	if err := d.shop.SetAddress(d.ctx, d.addr); err != nil {
		t.Fatal(err)
	}
	gameB, err := d.shop.Games.CreateGame(d.ctx, dev, market.NewGame{Slug: "second-game", Title: "Second", PriceMsat: 50_000})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		g := d.shop.Game
		if i >= 3 {
			g = gameB
		}
		sale, err := d.shop.SellGame(d.ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		d.waitStatus(sale.ID, 10*time.Second, payouts.StatusSent)
	}

	// Every sale, two per page, newest first.
	var sales []payouts.Sale
	var totals payouts.Totals
	for token, pages := "", 0; pages == 0 || token != ""; pages++ {
		page, err := svc.ListSales(d.ctx, dev, payouts.Filter{PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Sales) > 2 || pages > 3 {
			t.Fatalf("page %d has %d sales", pages, len(page.Sales))
		}
		sales, token, totals = append(sales, page.Sales...), page.NextPageToken, page.Totals
	}
	wantTotals := payouts.Totals{Sales: 6, GrossMsat: 4*priceMsat + 2*50_000, FeeMsat: 4*priceMsat/10 + 2*5_000,
		NetMsat: 4*netMsat + 2*45_000, SentMsat: 3*netMsat + 2*45_000, FailedMsat: netMsat}
	if diff := cmp.Diff(wantTotals, totals); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
	if len(sales) != 6 {
		t.Fatalf("%d sales listed, want 6", len(sales))
	}
	seen := map[string]bool{}
	for i, s := range sales {
		seen[s.PurchaseID] = true
		if i > 0 && s.PaidAt.After(sales[i-1].PaidAt) {
			t.Errorf("sale %d is newer than the one before", i)
		}
		if s.Payout == nil || s.FeeMsat+s.NetMsat != s.PriceMsat || s.Payout.AmountMsat != s.NetMsat || s.Status != market.PurchasePaid {
			t.Errorf("sale %+v", s)
		}
	}
	if len(seen) != 6 {
		t.Errorf("%d distinct sales over the pages, want 6", len(seen))
	}
	last := sales[len(sales)-1] // the oldest: the failed one
	if last.PurchaseID != failed.PurchaseID || last.Payout.Status != payouts.StatusFailed || last.Payout.AttemptCount != 1 ||
		!strings.Contains(last.Payout.LastError, "nobody@127.0.0.1:1: 127.0.0.1:1 could not be reached") {
		t.Errorf("failed sale: %+v, payout %+v", last, last.Payout)
	}

	// One game.
	page, err := svc.ListSales(d.ctx, dev, payouts.Filter{GameID: gameB.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Sales) != 2 || page.Totals.Sales != 2 || page.Totals.SentMsat != 2*45_000 || page.NextPageToken != "" {
		t.Errorf("game B: %d sales, totals %+v", len(page.Sales), page.Totals)
	}
	var payoutsA []payouts.Payout
	for token, pages := "", 0; pages == 0 || token != ""; pages++ {
		page, err := svc.ListPayouts(d.ctx, dev, payouts.Filter{GameID: d.shop.Game.ID, PageSize: 3, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		payoutsA, token = append(payoutsA, page.Payouts...), page.NextPageToken
	}
	if len(payoutsA) != 4 || payoutsA[3].ID != failed.ID {
		t.Errorf("game A: %d payouts, want 4, the failed one last", len(payoutsA))
	}

	// The ledger: 5 entries per paid-out sale, 5 for the failed one (PAYOUT_FAILED).
	types := map[market.LedgerType]int{}
	ids := map[string]bool{}
	for token, pages := "", 0; pages == 0 || token != ""; pages++ {
		page, err := svc.ListLedger(d.ctx, dev, payouts.Filter{PageSize: 7, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			types[e.Type]++
			ids[e.ID] = true
		}
		token = page.NextPageToken
	}
	want := map[market.LedgerType]int{market.LedgerInvoiceCreated: 6, market.LedgerInvoicePaid: 6, market.LedgerPlatformFee: 6,
		market.LedgerDeveloperNet: 6, market.LedgerPayoutSent: 5, market.LedgerPayoutFailed: 1}
	if diff := cmp.Diff(want, types); diff != "" || len(ids) != 30 {
		t.Errorf("ledger entries by type (-want +got):\n%s\n%d distinct", diff, len(ids))
	}

	// Who may look.
	other, err := d.shop.Users.EnsureUser(d.ctx, strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	otherDev := market.Actor{UserID: other, Pubkey: strings.Repeat("ab", 32)}
	if _, err := svc.ListSales(d.ctx, otherDev, payouts.Filter{}); market.ErrorCode(err) != market.CodePermissionDenied {
		t.Errorf("a user who is no developer: %v, want permission denied", err)
	}
	if _, err := d.shop.Users.SetPayoutAddress(d.ctx, otherDev, "other@example.com"); err != nil {
		t.Fatal(err)
	}
	if page, err := svc.ListSales(d.ctx, otherDev, payouts.Filter{}); err != nil || len(page.Sales) != 0 {
		t.Errorf("another developer's own sales: %v, %d sales", err, len(page.Sales))
	}
	// gameB is a DRAFT: to a stranger, it does not exist.
	if _, err := svc.ListPayouts(d.ctx, otherDev, payouts.Filter{GameID: gameB.ID}); market.ErrorCode(err) != market.CodeNotFound {
		t.Errorf("another developer's draft game: %v, want not found", err)
	}
	if _, err := d.shop.Games.SetGameStatus(d.ctx, dev, gameB.ID, market.StatusUnlisted); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ListPayouts(d.ctx, otherDev, payouts.Filter{GameID: gameB.ID}); market.ErrorCode(err) != market.CodePermissionDenied {
		t.Errorf("another developer's game: %v, want permission denied", err)
	}
	if _, err := svc.ListLedger(d.ctx, market.Actor{}, payouts.Filter{}); market.ErrorCode(err) != market.CodeUnauthenticated {
		t.Errorf("anonymous: %v, want unauthenticated", err)
	}
	first, _ := svc.ListSales(d.ctx, dev, payouts.Filter{PageSize: 1})
	for _, f := range []payouts.Filter{{PageToken: "garbage"}, {PageToken: first.NextPageToken, GameID: gameB.ID}} {
		if _, err := svc.ListSales(d.ctx, dev, f); market.ErrorCode(err) != market.CodeInvalid {
			t.Errorf("ListSales(%+v): %v, want invalid", f, err)
		}
	}
	if _, err := svc.ListPayouts(d.ctx, dev, payouts.Filter{PageToken: first.NextPageToken}); market.ErrorCode(err) != market.CodeInvalid {
		t.Errorf("a sales token for payouts: %v, want invalid", err)
	}
}
