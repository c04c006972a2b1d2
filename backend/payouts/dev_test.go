package payouts_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"satchel.dev/backend/lightning/bolt11"
	"satchel.dev/backend/lightning/dev"
	"satchel.dev/backend/market"
	"satchel.dev/backend/payouts"
	"satchel.dev/backend/payouts/internal/payouttest"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/postgres/pgtest"
)

// devBundle is what `make run` has: the dev provider, and the demo developer's Lightning
// Address served by DevLNURLHandler on the server's own host.
type devBundle struct {
	*bundle
	dev  *dev.Provider
	srv  *httptest.Server
	addr string
}

func setupDev(t *testing.T) *devBundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	b := &bundle{t: t, ctx: ctx, dsn: pgtest.NewDatabase(t), log: testLogger(t)}
	var err error
	if b.db, err = postgres.Open(ctx, b.dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.db.Close)
	b.repo = postgres.NewPayoutRepo(b.db)
	if b.jobs, err = river.NewClient(riverpgxv5.New(b.db.Pool()), &river.Config{Logger: b.log}); err != nil {
		t.Fatal(err)
	}
	b.db.SetQueue(b.jobs)
	d := &devBundle{bundle: b}
	if d.dev, err = dev.New(ctx, b.db.Pool(), dev.Config{}); err != nil {
		t.Fatal(err)
	}
	h, err := payouts.DevLNURLHandler(d.dev.Network())
	if err != nil {
		t.Fatal(err)
	}
	d.srv = httptest.NewServer(h)
	t.Cleanup(d.srv.Close)
	d.addr = "demo@" + strings.TrimPrefix(d.srv.URL, "http://")
	if b.shop, err = payouttest.Open(ctx, b.db, d.addr, priceMsat); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDevProviderPaysDemoAddress: with test money, a sale's payout goes SENT within seconds.
func TestDevProviderPaysDemoAddress(t *testing.T) {
	t.Parallel()
	d := setupDev(t)
	cfg := payouts.Config{LNURL: payouts.LNURLConfig{AllowHTTP: true, AllowPrivate: true}} // the defaults of a dev run
	d.startClient(d.worker(d.dev, cfg), clientOpts{})
	began := time.Now()
	sale := d.sell()
	p := d.waitStatus(sale.ID, 10*time.Second, payouts.StatusSent)
	t.Logf("test-money payout SENT %v after the settlement", time.Since(began).Round(time.Millisecond))
	var status string
	var amount int64
	if err := d.db.Pool().QueryRow(d.ctx, `SELECT status, amount_msat FROM dev_payments WHERE payment_hash = $1`, p.PaymentHash).
		Scan(&status, &amount); err != nil {
		t.Fatal(err)
	}
	if status != "SUCCEEDED" || amount != netMsat || p.Destination != d.addr {
		t.Errorf("dev payment %s of %d msat to %s", status, amount, p.Destination)
	}
	if n := d.ledgerCount(sale.ID, market.LedgerPayoutSent); n != 1 {
		t.Errorf("%d PAYOUT_SENT entries", n)
	}
}

// TestDevLNURLHandler: the demo address answers valid LUD-06 with verifiable invoices.
func TestDevLNURLHandler(t *testing.T) {
	h, err := payouts.DevLNURLHandler(bolt11.Regtest)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	r := resolver(t, payouts.LNURLConfig{AllowHTTP: true, AllowPrivate: true})
	addr := "demo@" + strings.TrimPrefix(srv.URL, "http://")
	pr, err := r.ResolveAddress(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pr.Description, "test-money") || pr.MinSendable != 1000 {
		t.Errorf("pay request: %+v", pr)
	}
	inv, err := r.RequestInvoice(context.Background(), pr, 123_000)
	if err != nil {
		t.Fatal(err)
	}
	if inv.AmountMsat != 123_000 {
		t.Errorf("invoice: %+v", inv)
	}
	if _, err := r.RequestInvoice(context.Background(), pr, 999); err == nil || !strings.Contains(err.Error(), "accepts 1000 to") {
		t.Errorf("below minSendable: %v", err)
	}
}
