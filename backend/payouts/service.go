package payouts

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/market"
)

// Service shows developers their sales, ledger and payouts, and lets operators retry or cancel
// payouts.
type Service struct {
	store    Store
	provider lightning.Provider
	log      *slog.Logger
}

// NewService returns the payouts service. provider is asked about a payout's payment before
// it is canceled.
func NewService(store Store, provider lightning.Provider, log *slog.Logger) *Service {
	return &Service{store: store, provider: provider, log: log}
}

// Retry is AdminRetry with no reason.
func (s *Service) Retry(ctx context.Context, a market.Actor, payoutID string) (Payout, error) {
	return s.AdminRetry(ctx, a, payoutID, "")
}

// AdminRetry gives a FAILED payout a fresh round of attempts, to the developer's current
// Lightning Address, audited with the reason given: an invoice it stored before (never paid)
// is paid first, and the payout records the address that invoice came from. Admins only.
// FailedPrecondition for a payout in any other status.
func (s *Service) AdminRetry(ctx context.Context, a market.Actor, payoutID, reason string) (Payout, error) {
	audit, err := market.NewAudit(a, market.ActionRetryPayout, market.TargetPayout, payoutID, reason, false)
	if err != nil {
		return Payout{}, err
	}
	if err := market.ValidateID("payout_id", payoutID); err != nil {
		return Payout{}, err
	}
	p, err := s.store.Retry(ctx, payoutID, audit, CheckRetry)
	if err == nil {
		s.log.InfoContext(ctx, "payout retried by an operator", "payout", payoutID, "by", a.Pubkey, "reason", audit.Reason)
	}
	return p, err
}

// Cancel is AdminCancel with no reason.
func (s *Service) Cancel(ctx context.Context, a market.Actor, payoutID string) (Payout, error) {
	return s.cancel(ctx, a, payoutID, "", false)
}

// AdminCancel makes sure a payout is never paid: CANCELED, audited with the reason given
// (required). Admins only. Refused (FailedPrecondition) for a SENT payout, while an attempt
// runs, and while a payment of its invoice is in flight or succeeded (a succeeded one is
// recorded as SENT by retrying it). Canceling twice is a no-op.
func (s *Service) AdminCancel(ctx context.Context, a market.Actor, payoutID, reason string) (Payout, error) {
	return s.cancel(ctx, a, payoutID, reason, true)
}

func (s *Service) cancel(ctx context.Context, a market.Actor, payoutID, reason string, reasonRequired bool) (Payout, error) {
	audit, err := market.NewAudit(a, market.ActionCancelPayout, market.TargetPayout, payoutID, reason, reasonRequired)
	if err != nil {
		return Payout{}, err
	}
	if err := market.ValidateID("payout_id", payoutID); err != nil {
		return Payout{}, err
	}
	p, err := s.store.Cancel(ctx, payoutID, audit, s.checkCancel)
	if err == nil {
		s.log.InfoContext(ctx, "payout canceled by an operator", "payout", payoutID, "by", a.Pubkey, "reason", audit.Reason)
	}
	return p, err
}

// checkCancel is when an operator may cancel payout p (Store.Cancel asks it under the payout's
// lease): CheckCancel allows its status, and the payment of its stored invoice, if it has one,
// is known to have failed or never to have started. Unavailable when the Lightning node does
// not say.
func (s *Service) checkCancel(ctx context.Context, p Payout) error {
	if err := CheckCancel(p); err != nil || p.PaymentHash == "" {
		return err
	}
	pay, err := s.provider.TrackPayment(ctx, p.PaymentHash)
	switch {
	case errors.Is(err, lightning.ErrNotFound):
		return nil
	case err != nil:
		return market.Errorf(market.CodeUnavailable, "the Lightning node did not say whether payout %s's payment %s went out: try again (%v)", p.ID, p.PaymentHash, err)
	case pay.Status == lightning.PaymentFailed:
		return nil
	case pay.Status == lightning.PaymentSucceeded:
		return market.Errorf(market.CodeFailedPrecondition, "payout %s was paid (payment %s succeeded): retry it to record it as SENT", p.ID, p.PaymentHash)
	}
	return market.Errorf(market.CodeFailedPrecondition, "payout %s has a payment in flight (%s): try again once it has ended", p.ID, p.PaymentHash)
}

