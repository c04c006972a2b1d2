package payouts_test

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/lightning/bolt11"
	"satchel.dev/backend/market"
	"satchel.dev/backend/payouts"
	"satchel.dev/backend/payouts/lnurltest"
	"satchel.dev/backend/postgres"
)

// scripted is a provider whose payments go as a test says: pay and track, when set, answer
// instead of the provider underneath.
type scripted struct {
	lightning.Provider
	mu    sync.Mutex
	pay   func(ctx context.Context, pr string, maxFeeMsat int64) (lightning.Payment, error)
	track func(ctx context.Context, hash string) (lightning.Payment, error)
}

func (s *scripted) script(pay func(context.Context, string, int64) (lightning.Payment, error),
	track func(context.Context, string) (lightning.Payment, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pay, s.track = pay, track
}

func (s *scripted) PayInvoice(ctx context.Context, pr string, maxFeeMsat int64, timeout time.Duration) (lightning.Payment, error) {
	s.mu.Lock()
	pay := s.pay
	s.mu.Unlock()
	if pay == nil {
		return s.Provider.PayInvoice(ctx, pr, maxFeeMsat, timeout)
	}
	return pay(ctx, pr, maxFeeMsat)
}

func (s *scripted) TrackPayment(ctx context.Context, hash string) (lightning.Payment, error) {
	s.mu.Lock()
	track := s.track
	s.mu.Unlock()
	if track == nil {
		return s.Provider.TrackPayment(ctx, hash)
	}
	return track(ctx, hash)
}

// hashOf is an invoice's payment hash, hex.
func hashOf(t *testing.T, pr string) string {
	inv, err := bolt11.Decode(pr)
	if err != nil {
		t.Error(err)
		return ""
	}
	return hex.EncodeToString(inv.PaymentHash[:])
}

// devConfig is the worker's configuration with test money: the demo address on loopback.
func devConfig() payouts.Config {
	return payouts.Config{
		MaxAttempts:     1,
		RecheckInterval: 50 * time.Millisecond,
		LNURL:           payouts.LNURLConfig{AllowHTTP: true, AllowPrivate: true, RequestTimeout: time.Second},
	}
}

// waitPayout waits until the purchase's payout is as ok says, and returns it.
func (b *bundle) waitPayout(purchaseID string, within time.Duration, what string, ok func(payouts.Payout) bool) payouts.Payout {
	b.t.Helper()
	for deadline := time.Now().Add(within); ; {
		p := b.payout(purchaseID)
		if ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("payout of %s: not %s after %v: %+v", purchaseID, what, within, p)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkLedger fails the test if any purchase breaks the money path's invariants.
func (b *bundle) checkLedger() {
	b.t.Helper()
	for _, p := range b.ledgerProblems() {
		b.t.Errorf("ledger: purchase %s (%s): %s", p.PurchaseID, p.Status, p.Problem)
	}
}

// ledgerProblems returns what check-ledger reports.
func (b *bundle) ledgerProblems() []postgres.LedgerProblem {
	b.t.Helper()
	problems, err := b.db.CheckLedger(b.ctx)
	if err != nil {
		b.t.Fatal(err)
	}
	return problems
}

// ledgerMeta returns the meta_json of the purchase's only ledger entry of a type.
func (b *bundle) ledgerMeta(purchaseID string, typ market.LedgerType) (int64, map[string]any) {
	b.t.Helper()
	var amount int64
	var meta map[string]any
	if err := b.db.Pool().QueryRow(b.ctx, `SELECT amount_msat, meta_json FROM ledger_entries WHERE purchase_id = $1 AND type = $2`,
		purchaseID, typ).Scan(&amount, &meta); err != nil {
		b.t.Fatalf("the %s entry of %s: %v", typ, purchaseID, err)
	}
	return amount, meta
}

// TestOutOfRangeAddressFailsAtOnce: a Lightning Address that says it never accepts the payout's
// amount (outside minSendable..maxSendable) makes it FAILED at the first attempt, with that
// reason and its PAYOUT_FAILED entry, instead of retrying for hours; no invoice is asked for.
func TestOutOfRangeAddressFailsAtOnce(t *testing.T) {
	for _, tc := range []struct {
		mode lnurltest.Mode
		want string
	}{
		{lnurltest.MinAbove, "accepts 100000000000 to 100000000000 msat, but the payout is 180000 msat"},
		{lnurltest.MaxBelow, "accepts 1000 to 1000 msat, but the payout is 180000 msat"},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.mode)
			cfg := testConfig()
			cfg.MaxAttempts, cfg.BackoffBase, cfg.BackoffMax = 10, time.Hour, time.Hour // a retry would wait an hour
			b.startClient(b.worker(b.platform, cfg), clientOpts{})
			sale := b.sell()
			p := b.waitStatus(sale.ID, 30*time.Second, payouts.StatusFailed, payouts.StatusRetrying)
			if p.Status != payouts.StatusFailed || p.AttemptCount != 1 || !strings.Contains(p.LastError, tc.want) ||
				!strings.Contains(p.LastError, b.lnurl.Address("dev")) {
				t.Errorf("%s after %d attempts, last_error %q; want FAILED after 1, naming the address and saying %q",
					p.Status, p.AttemptCount, p.LastError, tc.want)
			}
			if _, meta := b.ledgerMeta(sale.ID, market.LedgerPayoutFailed); !strings.Contains(meta["error"].(string), tc.want) {
				t.Errorf("PAYOUT_FAILED meta_json: %v", meta)
			}
			if n := len(b.lnurl.Issued()); n != 0 {
				t.Errorf("%d invoices asked for, want none", n)
			}
			b.checkLedger()
		})
	}
}

