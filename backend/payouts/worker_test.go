package payouts_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"satchel.dev/backend/market"
	"satchel.dev/backend/payouts"
	"satchel.dev/backend/payouts/lnurltest"
)

func TestPayoutSent(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "https"}[useTLS]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, lnurltest.Honest)
			cfg := testConfig()
			if useTLS {
				b.lnurl = lnurltest.Start(devNode, lnurltest.Honest, true)
				t.Cleanup(b.lnurl.Close)
				if err := b.shop.SetAddress(b.ctx, b.lnurl.Address("dev")); err != nil {
					t.Fatal(err)
				}
				cfg.LNURL.AllowHTTP, cfg.LNURL.RootCAs = false, b.lnurl.CertPool()
			}
			b.startClient(b.worker(b.platform, cfg), clientOpts{})
			began := time.Now()
			sale := b.sell()
			p := b.waitStatus(sale.ID, 30*time.Second, payouts.StatusSent)
			t.Logf("payout SENT %v after the settlement", time.Since(began).Round(time.Millisecond))

			if p.AmountMsat != netMsat || p.AttemptCount != 0 || p.LastError != "" || p.SentAt == nil || p.Destination != b.lnurl.Address("dev") {
				t.Errorf("payout: %+v", p)
			}
			pre, _ := hex.DecodeString(p.Preimage)
			if h := sha256.Sum256(pre); hex.EncodeToString(h[:]) != p.PaymentHash {
				t.Errorf("preimage %q does not hash to the payment hash %s", p.Preimage, p.PaymentHash)
			}
			var meta map[string]any
			if err := b.db.Pool().QueryRow(b.ctx, `SELECT meta_json FROM ledger_entries WHERE purchase_id = $1 AND type = 'PAYOUT_SENT'`,
				sale.ID).Scan(&meta); err != nil {
				t.Fatal(err)
			}
			if meta["preimage"] != p.Preimage || meta["payment_hash"] != p.PaymentHash || meta["fee_msat"] == nil {
				t.Errorf("PAYOUT_SENT meta_json: %v", meta)
			}
			b.checkPaidOnce(p)
		})
	}
}

// TestUntrustedServers runs a real Lightning Address server behaving badly in each way: every
// payout ends FAILED (after RETRYING) with a last_error that says what is wrong, and nothing
// is paid.
func TestUntrustedServers(t *testing.T) {
	for _, tc := range []struct {
		mode lnurltest.Mode
		want string
	}{
		{lnurltest.WrongAmount, "is for 181000 msat, but 180000 msat was asked"},
		{lnurltest.WrongDescriptionHash, "description hash is not the SHA-256 of the pay request's metadata"},
		{lnurltest.Expired, "expired at"},
		{lnurltest.WrongNetwork, `it is for network "bc" (lnbc...), but this server pays on "bcrt"`},
		{lnurltest.GarbageJSON, "answered something that is not LNURL JSON"},
		{lnurltest.BadMetadata, "its metadata is not a JSON array"},
		{lnurltest.Huge, "answered more than 65536 bytes"},
		{lnurltest.Hang, "did not answer within 1s"},
		{lnurltest.RedirectLoop, "redirected more than 3 times"},
		{lnurltest.RedirectOffHost, "redirected to another host (localhost:"},
		{lnurltest.StatusError, `refused: "this account is suspended"`},
		{lnurltest.CallbackError, `refused: "cannot create invoices right now"`},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.mode)
			b.startClient(b.worker(b.platform, testConfig()), clientOpts{})
			sale := b.sell()
			p := b.waitStatus(sale.ID, 30*time.Second, payouts.StatusFailed)
			if p.AttemptCount != 2 || !strings.Contains(p.LastError, tc.want) || !strings.Contains(p.LastError, b.lnurl.Address("dev")) {
				t.Errorf("FAILED after %d attempts with last_error %q, want 2 attempts and an error naming the address and containing %q",
					p.AttemptCount, p.LastError, tc.want)
			}
			if p.PaymentHash != "" {
				t.Errorf("an invoice was stored: %s", p.PaymentHash)
			}
			if n := b.ledgerCount(sale.ID, market.LedgerPayoutFailed); n != 1 {
				t.Errorf("%d PAYOUT_FAILED entries, want 1", n)
			}
			b.checkNoPayment()
		})
	}
}

