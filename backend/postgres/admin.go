package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"satchel.dev/backend/admin"
	"satchel.dev/backend/market"
	"satchel.dev/backend/payouts"
)

// AdminRepo implements admin.Store: what operators do to games, entitlements and purchases.
// Every change writes its audit record (admin_actions) in the same transaction.
type AdminRepo struct {
	db    *DB
	games *GameService
}

// NewAdminRepo returns the operators' store on db; games announces the status changes that
// announce.
func NewAdminRepo(db *DB, games *GameService) *AdminRepo { return &AdminRepo{db: db, games: games} }

var _ admin.Store = (*AdminRepo)(nil)

// writeAudit records an admin action in tx.
func writeAudit(ctx context.Context, tx pgx.Tx, r market.AuditRecord) error {
	details, err := json.Marshal(r.Details)
	if err != nil {
		return err
	}
	if r.Details == nil {
		details = []byte("{}")
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO admin_actions (admin_pubkey, action, target_kind, target_id, reason, details)
		VALUES ($1, $2, $3, $4, $5, $6)`, r.AdminPubkey, r.Action, r.TargetKind, r.TargetID, r.Reason, details)
	return err
}

// SetGameStatus implements admin.Store.
func (r *AdminRepo) SetGameStatus(ctx context.Context, a market.Actor, gameID string, to market.GameStatus, audit market.AuditRecord,
	check func(market.Actor, market.Game, market.GameStatus, bool) error) (market.Game, error) {
	return r.games.setStatus(ctx, a, gameID, to, check, &audit)
}

// UnbanGame implements admin.Store.
func (r *AdminRepo) UnbanGame(ctx context.Context, gameID string, audit market.AuditRecord,
	decide func(market.Game, market.GameStatus) (market.GameStatus, error)) (market.Game, error) {
	var out market.Game
	err := r.db.tx(ctx, func(tx pgx.Tx) error {
		g, err := lockGame(ctx, tx, gameID)
		if err != nil {
			return err
		}
		var before market.GameStatus
		err = tx.QueryRow(ctx, `
			SELECT details->>'from' FROM admin_actions
			WHERE target_id = $1 AND action = 'SET_GAME_STATUS' AND details->>'to' = 'BANNED'
			ORDER BY created_at DESC, id DESC LIMIT 1`, g.ID).Scan(&before)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		to, err := decide(g, before)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE games SET status = $2, updated_at = now() WHERE id = $1`, g.ID, to); err != nil {
			return err
		}
		audit.Details["slug"], audit.Details["from"], audit.Details["to"] = g.Slug, g.Status, to
		if err := writeAudit(ctx, tx, audit); err != nil {
			return err
		}
		out, err = scanGame(tx.QueryRow(ctx, gameSelect+` WHERE g.id = $1`, g.ID))
		return err
	})
	return out, err
}

const entitlementSelect = `
	SELECT id, purchase_id, game_id, coalesce(buyer_user_id::text, ''), guest_receipt_code, granted_at, revoked_at
	FROM entitlements`

// lockEntitlement reads an entitlement by its id, or by its purchase's, and locks it.
func lockEntitlement(ctx context.Context, tx pgx.Tx, entitlementID, purchaseID string) (market.Entitlement, *string, error) {
	var e market.Entitlement
	var code *string
	where, id := ` WHERE id = $1 FOR UPDATE`, entitlementID
	if entitlementID == "" {
		where, id = ` WHERE purchase_id = $1 FOR UPDATE`, purchaseID
	}
	err := tx.QueryRow(ctx, entitlementSelect+where, id).Scan(&e.ID, &e.PurchaseID, &e.GameID, &e.BuyerUserID, &code, &e.GrantedAt, &e.RevokedAt)
	if entitlementID == "" {
		return e, code, notFound(err, "purchase %s has no entitlement (it was never paid)", purchaseID)
	}
	return e, code, notFound(err, "no entitlement %s", entitlementID)
}

// revokeTx revokes an entitlement that is not revoked and records the library change, so the
// owner's launcher hears of it on its library stream.
func revokeTx(ctx context.Context, tx pgx.Tx, e market.Entitlement, code *string) (market.Entitlement, error) {
	var at time.Time
	if err := tx.QueryRow(ctx, `UPDATE entitlements SET revoked_at = now() WHERE id = $1 RETURNING revoked_at`, e.ID).Scan(&at); err != nil {
		return e, err
	}
	e.RevokedAt = &at
	var user *string
	if e.BuyerUserID != "" {
		user = &e.BuyerUserID
	}
	return e, libraryChange(ctx, tx, string(market.ChangeRevoked), e.GameID, user, code, &e.ID, nil)
}

