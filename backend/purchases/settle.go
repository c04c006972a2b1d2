package purchases

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/market"
)

// Settle applies one settlement from the provider, exactly once whatever arrives twice, late
// or out of order (see Store.Settle).
func (s *Service) Settle(ctx context.Context, inv lightning.Invoice) error {
	p, outcome, err := s.repo.Settle(ctx, s.provider.Name(), inv, s.cfg.FeeBps)
	if err != nil {
		return err
	}
	switch outcome {
	case SettledPaid:
		s.log.InfoContext(ctx, "purchase paid", "purchase", p.ID, "amount_msat", inv.AmountPaidMsat, "settle_index", inv.SettleIndex)
		if s.cfg.OnSettled != nil && !inv.SettledAt.IsZero() {
			s.cfg.OnSettled(max(s.now().Sub(inv.SettledAt), 0))
		}
	case SettledPaidPayoutFailed:
		s.log.ErrorContext(ctx, "purchase paid, but its payout FAILED: "+NoPayoutProfile, "purchase", p.ID,
			"game", p.GameID, "amount_msat", inv.AmountPaidMsat)
	case SettledFailed, SettledLate, SettledDuplicate:
		s.log.ErrorContext(ctx, "money received that no sale accounts for: recorded in the ledger; refund it (satchel-server admin refund)",
			"outcome", outcome, "purchase", p.ID, "status", p.Status, "amount_paid_msat", inv.AmountPaidMsat, "invoice", inv.ID)
		if s.cfg.OnUnaccounted != nil {
			s.cfg.OnUnaccounted(string(outcome))
		}
	default:
		s.log.InfoContext(ctx, "settlement changes nothing: unknown invoice or one handled before",
			"invoice", inv.ID, "settle_index", inv.SettleIndex)
	}
	return nil
}

// RunSettlements follows the provider's settlements from the saved settle index, applying up
// to Config.Settlers at once (each in a transaction of its own; Store.Settle keeps each purchase
// to one settlement), until ctx ends; when the provider's indexes started again
// (lightning.ErrIndexBehind), from the first. The saved index only passes a settlement once it and every
// one before it are applied (Store.SaveCursor), so when the stream breaks or a settlement fails,
// following resumes from there: the failed settlement is delivered again, and those after it
// that were applied already change nothing.
func (s *Service) RunSettlements(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		after, err := s.repo.Cursor(ctx, s.provider.Name())
		if err == nil {
			err = s.follow(ctx, after, func() { backoff = 100 * time.Millisecond })
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, lightning.ErrIndexBehind) {
			// A new node, or one restored from a backup: its settlements are all followed
			// again from its first (applying one twice changes nothing).
			s.log.WarnContext(ctx, "the node's settle indexes started again: following its settlements from the first", "err", err)
			if err = s.repo.ResetCursor(ctx, s.provider.Name(), after); err == nil {
				continue
			}
		}
		s.log.WarnContext(ctx, "settlement stream broke; resuming", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// follow applies the settlements after the settle index after, Config.Settlers at once, and
// saves the settle index they are applied up to as it moves. It returns when the stream breaks
// or a settlement fails, once the settlements under way have ended; received is called for each
// settlement the stream delivers.
func (s *Service) follow(ctx context.Context, after uint64, received func()) error {
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w := &settleWindow{started: after, running: map[uint64]struct{}{}}
	kick := make(chan struct{}, 1)
	saved := make(chan struct{})
	go func() { // saves the index as it moves, once per kick however many came meanwhile
		defer close(saved)
		last := after
		for range kick {
			last = s.saveCursor(parent, w, last)
		}
		s.saveCursor(parent, w, last)
	}()
	slots := make(chan struct{}, s.cfg.Settlers)
	var wg sync.WaitGroup
	err := s.provider.SubscribeSettlements(ctx, after, func(inv lightning.Invoice) error {
		received()
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		w.start(inv.SettleIndex)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if err := s.Settle(ctx, inv); err != nil {
				cancel(fmt.Errorf("settle index %d: %w", inv.SettleIndex, err))
				return
			}
			w.finish(inv.SettleIndex)
			select {
			case kick <- struct{}{}:
			default:
			}
		}()
		return nil
	})
	wg.Wait()
	close(kick)
	<-saved
	if cause := context.Cause(ctx); cause != nil && parent.Err() == nil {
		return cause // a settlement failed, and so the stream ended
	}
	return err
}

// saveCursor saves the index every settlement is applied up to, when it passed last, and
// returns the index saved. A failure is only logged: the index saved before is behind, so the
// settlements after it are delivered again and change nothing.
func (s *Service) saveCursor(ctx context.Context, w *settleWindow, last uint64) uint64 {
	mark := w.applied()
	if mark <= last {
		return last
	}
	if err := s.repo.SaveCursor(ctx, s.provider.Name(), mark); err != nil {
		if ctx.Err() == nil {
			s.log.WarnContext(ctx, "saving the settlement cursor", "settle_index", mark, "err", err)
		}
		return last
	}
	return mark
}

// settleWindow tracks the settlements being applied, started in settle index order.
type settleWindow struct {
	mu      sync.Mutex
	started uint64              // the highest settle index started
	running map[uint64]struct{} // the settle indexes started and not applied yet
}

func (w *settleWindow) start(index uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.running[index] = struct{}{}
	w.started = max(w.started, index)
}

func (w *settleWindow) finish(index uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.running, index)
}