// ListByStatus lists every developer's payouts in a status (FAILED ones, waiting for an
// operator, by default), newest first. Admins only.
func (s *Service) ListByStatus(ctx context.Context, a market.Actor, status Status, f Filter) (PayoutPage, error) {
	if err := market.RequireAdmin(a); err != nil {
		return PayoutPage{}, err
	}
	switch status {
	case "":
		status = StatusFailed
	case StatusScheduled, StatusRetrying, StatusSent, StatusFailed, StatusCanceled:
	default:
		return PayoutPage{}, market.Errorf(market.CodeInvalid, "status %q: use SCHEDULED, RETRYING, SENT, FAILED or CANCELED", market.Clip(string(status)))
	}
	limit, err := market.GameFilter{PageSize: f.PageSize}.Limit()
	if err != nil {
		return PayoutPage{}, err
	}
	list := "payouts:" + string(status)
	q := Query{Limit: limit}
	if f.PageToken != "" {
		var c cursor
		raw, err := base64.RawURLEncoding.DecodeString(f.PageToken)
		if err != nil || json.Unmarshal(raw, &c) != nil || c.List != list || market.ValidateID("page_token", c.ID) != nil {
			return PayoutPage{}, market.Errorf(market.CodeInvalid, "page_token is not one this server gave for this list: start again without it")
		}
		q.AfterTime, q.AfterID = &c.Time, c.ID
	}
	rows, err := s.store.ListPayoutsByStatus(ctx, status, Query{Limit: limit + 1, AfterTime: q.AfterTime, AfterID: q.AfterID})
	if err != nil {
		return PayoutPage{}, err
	}
	page := PayoutPage{Payouts: rows}
	if len(rows) > limit {
		page.Payouts = rows[:limit]
		last := page.Payouts[limit-1]
		page.NextPageToken = token(list, q, last.CreatedAt, last.ID)
	}
	return page, nil
}

// ListStuck lists the payouts whose payment has been IN_FLIGHT or UNKNOWN for longer than
// olderThan (DefaultStuckAfter when 0), oldest first, at most limit (1 to 100; 0 means
// market.DefaultPageSize): payments waiting on a node the platform does not control, which
// an operator should look into. Admins only.
func (s *Service) ListStuck(ctx context.Context, a market.Actor, olderThan time.Duration, limit int) ([]Payout, error) {
	if err := market.RequireAdmin(a); err != nil {
		return nil, err
	}
	switch {
	case olderThan == 0:
		olderThan = DefaultStuckAfter
	case olderThan < 0:
		return nil, market.Errorf(market.CodeInvalid, "older_than %v is negative: give how long a payment has been in flight, such as 1h", olderThan)
	}
	n, err := market.GameFilter{PageSize: limit}.Limit()
	if err != nil {
		return nil, err
	}
	return s.store.ListStuckPayouts(ctx, olderThan, n)
}

// Filter selects a page of a developer's sales, ledger or payouts.
type Filter struct {
	GameID    string // one game of the caller's; empty for all
	PageSize  int    // 0 means market.DefaultPageSize
	PageToken string // from the previous page; empty for the first
}

// Query is a Filter as the store reads it: a game, a page size, and the position after which
// the page starts (newest first).
type Query struct {
	GameID    string
	Limit     int
	AfterTime *time.Time // nil: from the newest
	AfterID   string
}

// Sale is one paid purchase of a developer's game, split between the platform and the
// developer, with its payout.
type Sale struct {
	PurchaseID string
	GameID     string
	GameTitle  string
	Status     market.PurchaseStatus // PAID or REFUNDED
	PriceMsat  int64                 // INVOICE_PAID
	FeeMsat    int64                 // PLATFORM_FEE
	NetMsat    int64                 // DEVELOPER_NET
	PaidAt     time.Time
	Payout     *Payout // nil if the sale has none
}

// Totals sums a selection of sales.
type Totals struct {
	Sales       int64
	GrossMsat   int64 // what buyers paid
	FeeMsat     int64 // the platform's fees
	NetMsat     int64 // the developer's share
	SentMsat    int64 // paid out (SENT)
	PendingMsat int64 // to be paid out (SCHEDULED, RETRYING)
	FailedMsat  int64 // FAILED, waiting for an operator
}

// LedgerEntry is one immutable ledger entry of a purchase.
type LedgerEntry struct {
	ID         string
	PurchaseID string
	GameID     string
	GameTitle  string
	Type       market.LedgerType
	AmountMsat int64
	MetaJSON   string
	CreatedAt  time.Time
}

// SalePage is a page of sales with the totals of the whole selection.
type SalePage struct {
	Sales         []Sale
	Totals        Totals
	NextPageToken string
}

// LedgerPage is a page of ledger entries.
type LedgerPage struct {
	Entries       []LedgerEntry
	NextPageToken string
}

// PayoutPage is a page of payouts.
type PayoutPage struct {
	Payouts       []Payout
	NextPageToken string
}

// cursor is the position after the last row of a page, bound to what was listed.
type cursor struct {
	List   string    `json:"l"`
	GameID string    `json:"g"`
	Time   time.Time `json:"t"`
	ID     string    `json:"i"`
}