// RevokeEntitlement implements admin.Store.
func (r *AdminRepo) RevokeEntitlement(ctx context.Context, entitlementID, purchaseID string, audit market.AuditRecord,
	check func(market.Entitlement) error) (market.Entitlement, error) {
	var out market.Entitlement
	err := r.db.tx(ctx, func(tx pgx.Tx) error {
		e, code, err := lockEntitlement(ctx, tx, entitlementID, purchaseID)
		if err != nil {
			return err
		}
		if err := check(e); err != nil {
			return err
		}
		if out, err = revokeTx(ctx, tx, e, code); err != nil {
			return err
		}
		audit.TargetID = e.ID
		audit.Details["purchase_id"], audit.Details["game_id"], audit.Details["buyer_user_id"] = e.PurchaseID, e.GameID, e.BuyerUserID
		return writeAudit(ctx, tx, audit)
	})
	return out, err
}

// Refund implements admin.Store.
func (r *AdminRepo) Refund(ctx context.Context, purchaseID, reference string, audit market.AuditRecord, check func(admin.RefundState) error) (market.Purchase, error) {
	err := r.db.tx(ctx, func(tx pgx.Tx) error {
		st, err := lockRefund(ctx, tx, purchaseID)
		if err != nil {
			return err
		}
		if err := check(st); err != nil {
			return err
		}
		p := st.Purchase
		if p.Status != market.PurchasePaid {
			return refundUnaccounted(ctx, tx, p, st.PaidMsat, reference, audit)
		}
		if _, err := tx.Exec(ctx, `UPDATE purchases SET status = 'REFUNDED', updated_at = now() WHERE id = $1 AND status = 'PAID'`, p.ID); err != nil {
			return err
		}
		base := func(reverses market.LedgerType) map[string]any {
			m := map[string]any{"reverses": reverses, "reason": audit.Reason, "by": audit.AdminPubkey, "refunded_msat": st.PaidMsat,
				"note": "refunded outside the system; this entry reverses the sale's " + string(reverses)}
			if reference != "" {
				m["reference"] = reference
			}
			return m
		}
		netMeta := base(market.LedgerDeveloperNet)
		netMeta["payout_id"], netMeta["payout_status"] = st.PayoutID, string(st.PayoutStatus)
		if st.PayoutStatus == payouts.StatusSent {
			netMeta["recover_from_developer_msat"] = st.NetMsat
		}
		if err := ledger(ctx, tx, p.ID, market.LedgerRefund, st.FeeMsat, base(market.LedgerPlatformFee)); err != nil {
			return err
		}
		if err := ledger(ctx, tx, p.ID, market.LedgerRefund, st.NetMsat, netMeta); err != nil {
			return err
		}
		e, code, err := lockEntitlement(ctx, tx, "", p.ID)
		if err != nil {
			return err
		}
		if e.RevokedAt == nil {
			if _, err := revokeTx(ctx, tx, e, code); err != nil {
				return err
			}
		}
		audit.Details["refunded_msat"], audit.Details["platform_fee_msat"], audit.Details["developer_net_msat"] = st.PaidMsat, st.FeeMsat, st.NetMsat
		audit.Details["payout_id"], audit.Details["payout_status"], audit.Details["entitlement_id"] = st.PayoutID, string(st.PayoutStatus), e.ID
		if reference != "" {
			audit.Details["reference"] = reference
		}
		if err := writeAudit(ctx, tx, audit); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, PurchaseChannel, p.ID)
		return err
	})
	if err != nil {
		return market.Purchase{}, err
	}
	return scanPurchase(r.db.pool.QueryRow(ctx, purchaseSelect+` WHERE p.id = $1`, purchaseID))
}

