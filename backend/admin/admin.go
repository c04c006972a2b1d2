// Package admin is what the server's operators do: feature, ban and unban games; revoke
// entitlements; mark purchases refunded after a refund made outside the system; retry, cancel
// and list payouts, and list those stuck with a payment in flight; and look at announcements and the audit log. Only the configured admins may
// call it, and every change writes an audit record (who, what, when, why) in the transaction
// that makes it. It declares the store it needs (Store; package postgres implements it) and
// composes it with the payouts service and the announcements' store. The rules are decided
// here and in market: who may act and the audit record (market.NewAudit), when a refund may be
// recorded (CheckRefund), which status moves, unbans and revocations are allowed
// (market.CheckAdminStatus, CheckUnban, CheckRevoke). The store only reads the state under
// lock, applies the check it is given, and stores, in one transaction.
package admin

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"satchel.dev/backend/announce"
	"satchel.dev/backend/market"
	"satchel.dev/backend/payouts"
)

// Store keeps what operators change, each change with its audit record in the same
// transaction. Package postgres implements it.
type Store interface {
	// SetGameStatus moves any game to status to once check allows it (check is given a, the
	// game read with its row locked, to, and whether the game has a published release),
	// announces the move if it announces (market.StatusAnnouncement), and writes audit, with
	// the move's details, in the same transaction.
	SetGameStatus(ctx context.Context, a market.Actor, gameID string, to market.GameStatus, audit market.AuditRecord,
		check func(market.Actor, market.Game, market.GameStatus, bool) error) (market.Game, error)
	// UnbanGame moves a game to the status decide returns, and writes audit, with the move's
	// details, in the same transaction. decide is given the game, read with its row locked, and
	// the status it had when it was last banned (from the audit of that ban; "" when unknown).
	// Announces nothing.
	UnbanGame(ctx context.Context, gameID string, audit market.AuditRecord,
		decide func(g market.Game, before market.GameStatus) (market.GameStatus, error)) (market.Game, error)
	// RevokeEntitlement revokes an entitlement, named by its id or, when entitlementID is
	// empty, by its purchase's, once check allows it (check is given the entitlement, read with
	// its row locked), with the library change its owner's launcher hears of, and writes audit,
	// its target the entitlement, with the revocation's details, in the same transaction. The
	// purchase is left as it is.
	RevokeEntitlement(ctx context.Context, entitlementID, purchaseID string, audit market.AuditRecord,
		check func(market.Entitlement) error) (market.Entitlement, error)
	// Refund marks a purchase REFUNDED once check allows it, in one transaction: check is given
	// the purchase's RefundState, read with the purchase and its payout locked. A PAID purchase
	// gets two REFUND ledger entries that reverse its PLATFORM_FEE and DEVELOPER_NET (meta_json
	// says why, who, what each reverses, the reference, and with a SENT payout the amount to
	// recover from the developer), and its entitlement revoked; an EXPIRED or FAILED one gets
	// one REFUND entry reversing its INVOICE_PAID. The audit record (audit, with the details
	// added) is written in the same transaction.
	Refund(ctx context.Context, purchaseID, reference string, audit market.AuditRecord, check func(RefundState) error) (market.Purchase, error)
	// PurchasePayout returns the id and status of a purchase's payout, or market NotFound.
	PurchasePayout(ctx context.Context, purchaseID string) (string, payouts.Status, error)
	// Purchase returns a purchase in any status (market NotFound if none).
	Purchase(ctx context.Context, id string) (market.Purchase, error)
	// ListAudit returns the newest audit records, at most limit, of one target when targetID
	// is set.
	ListAudit(ctx context.Context, targetID string, limit int) ([]market.AuditRecord, error)
}

// RefundState is what the rule of a refund (CheckRefund) looks at.
type RefundState struct {
	Purchase market.Purchase
	// PaidMsat, FeeMsat and NetMsat are the sums of the purchase's INVOICE_PAID, PLATFORM_FEE
	// and DEVELOPER_NET ledger entries; Split is whether the sale's split (PLATFORM_FEE,
	// DEVELOPER_NET) was recorded at all.
	PaidMsat, FeeMsat, NetMsat int64
	Split                      bool
	// PayoutID and PayoutStatus are the purchase's payout's ("" when it has none);
	// PayoutLeased is whether an attempt to pay it holds its lease.
	PayoutID     string
	PayoutStatus payouts.Status
	PayoutLeased bool
}

