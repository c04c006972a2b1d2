// Package payouts pays developers their share of each paid purchase, to their Lightning
// Address, as a background job, and shows developers their sales, ledger and payouts.
//
// The job (Worker, kind "payout") resolves the developer's Lightning Address (LUD-16) to a pay
// request (LUD-06), asks its callback for an invoice of exactly the payout's amount, verifies
// it (signature, amount, description hash, network, expiry), stores it on the payout row, and
// only then pays it through the invoice provider. Never twice: a worker that finds a stored
// payment hash tracks that payment instead of paying anything; a stored invoice is replaced
// only once its payment is known to have failed, or it expired unpaid; a payment hash is never
// used by two payouts; every attempt on a payout holds that payout's lease, and operators
// cannot cancel or retry it meanwhile. When operators may retry or cancel a payout is this
// package's rule (CheckRetry, CheckCancel), which the store applies under the payout's lock.
//
// Postgres keeps the state (package postgres implements Store); River runs the job.
package payouts

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/market"
)

// Args is the job that pays the developer of a paid purchase. The settlement enqueues it in
// the same transaction that marks the purchase PAID.
type Args struct {
	PurchaseID string `json:"purchase_id"`
}

// Kind names the job in the queue.
func (Args) Kind() string { return "payout" }

// InsertOpts are the job's defaults. Snoozes (how the worker waits between attempts and for
// payments in flight) do not count as River attempts; only unexpected errors, panics and
// rescues of killed workers do, and the payout's own attempts are counted on its row.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 50}
}

// Status is where a payout is: SCHEDULED -> SENT | RETRYING -> SENT | FAILED; an operator
// retries FAILED (-> RETRYING) or cancels one not SENT (-> CANCELED).
type Status string

const (
	StatusScheduled Status = "SCHEDULED" // waiting for its first attempt
	StatusRetrying  Status = "RETRYING"  // an attempt failed; another follows at NextAttemptAt
	StatusSent      Status = "SENT"      // paid
	StatusFailed    Status = "FAILED"    // every attempt failed; an operator may retry it
	StatusCanceled  Status = "CANCELED"  // an operator canceled it; it is never paid
)

// Final reports whether no job works on a payout in this status (an operator may still retry
// a FAILED one).
func (s Status) Final() bool { return s == StatusSent || s == StatusFailed || s == StatusCanceled }

// CheckRetry is when an operator may retry a payout: only a FAILED one (every attempt failed)
// gets a fresh round of attempts. FailedPrecondition for any other status. Store.Retry applies
// it with the payout's row locked.
func CheckRetry(p Payout) error {
	if p.Status != StatusFailed {
		return market.Errorf(market.CodeFailedPrecondition, "payout %s is %s: only a FAILED payout can be retried", p.ID, p.Status)
	}
	return nil
}

// CheckCancel is when a payout's status lets an operator cancel it: any status but SENT (the
// developer was paid; that cannot be undone). FailedPrecondition for a SENT payout. The
// service also asks the Lightning node about a stored invoice's payment before it cancels.
func CheckCancel(p Payout) error {
	if p.Status == StatusSent {
		return market.Errorf(market.CodeFailedPrecondition, "payout %s was SENT: it cannot be canceled", p.ID)
	}
	return nil
}

// Owed reports whether a sale whose developer's share is netMsat gets a payout. A payout of
// nothing is never created: a platform fee of 100% leaves the developer nothing, and no
// Lightning Address accepts 0 msat. The settlement asks before it schedules one.
func Owed(netMsat int64) bool { return netMsat > 0 }

// PaymentState is what is known of the payment of a payout's stored invoice while it has not
// ended ("" once it has, or when none was made).
type PaymentState string

const (
	PaymentInFlight PaymentState = "IN_FLIGHT" // the platform's node is still trying to pay
	PaymentUnknown  PaymentState = "UNKNOWN"   // the platform's node did not say how it went
)

// DefaultStuckAfter is how long a payout's payment may stay IN_FLIGHT or UNKNOWN before the
// payout is reported as stuck (the metric satchel_payouts_stuck, and the admin listing by
// default). A Lightning payment normally ends within a minute; one held longer waits on a node
// the platform does not control, and an operator should know.
const DefaultStuckAfter = time.Hour