// lockRefund reads what a refund of the purchase depends on, locking the purchase and its
// payout until tx ends.
func lockRefund(ctx context.Context, tx pgx.Tx, purchaseID string) (admin.RefundState, error) {
	var st admin.RefundState
	var err error
	st.Purchase, err = scanPurchase(tx.QueryRow(ctx, purchaseSelect+` WHERE p.id = $1 FOR UPDATE OF p`, purchaseID))
	if err != nil {
		return st, notFound(err, "no purchase %s", purchaseID)
	}
	if err := tx.QueryRow(ctx, `
		SELECT coalesce(sum(amount_msat) FILTER (WHERE type = 'INVOICE_PAID'), 0),
		       coalesce(sum(amount_msat) FILTER (WHERE type = 'PLATFORM_FEE'), 0),
		       coalesce(sum(amount_msat) FILTER (WHERE type = 'DEVELOPER_NET'), 0),
		       count(*) FILTER (WHERE type IN ('PLATFORM_FEE', 'DEVELOPER_NET')) > 0
		FROM ledger_entries WHERE purchase_id = $1`, purchaseID).Scan(&st.PaidMsat, &st.FeeMsat, &st.NetMsat, &st.Split); err != nil {
		return st, err
	}
	err = tx.QueryRow(ctx, `
		SELECT id, status, coalesce(lease_until > now(), false) FROM payouts WHERE purchase_id = $1 FOR UPDATE`,
		purchaseID).Scan(&st.PayoutID, &st.PayoutStatus, &st.PayoutLeased)
	if errors.Is(err, pgx.ErrNoRows) {
		err = nil
	}
	return st, err
}

// refundUnaccounted marks REFUNDED an EXPIRED or FAILED purchase whose money (paid msat) no
// sale accounted for and which the operator sent back: one REFUND entry reversing its
// INVOICE_PAID, and the audit record. There is no entitlement to revoke and no payout.
func refundUnaccounted(ctx context.Context, tx pgx.Tx, p market.Purchase, paid int64, reference string, audit market.AuditRecord) error {
	meta := map[string]any{"reverses": market.LedgerInvoicePaid, "reason": audit.Reason, "by": audit.AdminPubkey, "refunded_msat": paid,
		"note": "refunded outside the system; this entry reverses money received for a purchase that was " + string(p.Status)}
	if reference != "" {
		meta["reference"], audit.Details["reference"] = reference, reference
	}
	if _, err := tx.Exec(ctx, `UPDATE purchases SET status = 'REFUNDED', updated_at = now() WHERE id = $1 AND status IN ('EXPIRED', 'FAILED')`, p.ID); err != nil {
		return err
	}
	if err := ledger(ctx, tx, p.ID, market.LedgerRefund, paid, meta); err != nil {
		return err
	}
	audit.Details["refunded_msat"], audit.Details["from_status"] = paid, p.Status
	if err := writeAudit(ctx, tx, audit); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, PurchaseChannel, p.ID)
	return err
}

// PurchasePayout returns the id and status of a purchase's payout, or NotFound when it has none.
func (r *AdminRepo) PurchasePayout(ctx context.Context, purchaseID string) (string, payouts.Status, error) {
	var id string
	var st payouts.Status
	err := r.db.pool.QueryRow(ctx, `SELECT id, status FROM payouts WHERE purchase_id = $1`, purchaseID).Scan(&id, &st)
	return id, st, notFound(err, "purchase %s has no payout", purchaseID)
}

// Purchase returns a purchase in any status.
func (r *AdminRepo) Purchase(ctx context.Context, id string) (market.Purchase, error) {
	p, err := scanPurchase(r.db.pool.QueryRow(ctx, purchaseSelect+` WHERE p.id = $1`, id))
	return p, notFound(err, "no purchase %s", id)
}

// ListAudit returns the newest audit records, at most limit, of one target when targetID is set.
func (r *AdminRepo) ListAudit(ctx context.Context, targetID string, limit int) ([]market.AuditRecord, error) {
	rows, err := r.db.pool.Query(ctx, `
		SELECT id, admin_pubkey, action, target_kind, target_id, reason, details, created_at FROM admin_actions
		WHERE nullif($1, '')::uuid IS NULL OR target_id = nullif($1, '')::uuid
		ORDER BY created_at DESC, id DESC LIMIT $2`, targetID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (market.AuditRecord, error) {
		var rec market.AuditRecord
		var raw []byte
		err := row.Scan(&rec.ID, &rec.AdminPubkey, &rec.Action, &rec.TargetKind, &rec.TargetID, &rec.Reason, &raw, &rec.At)
		if err == nil {
			err = json.Unmarshal(raw, &rec.Details)
		}
		return rec, err
	})
}
