package dev_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5/pgxpool"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/lightning/bolt11"
	"satchel.dev/backend/lightning/dev"
	"satchel.dev/backend/market"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m, postgres.Migrate) }

// clock is a settable time source for Config.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type bundle struct {
	dsn      string
	pool     *pgxpool.Pool
	clock    *clock
	provider *dev.Provider
}

// setup gives the test a database of its own and a dev provider on it.
func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{dsn: pgtest.NewDatabase(t), clock: &clock{now: time.Now().Truncate(time.Second)}}
	b.pool = openPool(t, b.dsn)
	b.provider = newProvider(t, b.pool, b.clock)
	return b
}

func openPool(t *testing.T, dsn string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func newProvider(t *testing.T, pool *pgxpool.Pool, c *clock) *dev.Provider {
	t.Helper()
	p, err := dev.New(context.Background(), pool, dev.Config{Now: c.Now, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (b *bundle) create(t *testing.T, amountMsat int64, memo string, expiry time.Duration) lightning.Invoice {
	t.Helper()
	inv, err := b.provider.CreateInvoice(context.Background(), amountMsat, memo, expiry)
	if err != nil {
		t.Fatalf("CreateInvoice: %v", err)
	}
	return inv
}

func (b *bundle) settle(t *testing.T, s string) lightning.Invoice {
	t.Helper()
	inv, err := b.provider.Settle(context.Background(), s)
	if err != nil {
		t.Fatalf("Settle: %v", err)
	}
	return inv
}

func (b *bundle) lookup(t *testing.T, id string) lightning.Invoice {
	t.Helper()
	inv, err := b.provider.LookupInvoice(context.Background(), id)
	if err != nil {
		t.Fatalf("LookupInvoice: %v", err)
	}
	return inv
}

// subscription runs SubscribeSettlements in the background.
type subscription struct {
	got    chan lightning.Invoice
	cancel context.CancelFunc
	done   chan error
}

func subscribe(t *testing.T, p *dev.Provider, after uint64) *subscription {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &subscription{got: make(chan lightning.Invoice, 100), cancel: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- p.SubscribeSettlements(ctx, after, func(inv lightning.Invoice) error {
			s.got <- inv
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-s.done; !errors.Is(err, context.Canceled) {
			t.Errorf("SubscribeSettlements returned %v, want context.Canceled", err)
		}
	})
	return s
}

// next returns the next settlement delivered, failing the test after a while.
func (s *subscription) next(t *testing.T) lightning.Invoice {
	t.Helper()
	select {
	case inv := <-s.got:
		return inv
	case err := <-s.done:
		t.Fatalf("subscription ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no settlement delivered within 10s")
	}
	return lightning.Invoice{}
}

// quiet checks that nothing more is delivered for a while (several poll intervals).
func (s *subscription) quiet(t *testing.T) {
	t.Helper()
	select {
	case inv := <-s.got:
		t.Errorf("unexpected delivery: settle index %d (%s)", inv.SettleIndex, inv.Memo)
	case <-time.After(300 * time.Millisecond):
	}
}

func TestCreateDecodeSettleSubscribe(t *testing.T) {
	b := setup(t)
	if b.provider.Name() != "dev" || b.provider.Network() != "bcrt" {
		t.Errorf("Name, Network = %q, %q; want dev, bcrt", b.provider.Name(), b.provider.Network())
	}

	inv := b.create(t, 21_000_000, "Satchel: Hollow Knight", 15*time.Minute)
	if !strings.HasPrefix(inv.PaymentRequest, "lnbcrt210u1") {
		t.Errorf("payment request %q does not start with lnbcrt210u1", inv.PaymentRequest)
	}
	dec, err := bolt11.Decode(inv.PaymentRequest)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if dec.Network != bolt11.Regtest || dec.AmountMsat != 21_000_000 || dec.Description != "Satchel: Hollow Knight" ||
		dec.Payee != b.provider.NodeID() || hex.EncodeToString(dec.PaymentHash[:]) != inv.ID ||
		dec.Expiry != 15*time.Minute || !dec.Timestamp.Equal(inv.CreatedAt) || !dec.ExpiresAt().Equal(inv.ExpiresAt) ||
		!dec.Features.Supports(bolt11.FeaturePaymentSecret) || !dec.Features.Supports(bolt11.FeatureVarOnionOptin) {
		t.Errorf("decoded invoice %+v does not match %+v (node %x)", dec, inv, b.provider.NodeID())
	}
	want := lightning.Invoice{
		ID: inv.ID, PaymentRequest: inv.PaymentRequest, AmountMsat: 21_000_000, Memo: "Satchel: Hollow Knight",
		CreatedAt: b.clock.Now(), ExpiresAt: b.clock.Now().Add(15 * time.Minute), State: lightning.InvoiceOpen,
	}
	if diff := cmp.Diff(want, inv, cmpopts.EquateApproxTime(0)); diff != "" {
		t.Errorf("CreateInvoice (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, b.lookup(t, strings.ToUpper(inv.ID)), cmpopts.EquateApproxTime(0)); diff != "" {
		t.Errorf("LookupInvoice (-want +got):\n%s", diff)
	}

	sub := subscribe(t, b.provider, 0)
	b.clock.Advance(time.Minute)
	settled := b.settle(t, "lightning:"+strings.ToUpper(inv.PaymentRequest))
	want.State, want.SettleIndex, want.AmountPaidMsat, want.SettledAt = lightning.InvoiceSettled, 1, 21_000_000, b.clock.Now()
	if diff := cmp.Diff(want, settled, cmpopts.EquateApproxTime(time.Millisecond)); diff != "" {
		t.Errorf("Settle (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, sub.next(t), cmpopts.EquateApproxTime(time.Millisecond)); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	sub.quiet(t)
	if diff := cmp.Diff(want, b.lookup(t, inv.ID), cmpopts.EquateApproxTime(time.Millisecond)); diff != "" {
		t.Errorf("LookupInvoice after settling (-want +got):\n%s", diff)
	}

	// A subscription started later replays it.
	late := subscribe(t, b.provider, 0)
	if got := late.next(t); got.ID != inv.ID || got.SettleIndex != 1 {
		t.Errorf("replayed %+v", got)
	}
	late.quiet(t)
}

func TestSubscribeAfter(t *testing.T) {
	b := setup(t)
	var invs []lightning.Invoice
	for i := range 4 {
		invs = append(invs, b.create(t, 1000, fmt.Sprintf("invoice %d", i), time.Hour))
	}
	b.settle(t, invs[0].ID)
	b.settle(t, invs[1].PaymentRequest)

	sub := subscribe(t, b.provider, 1)
	if got := sub.next(t); got.ID != invs[1].ID || got.SettleIndex != 2 {
		t.Errorf("first delivery: index %d %s, want index 2 %s", got.SettleIndex, got.Memo, invs[1].Memo)
	}
	b.settle(t, invs[3].ID)
	b.settle(t, invs[2].ID)
	for _, want := range []struct {
		index uint64
		id    string
	}{{3, invs[3].ID}, {4, invs[2].ID}} {
		if got := sub.next(t); got.ID != want.id || got.SettleIndex != want.index {
			t.Errorf("live delivery: index %d %s, want index %d %s", got.SettleIndex, got.ID, want.index, want.id)
		}
	}
	sub.quiet(t)

	// Nothing after the last index: only live ones.
	tail := subscribe(t, b.provider, 4)
	tail.quiet(t)
}

func TestSettleRefusals(t *testing.T) {
	b := setup(t)
	ctx := context.Background()

	paid := b.create(t, 5000, "paid", time.Hour)
	b.settle(t, paid.ID)
	_, err := b.provider.Settle(ctx, paid.PaymentRequest)
	if !errors.Is(err, dev.ErrAlreadyPaid) || !strings.Contains(err.Error(), "already paid") ||
		market.ErrorCode(err) != market.CodeFailedPrecondition {
		t.Errorf("settling twice: %v (%s), want ErrAlreadyPaid, a failed precondition", err, market.ErrorCode(err))
	}

	expiring := b.create(t, 5000, "expiring", time.Minute)
	b.clock.Advance(time.Minute)
	_, err = b.provider.Settle(ctx, expiring.ID)
	if !errors.Is(err, dev.ErrExpired) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("settling an expired invoice: %v, want ErrExpired", err)
	}
	if got := b.lookup(t, expiring.ID); got.State != lightning.InvoiceCanceled {
		t.Errorf("expired invoice reads as %s, want CANCELED", got.State)
	}

	canceled := b.create(t, 5000, "canceled", time.Hour)
	if err := b.provider.CancelInvoice(ctx, canceled.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.provider.Settle(ctx, canceled.ID); !errors.Is(err, dev.ErrCanceled) {
		t.Errorf("settling a canceled invoice: %v, want ErrCanceled", err)
	}

	if _, err := b.provider.Settle(ctx, strings.Repeat("ab", 32)); !errors.Is(err, lightning.ErrNotFound) || market.ErrorCode(err) != market.CodeNotFound {
		t.Errorf("settling an unknown hash: %v, want ErrNotFound, not found", err)
	}

	// Another node's invoice, even for a hash of ours, is not ours to settle.
	other, _ := btcec.NewPrivateKey()
	dec, err := bolt11.Decode(b.create(t, 5000, "mine", time.Hour).PaymentRequest)
	if err != nil {
		t.Fatal(err)
	}
	dec.Payee = [33]byte{}
	forged, err := bolt11.Encode(dec, other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.provider.Settle(ctx, forged); !errors.Is(err, lightning.ErrNotFound) || !strings.Contains(err.Error(), "not to this dev node") {
		t.Errorf("settling another node's invoice: %v, want ErrNotFound", err)
	}
	if _, err := b.provider.Settle(ctx, "lnbcrt1garbage"); !errors.Is(err, dev.ErrNotInvoice) || market.ErrorCode(err) != market.CodeInvalid {
		t.Errorf("settling garbage: %v, want ErrNotInvoice, invalid", err)
	}

	// None of the refusals took a settle index.
	next := b.create(t, 5000, "next", time.Hour)
	if got := b.settle(t, next.ID); got.SettleIndex != 2 {
		t.Errorf("settle index after refusals = %d, want 2", got.SettleIndex)
	}
}

func TestLookupAndCancel(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	open := b.create(t, 1000, "open", time.Hour)
	settled := b.create(t, 1000, "settled", time.Hour)
	b.settle(t, settled.ID)
	canceled := b.create(t, 1000, "canceled", time.Hour)
	if err := b.provider.CancelInvoice(ctx, canceled.ID); err != nil {
		t.Fatalf("CancelInvoice: %v", err)
	}
	if err := b.provider.CancelInvoice(ctx, canceled.ID); err != nil {
		t.Errorf("canceling twice: %v, want nil", err)
	}
	expired := b.create(t, 1000, "expired", time.Second)
	b.clock.Advance(2 * time.Second)

	for id, want := range map[string]lightning.InvoiceState{
		open.ID:     lightning.InvoiceOpen,
		settled.ID:  lightning.InvoiceSettled,
		canceled.ID: lightning.InvoiceCanceled,
		expired.ID:  lightning.InvoiceCanceled,
	} {
		if got := b.lookup(t, id); got.State != want {
			t.Errorf("invoice %s: state %s, want %s", got.Memo, got.State, want)
		}
	}

	if err := b.provider.CancelInvoice(ctx, expired.ID); err != nil {
		t.Errorf("canceling an expired invoice: %v", err)
	}
	if err := b.provider.CancelInvoice(ctx, settled.ID); !errors.Is(err, dev.ErrAlreadyPaid) {
		t.Errorf("canceling a settled invoice: %v, want ErrAlreadyPaid", err)
	}
	if got := b.lookup(t, settled.ID); got.State != lightning.InvoiceSettled {
		t.Errorf("settled invoice after cancel attempt: %s", got.State)
	}
	for _, id := range []string{strings.Repeat("00", 32), "nope", ""} {
		if _, err := b.provider.LookupInvoice(ctx, id); !errors.Is(err, lightning.ErrNotFound) {
			t.Errorf("LookupInvoice(%q): %v, want ErrNotFound", id, err)
		}
		if err := b.provider.CancelInvoice(ctx, id); !errors.Is(err, lightning.ErrNotFound) {
			t.Errorf("CancelInvoice(%q): %v, want ErrNotFound", id, err)
		}
	}
}

func TestCreateInvoiceRefuses(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	for _, c := range []struct {
		amount int64
		memo   string
		expiry time.Duration
	}{
		{0, "no amount", time.Hour},
		{-5, "negative", time.Hour},
		{1000, "negative expiry", -time.Second},
		{1000, strings.Repeat("x", bolt11.MaxFieldBytes+1), time.Hour},
		{1000, "\xff", time.Hour},
	} {
		if inv, err := b.provider.CreateInvoice(ctx, c.amount, c.memo, c.expiry); err == nil {
			t.Errorf("CreateInvoice(%d, %.20q, %v) = %+v, want an error", c.amount, c.memo, c.expiry, inv)
		}
	}
	// Expiry: 0 is the default, fractions round up.
	if inv := b.create(t, 1000, "", 0); !inv.ExpiresAt.Equal(inv.CreatedAt.Add(time.Hour)) {
		t.Errorf("default expiry: %v", inv.ExpiresAt.Sub(inv.CreatedAt))
	}
	if inv := b.create(t, 1000, "", 1500*time.Millisecond); !inv.ExpiresAt.Equal(inv.CreatedAt.Add(2 * time.Second)) {
		t.Errorf("1.5s expiry: %v", inv.ExpiresAt.Sub(inv.CreatedAt))
	}
}

func TestPayOwnInvoice(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	inv := b.create(t, 42_000, "pay me", time.Hour)
	sub := subscribe(t, b.provider, 0)

	pay, err := b.provider.PayInvoice(ctx, inv.PaymentRequest, 0, time.Second)
	if err != nil {
		t.Fatalf("PayInvoice: %v", err)
	}
	preimage, err := hex.DecodeString(pay.Preimage)
	if err != nil || hex.EncodeToString(sha256Sum(preimage)) != inv.ID {
		t.Errorf("preimage %q does not hash to %s", pay.Preimage, inv.ID)
	}
	want := lightning.Payment{PaymentHash: inv.ID, Status: lightning.PaymentSucceeded, AmountMsat: 42_000, FeeMsat: 0, Preimage: pay.Preimage}
	if diff := cmp.Diff(want, pay); diff != "" {
		t.Errorf("PayInvoice (-want +got):\n%s", diff)
	}
	if got := sub.next(t); got.ID != inv.ID || got.SettleIndex != 1 || got.State != lightning.InvoiceSettled {
		t.Errorf("delivered %+v", got)
	}

	again, err := b.provider.PayInvoice(ctx, inv.PaymentRequest, 0, time.Second)
	if err != nil {
		t.Fatalf("second PayInvoice: %v", err)
	}
	if diff := cmp.Diff(want, again); diff != "" {
		t.Errorf("second PayInvoice (-first +second):\n%s", diff)
	}
	tracked, err := b.provider.TrackPayment(ctx, strings.ToUpper(inv.ID))
	if err != nil {
		t.Fatalf("TrackPayment: %v", err)
	}
	if diff := cmp.Diff(want, tracked); diff != "" {
		t.Errorf("TrackPayment (-want +got):\n%s", diff)
	}
	sub.quiet(t) // settled once only
	if got := b.lookup(t, inv.ID); got.SettleIndex != 1 {
		t.Errorf("settle index %d after paying twice, want 1", got.SettleIndex)
	}
}

func sha256Sum(b []byte) []byte { h := sha256.Sum256(b); return h[:] }

func TestPayOwnInvoiceAlreadySettled(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	inv := b.create(t, 1000, "settled by dev pay", time.Hour)
	b.settle(t, inv.ID)
	pay, err := b.provider.PayInvoice(ctx, inv.PaymentRequest, 0, time.Second)
	if err != nil {
		t.Fatalf("PayInvoice: %v", err)
	}
	if pay.Status != lightning.PaymentFailed || !strings.Contains(pay.FailureReason, "already paid") || pay.Preimage != "" {
		t.Errorf("paying an invoice settled by other means: %+v, want FAILED (already paid)", pay)
	}
	tracked, err := b.provider.TrackPayment(ctx, inv.ID)
	if err != nil || tracked != pay {
		t.Errorf("TrackPayment = %+v, %v; want %+v", tracked, err, pay)
	}
}

// foreignInvoice is an invoice of another node, as a developer's payout address would give.
func foreignInvoice(t *testing.T, network string, amountMsat int64, at time.Time, expiry time.Duration) (string, string) {
	t.Helper()
	key, _ := btcec.NewPrivateKey()
	inv := &bolt11.Invoice{
		Network: network, AmountMsat: amountMsat, Timestamp: at, Expiry: expiry,
		PaymentHash:   sha256.Sum256([]byte(t.Name() + network + at.String())),
		PaymentSecret: sha256.Sum256([]byte("secret")),
		Description:   "payout",
	}
	s, err := bolt11.Encode(inv, key)
	if err != nil {
		t.Fatal(err)
	}
	return s, hex.EncodeToString(inv.PaymentHash[:])
}

func TestPayForeignInvoice(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	pr, hash := foreignInvoice(t, bolt11.Mainnet, 1_000_000, b.clock.Now(), time.Hour)

	pay, err := b.provider.PayInvoice(ctx, pr, 1000, 30*time.Second)
	if err != nil {
		t.Fatalf("PayInvoice: %v", err)
	}
	want := lightning.Payment{PaymentHash: hash, Status: lightning.PaymentSucceeded, AmountMsat: 1_000_000}
	if diff := cmp.Diff(want, pay); diff != "" {
		t.Errorf("PayInvoice (-want +got):\n%s", diff)
	}
	if again, err := b.provider.PayInvoice(ctx, pr, 1000, 30*time.Second); err != nil || again != pay {
		t.Errorf("PayInvoice again = %+v, %v; want %+v", again, err, pay)
	}
	b.clock.Advance(2 * time.Hour) // even expired now: the existing payment comes back
	again, err := b.provider.PayInvoice(ctx, "lightning:"+pr, 1000, 30*time.Second)
	if err != nil || again != pay {
		t.Errorf("second PayInvoice = %+v, %v; want %+v", again, err, pay)
	}
	if tracked, err := b.provider.TrackPayment(ctx, hash); err != nil || tracked != pay {
		t.Errorf("TrackPayment = %+v, %v; want %+v", tracked, err, pay)
	}

	expired, expiredHash := foreignInvoice(t, bolt11.Regtest, 1000, b.clock.Now().Add(-2*time.Hour), time.Hour)
	if _, err := b.provider.PayInvoice(ctx, expired, 0, time.Second); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("paying an expired invoice: %v, want an error", err)
	}
	if _, err := b.provider.TrackPayment(ctx, expiredHash); !errors.Is(err, lightning.ErrNotFound) {
		t.Errorf("refused payment is tracked: %v", err)
	}
	noAmount, _ := foreignInvoice(t, bolt11.Regtest, 0, b.clock.Now(), time.Hour)
	if _, err := b.provider.PayInvoice(ctx, noAmount, 0, time.Second); err == nil || !strings.Contains(err.Error(), "no amount") {
		t.Errorf("paying an invoice without amount: %v, want an error", err)
	}
	if _, err := b.provider.PayInvoice(ctx, "lnbcrt1nonsense", 0, time.Second); err == nil {
		t.Error("paying garbage succeeded")
	}
}

// TestPayForeignInvoiceConcurrently pays one invoice of another node from 8 goroutines, half
// through a second provider on its own pool: each gets the one payment recorded.
func TestPayForeignInvoiceConcurrently(t *testing.T) {
	b := setup(t)
	other := newProvider(t, openPool(t, b.dsn), b.clock)
	pr, hash := foreignInvoice(t, bolt11.Regtest, 21_000, b.clock.Now(), time.Hour)
	want := lightning.Payment{PaymentHash: hash, Status: lightning.PaymentSucceeded, AmountMsat: 21_000}
	var wg sync.WaitGroup
	pays := make(chan lightning.Payment, 8)
	for g := range 8 {
		p := b.provider
		if g%2 == 1 {
			p = other
		}
		wg.Go(func() {
			pay, err := p.PayInvoice(context.Background(), pr, 0, time.Second)
			if err != nil {
				t.Errorf("PayInvoice: %v", err)
			}
			pays <- pay
		})
	}
	wg.Wait()
	close(pays)
	for pay := range pays {
		if diff := cmp.Diff(want, pay); diff != "" {
			t.Errorf("PayInvoice (-want +got):\n%s", diff)
		}
	}
}

func TestTrackPaymentUnknown(t *testing.T) {
	b := setup(t)
	for _, h := range []string{strings.Repeat("cd", 32), "xyz"} {
		if _, err := b.provider.TrackPayment(context.Background(), h); !errors.Is(err, lightning.ErrNotFound) {
			t.Errorf("TrackPayment(%q): %v, want ErrNotFound", h, err)
		}
	}
}

func TestNodeKeyPersists(t *testing.T) {
	b := setup(t)
	again := newProvider(t, openPool(t, b.dsn), b.clock)
	if again.NodeID() != b.provider.NodeID() {
		t.Errorf("a second provider on the same database has node %x, want %x", again.NodeID(), b.provider.NodeID())
	}
	// Its invoices are the first one's: it settles them.
	inv := b.create(t, 1000, "made by the server", time.Hour)
	if _, err := again.Settle(context.Background(), inv.PaymentRequest); err != nil {
		t.Errorf("the second provider cannot settle the first one's invoice: %v", err)
	}
	other := setup(t)
	if other.provider.NodeID() == b.provider.NodeID() {
		t.Error("two databases share a node key")
	}
}

// TestNodeKeyFirstUseRace: processes starting together on a fresh database agree on one key.
func TestNodeKeyFirstUseRace(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	c := &clock{now: time.Now()}
	pools := make([]*pgxpool.Pool, 6)
	for i := range pools {
		pools[i] = openPool(t, dsn)
	}
	ids := make([][33]byte, len(pools))
	errs := make([]error, len(pools))
	var wg sync.WaitGroup
	for i, pool := range pools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := dev.New(context.Background(), pool, dev.Config{Now: c.Now})
			if err == nil {
				ids[i] = p.NodeID()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i := range pools {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Errorf("provider %d: node %x, %v; want node %x", i, ids[i], errs[i], ids[0])
		}
	}
}

func TestSubscriberErrors(t *testing.T) {
	b := setup(t)
	for i := range 2 {
		b.settle(t, b.create(t, 1000, fmt.Sprint(i), time.Hour).ID)
	}
	stop := errors.New("stop")
	var seen []uint64
	err := b.provider.SubscribeSettlements(context.Background(), 0, func(inv lightning.Invoice) error {
		seen = append(seen, inv.SettleIndex)
		return stop
	})
	if !errors.Is(err, stop) || len(seen) != 1 || seen[0] != 1 {
		t.Errorf("fn error: returned %v after %v, want stop after [1]", err, seen)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = b.provider.SubscribeSettlements(ctx, 2, func(inv lightning.Invoice) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ctx done: returned %v, want context.DeadlineExceeded", err)
	}
	// A subscription's connection is its own, and closed when it ends.
	subscribers := func() int {
		var n int
		if err := b.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%settle_index > $1 ORDER BY settle_index%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor := func(want int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for subscribers() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%d subscriber connections, want %d", subscribers(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor(0)
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- b.provider.SubscribeSettlements(ctx, 0, func(lightning.Invoice) error { return nil }) }()
	waitFor(1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: returned %v, want context.Canceled", err)
	}
	waitFor(0)
}

// TestConcurrentSettlements settles 50 invoices from 5 goroutines, half through a second
// provider on its own pool (as `satchel-server dev pay` would, from another process), while
// two subscribers (one from the start, one joining midway) must each see every settle index
// exactly once, in order.
func TestConcurrentSettlements(t *testing.T) {
	b := setup(t)
	other := newProvider(t, openPool(t, b.dsn), b.clock)
	const n = 50
	var invs []lightning.Invoice
	for i := range n {
		invs = append(invs, b.create(t, int64(1000+i), fmt.Sprintf("game %d", i), time.Hour))
	}
	first := subscribe(t, b.provider, 0)

	var wg sync.WaitGroup
	errs := make(chan error, n)
	var second *subscription
	var once sync.Once
	for g := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := b.provider
			if g%2 == 1 {
				p = other
			}
			for i := g; i < n; i += 5 {
				if _, err := p.Settle(context.Background(), invs[i].PaymentRequest); err != nil {
					errs <- err
				}
				if i == 25 {
					once.Do(func() { second = subscribe(t, other, 0) })
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Settle: %v", err)
	}

	for name, sub := range map[string]*subscription{"first": first, "second": second} {
		seen := map[string]bool{}
		for want := uint64(1); want <= n; want++ {
			got := sub.next(t)
			if got.SettleIndex != want {
				t.Fatalf("%s subscriber: settle index %d, want %d", name, got.SettleIndex, want)
			}
			if seen[got.ID] {
				t.Errorf("%s subscriber: invoice %s delivered twice", name, got.ID)
			}
			seen[got.ID] = true
		}
		sub.quiet(t)
	}
}