// TestNoPayoutOfNothing: a sale whose whole price is the platform's fee creates no payout and
// no payout job, and the ledger still balances; the database refuses a payout of 0 msat.
func TestNoPayoutOfNothing(t *testing.T) {
	t.Parallel()
	d := setupDev(t)
	d.shop.FeeBps = 10000
	sale := d.sell()
	if p, err := d.repo.PayoutByPurchase(d.ctx, sale.ID); market.ErrorCode(err) != market.CodeNotFound {
		t.Errorf("payout of a sale with nothing for the developer: %+v, %v; want none", p, err)
	}
	if _, _, ok, err := d.repo.LeasePayout(d.ctx, sale.ID, time.Minute); ok || market.ErrorCode(err) != market.CodeNotFound {
		t.Errorf("lease of a payout that does not exist: %v, %v; want not found", ok, err)
	}
	var jobs int
	if err := d.db.Pool().QueryRow(d.ctx, `SELECT count(*) FROM river_job WHERE kind = 'payout' AND args->>'purchase_id' = $1`,
		sale.ID).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if jobs != 0 {
		t.Errorf("%d payout jobs, want none", jobs)
	}
	if net, _ := d.ledgerMeta(sale.ID, market.LedgerDeveloperNet); net != 0 {
		t.Errorf("DEVELOPER_NET %d, want 0", net)
	}
	d.checkLedger()

	_, err := d.db.Pool().Exec(d.ctx, `
		INSERT INTO payouts (purchase_id, developer_user_id, destination_ln_address, amount_msat, idempotency_key)
		VALUES ($1, $2, 'x@example.com', 0, $3)`, sale.ID, d.shop.Developer.UserID, "payout:"+sale.ID)
	if err == nil || !strings.Contains(err.Error(), "payouts_amount_positive") {
		t.Errorf("inserting a payout of 0 msat: %v, want the check to refuse it", err)
	}
}