// applied returns the settle index up to which every settlement started is applied.
func (w *settleWindow) applied() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	mark := w.started
	for index := range w.running {
		mark = min(mark, index-1)
	}
	return mark
}

// Reconcile checks every PENDING purchase against the provider, as the server starts: a
// settlement missed while no server was running is applied, and an invoice canceled or expired
// meanwhile closes its purchase. A purchase that cannot be reconciled is logged and counted,
// and the others are still done; only failing to list them is an error.
func (s *Service) Reconcile(ctx context.Context) error {
	return s.reconcileAll(ctx, nil)
}

// ExpireDue closes the PENDING purchases whose invoices have expired. The invoice is canceled
// at the provider first, so a payment racing the expiry is settled, not lost. Like Reconcile,
// it goes on past a purchase that fails.
func (s *Service) ExpireDue(ctx context.Context) error {
	now := s.now()
	return s.reconcileAll(ctx, &now)
}

// reconcileAll reconciles the PENDING purchases (with dueBy, those that expired before it),
// each on its own.
func (s *Service) reconcileAll(ctx context.Context, dueBy *time.Time) error {
	pending, err := s.repo.Pending(ctx, s.provider.Name(), dueBy)
	if err != nil {
		return err
	}
	for _, p := range pending {
		if err := s.reconcile(ctx, p); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.ErrorContext(ctx, "reconciling a purchase with its invoice failed; going on with the others",
				"purchase", p.ID, "invoice", p.InvoiceID, "err", err)
			if s.cfg.OnReconcileError != nil {
				s.cfg.OnReconcileError()
			}
		}
	}
	return nil
}

// reconcile brings one PENDING purchase in line with its invoice.
func (s *Service) reconcile(ctx context.Context, p market.Purchase) error {
	inv, err := s.provider.LookupInvoice(ctx, p.InvoiceID)
	if errors.Is(err, lightning.ErrNotFound) {
		_, err = s.repo.Close(ctx, p.ID, market.PurchaseFailed, "the Lightning node does not know this invoice")
		return err
	}
	if err != nil {
		return err
	}
	if inv.State == lightning.InvoiceOpen && p.ExpiresAt != nil && s.now().After(*p.ExpiresAt) {
		if err := s.provider.CancelInvoice(ctx, inv.ID); err != nil {
			if inv, err = s.provider.LookupInvoice(ctx, p.InvoiceID); err != nil {
				return err
			}
		} else {
			inv.State = lightning.InvoiceCanceled
		}
	}
	switch inv.State {
	case lightning.InvoiceSettled:
		return s.Settle(ctx, inv)
	case lightning.InvoiceCanceled:
		status, reason := market.PurchaseExpired, ""
		if p.ExpiresAt != nil && s.now().Before(*p.ExpiresAt) {
			status, reason = market.PurchaseFailed, "the invoice was canceled before it expired"
		}
		if _, err := s.repo.Close(ctx, p.ID, status, reason); err != nil {
			return err
		}
	}
	return nil
}

// RunExpiry calls ExpireDue every interval until ctx ends.
func (s *Service) RunExpiry(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.ExpireDue(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "expiring unpaid purchases", "err", err)
			}
		}
	}
}