// CheckRefund is when a refund may be recorded: market.CheckRefund allows the purchase (money
// received with no split recorded is refunded whole); and for a PAID purchase, no attempt to
// pay its payout is running, the payout is CANCELED (the developer was not paid) or SENT (the
// amount is recovered from the developer), never one that may still be paid, and its ledger
// balances.
func CheckRefund(st RefundState) error {
	unaccounted := int64(0)
	if !st.Split {
		unaccounted = st.PaidMsat
	}
	p := st.Purchase
	if err := market.CheckRefund(p, unaccounted); err != nil || p.Status != market.PurchasePaid {
		return err
	}
	switch {
	case st.PayoutLeased:
		return market.Errorf(market.CodeFailedPrecondition, "an attempt to pay payout %s is running: try again in a minute", st.PayoutID)
	case st.PayoutID != "" && st.PayoutStatus != payouts.StatusCanceled && st.PayoutStatus != payouts.StatusSent:
		return market.Errorf(market.CodeFailedPrecondition, "payout %s of purchase %s is %s: cancel it first, so the developer is not paid for a refunded sale",
			st.PayoutID, p.ID, st.PayoutStatus)
	case st.FeeMsat+st.NetMsat != st.PaidMsat:
		return fmt.Errorf("refund: purchase %s's ledger does not balance (fee %d + net %d <> paid %d): run check-ledger",
			p.ID, st.FeeMsat, st.NetMsat, st.PaidMsat)
	}
	return nil
}

// maxReference is the longest reference of a refund made outside the system.
const maxReference = 200

// Service runs the operators' actions.
type Service struct {
	repo     Store
	payouts  *payouts.Service
	announce announce.Store
	log      *slog.Logger
}

// New returns the operators' service.
func New(repo Store, pay *payouts.Service, announcements announce.Store, log *slog.Logger) *Service {
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
// downloads stop). LISTED and FEATURED need a published release (market.CheckAdminStatus).
// Admins only.
func (s *Service) SetGameStatus(ctx context.Context, a market.Actor, gameID string, to market.GameStatus, reason string) (market.Game, error) {
	audit, err := market.NewAudit(a, market.ActionSetGameStatus, market.TargetGame, gameID, reason, market.StatusReasonRequired(to))
	if err != nil {
		return market.Game{}, err
	}
	g, err := s.repo.SetGameStatus(ctx, a, gameID, to, audit, market.CheckAdminStatus)
	if err == nil {
		s.log.InfoContext(ctx, "game status set by an operator", "game", g.Slug, "status", to, "by", a.Pubkey, "reason", reason)
	}
	return g, err
}

// UnbanGame lifts a game's ban (reason required; market.CheckUnban): it returns to the status
// it had when it was banned, or UNLISTED when that is unknown or no longer allowed. Admins
// only; announces nothing.
func (s *Service) UnbanGame(ctx context.Context, a market.Actor, gameID, reason string) (market.Game, error) {
	audit, err := market.NewAudit(a, market.ActionUnbanGame, market.TargetGame, gameID, reason, true)
	if err != nil {
		return market.Game{}, err
	}
	g, err := s.repo.UnbanGame(ctx, gameID, audit, func(g market.Game, before market.GameStatus) (market.GameStatus, error) {
		return market.CheckUnban(a, g, before, g.LatestRelease != nil)
	})
	if err == nil {
		s.log.InfoContext(ctx, "game unbanned by an operator", "game", g.Slug, "status", g.Status, "by", a.Pubkey, "reason", reason)
	}
	return g, err
}

// RevokeEntitlement revokes an entitlement named by its id or its purchase's (one of the two;
// reason required) that is not revoked already (market.CheckRevoke): downloads stop and the
// owner's launcher hears it on its library stream (ENTITLEMENT_REVOKED). The purchase is left
// as it is. Admins only.
func (s *Service) RevokeEntitlement(ctx context.Context, a market.Actor, entitlementID, purchaseID, reason string) (market.Entitlement, error) {
	switch {
	case (entitlementID == "") == (purchaseID == ""):
		return market.Entitlement{}, market.Errorf(market.CodeInvalid, "give either entitlement_id or purchase_id")
	case entitlementID != "":
		if err := market.ValidateID("entitlement_id", entitlementID); err != nil {
			return market.Entitlement{}, err
		}
	default:
		if err := market.ValidateID("purchase_id", purchaseID); err != nil {
			return market.Entitlement{}, err
		}
	}
	audit, err := market.NewAudit(a, market.ActionRevokeEntitlement, market.TargetEntitlement, entitlementID, reason, true)
	if err != nil {
		return market.Entitlement{}, err
	}
	e, err := s.repo.RevokeEntitlement(ctx, entitlementID, purchaseID, audit, market.CheckRevoke)
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
// Store.Refund and CheckRefund.
func (s *Service) RefundPurchase(ctx context.Context, a market.Actor, purchaseID, reason, reference string) (market.Purchase, error) {
	audit, err := market.NewAudit(a, market.ActionRefundPurchase, market.TargetPurchase, purchaseID, reason, true)
	if err != nil {
		return market.Purchase{}, err
	}
	if err := market.ValidateID("purchase_id", purchaseID); err != nil {
		return market.Purchase{}, err
	}
	if len(reference) > maxReference {
		return market.Purchase{}, market.Errorf(market.CodeInvalid, "reference is %d characters; the limit is %d", len(reference), maxReference)
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
	p, err = s.repo.Refund(ctx, purchaseID, reference, audit, CheckRefund)
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
