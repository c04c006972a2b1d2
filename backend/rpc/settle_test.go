package rpc_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/market"
	"satchel.dev/backend/purchases"
	librarypb "satchel.dev/shared/api/satchel/library/v1"
	"satchel.dev/shared/api/satchel/library/v1/libraryv1connect"
	purchasepb "satchel.dev/shared/api/satchel/purchase/v1"
	"satchel.dev/shared/api/satchel/purchase/v1/purchasev1connect"
	"satchel.dev/shared/nip98"
	"satchel.dev/shared/nostr"
)

// settled is the settlement a provider would report for p.
func settled(p market.Purchase, paidMsat int64, index uint64) lightning.Invoice {
	return lightning.Invoice{ID: p.InvoiceID, State: lightning.InvoiceSettled, AmountMsat: p.AmountMsat,
		AmountPaidMsat: paidMsat, SettledAt: time.Now(), SettleIndex: index}
}

func (b *bundle) status(id string) market.PurchaseStatus {
	b.t.Helper()
	p, err := b.purchases.Get(context.Background(), b.actor(admin), id, "", market.Client{})
	if err != nil {
		b.t.Fatal(err)
	}
	return p.Status
}

// TestSettlementInvariant throws thousands of purchases at two server instances: settlements
// delivered twice, late (after the purchase failed), out of order, below and above the price,
// with instances replaced ("restarted", reconciling as they start) along the way. Afterwards
// every PAID purchase has FEE + NET = PAID, one entitlement and one payout, and nothing else
// has any.
func TestSettlementInvariant(t *testing.T) {
	b := setup(t)
	b.stopSettling()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 2000
	instances := []*purchases.Service{b.newPurchases(purchases.Config{CreatePer: time.Microsecond, CreateBurst: n}),
		b.newPurchases(purchases.Config{CreatePer: time.Microsecond, CreateBurst: n})}

	all := make([]market.Purchase, n)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 4 {
				p, _, err := instances[i%2].Create(ctx, market.Actor{}, b.game.ID, "", "", market.Client{IP: "10.0.0.1"})
				if err != nil {
					t.Error(err)
					return
				}
				all[i] = p
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Each purchase's fate: paid, overpaid, underpaid, or failed before a late settlement.
	var events []lightning.Invoice
	wantPaid, wantFailed := 0, 0
	for i, p := range all {
		index := uint64(i + 1)
		switch f := rng.IntN(10); {
		case f < 6:
			events, wantPaid = append(events, settled(p, p.AmountMsat, index)), wantPaid+1
		case f < 7:
			events, wantPaid = append(events, settled(p, p.AmountMsat+500, index)), wantPaid+1
		case f < 8:
			events, wantFailed = append(events, settled(p, p.AmountMsat-1, index)), wantFailed+1
		default: // the invoice is canceled, the purchase fails, then a settlement arrives late
			if err := b.dev.CancelInvoice(ctx, p.InvoiceID); err != nil {
				t.Fatal(err)
			}
			events, wantFailed = append(events, settled(p, p.AmountMsat, index)), wantFailed+1
		}
		if rng.IntN(3) == 0 { // delivered twice
			events = append(events, events[len(events)-1])
		}
	}
	if err := instances[0].Reconcile(ctx); err != nil { // fails the canceled ones
		t.Fatal(err)
	}
	rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })

	work := make(chan lightning.Invoice)
	var mu sync.Mutex
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			handled := 0
			for inv := range work {
				mu.Lock()
				s := instances[w]
				mu.Unlock()
				if err := s.Settle(ctx, inv); err != nil {
					t.Error(err)
				}
				if handled++; handled%300 == 0 { // restart this instance: a new one reconciles as it starts
					fresh := b.newPurchases(purchases.Config{})
					if err := fresh.Reconcile(ctx); err != nil {
						t.Error(err)
					}
					mu.Lock()
					instances[w] = fresh
					mu.Unlock()
				}
			}
		}()
	}
	for _, inv := range events {
		work <- inv
	}
	close(work)
	wg.Wait()

	// The money of the underpaid and late ones is recorded, listed, and refunded by the operator.
	due := b.refundDue()
	if len(due) != wantFailed {
		t.Errorf("%d refunds due, want one for each of the %d failed purchases that received money", len(due), wantFailed)
	}
	for _, id := range due {
		b.refund(id)
	}
	b.checkLedger()
	var paid, failed, entitlements, payouts int
	err := b.db.Pool().QueryRow(ctx, `SELECT
		(SELECT count(*) FROM purchases WHERE status = 'PAID' AND invoice_provider IS NOT NULL AND guest_receipt_code IS NOT NULL),
		(SELECT count(*) FROM purchases WHERE status = 'REFUNDED' AND failure_reason IS NOT NULL),
		(SELECT count(*) FROM entitlements e JOIN purchases p ON p.id = e.purchase_id WHERE p.guest_receipt_code IS NOT NULL),
		(SELECT count(*) FROM payouts)`).Scan(&paid, &failed, &entitlements, &payouts)
	if err != nil {
		t.Fatal(err)
	}
	if paid != wantPaid || failed != wantFailed || entitlements != wantPaid || payouts != wantPaid {
		t.Errorf("paid %d, failed %d, entitlements %d, payouts %d; want %d paid with as many entitlements and payouts, %d failed",
			paid, failed, entitlements, payouts, wantPaid, wantFailed)
	}
	var underpaid string
	if err := b.db.Pool().QueryRow(ctx, `SELECT failure_reason FROM purchases WHERE failure_reason LIKE 'underpaid%' LIMIT 1`).Scan(&underpaid); err != nil {
		t.Errorf("no underpaid purchase says why it failed: %v", err)
	}
}