// query checks the caller and the filter: a developer, and with a game, its owner.
func (s *Service) query(ctx context.Context, a market.Actor, list string, f Filter) (Query, error) {
	if err := market.RequireUser(a); err != nil {
		return Query{}, err
	}
	dev, err := s.store.IsDeveloper(ctx, a.UserID)
	if err != nil {
		return Query{}, err
	}
	if err := market.RequireDeveloper(a, dev); err != nil {
		return Query{}, err
	}
	limit, err := market.GameFilter{PageSize: f.PageSize}.Limit()
	if err != nil {
		return Query{}, err
	}
	q := Query{GameID: f.GameID, Limit: limit}
	if f.GameID != "" {
		if err := market.ValidateID("game_id", f.GameID); err != nil {
			return Query{}, err
		}
		g, err := s.store.GameByID(ctx, f.GameID)
		if err != nil {
			return Query{}, err
		}
		if err := market.CheckOwner(a, g); err != nil {
			return Query{}, err
		}
	}
	if f.PageToken != "" {
		var c cursor
		raw, err := base64.RawURLEncoding.DecodeString(f.PageToken)
		if err != nil || json.Unmarshal(raw, &c) != nil || c.List != list || c.GameID != f.GameID || market.ValidateID("page_token", c.ID) != nil {
			return Query{}, market.Errorf(market.CodeInvalid, "page_token is not one this server gave for this list: start again without it")
		}
		q.AfterTime, q.AfterID = &c.Time, c.ID
	}
	return q, nil
}

// token is the page token after a row at t with id.
func token(list string, q Query, t time.Time, id string) string {
	raw, _ := json.Marshal(cursor{List: list, GameID: q.GameID, Time: t, ID: id})
	return base64.RawURLEncoding.EncodeToString(raw)
}

// ListSales lists the caller's paid sales, newest first, each with its price, fee, net and
// payout, and the totals of every sale the filter selects. Developers only; a game filter
// must name one of theirs.
func (s *Service) ListSales(ctx context.Context, a market.Actor, f Filter) (SalePage, error) {
	q, err := s.query(ctx, a, "sales", f)
	if err != nil {
		return SalePage{}, err
	}
	sales, err := s.store.ListSales(ctx, a.UserID, Query{GameID: q.GameID, Limit: q.Limit + 1, AfterTime: q.AfterTime, AfterID: q.AfterID})
	if err != nil {
		return SalePage{}, err
	}
	page := SalePage{Sales: sales}
	if len(sales) > q.Limit {
		page.Sales = sales[:q.Limit]
		last := page.Sales[q.Limit-1]
		page.NextPageToken = token("sales", q, last.PaidAt, last.PurchaseID)
	}
	page.Totals, err = s.store.SalesTotals(ctx, a.UserID, q.GameID)
	return page, err
}

// ListLedger lists the ledger entries of the caller's games' purchases, newest first.
// Developers only; a game filter must name one of theirs.
func (s *Service) ListLedger(ctx context.Context, a market.Actor, f Filter) (LedgerPage, error) {
	q, err := s.query(ctx, a, "ledger", f)
	if err != nil {
		return LedgerPage{}, err
	}
	entries, err := s.store.ListLedger(ctx, a.UserID, Query{GameID: q.GameID, Limit: q.Limit + 1, AfterTime: q.AfterTime, AfterID: q.AfterID})
	if err != nil {
		return LedgerPage{}, err
	}
	page := LedgerPage{Entries: entries}
	if len(entries) > q.Limit {
		page.Entries = entries[:q.Limit]
		last := page.Entries[q.Limit-1]
		page.NextPageToken = token("ledger", q, last.CreatedAt, last.ID)
	}
	return page, nil
}

// ListPayouts lists the caller's payouts, newest first, with their status, attempts and last
// error. Developers only; a game filter must name one of theirs.
func (s *Service) ListPayouts(ctx context.Context, a market.Actor, f Filter) (PayoutPage, error) {
	q, err := s.query(ctx, a, "payouts", f)
	if err != nil {
		return PayoutPage{}, err
	}
	list, err := s.store.ListPayouts(ctx, a.UserID, Query{GameID: q.GameID, Limit: q.Limit + 1, AfterTime: q.AfterTime, AfterID: q.AfterID})
	if err != nil {
		return PayoutPage{}, err
	}
	page := PayoutPage{Payouts: list}
	if len(list) > q.Limit {
		page.Payouts = list[:q.Limit]
		last := page.Payouts[q.Limit-1]
		page.NextPageToken = token("payouts", q, last.CreatedAt, last.ID)
	}
	return page, nil
}
