// Package admin is what the server's operators do: feature, ban and unban games; revoke
// entitlements; mark purchases refunded after a refund made outside the system; retry, cancel
// and list payouts, and list those stuck with a payment in flight; and look at announcements and the audit log. Only the configured admins may
// call it, and every change writes an audit record (who, what, when, why) in the transaction
// that makes it. It composes the postgres stores, the payouts service and the announcements'
// store.
package admin

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"satchel.dev/backend/announce"
	"satchel.dev/backend/market"
	"satchel.dev/backend/payouts"
	"satchel.dev/backend/postgres"
)

// Service runs the operators' actions.
type Service struct {
	repo     *postgres.AdminRepo
	payouts  *payouts.Service
	announce announce.Store
	log      *slog.Logger
}

// New returns the operators' service.
func New(repo *postgres.AdminRepo, pay *payouts.Service, announcements announce.Store, log *slog.Logger) *Service {
	return &Service{repo: repo, payouts: pay, announce: announcements, log: log}
}

// Page sizes of the operators' lists.
const (
	defaultLimit = 50
	maxLimit     = 500
)

func limit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, market.Errorf(market.CodeInvalid, "limit must not be negative")
	case n == 0:
		return defaultLimit, nil
	}
	return min(n, maxLimit), nil
}

// SetGameStatus moves a game to any status: FEATURED to feature it, LISTED to unfeature it,
// BANNED to ban it (reason required: a banned game leaves the store, is not for sale and its
// downloads stop). LISTED and FEATURED need a published release.
func (s *Service) SetGameStatus(ctx context.Context, a market.Actor, gameID string, to market.GameStatus, reason string) (market.Game, error) {
	g, err := s.repo.SetGameStatus(ctx, a, gameID, to, reason)
	if err == nil {
		s.log.InfoContext(ctx, "game status set by an operator", "game", g.Slug, "status", to, "by", a.Pubkey, "reason", reason)
	}
	return g, err
}

// UnbanGame lifts a game's ban (reason required): it returns to the status it had before.
func (s *Service) UnbanGame(ctx context.Context, a market.Actor, gameID, reason string) (market.Game, error) {
	g, err := s.repo.UnbanGame(ctx, a, gameID, reason)
	if err == nil {
		s.log.InfoContext(ctx, "game unbanned by an operator", "game", g.Slug, "status", g.Status, "by", a.Pubkey, "reason", reason)
	}
	return g, err
}

// RevokeEntitlement revokes an entitlement named by its id or its purchase's (reason
// required): downloads stop and the owner's launcher hears it on its library stream.
func (s *Service) RevokeEntitlement(ctx context.Context, a market.Actor, entitlementID, purchaseID, reason string) (market.Entitlement, error) {
	e, err := s.repo.RevokeEntitlement(ctx, a, entitlementID, purchaseID, reason)
	if err == nil {
		s.log.InfoContext(ctx, "entitlement revoked by an operator", "entitlement", e.ID, "purchase", e.PurchaseID, "by", a.Pubkey, "reason", reason)
	}
	return e, err
}

// RefundPurchase records that a PAID purchase's money was sent back to the buyer outside the
// system (reason required; reference names that refund, such as its payment hash): the
// developer's payout is canceled first if it was not paid yet (refused while its payment is in
// flight), then the purchase becomes REFUNDED with REFUND ledger entries that reverse the
// sale's split, and its entitlement is revoked. Money received for an EXPIRED or FAILED
// purchase (listed by check-ledger as a refund due) is refunded the same way, whole. See
// postgres.AdminRepo.Refund.
func (s *Service) RefundPurchase(ctx context.Context, a market.Actor, purchaseID, reason, reference string) (market.Purchase, error) {
	if _, err := market.NewAudit(a, market.ActionRefundPurchase, market.TargetPurchase, purchaseID, reason, true); err != nil {
		return market.Purchase{}, err
	}
	if err := market.ValidateID("purchase_id", purchaseID); err != nil {
		return market.Purchase{}, err
	}
	p, err := s.repo.Purchase(ctx, purchaseID)
	if err != nil {
		return market.Purchase{}, err
	}
	if p.Status == market.PurchasePaid { // a sale: its payout first (other purchases have none)
		if err := market.CheckRefund(p, 0); err != nil {
			return market.Purchase{}, err
		}
		payoutID, status, err := s.repo.PurchasePayout(ctx, purchaseID)
		switch {
		case market.ErrorCode(err) == market.CodeNotFound:
		case err != nil:
			return market.Purchase{}, err
		case status != payouts.StatusSent && status != payouts.StatusCanceled:
			why := fmt.Sprintf("purchase %s is being refunded: %s", purchaseID, reason)
			if _, err := s.payouts.AdminCancel(ctx, a, payoutID, why); err != nil {
				return market.Purchase{}, err
			}
		}
	}
	p, err = s.repo.Refund(ctx, a, purchaseID, reason, reference)
	if err == nil {
		s.log.InfoContext(ctx, "purchase refunded by an operator", "purchase", p.ID, "amount_msat", p.AmountMsat, "by", a.Pubkey,
			"reason", reason, "reference", reference)
	}
	return p, err
}

// RetryPayout gives a FAILED payout a fresh round of attempts.
func (s *Service) RetryPayout(ctx context.Context, a market.Actor, payoutID, reason string) (payouts.Payout, error) {
	return s.payouts.AdminRetry(ctx, a, payoutID, reason)
}

// CancelPayout makes sure a payout that was not paid never is (reason required).
func (s *Service) CancelPayout(ctx context.Context, a market.Actor, payoutID, reason string) (payouts.Payout, error) {
	return s.payouts.AdminCancel(ctx, a, payoutID, reason)
}

// ListStuckPayouts lists the payouts whose payment has been in flight or unknown for longer
// than olderThan (payouts.DefaultStuckAfter when 0), oldest first.
func (s *Service) ListStuckPayouts(ctx context.Context, a market.Actor, olderThan time.Duration, n int) ([]payouts.Payout, error) {
	return s.payouts.ListStuck(ctx, a, olderThan, n)
}

// ListPayouts lists every developer's payouts in a status, FAILED by default.
func (s *Service) ListPayouts(ctx context.Context, a market.Actor, status payouts.Status, f payouts.Filter) (payouts.PayoutPage, error) {
	return s.payouts.ListByStatus(ctx, a, status, f)
}

// ListAnnouncements lists the newest announcements (of one game when gameID is set) with each
// relay's delivery and every attempt.
func (s *Service) ListAnnouncements(ctx context.Context, a market.Actor, gameID string, n int) ([]announce.View, error) {
	if err := market.RequireAdmin(a); err != nil {
		return nil, err
	}
	if gameID != "" {
		if err := market.ValidateID("game_id", gameID); err != nil {
			return nil, err
		}
	}
	n, err := limit(n)
	if err != nil {
		return nil, err
	}
	return s.announce.ListAnnouncements(ctx, gameID, n)
}

// ListAudit lists the newest audit records (of one target when targetID is set).
func (s *Service) ListAudit(ctx context.Context, a market.Actor, targetID string, n int) ([]market.AuditRecord, error) {
	if err := market.RequireAdmin(a); err != nil {
		return nil, err
	}
	if targetID != "" {
		if err := market.ValidateID("target_id", targetID); err != nil {
			return nil, err
		}
	}
	n, err := limit(n)
	if err != nil {
		return nil, err
	}
	return s.repo.ListAudit(ctx, targetID, n)
}
