package rpc_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"satchel.dev/backend/market"
	"satchel.dev/backend/purchases"
	librarypb "satchel.dev/shared/api/satchel/library/v1"
	"satchel.dev/shared/api/satchel/library/v1/libraryv1connect"
	purchasepb "satchel.dev/shared/api/satchel/purchase/v1"
	"satchel.dev/shared/api/satchel/purchase/v1/purchasev1connect"
	testmoneypb "satchel.dev/shared/api/satchel/testmoney/v1"
	"satchel.dev/shared/api/satchel/testmoney/v1/testmoneyv1connect"
)

func (b *bundle) purchaseClient(r role) purchasev1connect.PurchaseServiceClient {
	return purchasev1connect.NewPurchaseServiceClient(b.client(r), b.srv.URL)
}

func (b *bundle) libraryClient(r role) libraryv1connect.LibraryServiceClient {
	return libraryv1connect.NewLibraryServiceClient(b.client(r), b.srv.URL)
}

func (b *bundle) payTestMoney(invoice string) {
	b.t.Helper()
	c := testmoneyv1connect.NewTestMoneyServiceClient(b.client(anonymous), b.srv.URL)
	if _, err := c.PayInvoice(context.Background(), &testmoneypb.PayInvoiceRequest{PaymentRequest: invoice}); err != nil {
		b.t.Fatal("paying with test money:", err)
	}
}

func code(err error) connect.Code { return connect.CodeOf(err) }

// checkLedger fails the test if any purchase breaks the money path's invariants.
func (b *bundle) checkLedger() {
	b.t.Helper()
	problems, err := b.db.CheckLedger(context.Background())
	if err != nil {
		b.t.Fatal(err)
	}
	for _, p := range problems {
		b.t.Errorf("ledger: purchase %s (%s): %s", p.PurchaseID, p.Status, p.Problem)
	}
}

// TestBuyPayOwn is a player's purchase: an invoice with the price and the title, a retry that
// returns the same purchase, the status pushed PAID within a second of the payment, the game
// in the library, the download allowed, and a second purchase refused.
func TestBuyPayOwn(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	pc := b.purchaseClient(player)
	res, err := pc.CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: b.draft.ID})
	if code(err) != connect.CodeNotFound || !strings.Contains(err.Error(), "no game with id") {
		t.Errorf("buying another's draft: %v, want not_found as for an unknown id", err)
	}
	// The fixture's player already has a pending purchase; this one is a fresh request.
	res, err = pc.CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: b.game.ID, RequestId: "req-0001-buy"})
	if err != nil {
		t.Fatal(err)
	}
	p := res.GetPurchase()
	if p.GetStatus() != purchasepb.PurchaseStatus_PURCHASE_STATUS_PENDING || p.GetAmountMsat() != 1_000_000 ||
		!strings.HasPrefix(p.GetPaymentRequest(), "lnbcrt") || !p.GetTestMoney() || res.GetReceiptCode() != "" {
		t.Fatalf("purchase = %v", res)
	}
	again, err := pc.CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: b.game.ID, RequestId: "req-0001-buy"})
	if err != nil || again.GetPurchase().GetId() != p.GetId() {
		t.Fatalf("retry with the same request id: %v, %v; want purchase %s", again, err, p.GetId())
	}

	stream, err := pc.WatchPurchase(ctx, &purchasepb.WatchPurchaseRequest{PurchaseId: p.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if !stream.Receive() || stream.Msg().GetPurchase().GetStatus() != purchasepb.PurchaseStatus_PURCHASE_STATUS_PENDING {
		t.Fatalf("first message: %v %v", stream.Msg(), stream.Err())
	}
	b.payTestMoney(p.GetPaymentRequest())
	if !stream.Receive() || stream.Msg().GetPurchase().GetStatus() != purchasepb.PurchaseStatus_PURCHASE_STATUS_PAID {
		t.Fatalf("second message: %v %v", stream.Msg(), stream.Err())
	}
	if stream.Receive() {
		t.Errorf("the stream goes on after PAID: %v", stream.Msg())
	}

	lib, err := b.libraryClient(player).ListLibrary(ctx, &librarypb.ListLibraryRequest{})
	if err != nil || len(lib.GetGames()) != 1 || lib.GetGames()[0].GetLatestRelease().GetVersion() != "1.0.0" {
		t.Fatalf("library = %v, %v", lib, err)
	}
	got := b.call(player, getDownload, jsonBody(map[string]any{"gameId": b.game.ID}))
	if got.code != "ok" {
		t.Fatalf("download after buying: %s %q", got.code, got.message)
	}
	// What follows is the same download, recorded once: the launcher's Range requests on the
	// URL, and the fresh URL it asks for when the link expires or it resumes after a crash.
	for _, rng := range []string{"bytes=0-99", "bytes=100-199"} {
		req, _ := http.NewRequest(http.MethodGet, got.body["url"].(string), nil)
		req.Header.Set("Range", rng)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusPartialContent {
			t.Fatalf("GET %s of the download URL: %v %v", rng, res, err)
		}
		res.Body.Close()
	}
	if again := b.call(player, getDownload, jsonBody(map[string]any{"gameId": b.game.ID})); again.code != "ok" {
		t.Errorf("a fresh download URL: %s %q", again.code, again.message)
	}
	_, err = pc.CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: b.game.ID})
	if code(err) != connect.CodeAlreadyExists || !strings.Contains(err.Error(), lib.GetGames()[0].GetEntitlementId()) {
		t.Errorf("buying an owned game: %v", err)
	}
	b.checkLedger()
	var fee, net, downloads int64
	if err := b.db.Pool().QueryRow(ctx, `SELECT
		(SELECT amount_msat FROM ledger_entries WHERE purchase_id = $1 AND type = 'PLATFORM_FEE'),
		(SELECT amount_msat FROM payouts WHERE purchase_id = $1 AND status = 'SCHEDULED'),
		(SELECT count(*) FROM download_events)`, p.GetId()).Scan(&fee, &net, &downloads); err != nil {
		t.Fatal(err)
	}
	if fee != 100_000 || net != 900_000 || downloads != 1 {
		t.Errorf("fee %d, scheduled payout %d, download events %d; want 100000, 900000, 1", fee, net, downloads)
	}
}