// Payout is what the platform owes a developer for one purchase, and how paying it goes.
type Payout struct {
	ID              string
	PurchaseID      string
	GameID          string
	GameTitle       string
	DeveloperUserID string
	// Destination is the Lightning Address the payout goes (or went) to: the developer's
	// address when the purchase was paid, updated to their current one whenever a new invoice
	// is requested.
	Destination string
	// CurrentAddress is the developer's payout address now ("" if they have none).
	CurrentAddress string
	AmountMsat     int64
	// PlatformFeeMsat is the sale's PLATFORM_FEE: the routing fee the platform pays to send
	// the payout never exceeds it.
	PlatformFeeMsat int64
	Status          Status
	AttemptCount    int
	LastError       string
	// The invoice being paid, stored before paying; empty when none is.
	PaymentRequest   string
	PaymentHash      string
	InvoiceExpiresAt *time.Time
	FeeMsat          int64  // routing fee paid, once SENT
	Preimage         string // once SENT (empty with test money paying another node's invoice)
	NextAttemptAt    *time.Time
	// PaymentState is IN_FLIGHT or UNKNOWN while the stored invoice's payment has not ended,
	// since PaymentStateSince (the first time an attempt saw it so).
	PaymentState      PaymentState
	PaymentStateSince *time.Time
	SentAt            *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Invoice is a verified invoice for a payout, to store before paying it.
type Invoice struct {
	PaymentRequest string
	PaymentHash    string // lowercase hex
	AmountMsat     int64
	ExpiresAt      time.Time
	Address        string // the Lightning Address it came from
}

// Store keeps payouts. Package postgres implements it.
type Store interface {
	// LeasePayout takes the lease of the purchase's payout for an attempt, until unlock is
	// called or for d at most (a worker that dies holds it that long), and returns the payout as
	// it is under the lease, whatever its status. ok is false (and the payout zero) if another
	// attempt holds the lease; market NotFound if the purchase has no payout.
	LeasePayout(ctx context.Context, purchaseID string, d time.Duration) (p Payout, unlock func(), ok bool, err error)
	// StoreInvoice records inv as the invoice the payout pays, and its address as the
	// payout's destination, if the payout is SCHEDULED or RETRYING with no invoice stored.
	// An invoice already stored on any payout, ever, is refused with ErrInvoiceReused.
	StoreInvoice(ctx context.Context, id string, inv Invoice) error
	// ClearInvoice forgets the stored invoice with this payment hash (kept in the history),
	// so the next attempt asks for a new one. Only for a payment known to have failed, or an
	// invoice expired unpaid.
	ClearInvoice(ctx context.Context, id, paymentHash string) error
	// MarkSent records a succeeded payment of the stored invoice: SENT with its fee and
	// preimage, the destination set to the address that invoice came from (the one actually
	// paid), a PAYOUT_SENT ledger entry, and a PAYOUT_ROUTING_FEE entry for a fee above 0, in
	// one transaction. It returns false if the payout was SENT already.
	MarkSent(ctx context.Context, id string, pay lightning.Payment) (bool, error)
	// MarkAttemptFailed counts a failed attempt with its reason: RETRYING until next, or,
	// when final, FAILED with a PAYOUT_FAILED ledger entry in the same transaction. Only for a
	// SCHEDULED or RETRYING payout (otherwise it changes nothing and returns the payout).
	MarkAttemptFailed(ctx context.Context, id, reason string, final bool, next time.Time) (Payout, error)
	// NotePayment records that the payment of the stored invoice with this hash has not ended:
	// IN_FLIGHT, or UNKNOWN with the reason (the provider did not answer), kept as last_error.
	// The state's start is kept while it stays IN_FLIGHT or UNKNOWN, and cleared whenever the
	// payment ends (SENT, a failed attempt, a cleared invoice, a cancel). Status and count are
	// left alone; only for a SCHEDULED or RETRYING payout.
	NotePayment(ctx context.Context, id, paymentHash string, state PaymentState, reason string) error
	// ListStuckPayouts lists the payouts whose payment has been IN_FLIGHT or UNKNOWN for
	// longer than olderThan, oldest first, at most limit.
	ListStuckPayouts(ctx context.Context, olderThan time.Duration, limit int) ([]Payout, error)

	// Retry moves a payout to RETRYING once check allows it (check is given the payout, read
	// with its row locked), with a fresh count of attempts, towards the developer's current
	// address (unless an invoice is stored: it is paid first, and its address stays the
	// destination), and enqueues its job (Args) and writes audit, with the change's details, in
	// the same transaction. FailedPrecondition while an attempt holds the payout's lease.
	Retry(ctx context.Context, id string, audit market.AuditRecord, check func(Payout) error) (Payout, error)
	// Cancel moves a payout to CANCELED once check allows it, and writes audit, with the
	// change's details, in the same transaction; a payout CANCELED already is returned as it
	// is, and check is not called. Cancel holds the payout's lease from before check until the
	// change commits, so no attempt runs meanwhile; check (which may ask the Lightning node) is
	// given the payout read under the lease, and is called with no row locked and no
	// transaction open, with a context that ends before the lease does. FailedPrecondition
	// while an attempt holds the lease, or if the payout changed or the lease ran out
	// meanwhile.
	Cancel(ctx context.Context, id string, audit market.AuditRecord, check func(context.Context, Payout) error) (Payout, error)
	// ListPayoutsByStatus lists every developer's payouts in a status, newest first, a page
	// after the cursor (for operators).
	ListPayoutsByStatus(ctx context.Context, status Status, q Query) ([]Payout, error)

	// IsDeveloper reports whether the user has a developer profile.
	IsDeveloper(ctx context.Context, userID string) (bool, error)
	// GameByID returns a game in any status (market NotFound if none).
	GameByID(ctx context.Context, id string) (market.Game, error)
	// ListSales, ListLedger and ListPayouts list a developer's sales, ledger entries and
	// payouts, newest first, all games or one (Filter.GameID), a page after the cursor.
	ListSales(ctx context.Context, developerID string, q Query) ([]Sale, error)
	SalesTotals(ctx context.Context, developerID, gameID string) (Totals, error)
	ListLedger(ctx context.Context, developerID string, q Query) ([]LedgerEntry, error)
	ListPayouts(ctx context.Context, developerID string, q Query) ([]Payout, error)
}

// ErrInvoiceReused is returned (wrapped) by Store.StoreInvoice for an invoice that was
// stored on a payout before.
var ErrInvoiceReused = fmt.Errorf("the invoice was given for an earlier payout: a Lightning Address server must issue a new invoice for every request")
