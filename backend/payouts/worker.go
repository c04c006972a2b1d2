package payouts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/market"
)

// Config sets how payouts are paid.
type Config struct {
	// The most routing fee one payout may spend (the platform pays it, on top of the
	// developer's amount): the larger of FeeLimitMinMsat and FeeLimitBps basis points of the
	// amount. Defaults 10 000 msat (10 sat) and 100 (1%).
	FeeLimitMinMsat int64
	FeeLimitBps     int
	// PaymentTimeout is how long a payment may look for a route before the attempt waits
	// for it in the background (default 60 s).
	PaymentTimeout time.Duration
	// MaxAttempts is how many failed attempts make a payout FAILED (default 10).
	MaxAttempts int
	// After the nth failed attempt the next one waits BackoffBase × 2^(n-1), at most
	// BackoffMax (defaults 30 s and 2 h: ten attempts span about four hours).
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// RecheckInterval is how often a payment in flight, or a payout whose lease another
	// attempt holds, is looked at again (default 15 s).
	RecheckInterval time.Duration
	// LNURL configures the requests to Lightning Address servers.
	LNURL LNURLConfig
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.FeeLimitMinMsat == 0 {
		c.FeeLimitMinMsat = 10_000
	}
	if c.FeeLimitBps == 0 {
		c.FeeLimitBps = 100
	}
	if c.PaymentTimeout == 0 {
		c.PaymentTimeout = time.Minute
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 10
	}
	if c.BackoffBase == 0 {
		c.BackoffBase = 30 * time.Second
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = 2 * time.Hour
	}
	if c.RecheckInterval == 0 {
		c.RecheckInterval = 15 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.LNURL = c.LNURL.WithDefaults()
	return c
}

// Validate reports a setting that cannot work, naming the field.
func (c Config) Validate() error {
	switch {
	case c.FeeLimitMinMsat < 0:
		return fmt.Errorf("payouts: FeeLimitMinMsat %d is negative", c.FeeLimitMinMsat)
	case c.FeeLimitBps < 0 || c.FeeLimitBps > 10000:
		return fmt.Errorf("payouts: FeeLimitBps %d is outside 0..10000", c.FeeLimitBps)
	case c.PaymentTimeout < time.Second:
		return fmt.Errorf("payouts: PaymentTimeout %v is under a second", c.PaymentTimeout)
	case c.MaxAttempts < 1:
		return fmt.Errorf("payouts: MaxAttempts %d must be at least 1", c.MaxAttempts)
	case c.BackoffBase <= 0 || c.BackoffMax < c.BackoffBase:
		return fmt.Errorf("payouts: BackoffBase %v must be positive and at most BackoffMax %v", c.BackoffBase, c.BackoffMax)
	case c.RecheckInterval <= 0:
		return fmt.Errorf("payouts: RecheckInterval %v must be positive", c.RecheckInterval)
	}
	return c.LNURL.Validate()
}

// FeeLimit is the most routing fee a payout of amountMsat may spend by the configuration.
// A payout pays with at most the smaller of this and its sale's platform fee (see feeLimit).
func (c Config) FeeLimit(amountMsat int64) int64 {
	return max(c.FeeLimitMinMsat, amountMsat/10000*int64(c.FeeLimitBps)+amountMsat%10000*int64(c.FeeLimitBps)/10000)
}

// feeLimit is the most routing fee paying p may spend: the configured limit, capped at the
// sale's platform fee, so that sending a developer their share never costs the platform more
// than it earned on the sale (a sale without a fee is paid only by a route without fees).
func (c Config) feeLimit(p Payout) int64 {
	return min(c.FeeLimit(p.AmountMsat), p.PlatformFeeMsat)
}

// Backoff is how long to wait after the nth failed attempt (n >= 1).
func (c Config) Backoff(n int) time.Duration {
	d := c.BackoffBase
	for i := 1; i < n && d < c.BackoffMax; i++ {
		d *= 2
	}
	return min(d, c.BackoffMax)
}

// expiryGrace is how long past its expiry a stored invoice that was never paid is kept before
// another is asked for: covers clocks that disagree a little.
const expiryGrace = 30 * time.Second

// Worker is the payout job's River worker. Register it with river.AddWorker on the client
// that works the default queue; the client's RescueStuckJobsAfter must exceed Timeout.
type Worker struct {
	river.WorkerDefaults[Args]
	store    Store
	provider lightning.Provider
	lnurl    *Resolver
	cfg      Config
	log      *slog.Logger
	hook     func(point string, p Payout) // tests only: see export_test.go
}

// NewWorker returns the payout worker: payouts kept in store, paid through provider (whose
// Network every invoice must be on).
func NewWorker(store Store, provider lightning.Provider, cfg Config, log *slog.Logger) (*Worker, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r, err := NewResolver(cfg.LNURL, provider.Network(), cfg.Now)
	if err != nil {
		return nil, err
	}
	return &Worker{store: store, provider: provider, lnurl: r, cfg: cfg, log: log}, nil
}

// Resolver is the worker's Lightning Address resolver (the same rules, for a live check of
// an address a developer sets).
func (w *Worker) Resolver() *Resolver { return w.lnurl }

// Timeout bounds one run of the job: two LNURL requests and a payment, with room to record
// the outcome. It is also how long River waits before it gives the job of a worker that died
// to another one (the rescuer, which also needs the client's RescueStuckJobsAfter to pass).
func (w *Worker) Timeout(*river.Job[Args]) time.Duration {
	return 2*w.cfg.LNURL.RequestTimeout + w.cfg.PaymentTimeout + 5*time.Second
}

// Work runs one attempt on the purchase's payout, or continues the one a killed worker left:
// it returns nil once the payout is SENT, FAILED or CANCELED, and snoozes the job until the
// next attempt or check otherwise. Errors are unexpected (the database did not answer) and
// retried by River.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	wait, err := w.run(ctx, job.Args.PurchaseID)
	if err != nil {
		return err
	}
	if wait > 0 {
		return river.JobSnooze(wait)
	}
	return nil
}

