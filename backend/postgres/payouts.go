package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/market"
	"satchel.dev/backend/payouts"
)

// PayoutRepo implements payouts.Store.
type PayoutRepo struct {
	db *DB
}

// NewPayoutRepo returns the payout store on db.
func NewPayoutRepo(db *DB) *PayoutRepo { return &PayoutRepo{db: db} }

var _ payouts.Store = (*PayoutRepo)(nil)

// payoutColumns are the columns scanPayout reads, of a payout po joined with payoutJoins.
const payoutColumns = `
	       po.id, po.purchase_id, p.game_id, g.title, po.developer_user_id, po.destination_ln_address,
	       coalesce(d.payout_ln_address, ''), po.amount_msat, po.status, po.attempt_count, coalesce(po.last_error, ''),
	       coalesce(po.payment_request, ''), coalesce(po.payment_hash, ''), po.invoice_expires_at,
	       coalesce(po.fee_msat, 0), coalesce(po.preimage, ''), po.next_attempt_at, po.sent_at, po.created_at, po.updated_at,
	       coalesce((SELECT sum(l.amount_msat) FROM ledger_entries l WHERE l.purchase_id = po.purchase_id AND l.type = 'PLATFORM_FEE'), 0),
	       coalesce(po.payment_state, ''), po.payment_state_since`

// payoutJoins are what payoutColumns read beside the payout po.
const payoutJoins = `
	JOIN purchases p ON p.id = po.purchase_id
	JOIN games g ON g.id = p.game_id
	LEFT JOIN developer_profiles d ON d.user_id = po.developer_user_id`

const payoutSelect = `SELECT ` + payoutColumns + ` FROM payouts po` + payoutJoins

// scanPayout reads a row of payoutColumns, then into extra any columns after them.
func scanPayout(row pgx.Row, extra ...any) (payouts.Payout, error) {
	var p payouts.Payout
	err := row.Scan(append([]any{&p.ID, &p.PurchaseID, &p.GameID, &p.GameTitle, &p.DeveloperUserID, &p.Destination, &p.CurrentAddress,
		&p.AmountMsat, &p.Status, &p.AttemptCount, &p.LastError, &p.PaymentRequest, &p.PaymentHash, &p.InvoiceExpiresAt,
		&p.FeeMsat, &p.Preimage, &p.NextAttemptAt, &p.SentAt, &p.CreatedAt, &p.UpdatedAt, &p.PlatformFeeMsat, &p.PaymentState,
		&p.PaymentStateSince}, extra...)...)
	return p, err
}

// PayoutByPurchase returns the payout of a purchase (market NotFound if none).
func (r *PayoutRepo) PayoutByPurchase(ctx context.Context, purchaseID string) (payouts.Payout, error) {
	p, err := scanPayout(r.db.pool.QueryRow(ctx, payoutSelect+` WHERE po.purchase_id = $1`, purchaseID))
	return p, notFound(err, "purchase %s has no payout", purchaseID)
}

// Payout returns a payout by id (market NotFound if none).
func (r *PayoutRepo) Payout(ctx context.Context, id string) (payouts.Payout, error) {
	return r.payout(ctx, r.db.pool, id)
}

func (r *PayoutRepo) payout(ctx context.Context, q querier, id string) (payouts.Payout, error) {
	p, err := scanPayout(q.QueryRow(ctx, payoutSelect+` WHERE po.id = $1`, id))
	return p, notFound(err, "no payout %s", id)
}