// TestInvoiceReused: a server that answers an invoice it gave (and was paid) before cannot
// pass it off as a new payment.
func TestInvoiceReused(t *testing.T) {
	t.Parallel()
	b := setup(t, lnurltest.Honest)
	b.startClient(b.worker(b.platform, testConfig()), clientOpts{})
	first := b.waitStatus(b.sell().ID, 30*time.Second, payouts.StatusSent)
	b.lnurl.SetMode(lnurltest.ReusedInvoice)
	second := b.waitStatus(b.sell().ID, 30*time.Second, payouts.StatusFailed)
	if !strings.Contains(second.LastError, "given for an earlier payout") {
		t.Errorf("last_error %q, want it to say the invoice was given for an earlier payout", second.LastError)
	}
	b.checkPaidOnce(first)
	if n := b.ledgerCount(second.PurchaseID, market.LedgerPayoutSent); n != 0 {
		t.Errorf("the second payout has %d PAYOUT_SENT entries", n)
	}
}

// TestFailedPaymentGetsANewInvoice: the developer's node refuses the first payment (it cancels
// the invoice while the payment is held); the attempt counts, the next one asks for a new
// invoice and pays it, once.
func TestFailedPaymentGetsANewInvoice(t *testing.T) {
	t.Parallel()
	b := setup(t, lnurltest.Hold)
	done := make(chan struct{})
	defer close(done)
	go func() { // the developer's node refuses the first payment it holds, and takes the next
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			issued := b.lnurl.Issued()
			if len(issued) == 0 {
				continue
			}
			if inv, err := devNode.Invoice(b.ctx, issued[0].Hash); err == nil && inv.State == "ACCEPTED" {
				_ = devNode.CancelInvoice(b.ctx, issued[0].Hash)
			}
			if len(issued) > 1 {
				if inv, err := devNode.Invoice(b.ctx, issued[1].Hash); err == nil && inv.State == "ACCEPTED" {
					_ = b.lnurl.Release(b.ctx, issued[1].Hash)
				}
			}
		}
	}()
	b.startClient(b.worker(b.platform, testConfig()), clientOpts{})
	p := b.waitStatus(b.sell().ID, 30*time.Second, payouts.StatusSent)
	if p.AttemptCount != 1 || !strings.Contains(p.LastError, "the payment to "+b.lnurl.Address("dev")+" failed: incorrect payment details") {
		t.Errorf("SENT after %d failed attempts, last error %q; want 1, the refused payment", p.AttemptCount, p.LastError)
	}
	if n := len(b.lnurl.Issued()); n != 2 {
		t.Errorf("%d invoices issued, want 2", n)
	}
	b.checkPaidOnce(p)
}

// TestDuplicateJobsPayOnce: several jobs for one purchase, worked at once by two clients,
// pay it once; and no second payout row can exist for a purchase.
func TestDuplicateJobsPayOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, lnurltest.Honest)
	sale := b.sell()
	for range 3 {
		if _, err := b.jobs.Insert(b.ctx, payouts.Args{PurchaseID: sale.ID}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		b.startClient(b.worker(b.platform, testConfig()), clientOpts{workers: 4})
	}
	p := b.waitStatus(sale.ID, 30*time.Second, payouts.StatusSent)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var open int
		if err := b.db.Pool().QueryRow(b.ctx, `SELECT count(*) FROM river_job WHERE kind = 'payout' AND state <> 'completed'`).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d payout jobs still not completed", open)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(b.lnurl.Issued()); n != 1 {
		t.Errorf("%d invoices asked for, want 1", n)
	}
	b.checkPaidOnce(p)

	_, err := b.db.Pool().Exec(b.ctx, `
		INSERT INTO payouts (purchase_id, developer_user_id, destination_ln_address, amount_msat, idempotency_key)
		VALUES ($1, $2, 'x@example.com', 1, $3)`, sale.ID, b.shop.Developer.UserID, "payout:"+sale.ID)
	if err == nil || !strings.Contains(err.Error(), "duplicate key") {
		t.Errorf("a second payout row for the purchase: %v, want a unique violation", err)
	}
}

