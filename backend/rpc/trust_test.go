package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/market"
	"satchel.dev/backend/payouts"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/purchases"
	adminpb "satchel.dev/shared/api/satchel/admin/v1"
	purchasepb "satchel.dev/shared/api/satchel/purchase/v1"
)

// listedGame creates a second paid game of the owning developer, LISTED with a published build.
func (b *bundle) listedGame(slug string) market.Game {
	b.t.Helper()
	ctx := context.Background()
	dev := b.actor(owner)
	g := b.must(b.games.CreateGame(ctx, dev, market.NewGame{Slug: slug, Title: "Second " + slug, PriceMsat: 2_000_000}))
	r := b.mustR(b.games.CreateRelease(ctx, dev, g.ID, "1.0.0", "first"))
	b.finish(b.send(dev, r.ID, testZip))
	b.mustR(b.games.PublishRelease(ctx, dev, r.ID))
	return b.must(b.games.SetGameStatus(ctx, dev, g.ID, market.StatusListed))
}

// countLedger counts a purchase's ledger entries of a type.
func (b *bundle) countLedger(purchaseID string, typ market.LedgerType) int {
	b.t.Helper()
	var n int
	if err := b.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM ledger_entries WHERE purchase_id = $1 AND type = $2`,
		purchaseID, typ).Scan(&n); err != nil {
		b.t.Fatal(err)
	}
	return n
}

// refundDue returns the purchases check-ledger lists as a refund due; it fails the test on any
// other problem.
func (b *bundle) refundDue() []string {
	b.t.Helper()
	problems, err := b.db.CheckLedger(context.Background())
	if err != nil {
		b.t.Fatal(err)
	}
	var due []string
	for _, p := range problems {
		if !strings.HasPrefix(p.Problem, "refund due:") {
			b.t.Errorf("ledger: purchase %s (%s): %s", p.PurchaseID, p.Status, p.Problem)
			continue
		}
		due = append(due, p.PurchaseID)
	}
	return due
}

// refund refunds a purchase as an admin and returns its status.
func (b *bundle) refund(purchaseID string) purchasepb.PurchaseStatus {
	b.t.Helper()
	res, err := b.adminClient(admin).RefundPurchase(context.Background(), &adminpb.RefundPurchaseRequest{
		PurchaseId: purchaseID, Reason: "money sent back", Reference: "test"})
	if err != nil {
		b.t.Fatalf("refunding %s: %v", purchaseID, err)
	}
	return res.GetPurchase().GetStatus()
}

// TestRequestIDsAreScoped: a request id returns a purchase only to the client that made it. A
// guest proves it is that client with its secret; another guest sending the same request id
// (for this game or another) gets a purchase and a receipt code of its own, and a receipt code
// is never derived from what a client sends.
func TestRequestIDsAreScoped(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	guest := b.purchaseClient(anonymous)
	otherSecret := strings.Repeat("f", 32)
	res, err := guest.CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: b.game.ID, RequestId: "guest-request-1", ClientSecret: otherSecret})
	if err != nil {
		t.Fatal(err)
	}
	if res.GetPurchase().GetId() == b.guest.ID || res.GetReceiptCode() == b.receipt || res.GetReceiptCode() == "" {
		t.Fatalf("another guest sending the same request id got purchase %s and code %q; the first guest has %s and %q",
			res.GetPurchase().GetId(), res.GetReceiptCode(), b.guest.ID, b.receipt)
	}
	again, err := guest.CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: b.game.ID, RequestId: "guest-request-1", ClientSecret: otherSecret})
	if err != nil || again.GetPurchase().GetId() != res.GetPurchase().GetId() || again.GetReceiptCode() != res.GetReceiptCode() {
		t.Errorf("that guest's own retry = %v, %v; want purchase %s with code %q", again, err, res.GetPurchase().GetId(), res.GetReceiptCode())
	}
	second := b.listedGame("second-game")
	res2, err := guest.CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: second.ID, RequestId: "guest-request-1", ClientSecret: guestSecret})
	if err != nil || res2.GetPurchase().GetId() == b.guest.ID || res2.GetPurchase().GetGameId() != second.ID || res2.GetReceiptCode() == b.receipt {
		t.Errorf("the same guest's request id for another game = %v, %v; want a purchase of that game with its own code", res2, err)
	}
	_, err = guest.CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: b.game.ID, RequestId: "guest-request-1"})
	if code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "client_secret") {
		t.Errorf("a guest's request id without a client secret: %v, want invalid_argument naming client_secret", err)
	}
	_, err = guest.CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: b.game.ID, RequestId: "guest-request-1", ClientSecret: "short"})
	if code(err) != connect.CodeInvalidArgument {
		t.Errorf("a guest's request id with a short client secret: %v, want invalid_argument", err)
	}
	signed, err := b.purchaseClient(other).CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: b.game.ID, RequestId: "guest-request-1"})
	if err != nil || signed.GetPurchase().GetId() == b.guest.ID || signed.GetReceiptCode() != "" {
		t.Errorf("a player sending a guest's request id = %v, %v; want a purchase of their own and no receipt code", signed, err)
	}
	var sealed []byte
	if err := b.db.Pool().QueryRow(ctx, `SELECT guest_receipt_sealed FROM purchases WHERE id = $1`, b.guest.ID).Scan(&sealed); err != nil ||
		len(sealed) == 0 || bytes.Contains(sealed, []byte(b.receipt)) {
		t.Errorf("the stored copy of the receipt code is %q (%v), want it sealed", sealed, err)
	}
}

// TestClaimGrantsNothingWhenTheSaleIsUndone: a receipt whose purchase was refunded, revoked or
// never paid moves nothing to the claimer and says why; neither does a receipt for a game the
// claimer owns already.
func TestClaimGrantsNothingWhenTheSaleIsUndone(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	claimer := b.purchaseClient(other)
	claim := func(receipt, want string, wantCode connect.Code) {
		t.Helper()
		_, err := claimer.ClaimReceipt(ctx, &purchasepb.ClaimReceiptRequest{ReceiptCode: receipt})
		if code(err) != wantCode || !strings.Contains(err.Error(), want) {
			t.Errorf("claim: %v, want %s saying %q", err, wantCode, want)
		}
	}
	newGuest := func(secret string) (market.Purchase, string) {
		t.Helper()
		p, receipt, err := b.purchases.Create(ctx, market.Actor{}, b.game.ID, "guest-"+secret[:8], secret, market.Client{IP: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		return p, receipt
	}

	b.settle(b.guest)
	if _, err := b.adminClient(admin).RevokeEntitlement(ctx, &adminpb.RevokeEntitlementRequest{PurchaseId: b.guest.ID, Reason: "chargeback"}); err != nil {
		t.Fatal(err)
	}
	claim(b.receipt, "revoked", connect.CodeFailedPrecondition)

	refunded, refundedCode := newGuest(strings.Repeat("a", 32))
	b.settle(refunded)
	if st := b.refund(refunded.ID); st != purchasepb.PurchaseStatus_PURCHASE_STATUS_REFUNDED {
		t.Fatalf("refund: %v", st)
	}
	claim(refundedCode, "refunded", connect.CodeFailedPrecondition)

	expired, expiredCode := newGuest(strings.Repeat("b", 32))
	if _, err := postgres.NewPurchaseRepo(b.db).Close(ctx, expired.ID, market.PurchaseExpired, ""); err != nil {
		t.Fatal(err)
	}
	claim(expiredCode, "never paid", connect.CodeFailedPrecondition)

	owned, _, err := b.purchases.Create(ctx, b.actor(other), b.game.ID, "", "", market.Client{})
	if err != nil {
		t.Fatal(err)
	}
	b.settle(owned)
	pending, pendingCode := newGuest(strings.Repeat("c", 32))
	claim(pendingCode, "you own", connect.CodeAlreadyExists)

	for _, p := range []market.Purchase{b.guest, refunded, expired, pending} {
		got, err := b.purchases.Get(ctx, b.actor(admin), p.ID, "", market.Client{})
		if err != nil || !got.Guest() {
			t.Errorf("purchase %s after a refused claim: buyer %q (%v), want it still the guest's", p.ID, got.BuyerUserID, err)
		}
	}
	b.checkLedger()
}

// TestClaimedGameIsNotSoldAgain: a buyer with an open purchase of a game who then claims a
// guest receipt for it owns it: CreatePurchase refuses the game instead of handing back the
// open purchase's invoice, which would charge them a second time.
func TestClaimedGameIsNotSoldAgain(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	b.settle(b.guest)
	if _, err := b.purchaseClient(player).ClaimReceipt(ctx, &purchasepb.ClaimReceiptRequest{ReceiptCode: b.receipt}); err != nil {
		t.Fatal(err)
	}
	res, err := b.purchaseClient(player).CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: b.game.ID})
	if code(err) != connect.CodeAlreadyExists || !strings.Contains(err.Error(), "you already own") {
		t.Fatalf("buying a claimed game = %v, %v; want AlreadyExists saying the buyer owns it (open purchase %s)", res, err, b.bought.ID)
	}
	b.checkLedger()
}

// TestOneOpenPurchasePerGame: a second CreatePurchase of a game by a buyer with an open
// purchase of it returns that purchase and its invoice, also when many arrive at once; once
// its invoice has expired, a new one is made.
func TestOneOpenPurchasePerGame(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	res, err := b.purchaseClient(player).CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: b.game.ID})
	if err != nil || res.GetPurchase().GetId() != b.bought.ID || res.GetPurchase().GetPaymentRequest() != b.bought.PaymentRequest {
		t.Fatalf("a second purchase of the game = %v, %v; want the open purchase %s and its invoice", res, err, b.bought.ID)
	}

	const n = 8
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, _, err := b.purchases.Create(ctx, b.actor(other), b.game.ID, "", "", market.Client{IP: "192.0.2.7"})
			if err != nil {
				t.Error(err)
			}
			ids[i] = p.ID
		}()
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("%d purchases opened at once got ids %v, want one purchase", n, ids)
		}
	}
	var open int
	if err := b.db.Pool().QueryRow(ctx, `SELECT count(*) FROM purchases WHERE buyer_user_id = $1 AND status = 'PENDING'`,
		b.actor(other).UserID).Scan(&open); err != nil || open != 1 {
		t.Errorf("%d open purchases (%v), want 1", open, err)
	}

	if _, err := b.db.Pool().Exec(ctx, `UPDATE purchases SET expires_at = now() - interval '1 second' WHERE id = $1`, b.bought.ID); err != nil {
		t.Fatal(err)
	}
	fresh, err := b.purchaseClient(player).CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: b.game.ID})
	if err != nil || fresh.GetPurchase().GetId() == b.bought.ID {
		t.Fatalf("after the open invoice expired: %v, %v; want a new purchase", fresh, err)
	}
	if st := b.status(b.bought.ID); st != market.PurchaseExpired {
		t.Errorf("the expired purchase is %s, want EXPIRED", st)
	}
	b.checkLedger()
}

// TestSecondPaymentIsRecordedNotGranted: money that arrives for a game its buyer owns already
// grants nothing twice and pays the developer once: the purchase is FAILED with the reason, its
// money is one INVOICE_PAID entry, check-ledger lists it as a refund due until the operator
// refunds it, and the settlement delivered again changes nothing.
func TestSecondPaymentIsRecordedNotGranted(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	b.paid()
	// A second purchase of the owned game by the same buyer, which the rules above no longer
	// allow to be opened: the guest's purchase made the player's, as an older server might have.
	if _, err := b.db.Pool().Exec(ctx, `UPDATE purchases SET buyer_user_id = $2, guest_receipt_code = NULL WHERE id = $1`,
		b.guest.ID, b.actor(player).UserID); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	s := b.newPurchases(purchases.Config{OnUnaccounted: func(kind string) { kinds = append(kinds, kind) }})
	for range 2 {
		if err := s.Settle(ctx, settled(b.guest, b.guest.AmountMsat, 7)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Get(ctx, b.actor(admin), b.guest.ID, "", market.Client{})
	if err != nil || got.Status != market.PurchaseFailed || !strings.Contains(got.FailureReason, "second payment") {
		t.Errorf("the second payment's purchase = %s %q (%v), want FAILED saying it was a second payment", got.Status, got.FailureReason, err)
	}
	var live, payouts int
	if err := b.db.Pool().QueryRow(ctx, `SELECT
		(SELECT count(*) FROM entitlements WHERE buyer_user_id = $1 AND game_id = $2 AND revoked_at IS NULL),
		(SELECT count(*) FROM payouts p JOIN purchases u ON u.id = p.purchase_id WHERE u.game_id = $2)`,
		b.actor(player).UserID, b.game.ID).Scan(&live, &payouts); err != nil {
		t.Fatal(err)
	}
	if live != 1 || payouts != 1 || b.countLedger(b.guest.ID, market.LedgerInvoicePaid) != 1 {
		t.Errorf("%d live entitlements, %d payouts, %d INVOICE_PAID for the second payment; want 1, 1, 1",
			live, payouts, b.countLedger(b.guest.ID, market.LedgerInvoicePaid))
	}
	if len(kinds) != 1 || kinds[0] != "duplicate" {
		t.Errorf("unaccounted payments counted: %v, want one duplicate", kinds)
	}
	if due := b.refundDue(); len(due) != 1 || due[0] != b.guest.ID {
		t.Errorf("refunds due %v, want the second payment %s", due, b.guest.ID)
	}
	if st := b.refund(b.guest.ID); st != purchasepb.PurchaseStatus_PURCHASE_STATUS_REFUNDED {
		t.Errorf("after its refund the second payment is %v", st)
	}
	b.checkLedger()
	if _, err := b.db.Pool().Exec(ctx, `INSERT INTO entitlements (purchase_id, buyer_user_id, game_id) VALUES ($1, $2, $3)`,
		b.guest.ID, b.actor(player).UserID, b.game.ID); err == nil {
		t.Error("the database took a second live entitlement of one buyer to one game")
	}
}

// TestLateSettlementIsMoneyReceived: a payment that arrives for a purchase already EXPIRED is
// recorded once (however often it is delivered), counted, and listed until refunded.
func TestLateSettlementIsMoneyReceived(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	if _, err := postgres.NewPurchaseRepo(b.db).Close(ctx, b.bought.ID, market.PurchaseExpired, ""); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	s := b.newPurchases(purchases.Config{OnUnaccounted: func(kind string) { kinds = append(kinds, kind) }})
	for range 3 {
		if err := s.Settle(ctx, settled(b.bought, b.bought.AmountMsat, 9)); err != nil {
			t.Fatal(err)
		}
	}
	if st := b.status(b.bought.ID); st != market.PurchaseExpired {
		t.Errorf("after a late settlement the purchase is %s, want EXPIRED", st)
	}
	if n := b.countLedger(b.bought.ID, market.LedgerInvoicePaid); n != 1 || len(kinds) != 1 || kinds[0] != "late" {
		t.Errorf("%d INVOICE_PAID entries, counted %v; want 1 and one late payment", n, kinds)
	}
	if due := b.refundDue(); len(due) != 1 || due[0] != b.bought.ID {
		t.Errorf("refunds due %v, want the late payment %s", due, b.bought.ID)
	}
	b.refund(b.bought.ID)
	b.checkLedger()
}

// failingLookup is a provider that cannot look up one invoice.
type failingLookup struct {
	lightning.Provider
	bad string
}

func (f failingLookup) LookupInvoice(ctx context.Context, id string) (lightning.Invoice, error) {
	if id == f.bad {
		return lightning.Invoice{}, errors.New("the node answered garbage for this invoice")
	}
	return f.Provider.LookupInvoice(ctx, id)
}

// TestReconcileGoesOnPastAFailingInvoice: one invoice the node cannot look up neither stops a
// server from starting nor stops the other purchases from being reconciled or expired.
func TestReconcileGoesOnPastAFailingInvoice(t *testing.T) {
	b := setup(t)
	b.stopSettling()
	ctx := context.Background()
	if _, err := b.dev.Settle(ctx, b.guest.PaymentRequest); err != nil { // paid while no server followed settlements
		t.Fatal(err)
	}
	failures := 0
	s, err := purchases.New(postgres.NewPurchaseRepo(b.db), postgres.NewLibraryRepo(b.db), b.notifier,
		failingLookup{Provider: b.dev, bad: b.bought.InvoiceID},
		purchases.Config{FeeBps: 1000, ReceiptSecret: bytes.Repeat([]byte{7}, 32), OnReconcileError: func() { failures++ }},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reconcile(ctx); err != nil {
		t.Fatalf("Reconcile with one bad invoice: %v, want nil", err)
	}
	if st := b.status(b.guest.ID); st != market.PurchasePaid || failures != 1 {
		t.Errorf("after reconciling, the paid purchase is %s with %d failures counted; want PAID and 1", st, failures)
	}

	late, _, err := b.purchases.Create(ctx, b.actor(other), b.game.ID, "", "", market.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.Pool().Exec(ctx, `UPDATE purchases SET expires_at = now() - interval '1 second' WHERE id = ANY($1)`,
		[]string{b.bought.ID, late.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.ExpireDue(ctx); err != nil {
		t.Fatalf("ExpireDue with one bad invoice: %v, want nil", err)
	}
	if st := b.status(late.ID); st != market.PurchaseExpired || failures != 2 {
		t.Errorf("after expiring, the other purchase is %s with %d failures counted; want EXPIRED and 2", st, failures)
	}
}

// TestSaleWithoutAPayoutProfile: a sale whose developer has no payout profile is PAID (the
// buyer paid) with its payout FAILED at once and saying why, never a sale without a payout, and
// it does not stop the settlements behind it.
func TestSaleWithoutAPayoutProfile(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	if _, err := b.db.Pool().Exec(ctx, `DELETE FROM developer_profiles WHERE user_id = $1`, b.actor(owner).UserID); err != nil {
		t.Fatal(err)
	}
	b.settle(b.bought)
	po := b.payout(b.bought.ID)
	if po.Status != payouts.StatusFailed || !strings.Contains(po.LastError, "payout profile") {
		t.Errorf("the payout is %s (%q), want FAILED naming the missing payout profile", po.Status, po.LastError)
	}
	b.checkLedger()
}

// TestMinimumPrice: a paid game costs at least the store's minimum, named in sats; a game
// priced below it before the minimum existed is not sold.
func TestMinimumPrice(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	const dev = "satchel.developer.v1.DeveloperService/"
	got := b.call(owner, dev+"CreateGame", jsonBody(map[string]any{"slug": "cheap-game", "title": "Cheap", "priceMsat": 500_000}))
	if got.code != "invalid_argument" || !strings.Contains(got.message, "1,000") || !strings.Contains(got.message, "500 sats") {
		t.Errorf("a game at 500 sats: %s %q, want invalid_argument naming 500 and 1,000 sats", got.code, got.message)
	}
	got = b.call(owner, dev+"UpdateGame", jsonBody(map[string]any{"gameId": b.game.ID, "priceMsat": 999_999}))
	if got.code != "invalid_argument" {
		t.Errorf("a price just below the minimum: %s %q, want invalid_argument", got.code, got.message)
	}
	if _, err := b.db.Pool().Exec(ctx, `UPDATE games SET price_msat = 21000 WHERE id = $1`, b.game.ID); err != nil {
		t.Fatal(err)
	}
	_, err := b.purchaseClient(other).CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: b.game.ID})
	if code(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "minimum") {
		t.Errorf("buying a game priced below the minimum: %v, want failed_precondition naming the minimum", err)
	}
}