// TestRoutingFeeCappedAndLedgered: the fee limit a payout pays with never exceeds its sale's
// platform fee, whatever the configuration allows; the routing fee paid is a
// PAYOUT_ROUTING_FEE ledger entry; check-ledger holds the ledger to the payouts' fees and
// reports a fee above the platform's.
func TestRoutingFeeCappedAndLedgered(t *testing.T) {
	t.Parallel()
	d := setupDev(t)
	provider := &scripted{Provider: d.dev}
	var mu sync.Mutex
	var limits []int64
	fee := int64(1_500)
	provider.script(func(ctx context.Context, pr string, maxFeeMsat int64) (lightning.Payment, error) {
		mu.Lock()
		defer mu.Unlock()
		limits = append(limits, maxFeeMsat)
		pay, err := d.dev.PayInvoice(ctx, pr, maxFeeMsat, time.Second)
		pay.FeeMsat = fee
		return pay, err
	}, nil)
	cfg := devConfig()
	cfg.FeeLimitMinMsat = 50_000 // above the sale's platform fee of 20 000 msat
	d.startClient(d.worker(provider, cfg), clientOpts{})

	sent := d.waitStatus(d.sell().ID, time.Minute, payouts.StatusSent)
	if sent.FeeMsat != 1_500 || sent.PlatformFeeMsat != priceMsat-netMsat {
		t.Errorf("SENT with fee %d (platform fee %d), want 1500 (%d)", sent.FeeMsat, sent.PlatformFeeMsat, priceMsat-netMsat)
	}
	amount, meta := d.ledgerMeta(sent.PurchaseID, market.LedgerPayoutRoutingFee)
	if amount != 1_500 || meta["payout_id"] != sent.ID || meta["payment_hash"] != sent.PaymentHash {
		t.Errorf("PAYOUT_ROUTING_FEE of %d msat, meta_json %v", amount, meta)
	}
	amount, meta = d.ledgerMeta(sent.PurchaseID, market.LedgerPayoutSent)
	wantMeta := map[string]any{"payout_id": sent.ID, "ln_address": sent.Destination, "payment_hash": sent.PaymentHash,
		"fee_msat": 1500.0, "preimage": sent.Preimage}
	if diff := cmp.Diff(wantMeta, meta); amount != sent.AmountMsat || diff != "" {
		t.Errorf("PAYOUT_SENT of %d msat, want %d; meta_json (-want +got):\n%s", amount, sent.AmountMsat, diff)
	}
	d.checkLedger()

	// A free route (fee 0) is no entry; a sale without a platform fee pays only by free routes.
	mu.Lock()
	fee, d.shop.FeeBps = 0, 0
	mu.Unlock()
	free := d.waitStatus(d.sell().ID, time.Minute, payouts.StatusSent)
	if n := d.ledgerCount(free.PurchaseID, market.LedgerPayoutRoutingFee); n != 0 {
		t.Errorf("%d PAYOUT_ROUTING_FEE entries for a fee of 0", n)
	}
	mu.Lock()
	if diff := cmp.Diff([]int64{priceMsat - netMsat, 0}, limits); diff != "" {
		t.Errorf("fee limits paid with (-want +got):\n%s", diff)
	}
	mu.Unlock()
	d.checkLedger()

	// check-ledger: a payout's fee the ledger does not hold, and a node that spent more than
	// the platform earned on the sale.
	if _, err := d.db.Pool().Exec(d.ctx, `UPDATE payouts SET fee_msat = 1600 WHERE id = $1`, sent.ID); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	fee, d.shop.FeeBps = 25_000, 1000
	mu.Unlock()
	over := d.waitStatus(d.sell().ID, time.Minute, payouts.StatusSent)
	want := []postgres.LedgerProblem{
		{PurchaseID: sent.PurchaseID, Status: "PAID", Problem: "1 PAYOUT_ROUTING_FEE entries of 1500 msat, want the SENT payout's routing fee of 1600 msat"},
		{PurchaseID: over.PurchaseID, Status: "PAID", Problem: "PAYOUT_ROUTING_FEE 25000 msat is more than the sale's PLATFORM_FEE 20000 msat"},
	}
	less := func(a, b postgres.LedgerProblem) bool { return a.PurchaseID < b.PurchaseID }
	if diff := cmp.Diff(want, d.ledgerProblems(), cmpopts.SortSlices(less)); diff != "" {
		t.Errorf("check-ledger (-want +got):\n%s", diff)
	}
}

