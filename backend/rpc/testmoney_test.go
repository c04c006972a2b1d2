package rpc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	testmoneypb "satchel.dev/shared/api/satchel/testmoney/v1"
	"satchel.dev/shared/api/satchel/testmoney/v1/testmoneyv1connect"
)

// TestPayInvoiceRefusals: paying with test money what cannot be paid says what is wrong with
// the code that fits (never internal): an invoice paid already, expired or canceled is a
// failed precondition, what is not an invoice an invalid argument, an invoice of no purchase
// here not found.
func TestPayInvoiceRefusals(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	c := testmoneyv1connect.NewTestMoneyServiceClient(b.client(anonymous), b.srv.URL)
	pay := func(invoice string) error {
		_, err := c.PayInvoice(ctx, &testmoneypb.PayInvoiceRequest{PaymentRequest: invoice})
		return err
	}
	if err := pay(b.bought.PaymentRequest); err != nil {
		t.Fatal(err)
	}
	expired, err := b.dev.CreateInvoice(ctx, 5000, "expired", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.Pool().Exec(ctx, `UPDATE dev_invoices SET expires_at = now() - interval '1 minute' WHERE payment_hash = $1`,
		expired.ID); err != nil {
		t.Fatal(err)
	}
	canceled, err := b.dev.CreateInvoice(ctx, 5000, "canceled", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.dev.CancelInvoice(ctx, canceled.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, invoice string
		code          connect.Code
		says          string
	}{
		{"paid already", b.bought.PaymentRequest, connect.CodeFailedPrecondition, "already paid"},
		{"paid already, by hash", b.bought.InvoiceID, connect.CodeFailedPrecondition, "already paid"},
		{"expired", expired.PaymentRequest, connect.CodeFailedPrecondition, "expired"},
		{"canceled", canceled.PaymentRequest, connect.CodeFailedPrecondition, "canceled"},
		{"not an invoice", "lnbcrt1garbage", connect.CodeInvalidArgument, "neither a payment hash nor a BOLT 11 invoice"},
		{"not an invoice at all", "hello", connect.CodeInvalidArgument, "paste the whole invoice"},
		{"unknown hash", strings.Repeat("ab", 32), connect.CodeNotFound, "no invoice"},
	} {
		if err := pay(tc.invoice); code(err) != tc.code || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want %s saying %q", tc.name, err, tc.code, tc.says)
		}
	}
}