// TestGuestBuysAndClaims is a purchase without an identity: the receipt code shown once (and
// again on a retry), the code alone allowing the download, then a player claiming it.
func TestGuestBuysAndClaims(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	guest := b.purchaseClient(anonymous)
	res, err := guest.CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: b.game.ID, RequestId: "guest-request-1", ClientSecret: guestSecret})
	if err != nil || res.GetPurchase().GetId() != b.guest.ID || res.GetReceiptCode() != b.receipt || !res.GetPurchase().GetGuest() {
		t.Fatalf("guest retry = %v, %v; want purchase %s with its code", res, err, b.guest.ID)
	}
	if _, err := guest.GetPurchase(ctx, &purchasepb.GetPurchaseRequest{PurchaseId: b.guest.ID}); code(err) != connect.CodeUnauthenticated {
		t.Errorf("a guest purchase without its code: %v", err)
	}
	wrong := []byte(b.receipt)
	wrong[0] ^= 1
	if _, err := guest.GetPurchase(ctx, &purchasepb.GetPurchaseRequest{PurchaseId: b.guest.ID, ReceiptCode: string(wrong)}); code(err) != connect.CodeInvalidArgument {
		t.Errorf("a mistyped code: %v", err)
	}
	b.payTestMoney(b.guest.PaymentRequest)
	waitFor(t, func() bool {
		got, err := guest.GetPurchase(ctx, &purchasepb.GetPurchaseRequest{PurchaseId: b.guest.ID, ReceiptCode: b.receipt})
		return err == nil && got.GetPurchase().GetStatus() == purchasepb.PurchaseStatus_PURCHASE_STATUS_PAID
	})
	withCode := jsonBody(map[string]any{"gameId": b.game.ID, "receiptCode": b.receipt})
	if got := b.call(anonymous, getDownload, withCode); got.code != "ok" {
		t.Fatalf("download with the receipt code: %s %q", got.code, got.message)
	}
	claimed, err := b.purchaseClient(player).ClaimReceipt(ctx, &purchasepb.ClaimReceiptRequest{ReceiptCode: strings.ToLower(b.receipt)})
	if err != nil || claimed.GetPurchase().GetGuest() {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	if got := b.call(anonymous, getDownload, withCode); got.code != "not_found" {
		t.Errorf("the code alone after the claim: %s %q, want not_found", got.code, got.message)
	}
	if got := b.call(player, getDownload, jsonBody(map[string]any{"gameId": b.game.ID})); got.code != "ok" {
		t.Errorf("the claimer's download: %s %q", got.code, got.message)
	}
	if _, err := b.purchaseClient(other).ClaimReceipt(ctx, &purchasepb.ClaimReceiptRequest{ReceiptCode: b.receipt}); code(err) != connect.CodeNotFound {
		t.Errorf("claiming twice: %v", err)
	}
	b.checkLedger()
}