func (w *Worker) run(ctx context.Context, purchaseID string) (time.Duration, error) {
	// Read under the lease: an attempt that held it may have changed everything.
	p, unlock, ok, err := w.store.LeasePayout(ctx, purchaseID, w.Timeout(nil))
	if market.ErrorCode(err) == market.CodeNotFound {
		w.log.WarnContext(ctx, "payout job for a purchase without a payout: nothing to pay", "purchase", purchaseID)
		return 0, river.JobCancel(err)
	}
	if err != nil {
		return 0, err
	}
	if !ok {
		w.log.InfoContext(ctx, "payout: another attempt holds it; looking again later", "purchase", purchaseID)
		return w.cfg.RecheckInterval, nil
	}
	defer unlock()
	if p.Status.Final() {
		return 0, nil
	}
	if now := w.cfg.Now(); p.NextAttemptAt != nil && now.Before(*p.NextAttemptAt) {
		return p.NextAttemptAt.Sub(now), nil // an early run (a duplicate or rescued job)
	}
	if p.PaymentHash != "" {
		return w.resume(ctx, p)
	}
	return w.attempt(ctx, p)
}

// resume continues with the invoice stored on the payout: the provider's payment of its hash
// decides, and nothing is paid that may have been paid.
func (w *Worker) resume(ctx context.Context, p Payout) (time.Duration, error) {
	pay, err := w.provider.TrackPayment(ctx, p.PaymentHash)
	switch {
	case errors.Is(err, lightning.ErrNotFound):
		if p.InvoiceExpiresAt != nil && w.cfg.Now().After(p.InvoiceExpiresAt.Add(expiryGrace)) {
			// Never paid, and it can no longer be: ask for a new one (not a failed attempt).
			w.log.InfoContext(ctx, "payout: the stored invoice expired unpaid; asking for a new one", "payout", p.ID, "payment_hash", p.PaymentHash)
			if err := w.store.ClearInvoice(ctx, p.ID, p.PaymentHash); err != nil {
				return 0, err
			}
			p.PaymentRequest, p.PaymentHash, p.InvoiceExpiresAt = "", "", nil
			return w.attempt(ctx, p)
		}
		return w.pay(ctx, p) // stored, never paid (the worker died before paying): pay it now
	case err != nil:
		return w.unknown(ctx, p, fmt.Errorf("the platform's Lightning node did not say how payment %s went (it is asked again shortly): %w", p.PaymentHash, err))
	}
	return w.settle(ctx, p, pay)
}

// attempt asks the developer's Lightning Address for a new invoice, stores it, and pays it.
func (w *Worker) attempt(ctx context.Context, p Payout) (time.Duration, error) {
	address := p.CurrentAddress
	if address == "" {
		address = p.Destination
	}
	if !Owed(p.AmountMsat) {
		return w.fail(ctx, p, fmt.Sprintf("a payout of %d msat pays nothing", p.AmountMsat), true)
	}
	inv, err := w.lnurl.Invoice(ctx, address, p.AmountMsat)
	var notSendable *NotSendableError
	if errors.As(err, &notSendable) {
		// The address says it never accepts this amount: asking again will not help.
		return w.fail(ctx, p, err.Error(), true)
	}
	if err != nil {
		return w.fail(ctx, p, err.Error(), false)
	}
	w.at("fetched", p)
	if err := w.store.StoreInvoice(ctx, p.ID, inv); err != nil {
		if errors.Is(err, ErrInvoiceReused) {
			return w.fail(ctx, p, fmt.Sprintf("Lightning Address %s: %v", address, err), false)
		}
		return 0, err
	}
	p.PaymentRequest, p.PaymentHash, p.InvoiceExpiresAt, p.Destination = inv.PaymentRequest, inv.PaymentHash, &inv.ExpiresAt, address
	w.at("stored", p)
	return w.pay(ctx, p)
}