// TestExpiryAndLateSettlement shows an unpaid invoice expiring: the purchase is EXPIRED on the
// stream, the invoice can no longer be paid, and a settlement arriving anyway grants nothing:
// its money is listed for a refund.
func TestExpiryAndLateSettlement(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	short := b.newPurchases(purchases.Config{InvoiceExpiry: time.Second})
	p, _, err := short.Create(ctx, b.actor(other), b.game.ID, "", "", market.Client{})
	if err != nil {
		t.Fatal(err)
	}
	stream, err := b.purchaseClient(other).WatchPurchase(ctx, &purchasepb.WatchPurchaseRequest{PurchaseId: p.ID})
	if err != nil || !stream.Receive() {
		t.Fatal(err, stream.Err())
	}
	// The purchases service expires on the real clock (it has none to inject): sleep past the
	// one-second invoice's expiry.
	time.Sleep(1100 * time.Millisecond)
	if err := short.ExpireDue(ctx); err != nil {
		t.Fatal(err)
	}
	if !stream.Receive() || stream.Msg().GetPurchase().GetStatus() != purchasepb.PurchaseStatus_PURCHASE_STATUS_EXPIRED {
		t.Fatalf("after expiry the stream says %v (%v)", stream.Msg(), stream.Err())
	}
	if _, err := b.dev.Settle(ctx, p.PaymentRequest); err == nil {
		t.Error("an expired invoice was paid")
	}
	if err := b.purchases.Settle(ctx, settled(p, p.AmountMsat, 99)); err != nil {
		t.Fatal(err)
	}
	if s := b.status(p.ID); s != market.PurchaseExpired {
		t.Errorf("after a late settlement the purchase is %s, want EXPIRED", s)
	}
	if due := b.refundDue(); len(due) != 1 || due[0] != p.ID {
		t.Errorf("refunds due %v, want the late payment %s", due, p.ID)
	}
}

// TestUnderpaidAndDuplicate: a settlement below the price fails the purchase with the reason
// and lists its money for a refund; a settlement delivered twice pays once.
func TestUnderpaidAndDuplicate(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	if err := b.purchases.Settle(ctx, settled(b.guest, b.guest.AmountMsat-1, 1)); err != nil {
		t.Fatal(err)
	}
	got, err := b.purchases.Get(ctx, market.Actor{}, b.guest.ID, b.receipt, market.Client{})
	if err != nil || got.Status != market.PurchaseFailed || !strings.Contains(got.FailureReason, "underpaid") {
		t.Errorf("underpaid purchase = %+v, %v", got, err)
	}
	if due := b.refundDue(); len(due) != 1 || due[0] != b.guest.ID {
		t.Errorf("refunds due %v, want the underpaid %s", due, b.guest.ID)
	}
	b.refund(b.guest.ID)
	for range 3 {
		if err := b.purchases.Settle(ctx, settled(b.bought, b.bought.AmountMsat, 2)); err != nil {
			t.Fatal(err)
		}
	}
	if s := b.status(b.bought.ID); s != market.PurchasePaid {
		t.Errorf("status %s, want PAID", s)
	}
	b.checkLedger()

	// The check itself can fail: a stray fee entry breaks FEE + NET = PAID.
	if _, err := b.db.Pool().Exec(ctx, `INSERT INTO ledger_entries (purchase_id, type, amount_msat) VALUES ($1, 'PLATFORM_FEE', 1)`, b.bought.ID); err != nil {
		t.Fatal(err)
	}
	problems, err := b.db.CheckLedger(ctx)
	if err != nil || len(problems) != 1 || problems[0].PurchaseID != b.bought.ID || !strings.Contains(problems[0].Problem, "PLATFORM_FEE") {
		t.Errorf("CheckLedger after a stray fee = %+v, %v", problems, err)
	}
}