// LeasePayout implements payouts.Store with a lease on the payout row, taken and read in one
// statement (the row as updated, so as the attempt that held the lease before left it): no
// connection is held while the attempt runs.
func (r *PayoutRepo) LeasePayout(ctx context.Context, purchaseID string, d time.Duration) (payouts.Payout, func(), bool, error) {
	var lease string
	p, err := scanPayout(r.db.pool.QueryRow(ctx, `
		WITH po AS (
			UPDATE payouts SET lease_id = gen_random_uuid(), lease_until = now() + make_interval(secs => $2)
			WHERE purchase_id = $1 AND (lease_until IS NULL OR lease_until < now())
			RETURNING *)
		SELECT `+payoutColumns+`, po.lease_id FROM po`+payoutJoins, purchaseID, d.Seconds()), &lease)
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		if err := r.db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM payouts WHERE purchase_id = $1)`, purchaseID).Scan(&exists); err != nil {
			return payouts.Payout{}, nil, false, err
		}
		if !exists {
			return payouts.Payout{}, nil, false, market.Errorf(market.CodeNotFound, "purchase %s has no payout", purchaseID)
		}
		return payouts.Payout{}, nil, false, nil
	}
	if err != nil {
		return payouts.Payout{}, nil, false, err
	}
	unlock := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		// If this fails, the lease ends at lease_until anyway.
		_, _ = r.db.pool.Exec(ctx, `UPDATE payouts SET lease_id = NULL, lease_until = NULL WHERE id = $1 AND lease_id = $2`, p.ID, lease)
	}
	return p, unlock, true, nil
}

// lockUnleased locks the payout's row for the transaction, or fails with FailedPrecondition
// while an attempt holds its lease.
func lockUnleased(ctx context.Context, tx pgx.Tx, id string) error {
	var leased bool
	err := tx.QueryRow(ctx, `SELECT coalesce(lease_until > now(), false) FROM payouts WHERE id = $1 FOR UPDATE`, id).Scan(&leased)
	if err != nil {
		return notFound(err, "no payout %s", id)
	}
	if leased {
		return market.Errorf(market.CodeFailedPrecondition, "an attempt to pay payout %s is running: try again in a minute", id)
	}
	return nil
}

// StoreInvoice implements payouts.Store in one statement: the payout's update, and only if it
// was made, the invoice's row (whose payment hash, like the payout's, is unique).
func (r *PayoutRepo) StoreInvoice(ctx context.Context, id string, inv payouts.Invoice) error {
	tag, err := r.db.pool.Exec(ctx, `
		WITH stored AS (
			UPDATE payouts SET payment_request = $3, payment_hash = $1, invoice_expires_at = $6, destination_ln_address = $4,
			       updated_at = now()
			WHERE id = $2 AND payment_hash IS NULL AND status IN ('SCHEDULED', 'RETRYING')
			RETURNING id)
		INSERT INTO payout_invoices (payment_hash, payout_id, payment_request, ln_address, amount_msat, expires_at)
		SELECT $1, id, $3, $4, $5, $6 FROM stored`,
		inv.PaymentHash, id, inv.PaymentRequest, inv.Address, inv.AmountMsat, inv.ExpiresAt)
	if uniqueViolation(err, "payout_invoices_pkey") || uniqueViolation(err, "payouts_payment_hash_key") {
		return fmt.Errorf("payment hash %s: %w", inv.PaymentHash, payouts.ErrInvoiceReused)
	}
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return market.Errorf(market.CodeFailedPrecondition, "payout %s changed while an invoice was asked for", id)
	}
	return nil
}

// ClearInvoice implements payouts.Store.
func (r *PayoutRepo) ClearInvoice(ctx context.Context, id, paymentHash string) error {
	_, err := r.db.pool.Exec(ctx, `
		UPDATE payouts SET payment_request = NULL, payment_hash = NULL, invoice_expires_at = NULL,
		       payment_state = NULL, payment_state_since = NULL, updated_at = now()
		WHERE id = $1 AND payment_hash = $2`, id, paymentHash)
	return err
}

// MarkSent implements payouts.Store in one statement: the payout's update, and only if it was
// made, its ledger entries. The destination becomes the address the paid invoice was asked of
// (payout_invoices), whatever the developer's address is now.
func (r *PayoutRepo) MarkSent(ctx context.Context, id string, pay lightning.Payment) (bool, error) {
	var sent bool
	err := r.db.pool.QueryRow(ctx, `
		WITH sent AS (
			UPDATE payouts po SET status = 'SENT', fee_msat = $2, preimage = $3, sent_at = clock_timestamp(),
			       destination_ln_address = coalesce(
			           (SELECT i.ln_address FROM payout_invoices i WHERE i.payment_hash = po.payment_hash), po.destination_ln_address),
			       next_attempt_at = NULL, payment_state = NULL, payment_state_since = NULL, updated_at = clock_timestamp()
			WHERE id = $1 AND status <> 'SENT'
			RETURNING purchase_id, amount_msat, destination_ln_address, coalesce(payment_hash, '') AS payment_hash),
		entries AS (
			INSERT INTO ledger_entries (purchase_id, type, amount_msat, meta_json)
			SELECT s.purchase_id, e.type, e.amount, e.meta
			FROM sent s, LATERAL (VALUES
				(1, $4::text, s.amount_msat, jsonb_build_object('payout_id', $1::text, 'ln_address', s.destination_ln_address,
					'payment_hash', s.payment_hash, 'fee_msat', $2::bigint, 'preimage', $3::text)),
				(2, $5::text, $2::bigint, jsonb_build_object('payout_id', $1::text, 'payment_hash', s.payment_hash))) AS e(n, type, amount, meta)
			WHERE e.n = 1 OR $2::bigint > 0
			ORDER BY e.n)
		SELECT EXISTS (SELECT FROM sent)`,
		id, pay.FeeMsat, pay.Preimage, market.LedgerPayoutSent, market.LedgerPayoutRoutingFee).Scan(&sent)
	return sent, err
}

// MarkAttemptFailed implements payouts.Store.
func (r *PayoutRepo) MarkAttemptFailed(ctx context.Context, id, reason string, final bool, next time.Time) (payouts.Payout, error) {
	err := r.db.tx(ctx, func(tx pgx.Tx) error {
		var purchaseID, address string
		var amount int64
		var attempts int
		err := tx.QueryRow(ctx, `
			UPDATE payouts SET attempt_count = attempt_count + 1, last_error = $2,
			       status = CASE WHEN $3 THEN 'FAILED' ELSE 'RETRYING' END,
			       next_attempt_at = CASE WHEN $3 THEN NULL ELSE $4::timestamptz END,
			       payment_state = NULL, payment_state_since = NULL, updated_at = now()
			WHERE id = $1 AND status IN ('SCHEDULED', 'RETRYING')
			RETURNING purchase_id, amount_msat, attempt_count, destination_ln_address`,
			id, reason, final, next).Scan(&purchaseID, &amount, &attempts, &address)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && !final {
			return nil
		}
		if err != nil {
			return err
		}
		return ledger(ctx, tx, purchaseID, market.LedgerPayoutFailed, amount, map[string]any{
			"payout_id": id, "ln_address": address, "attempts": attempts, "error": reason,
		})
	})
	if err != nil {
		return payouts.Payout{}, err
	}
	return r.Payout(ctx, id)
}

// NotePayment implements payouts.Store.
func (r *PayoutRepo) NotePayment(ctx context.Context, id, paymentHash string, state payouts.PaymentState, reason string) error {
	_, err := r.db.pool.Exec(ctx, `
		UPDATE payouts SET payment_state = $3, payment_state_since = coalesce(payment_state_since, now()),
		       last_error = coalesce(nullif($4, ''), last_error), updated_at = now()
		WHERE id = $1 AND payment_hash = $2 AND status IN ('SCHEDULED', 'RETRYING')
		  AND (payment_state IS DISTINCT FROM $3 OR $4 <> '')`, id, paymentHash, state, reason)
	return err
}

// ListStuckPayouts implements payouts.Store.
func (r *PayoutRepo) ListStuckPayouts(ctx context.Context, olderThan time.Duration, limit int) ([]payouts.Payout, error) {
	rows, err := r.db.pool.Query(ctx, payoutSelect+`
		WHERE po.payment_state IS NOT NULL AND po.payment_state_since < now() - make_interval(secs => $1)
		  AND po.status IN ('SCHEDULED', 'RETRYING')
		ORDER BY po.payment_state_since, po.id
		LIMIT $2`, olderThan.Seconds(), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (payouts.Payout, error) { return scanPayout(row) })
}

// Retry implements payouts.Store.
func (r *PayoutRepo) Retry(ctx context.Context, id string, audit market.AuditRecord, check func(payouts.Payout) error) (payouts.Payout, error) {
	err := r.db.tx(ctx, func(tx pgx.Tx) error {
		if err := lockUnleased(ctx, tx, id); err != nil {
			return err
		}
		p, err := r.payout(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := check(p); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE payouts po SET status = 'RETRYING', attempt_count = 0, next_attempt_at = now(), updated_at = now(),
			       payment_state = NULL, payment_state_since = NULL,
			       destination_ln_address = CASE WHEN payment_hash IS NOT NULL THEN destination_ln_address ELSE coalesce(
			           (SELECT payout_ln_address FROM developer_profiles WHERE user_id = po.developer_user_id), destination_ln_address) END
			WHERE id = $1`, id); err != nil {
			return err
		}
		audit.Details["purchase_id"], audit.Details["from"], audit.Details["to"] = p.PurchaseID, p.Status, payouts.StatusRetrying
		audit.Details["attempts_before"], audit.Details["last_error"] = p.AttemptCount, p.LastError
		if err := writeAudit(ctx, tx, audit); err != nil {
			return err
		}
		return r.db.enqueue(ctx, tx, payouts.Args{PurchaseID: p.PurchaseID}, nil)
	})
	if err != nil {
		return payouts.Payout{}, err
	}
	return r.Payout(ctx, id)
}