// failFirstPayment returns a provider on d's whose node refuses to start payments until
// allow is called: the payout's attempt fails with its invoice stored (never paid).
func failFirstPayment(d *devBundle) (provider *scripted, allow func()) {
	provider = &scripted{Provider: d.dev}
	provider.script(func(context.Context, string, int64) (lightning.Payment, error) {
		return lightning.Payment{}, errors.New("no route to the destination (test)")
	}, nil)
	return provider, func() { provider.script(nil, nil) }
}

// TestRetryRecordsTheAddressPaid: a FAILED payout whose invoice (from the developer's old
// address) is stored is retried after the developer changed their address: the stored
// invoice is paid, never a second one, and the payout records the old address it was paid to.
func TestRetryRecordsTheAddressPaid(t *testing.T) {
	t.Parallel()
	d := setupDev(t)
	provider, allow := failFirstPayment(d)
	completed, stop := d.startClient(d.worker(provider, devConfig()), clientOpts{}).Subscribe(river.EventKindJobCompleted)
	defer stop()
	svc := payouts.NewService(d.repo, d.dev, d.log)
	admin := market.Actor{UserID: d.shop.Buyer.UserID, Pubkey: d.shop.Buyer.Pubkey, Admin: true}

	failed := d.waitStatus(d.sell().ID, time.Minute, payouts.StatusFailed)
	d.waitJobDone(completed, failed.PurchaseID, time.Minute) // the attempt that failed it holds its lease until then
	if failed.PaymentHash == "" || failed.Destination != d.addr {
		t.Fatalf("FAILED payout: invoice %q from %s, want one stored from %s", failed.PaymentHash, failed.Destination, d.addr)
	}
	moved := strings.Replace(d.addr, "demo@", "moved@", 1)
	if err := d.shop.SetAddress(d.ctx, moved); err != nil {
		t.Fatal(err)
	}
	allow()
	retried, err := svc.Retry(d.ctx, admin, failed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if retried.Destination != d.addr {
		t.Errorf("retried payout goes to %s, want %s (its stored invoice's address)", retried.Destination, d.addr)
	}
	sent := d.waitStatus(failed.PurchaseID, time.Minute, payouts.StatusSent)
	if sent.PaymentHash != failed.PaymentHash || sent.Destination != d.addr || sent.CurrentAddress != moved {
		t.Errorf("SENT: invoice %s to %s (current address %s); want the stored invoice %s, to %s", sent.PaymentHash,
			sent.Destination, sent.CurrentAddress, failed.PaymentHash, d.addr)
	}
	if _, meta := d.ledgerMeta(sent.PurchaseID, market.LedgerPayoutSent); meta["ln_address"] != d.addr {
		t.Errorf("PAYOUT_SENT ln_address %v, want %s", meta["ln_address"], d.addr)
	}
	d.checkLedger()
}

// TestCancelAsksTheNodeWithoutLocks: canceling a payout with a stored invoice asks the node
// how its payment went while holding no row lock (another transaction locks the row at once),
// yet holding the payout's lease: no attempt starts and no retry happens meanwhile.
func TestCancelAsksTheNodeWithoutLocks(t *testing.T) {
	t.Parallel()
	d := setupDev(t)
	provider, _ := failFirstPayment(d)
	completed, stop := d.startClient(d.worker(provider, devConfig()), clientOpts{}).Subscribe(river.EventKindJobCompleted)
	defer stop()
	svc := payouts.NewService(d.repo, provider, d.log)
	admin := market.Actor{UserID: d.shop.Buyer.UserID, Pubkey: d.shop.Buyer.Pubkey, Admin: true}
	failed := d.waitStatus(d.sell().ID, time.Minute, payouts.StatusFailed)
	d.waitJobDone(completed, failed.PurchaseID, time.Minute) // the attempt that failed it holds its lease until then

	asked := false
	provider.script(func(context.Context, string, int64) (lightning.Payment, error) {
		return lightning.Payment{}, errors.New("no route (test)")
	}, func(checkCtx context.Context, hash string) (lightning.Payment, error) {
		asked = true
		// Bounded: with a row lock held by Cancel, the lease and Retry below would wait for it.
		ctx, cancel := context.WithTimeout(checkCtx, 5*time.Second)
		defer cancel()
		err := pgx.BeginFunc(ctx, d.db.Pool(), func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `SELECT 1 FROM payouts WHERE id = $1 FOR UPDATE NOWAIT`, failed.ID)
			return err
		})
		if err != nil {
			t.Errorf("while Cancel asks the node, the payout's row is locked: %v", err)
		}
		if _, unlock, ok, err := d.repo.LeasePayout(ctx, failed.PurchaseID, time.Minute); err != nil || ok {
			t.Errorf("while Cancel asks the node, an attempt could take the payout's lease (%v, %v)", ok, err)
			if ok {
				unlock()
			}
		}
		if _, err := svc.Retry(ctx, admin, failed.ID); market.ErrorCode(err) != market.CodeFailedPrecondition {
			t.Errorf("Retry while Cancel asks the node: %v, want failed precondition", err)
		}
		return d.dev.TrackPayment(checkCtx, hash)
	})
	got, err := svc.AdminCancel(d.ctx, admin, failed.ID, "paid by hand")
	if err != nil || got.Status != payouts.StatusCanceled || !asked {
		t.Fatalf("Cancel: %s, %v (node asked: %v)", got.Status, err, asked)
	}
	leased, unlock, ok, err := d.repo.LeasePayout(d.ctx, failed.PurchaseID, time.Minute)
	if err != nil || !ok {
		t.Errorf("after Cancel, its lease is still held (%v, %v)", ok, err)
	} else {
		unlock()
		if leased.ID != failed.ID || leased.Status != payouts.StatusCanceled {
			t.Errorf("leased after Cancel: payout %s %s, want %s CANCELED", leased.ID, leased.Status, failed.ID)
		}
	}
	d.checkLedger()
}