// TestOperatorRetryAndCancel: an operator retries a FAILED payout (it goes SENT once the
// developer's server is fixed) and cancels another (it is never paid).
func TestOperatorRetryAndCancel(t *testing.T) {
	t.Parallel()
	b := setup(t, lnurltest.StatusError)
	svc := payouts.NewService(b.repo, b.platform, b.log)
	cfg := testConfig()
	cfg.BackoffBase, cfg.BackoffMax = 5*time.Second, 5*time.Second // a RETRYING payout stays so long enough to be seen
	completed, stop := b.startClient(b.worker(b.platform, cfg), clientOpts{}).Subscribe(river.EventKindJobCompleted)
	defer stop()
	admin := market.Actor{UserID: b.shop.Buyer.UserID, Pubkey: b.shop.Buyer.Pubkey, Admin: true}

	failed := b.waitStatus(b.sell().ID, 30*time.Second, payouts.StatusFailed)
	b.waitJobDone(completed, failed.PurchaseID, 30*time.Second) // the attempt that failed it holds its lease until then
	if _, err := svc.Retry(b.ctx, b.shop.Developer, failed.ID); market.ErrorCode(err) != market.CodePermissionDenied {
		t.Errorf("Retry by the developer: %v, want permission denied", err)
	}
	b.lnurl.SetMode(lnurltest.Honest)
	got, err := svc.Retry(b.ctx, admin, failed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.AttemptCount != 0 || (got.Status != payouts.StatusRetrying && got.Status != payouts.StatusSent) {
		t.Errorf("after Retry: %s with %d attempts", got.Status, got.AttemptCount)
	}
	sent := b.waitStatus(failed.PurchaseID, 30*time.Second, payouts.StatusSent)
	b.checkPaidOnce(sent)
	if n := b.ledgerCount(sent.PurchaseID, market.LedgerPayoutFailed); n != 1 {
		t.Errorf("%d PAYOUT_FAILED entries after the retry, want the first one kept", n)
	}
	if _, err := svc.Retry(b.ctx, admin, sent.ID); market.ErrorCode(err) != market.CodeFailedPrecondition {
		t.Errorf("Retry of a SENT payout: %v, want failed precondition", err)
	}
	if _, err := svc.Cancel(b.ctx, admin, sent.ID); market.ErrorCode(err) != market.CodeFailedPrecondition {
		t.Errorf("Cancel of a SENT payout: %v, want failed precondition", err)
	}

	// Cancel one that is RETRYING: it is never paid, even once its server answers well.
	b.lnurl.SetMode(lnurltest.StatusError)
	sale := b.sell()
	retrying := b.waitStatus(sale.ID, 30*time.Second, payouts.StatusRetrying)
	var unlock func()
	for deadline := time.Now().Add(10 * time.Second); ; { // the worker may still hold the lease of the attempt that just failed
		_, u, ok, err := b.repo.LeasePayout(b.ctx, retrying.PurchaseID, time.Minute)
		if err != nil || !ok && time.Now().After(deadline) {
			t.Fatalf("lease: %v %v", ok, err)
		}
		if ok {
			unlock = u
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := svc.Cancel(b.ctx, admin, retrying.ID); market.ErrorCode(err) != market.CodeFailedPrecondition {
		t.Errorf("Cancel while an attempt holds the payout: %v, want failed precondition", err)
	}
	unlock()
	for i := 0; ; i++ {
		got, err = svc.Cancel(b.ctx, admin, retrying.ID)
		if market.ErrorCode(err) != market.CodeFailedPrecondition || i == 20 {
			break
		}
		time.Sleep(100 * time.Millisecond) // an attempt holds it right now
	}
	if err != nil || got.Status != payouts.StatusCanceled {
		t.Fatalf("Cancel: %v %v", got.Status, err)
	}
	b.lnurl.SetMode(lnurltest.Honest)
	// The job's next attempt comes once its backoff has passed; once the job has ended, nothing
	// can pay the canceled payout any more.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var open int
		if err := b.db.Pool().QueryRow(b.ctx, `SELECT count(*) FROM river_job WHERE kind = 'payout'
			AND args->>'purchase_id' = $1 AND state NOT IN ('completed', 'cancelled', 'discarded')`, sale.ID).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the canceled payout's job still runs after 30 s")
		}
	}
	if p := b.payout(sale.ID); p.Status != payouts.StatusCanceled || p.PaymentHash != "" {
		t.Errorf("canceled payout: %s with invoice %q", p.Status, p.PaymentHash)
	}
	if n := len(b.lnurl.Issued()); n != 1 {
		t.Errorf("%d invoices issued in all, want 1 (the retried payout's)", n)
	}
}

// TestKilledWorkerNeverPaysTwice kills a worker process (SIGKILL) at each point of a payout
// against the real regtest network, lets the queue give the job to a fresh worker, and checks
// that the developer's node received exactly one payment.
func TestKilledWorkerNeverPaysTwice(t *testing.T) {
	for _, tc := range []struct {
		point string
		held  bool // kill while the developer's node holds the payment: in flight
	}{
		{point: "fetched"}, // before the invoice is stored
		{point: "stored"},  // after it is stored, before paying
		{point: "paying", held: true},
		{point: "paid"}, // after the payment, before SENT is recorded
	} {
		t.Run(tc.point, func(t *testing.T) {
			t.Parallel()
			mode := lnurltest.Honest
			if tc.held {
				mode = lnurltest.Hold
			}
			b := setup(t, mode)
			w := b.worker(b.platform, testConfig())
			// A client of this process takes the queue's leadership first, so that once the
			// killed worker is gone the fresh one leads at once and its rescuer runs.
			holder := b.startClient(w, clientOpts{queue: "holder"})
			b.waitLeader()
			sale := b.sell()
			b.runWorkerProcess(workerProcessConfig{KillAt: tc.point, Held: tc.held})

			p := b.payout(sale.ID)
			issued := b.lnurl.Issued()
			if p.Status != payouts.StatusScheduled || len(issued) != 1 {
				t.Fatalf("after the kill: %s with %d invoices issued", p.Status, len(issued))
			}
			state, err := devNode.Invoice(b.ctx, issued[0].Hash)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]struct{ stored, state string }{
				"fetched": {"", "OPEN"}, "stored": {issued[0].HashHex(), "OPEN"},
				"paying": {issued[0].HashHex(), "ACCEPTED"}, "paid": {issued[0].HashHex(), "SETTLED"},
			}[tc.point]
			if p.PaymentHash != want.stored || state.State != want.state {
				t.Fatalf("after the kill: stored hash %q, invoice %s; want %q, %s", p.PaymentHash, state.State, want.stored, want.state)
			}

			if err := holder.Stop(b.ctx); err != nil {
				t.Fatal(err)
			}
			b.waitStuck(w)
			b.startClient(w, clientOpts{rescue: w.Timeout(nil)})
			if tc.held {
				b.waitSnoozed(sale.ID) // the fresh worker saw the payment in flight
				if err := b.lnurl.Release(b.ctx, issued[0].Hash); err != nil {
					t.Fatal(err)
				}
			}
			p = b.waitStatus(sale.ID, time.Minute, payouts.StatusSent)
			b.checkPaidOnce(p)
			if tc.point == "fetched" && len(b.lnurl.Issued()) != 2 {
				t.Errorf("%d invoices issued, want 2 (the first never stored)", len(b.lnurl.Issued()))
			}
			if tc.point != "fetched" && len(b.lnurl.Issued()) != 1 {
				t.Errorf("%d invoices issued, want 1: the stored one is tracked or paid, never replaced", len(b.lnurl.Issued()))
			}
		})
	}
}