// cancelLease is how long Cancel holds a payout's lease: its check gets cancelCheckTimeout of
// it, the rest is room to commit.
const (
	cancelLease        = time.Minute
	cancelCheckTimeout = 30 * time.Second
)

// Cancel implements payouts.Store with the payout's lease, as an attempt holds it: the check
// runs with no row lock and no transaction, and the change commits only if the lease is still
// Cancel's and the payout is as checked.
func (r *PayoutRepo) Cancel(ctx context.Context, id string, audit market.AuditRecord, check func(context.Context, payouts.Payout) error) (payouts.Payout, error) {
	p, err := r.Payout(ctx, id)
	if err != nil || p.Status == payouts.StatusCanceled {
		return p, err
	}
	var lease string
	err = r.db.pool.QueryRow(ctx, `
		UPDATE payouts SET lease_id = gen_random_uuid(), lease_until = now() + make_interval(secs => $2)
		WHERE id = $1 AND (lease_until IS NULL OR lease_until < now())
		RETURNING lease_id`, id, cancelLease.Seconds()).Scan(&lease)
	if errors.Is(err, pgx.ErrNoRows) {
		return payouts.Payout{}, market.Errorf(market.CodeFailedPrecondition, "an attempt to pay payout %s is running: try again in a minute", id)
	}
	if err != nil {
		return payouts.Payout{}, err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, _ = r.db.pool.Exec(ctx, `UPDATE payouts SET lease_id = NULL, lease_until = NULL WHERE id = $1 AND lease_id = $2`, id, lease)
	}()
	// Read again under the lease: an attempt that held it before may have changed everything.
	if p, err = r.Payout(ctx, id); err != nil {
		return payouts.Payout{}, err
	}
	if p.Status == payouts.StatusCanceled {
		return p, nil
	}
	checkCtx, cancel := context.WithTimeout(ctx, cancelCheckTimeout)
	err = check(checkCtx, p)
	cancel()
	if err != nil {
		return payouts.Payout{}, err
	}
	err = r.db.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE payouts SET status = 'CANCELED', next_attempt_at = NULL, payment_state = NULL, payment_state_since = NULL,
			       lease_id = NULL, lease_until = NULL, updated_at = now()
			WHERE id = $1 AND lease_id = $2 AND lease_until > now() AND status = $3 AND payment_hash IS NOT DISTINCT FROM nullif($4, '')`,
			id, lease, p.Status, p.PaymentHash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return market.Errorf(market.CodeFailedPrecondition, "payout %s changed while it was being canceled: try again", id)
		}
		audit.Details["purchase_id"], audit.Details["from"], audit.Details["to"] = p.PurchaseID, p.Status, payouts.StatusCanceled
		audit.Details["amount_msat"] = p.AmountMsat
		return writeAudit(ctx, tx, audit)
	})
	if err != nil {
		return payouts.Payout{}, err
	}
	return r.Payout(ctx, id)
}

// IsDeveloper implements payouts.Store.
func (r *PayoutRepo) IsDeveloper(ctx context.Context, userID string) (bool, error) {
	var ok bool
	err := r.db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM developer_profiles WHERE user_id = $1)`, userID).Scan(&ok)
	return ok, err
}