// TestReconcileAfterDowntime: an invoice paid while no server followed the settlements is
// found PAID by the next server's start-up reconciliation.
func TestReconcileAfterDowntime(t *testing.T) {
	b := setup(t)
	b.stopSettling()
	ctx := context.Background()
	if _, err := b.dev.Settle(ctx, b.bought.PaymentRequest); err != nil {
		t.Fatal(err)
	}
	if s := b.status(b.bought.ID); s != market.PurchasePending {
		t.Fatalf("status %s while no server follows settlements, want PENDING", s)
	}
	if err := b.newPurchases(purchases.Config{}).Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if s := b.status(b.bought.ID); s != market.PurchasePaid {
		t.Errorf("after reconciling: %s, want PAID", s)
	}
	b.checkLedger()
}

// TestLibraryStreamCatchesUp: the library stream pushes a new entitlement, and a launcher that
// reconnects with its last resume token receives the release published while it was away.
func TestLibraryStreamCatchesUp(t *testing.T) {
	b := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	lib := b.libraryClient(player)
	list, err := lib.ListLibrary(ctx, &librarypb.ListLibraryRequest{})
	if err != nil || len(list.GetGames()) != 0 {
		t.Fatalf("library before buying: %v %v", list, err)
	}
	stream := b.watchLibrary(ctx, lib, list.GetResumeToken())
	b.payTestMoney(b.bought.PaymentRequest)
	if !stream.Receive() {
		t.Fatal(stream.Err())
	}
	c := stream.Msg().GetChange()
	if c.GetKind() != librarypb.LibraryChange_KIND_ENTITLEMENT_GRANTED || c.GetGame().GetLatestRelease().GetVersion() != "1.0.0" {
		t.Fatalf("change = %v", c)
	}
	cancel() // the launcher goes offline

	b.finish(b.upload)
	if _, err := b.games.PublishRelease(context.Background(), b.actor(owner), b.pending.ID); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream = b.watchLibrary(ctx, lib, c.GetResumeToken())
	if !stream.Receive() {
		t.Fatal(stream.Err())
	}
	c = stream.Msg().GetChange()
	if c.GetKind() != librarypb.LibraryChange_KIND_RELEASE_PUBLISHED || c.GetGame().GetLatestRelease().GetVersion() != "2.0.0" {
		t.Errorf("caught-up change = %v", c)
	}
	// Others do not hear about a game they do not own.
	otherList, _ := b.libraryClient(other).ListLibrary(context.Background(), &librarypb.ListLibraryRequest{})
	if len(otherList.GetGames()) != 0 {
		t.Errorf("another player's library: %v", otherList)
	}
}

// watchLibrary opens a library stream from token (empty: from now) and reads its first message,
// which carries the token it delivers after: the given one, or the latest change.
func (b *bundle) watchLibrary(ctx context.Context, lib libraryv1connect.LibraryServiceClient, token string) *connect.ServerStreamForClient[librarypb.WatchLibraryResponse] {
	b.t.Helper()
	stream, err := lib.WatchLibrary(ctx, &librarypb.WatchLibraryRequest{ResumeToken: token})
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { stream.Close() })
	if !stream.Receive() {
		b.t.Fatal("the library stream ended before its first message:", stream.Err())
	}
	first := stream.Msg()
	if first.GetChange() != nil || first.GetResumeToken() == "" || (token != "" && first.GetResumeToken() != token) {
		b.t.Fatalf("first message %v, want only the resume token %q", first, token)
	}
	return stream
}

// TestLibraryStreamFromNow: a stream opened without a token, then a purchase paid at once,
// delivers the entitlement every time (the stream's first message comes once it listens).
func TestLibraryStreamFromNow(t *testing.T) {
	b := setup(t)
	for i := range 1000 {
		key, err := nostr.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		signed := &http.Client{Transport: &nip98.Transport{Signer: key}}
		sctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		stream := b.watchLibrary(sctx, libraryv1connect.NewLibraryServiceClient(signed, b.srv.URL), "")
		res, err := purchasev1connect.NewPurchaseServiceClient(signed, b.srv.URL).CreatePurchase(sctx,
			&purchasepb.CreatePurchaseRequest{GameId: b.game.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.dev.Settle(sctx, res.GetPurchase().GetPaymentRequest()); err != nil {
			t.Fatal(err)
		}
		if !stream.Receive() {
			t.Fatalf("purchase %d: the stream ended before its entitlement: %v", i, stream.Err())
		}
		if c := stream.Msg().GetChange(); c.GetKind() != librarypb.LibraryChange_KIND_ENTITLEMENT_GRANTED || c.GetGame().GetGameId() != b.game.ID {
			t.Fatalf("purchase %d: change %v, want the game granted", i, c)
		}
		stop()
	}
}