// TestStuckPayoutsReported: payouts whose payment stays in flight, or whose state the node does
// not tell, are listed for the operators and counted for the metric once past the bound, since
// the moment an attempt first saw them so; they leave the list when the payment ends.
func TestStuckPayoutsReported(t *testing.T) {
	t.Parallel()
	d := setupDev(t)
	provider := &scripted{Provider: d.dev}
	var mu sync.Mutex
	modes := map[string]string{} // payment hash -> in-flight, unknown or paid
	tracked := map[string]int{}
	next := []string{"in-flight", "unknown"}
	provider.script(func(ctx context.Context, pr string, _ int64) (lightning.Payment, error) {
		mu.Lock()
		defer mu.Unlock()
		h := hashOf(t, pr)
		modes[h], next = next[0], next[1:]
		if modes[h] == "unknown" {
			return lightning.Payment{}, errors.New("connection reset (test)")
		}
		return lightning.Payment{PaymentHash: h, Status: lightning.PaymentInFlight}, nil
	}, func(ctx context.Context, h string) (lightning.Payment, error) {
		mu.Lock()
		defer mu.Unlock()
		tracked[h]++
		switch modes[h] {
		case "in-flight":
			return lightning.Payment{PaymentHash: h, Status: lightning.PaymentInFlight}, nil
		case "unknown":
			return lightning.Payment{}, errors.New("the node does not answer (test)")
		}
		return lightning.Payment{PaymentHash: h, Status: lightning.PaymentSucceeded}, nil
	})
	d.startClient(d.worker(provider, devConfig()), clientOpts{})
	svc := payouts.NewService(d.repo, provider, d.log)
	admin := market.Actor{UserID: d.shop.Buyer.UserID, Pubkey: d.shop.Buyer.Pubkey, Admin: true}

	inFlight := d.waitPayout(d.sell().ID, time.Minute, "IN_FLIGHT", func(p payouts.Payout) bool {
		return p.PaymentState == payouts.PaymentInFlight && p.PaymentStateSince != nil
	})
	unknown := d.waitPayout(d.sell().ID, time.Minute, "UNKNOWN", func(p payouts.Payout) bool {
		return p.PaymentState == payouts.PaymentUnknown && p.PaymentStateSince != nil
	})
	if !strings.Contains(unknown.LastError, "the node does not answer") || unknown.Status != payouts.StatusScheduled {
		t.Errorf("payout whose payment is unknown: %s, last_error %q", unknown.Status, unknown.LastError)
	}
	stuck := func(olderThan time.Duration) []string {
		t.Helper()
		list, err := svc.ListStuck(d.ctx, admin, olderThan, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range list {
			out = append(out, p.ID+" "+string(p.PaymentState))
		}
		return out
	}
	if got := stuck(0); len(got) != 0 {
		t.Errorf("stuck payouts right away: %v, want none before %v", got, payouts.DefaultStuckAfter)
	}
	if _, err := svc.ListStuck(d.ctx, d.shop.Developer, 0, 0); market.ErrorCode(err) != market.CodePermissionDenied {
		t.Errorf("ListStuck by a developer: %v, want permission denied", err)
	}

	// As if they had waited: two hours, and ninety minutes.
	for id, ago := range map[string]string{inFlight.ID: "2 hours", unknown.ID: "90 minutes"} {
		if _, err := d.db.Pool().Exec(d.ctx, `UPDATE payouts SET payment_state_since = payment_state_since - $2::interval WHERE id = $1`,
			id, ago); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{inFlight.ID + " IN_FLIGHT", unknown.ID + " UNKNOWN"}
	if diff := cmp.Diff(want, stuck(0)); diff != "" {
		t.Errorf("stuck payouts, oldest first (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[:1], stuck(100*time.Minute)); diff != "" {
		t.Errorf("stuck for more than 100 minutes (-want +got):\n%s", diff)
	}
	stats, err := d.db.Stats(d.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int64{"IN_FLIGHT": 1, "UNKNOWN": 1}, stats.StuckPayouts); diff != "" {
		t.Errorf("Stats.StuckPayouts (-want +got):\n%s", diff)
	}

	// Still in flight at the next look: since when is kept.
	mu.Lock()
	seen := tracked[inFlight.PaymentHash]
	mu.Unlock()
	backdated := d.payout(inFlight.PurchaseID).PaymentStateSince
	d.waitPayout(inFlight.PurchaseID, time.Minute, "looked at again", func(payouts.Payout) bool {
		mu.Lock()
		defer mu.Unlock()
		return tracked[inFlight.PaymentHash] > seen+1
	})
	if p := d.payout(inFlight.PurchaseID); p.PaymentStateSince == nil || !p.PaymentStateSince.Equal(*backdated) {
		t.Errorf("in flight since %v after another look, want %v", p.PaymentStateSince, backdated)
	}

	// The payments end: nothing is stuck any more.
	mu.Lock()
	modes[inFlight.PaymentHash], modes[unknown.PaymentHash] = "paid", "paid"
	mu.Unlock()
	for _, p := range []payouts.Payout{inFlight, unknown} {
		sent := d.waitStatus(p.PurchaseID, time.Minute, payouts.StatusSent)
		if sent.PaymentState != "" || sent.PaymentStateSince != nil {
			t.Errorf("SENT payout still %q since %v", sent.PaymentState, sent.PaymentStateSince)
		}
	}
	if got := stuck(time.Nanosecond); len(got) != 0 {
		t.Errorf("stuck payouts after their payments ended: %v", got)
	}
	d.checkLedger()
}