// GameByID implements payouts.Store.
func (r *PayoutRepo) GameByID(ctx context.Context, id string) (market.Game, error) {
	g, err := scanGame(r.db.pool.QueryRow(ctx, gameSelect+` WHERE g.id = $1`, id))
	return g, gameNotFound(err, id)
}

// saleWhere selects the paid sales of developer $1, of game $2 when not empty.
const saleWhere = `
	FROM purchases p
	JOIN games g ON g.id = p.game_id
	LEFT JOIN payouts po ON po.purchase_id = p.id
	LEFT JOIN LATERAL (
		SELECT sum(amount_msat) FILTER (WHERE type = 'INVOICE_PAID') AS paid,
		       sum(amount_msat) FILTER (WHERE type = 'PLATFORM_FEE') AS fee,
		       sum(amount_msat) FILTER (WHERE type = 'DEVELOPER_NET') AS net
		FROM ledger_entries WHERE purchase_id = p.id
	) l ON true
	WHERE g.developer_user_id = $1 AND (nullif($2, '')::uuid IS NULL OR p.game_id = nullif($2, '')::uuid)
	  AND p.status IN ('PAID', 'REFUNDED') AND p.invoice_id IS NOT NULL AND p.paid_at IS NOT NULL`

// ListSales implements payouts.Store.
func (r *PayoutRepo) ListSales(ctx context.Context, developerID string, q payouts.Query) ([]payouts.Sale, error) {
	rows, err := r.db.pool.Query(ctx, `
		SELECT p.id, p.game_id, g.title, p.status, p.paid_at, coalesce(l.paid, 0), coalesce(l.fee, 0), coalesce(l.net, 0),
		       coalesce(po.id::text, ''), coalesce(po.status, ''), coalesce(po.attempt_count, 0), coalesce(po.last_error, ''),
		       coalesce(po.amount_msat, 0), coalesce(po.destination_ln_address, ''), coalesce(po.fee_msat, 0),
		       coalesce(po.payment_hash, ''), po.next_attempt_at, po.sent_at, coalesce(po.created_at, p.paid_at),
		       coalesce(po.updated_at, p.paid_at)`+saleWhere+`
		  AND ($3::timestamptz IS NULL OR (p.paid_at, p.id) < ($3, $4::uuid))
		ORDER BY p.paid_at DESC, p.id DESC
		LIMIT $5`, developerID, q.GameID, q.AfterTime, nullUUID(q.AfterID), q.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (payouts.Sale, error) {
		var s payouts.Sale
		var po payouts.Payout
		err := row.Scan(&s.PurchaseID, &s.GameID, &s.GameTitle, &s.Status, &s.PaidAt, &s.PriceMsat, &s.FeeMsat, &s.NetMsat,
			&po.ID, &po.Status, &po.AttemptCount, &po.LastError, &po.AmountMsat, &po.Destination, &po.FeeMsat,
			&po.PaymentHash, &po.NextAttemptAt, &po.SentAt, &po.CreatedAt, &po.UpdatedAt)
		if po.ID != "" {
			po.PurchaseID, po.GameID, po.GameTitle, po.DeveloperUserID = s.PurchaseID, s.GameID, s.GameTitle, developerID
			s.Payout = &po
		}
		return s, err
	})
}