// pay pays the stored invoice and records how it went.
func (w *Worker) pay(ctx context.Context, p Payout) (time.Duration, error) {
	w.at("paying", p)
	pay, err := w.provider.PayInvoice(ctx, p.PaymentRequest, w.cfg.feeLimit(p), w.cfg.PaymentTimeout)
	if err != nil {
		// Whether it started is unknown: ask.
		tracked, terr := w.provider.TrackPayment(ctx, p.PaymentHash)
		switch {
		case errors.Is(terr, lightning.ErrNotFound):
			// Not started. The invoice stays: the next attempt pays it if it is still valid.
			return w.fail(ctx, p, fmt.Sprintf("the platform's Lightning node refused to pay invoice %s: %v", p.PaymentHash, err), false)
		case terr != nil:
			return w.unknown(ctx, p, fmt.Errorf("paying invoice %s: %w (and asking how it went: %v)", p.PaymentHash, err, terr))
		}
		pay = tracked
	}
	return w.settle(ctx, p, pay)
}

// settle records a payment's outcome: SENT, a failed attempt, or a wait while it is in flight.
func (w *Worker) settle(ctx context.Context, p Payout, pay lightning.Payment) (time.Duration, error) {
	switch pay.Status {
	case lightning.PaymentSucceeded:
		w.at("paid", p)
		sent, err := w.store.MarkSent(ctx, p.ID, pay)
		if err != nil {
			return 0, err
		}
		if sent {
			w.log.InfoContext(ctx, "payout SENT", "payout", p.ID, "purchase", p.PurchaseID, "amount_msat", p.AmountMsat,
				"fee_msat", pay.FeeMsat, "to", p.Destination, "payment_hash", p.PaymentHash)
		}
		return 0, nil
	case lightning.PaymentFailed:
		// Final at the node: this invoice was not paid and will not be. The next attempt
		// asks for a new one.
		if err := w.store.ClearInvoice(ctx, p.ID, p.PaymentHash); err != nil {
			return 0, err
		}
		return w.fail(ctx, p, fmt.Sprintf("the payment to %s failed: %s", p.Destination, pay.FailureReason), false)
	default:
		w.log.InfoContext(ctx, "payout: payment in flight; looking again later", "payout", p.ID, "payment_hash", p.PaymentHash,
			"in", w.cfg.RecheckInterval)
		if err := w.store.NotePayment(ctx, p.ID, p.PaymentHash, PaymentInFlight, ""); err != nil {
			return 0, err
		}
		return w.cfg.RecheckInterval, nil
	}
}

// fail counts a failed attempt (no payment of the payout is in flight): RETRYING after a
// backoff, or FAILED after the last attempt, or at once when final (retrying cannot help).
func (w *Worker) fail(ctx context.Context, p Payout, reason string, final bool) (time.Duration, error) {
	n := p.AttemptCount + 1
	final = final || n >= w.cfg.MaxAttempts
	wait := w.cfg.Backoff(n)
	q, err := w.store.MarkAttemptFailed(ctx, p.ID, reason, final, w.cfg.Now().Add(wait))
	if err != nil {
		return 0, err
	}
	w.log.WarnContext(ctx, "payout attempt failed", "payout", p.ID, "purchase", p.PurchaseID, "attempt", q.AttemptCount,
		"status", q.Status, "err", reason)
	if q.Status != StatusRetrying {
		return 0, nil
	}
	return wait, nil
}

// unknown waits when the state of a payment cannot be learned: nothing is decided, nothing
// counted.
func (w *Worker) unknown(ctx context.Context, p Payout, err error) (time.Duration, error) {
	w.log.WarnContext(ctx, "payout: payment state unknown; looking again later", "payout", p.ID, "err", err)
	if nerr := w.store.NotePayment(ctx, p.ID, p.PaymentHash, PaymentUnknown, err.Error()); nerr != nil {
		return 0, nerr
	}
	return w.cfg.RecheckInterval, nil
}

// at calls the test hook at a named point of an attempt.
func (w *Worker) at(point string, p Payout) {
	if w.hook != nil {
		w.hook(point, p)
	}
}
