// Package lightning defines the invoice provider: the one interface through which Satchel
// receives payments (invoices for purchases) and sends them (payouts). Adapters: lnd (a real
// LND node over its REST API) and dev (test money for local runs, never together with lnd).
package lightning

import (
	"context"
	"errors"
	"time"
)

// InvoiceState is where an invoice is in its life.
type InvoiceState string

const (
	InvoiceOpen     InvoiceState = "OPEN"     // waiting for payment
	InvoiceSettled  InvoiceState = "SETTLED"  // paid
	InvoiceCanceled InvoiceState = "CANCELED" // canceled, or expired unpaid
)

// Invoice is an invoice as the provider knows it.
type Invoice struct {
	ID             string // the provider's id: the payment hash, lowercase hex
	PaymentRequest string // BOLT 11
	AmountMsat     int64
	Memo           string
	CreatedAt      time.Time
	ExpiresAt      time.Time
	State          InvoiceState
	AmountPaidMsat int64     // set once settled
	SettledAt      time.Time // set once settled
	SettleIndex    uint64    // set once settled: the provider's running count of settlements
}

// PaymentStatus is where an outgoing payment is.
type PaymentStatus string

const (
	PaymentInFlight  PaymentStatus = "IN_FLIGHT"
	PaymentSucceeded PaymentStatus = "SUCCEEDED"
	PaymentFailed    PaymentStatus = "FAILED"
)

// Payment is an outgoing payment.
type Payment struct {
	PaymentHash   string // lowercase hex
	Status        PaymentStatus
	AmountMsat    int64
	FeeMsat       int64
	Preimage      string // lowercase hex, once succeeded
	FailureReason string // once failed
}

// ErrNotFound is returned (wrapped) for an invoice or payment the provider does not know.
var ErrNotFound = errors.New("lightning: not found")

// ErrIndexBehind is returned (wrapped) by SubscribeSettlements when the provider's settle
// indexes are behind the one the subscription starts after: they started again (a new node,
// or one restored from its seed), so that index no longer says which of its settlements were
// handled.
var ErrIndexBehind = errors.New("lightning: the provider's settle indexes are behind the cursor")

// Provider creates and watches invoices and pays others. Implementations are safe for
// concurrent use.
type Provider interface {
	// Name is stored with each purchase ("lnd", "dev").
	Name() string
	// Network is the BOLT 11 network prefix of the provider's chain: "bc", "tb", "bcrt".
	Network() string
	// CreateInvoice creates an invoice for amountMsat (> 0) with memo as its description,
	// expiring after expiry.
	CreateInvoice(ctx context.Context, amountMsat int64, memo string, expiry time.Duration) (Invoice, error)
	// LookupInvoice returns the invoice with the given id, or ErrNotFound.
	LookupInvoice(ctx context.Context, id string) (Invoice, error)
	// CancelInvoice cancels an open invoice; canceling a canceled invoice is not an error, a
	// settled one is.
	CancelInvoice(ctx context.Context, id string) error
	// SubscribeSettlements calls fn for every invoice settled with a settle index above after,
	// in settle index order, first those settled before the call, then live ones, until ctx is
	// done (returns ctx.Err()), fn returns an error (returned), or the stream breaks (returned:
	// the caller resumes from the last index it handled). A provider that can tell its indexes
	// are behind after returns ErrIndexBehind (the caller starts again from 0).
	SubscribeSettlements(ctx context.Context, after uint64, fn func(Invoice) error) error
	// PayInvoice pays a BOLT 11 invoice spending at most maxFeeMsat in routing fees and waits
	// up to timeout for a final result; a payment still in flight then is returned as such.
	// Paying an invoice already paid returns its existing payment, never a second one.
	PayInvoice(ctx context.Context, paymentRequest string, maxFeeMsat int64, timeout time.Duration) (Payment, error)
	// TrackPayment returns the current state of the payment with this hash, or ErrNotFound if
	// the provider never started it.
	TrackPayment(ctx context.Context, paymentHash string) (Payment, error)
}