// SalesTotals implements payouts.Store.
func (r *PayoutRepo) SalesTotals(ctx context.Context, developerID, gameID string) (payouts.Totals, error) {
	var t payouts.Totals
	err := r.db.pool.QueryRow(ctx, `
		SELECT count(*), coalesce(sum(l.paid), 0), coalesce(sum(l.fee), 0), coalesce(sum(l.net), 0),
		       coalesce(sum(po.amount_msat) FILTER (WHERE po.status = 'SENT'), 0),
		       coalesce(sum(po.amount_msat) FILTER (WHERE po.status IN ('SCHEDULED', 'RETRYING')), 0),
		       coalesce(sum(po.amount_msat) FILTER (WHERE po.status = 'FAILED'), 0)`+saleWhere,
		developerID, gameID).Scan(&t.Sales, &t.GrossMsat, &t.FeeMsat, &t.NetMsat, &t.SentMsat, &t.PendingMsat, &t.FailedMsat)
	return t, err
}

// ListLedger implements payouts.Store.
func (r *PayoutRepo) ListLedger(ctx context.Context, developerID string, q payouts.Query) ([]payouts.LedgerEntry, error) {
	rows, err := r.db.pool.Query(ctx, `
		SELECT l.id, l.purchase_id, p.game_id, g.title, l.type, l.amount_msat, l.meta_json::text, l.created_at
		FROM ledger_entries l
		JOIN purchases p ON p.id = l.purchase_id
		JOIN games g ON g.id = p.game_id
		WHERE g.developer_user_id = $1 AND (nullif($2, '')::uuid IS NULL OR p.game_id = nullif($2, '')::uuid)
		  AND ($3::timestamptz IS NULL OR (l.created_at, l.id) < ($3, $4::uuid))
		ORDER BY l.created_at DESC, l.id DESC
		LIMIT $5`, developerID, q.GameID, q.AfterTime, nullUUID(q.AfterID), q.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (payouts.LedgerEntry, error) {
		var e payouts.LedgerEntry
		err := row.Scan(&e.ID, &e.PurchaseID, &e.GameID, &e.GameTitle, &e.Type, &e.AmountMsat, &e.MetaJSON, &e.CreatedAt)
		return e, err
	})
}