// TestFreeGame is granted at once, with no invoice and no money in the ledger.
func TestFreeGame(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	price := int64(0)
	if _, err := b.games.UpdateGame(ctx, b.actor(owner), b.game.ID, market.GameUpdate{PriceMsat: &price}); err != nil {
		t.Fatal(err)
	}
	res, err := b.purchaseClient(other).CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: b.game.ID})
	if err != nil || res.GetPurchase().GetStatus() != purchasepb.PurchaseStatus_PURCHASE_STATUS_PAID || res.GetPurchase().GetPaymentRequest() != "" {
		t.Fatalf("free purchase: %v, %v", res, err)
	}
	if got := b.call(other, getDownload, jsonBody(map[string]any{"gameId": b.game.ID})); got.code != "ok" {
		t.Errorf("download of a free game: %s %q", got.code, got.message)
	}
	b.checkLedger()
}

// TestPurchaseRateLimit refuses a flood of purchases from one identity or one address, so
// nobody can make the node issue invoices without end.
func TestPurchaseRateLimit(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	limited := b.newPurchases(purchases.Config{CreatePer: time.Hour, CreateBurst: 3})
	for i := range 3 {
		if _, _, err := limited.Create(ctx, market.Actor{}, b.game.ID, "", "", market.Client{IP: "203.0.113.9"}); err != nil {
			t.Fatalf("purchase %d: %v", i+1, err)
		}
	}
	_, _, err := limited.Create(ctx, market.Actor{}, b.game.ID, "", "", market.Client{IP: "203.0.113.9"})
	if market.ErrorCode(err) != market.CodeResourceExhausted {
		t.Errorf("a fourth guest purchase from one address within the hour: %v, want resource_exhausted", err)
	}
	_, _, err = limited.Create(ctx, b.actor(admin), b.game.ID, "", "", market.Client{IP: "203.0.113.9"})
	if market.ErrorCode(err) != market.CodeResourceExhausted {
		t.Errorf("a fourth purchase from one address: %v, want resource_exhausted", err)
	}
	if _, _, err := limited.Create(ctx, b.actor(other), b.game.ID, "", "", market.Client{IP: "198.51.100.1"}); err != nil {
		t.Errorf("another player elsewhere: %v", err)
	}
}

// TestWrongReceiptCodesAreLimited: a client guessing receipt codes is stopped after a few
// wrong ones, while right codes never count against anyone.
func TestWrongReceiptCodesAreLimited(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	s := b.newPurchases(purchases.Config{CodePer: time.Hour, CodeBurst: 3})
	guesser, honest := market.Client{IP: "203.0.113.66"}, market.Client{IP: "198.51.100.7"}
	for range 10 {
		if _, err := s.Get(ctx, market.Actor{}, b.guest.ID, b.receipt, honest); err != nil {
			t.Fatalf("the right code: %v", err)
		}
	}
	var wrong [16]byte
	for i := range 3 {
		wrong[0] = byte(i)
		if _, err := s.Get(ctx, market.Actor{}, b.guest.ID, market.NewReceiptCode(wrong), guesser); market.ErrorCode(err) != market.CodeNotFound {
			t.Fatalf("wrong code %d: %v, want not_found", i+1, err)
		}
	}
	if _, err := s.Get(ctx, market.Actor{}, b.guest.ID, b.receipt, guesser); market.ErrorCode(err) != market.CodeResourceExhausted {
		t.Errorf("after three wrong codes: %v, want resource_exhausted", err)
	}
	if _, err := s.Get(ctx, market.Actor{}, b.guest.ID, b.receipt, honest); err != nil {
		t.Errorf("another client with the right code: %v", err)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