// waitLeader waits until a client of the bundle's database leads its queue maintenance.
func (b *bundle) waitLeader() {
	b.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; {
		var n int
		if err := b.db.Pool().QueryRow(b.ctx, `SELECT count(*) FROM river_leader`).Scan(&n); err != nil {
			b.t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatal("no River leader after 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStuck waits until the killed worker's running job is old enough for River's rescuer:
// its worker's Timeout has passed since it was attempted.
func (b *bundle) waitStuck(w *payouts.Worker) {
	b.t.Helper()
	var attempted time.Time
	if err := b.db.Pool().QueryRow(b.ctx, `SELECT attempted_at FROM river_job WHERE kind = 'payout' AND state = 'running'`).
		Scan(&attempted); err != nil {
		b.t.Fatalf("the killed worker's job: %v", err)
	}
	time.Sleep(time.Until(attempted.Add(w.Timeout(nil) + 500*time.Millisecond)))
}

// waitSnoozed waits until the purchase's payout job was snoozed (a payment in flight).
func (b *bundle) waitSnoozed(purchaseID string) {
	b.t.Helper()
	for deadline := time.Now().Add(time.Minute); ; {
		var snoozes int
		err := b.db.Pool().QueryRow(b.ctx, `SELECT coalesce((metadata->>'snoozes')::int, 0) FROM river_job
			WHERE kind = 'payout' AND args->>'purchase_id' = $1`, purchaseID).Scan(&snoozes)
		if err != nil {
			b.t.Fatal(err)
		}
		if snoozes > 0 {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatal("the fresh worker never saw the payment in flight")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