// ListPayouts implements payouts.Store.
func (r *PayoutRepo) ListPayouts(ctx context.Context, developerID string, q payouts.Query) ([]payouts.Payout, error) {
	rows, err := r.db.pool.Query(ctx, payoutSelect+`
		WHERE po.developer_user_id = $1 AND (nullif($2, '')::uuid IS NULL OR p.game_id = nullif($2, '')::uuid)
		  AND ($3::timestamptz IS NULL OR (po.created_at, po.id) < ($3, $4::uuid))
		ORDER BY po.created_at DESC, po.id DESC
		LIMIT $5`, developerID, q.GameID, q.AfterTime, nullUUID(q.AfterID), q.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (payouts.Payout, error) { return scanPayout(row) })
}

// ListPayoutsByStatus implements payouts.Store.
func (r *PayoutRepo) ListPayoutsByStatus(ctx context.Context, status payouts.Status, q payouts.Query) ([]payouts.Payout, error) {
	rows, err := r.db.pool.Query(ctx, payoutSelect+`
		WHERE po.status = $1 AND ($2::timestamptz IS NULL OR (po.created_at, po.id) < ($2, $3::uuid))
		ORDER BY po.created_at DESC, po.id DESC
		LIMIT $4`, status, q.AfterTime, nullUUID(q.AfterID), q.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (payouts.Payout, error) { return scanPayout(row) })
}
