package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// LedgerProblem is a purchase that breaks an invariant of the money path.
type LedgerProblem struct {
	PurchaseID string
	Status     string
	Problem    string
}

// CheckLedger checks every purchase against the invariants of the money path and returns those
// that break one (none on a healthy database):
//   - a PAID purchase with a price has exactly one INVOICE_PAID entry of at least its price,
//     PLATFORM_FEE + DEVELOPER_NET = INVOICE_PAID, exactly one entitlement, and exactly one
//     payout of DEVELOPER_NET;
//   - a PAID free purchase has exactly one entitlement, no payout and no money in the ledger;
//   - a PENDING, EXPIRED or FAILED purchase has no entitlement, no payout and no INVOICE_PAID;
//   - a REFUNDED purchase has no entitlement that is not revoked, keeps its sale's entries as
//     a PAID one does, and has two REFUND entries that reverse them: one of the PLATFORM_FEE
//     amount, one of the DEVELOPER_NET amount (so REFUND entries sum to INVOICE_PAID), and its
//     payout CANCELED (never paid) or SENT (paid before the refund);
//   - no purchase but a REFUNDED one has REFUND entries.
func (db *DB) CheckLedger(ctx context.Context) ([]LedgerProblem, error) {
	rows, err := db.pool.Query(ctx, `
		WITH l AS (
			SELECT purchase_id,
			       count(*) FILTER (WHERE type = 'INVOICE_PAID')                       AS n_paid,
			       coalesce(sum(amount_msat) FILTER (WHERE type = 'INVOICE_PAID'), 0)  AS paid,
			       coalesce(sum(amount_msat) FILTER (WHERE type = 'PLATFORM_FEE'), 0)  AS fee,
			       coalesce(sum(amount_msat) FILTER (WHERE type = 'DEVELOPER_NET'), 0) AS net,
			       count(*) FILTER (WHERE type IN ('PLATFORM_FEE', 'DEVELOPER_NET'))    AS n_split,
			       count(*) FILTER (WHERE type <> 'INVOICE_CREATED')                   AS n_money,
			       count(*) FILTER (WHERE type = 'REFUND')                             AS n_refund,
			       coalesce(sum(amount_msat) FILTER (WHERE type = 'REFUND' AND meta_json->>'reverses' = 'PLATFORM_FEE'), 0)  AS refund_fee,
			       coalesce(sum(amount_msat) FILTER (WHERE type = 'REFUND' AND meta_json->>'reverses' = 'DEVELOPER_NET'), 0) AS refund_net
			FROM ledger_entries GROUP BY purchase_id),
		e AS (SELECT purchase_id, count(*) AS n, count(*) FILTER (WHERE revoked_at IS NULL) AS live
		      FROM entitlements GROUP BY purchase_id),
		po AS (SELECT purchase_id, count(*) AS n, sum(amount_msat) AS amount,
		              bool_and(status IN ('CANCELED', 'SENT')) AS settled FROM payouts GROUP BY purchase_id),
		c AS (
			SELECT p.id, p.status, p.amount_msat, p.invoice_provider IS NULL AS free,
			       coalesce(l.n_paid, 0) AS n_paid, coalesce(l.paid, 0) AS paid, coalesce(l.fee, 0) AS fee,
			       coalesce(l.net, 0) AS net, coalesce(l.n_split, 0) AS n_split, coalesce(l.n_money, 0) AS n_money,
			       coalesce(l.n_refund, 0) AS n_refund, coalesce(l.refund_fee, 0) AS refund_fee,
			       coalesce(l.refund_net, 0) AS refund_net, coalesce(po.settled, false) AS payout_settled,
			       coalesce(e.n, 0) AS ents, coalesce(e.live, 0) AS live_ents,
			       coalesce(po.n, 0) AS payouts, coalesce(po.amount, 0) AS payout_amount
			FROM purchases p LEFT JOIN l ON l.purchase_id = p.id LEFT JOIN e ON e.purchase_id = p.id
			LEFT JOIN po ON po.purchase_id = p.id)
		SELECT id, status, problem FROM c, LATERAL (VALUES
			(status = 'PAID' AND NOT free AND n_paid <> 1, format('%s INVOICE_PAID entries, want 1', n_paid)),
			(status = 'PAID' AND NOT free AND paid < amount_msat, format('INVOICE_PAID %s is below the price %s', paid, amount_msat)),
			(status = 'PAID' AND NOT free AND (n_split <> 2 OR fee + net <> paid), format('PLATFORM_FEE %s + DEVELOPER_NET %s <> INVOICE_PAID %s (%s entries)', fee, net, paid, n_split)),
			(status = 'PAID' AND ents <> 1, format('%s entitlements, want 1', ents)),
			(status = 'PAID' AND NOT free AND (payouts <> 1 OR payout_amount <> net), format('%s payouts of %s msat, want 1 of %s', payouts, payout_amount, net)),
			(status = 'PAID' AND free AND (payouts <> 0 OR n_money <> 0), format('a free purchase with %s payouts and %s ledger entries', payouts, n_money)),
			(status IN ('PENDING', 'EXPIRED', 'FAILED') AND (ents <> 0 OR payouts <> 0 OR n_paid <> 0), format('not paid, yet %s entitlements, %s payouts, %s INVOICE_PAID', ents, payouts, n_paid)),
			(status = 'REFUNDED' AND live_ents <> 0, format('refunded, yet %s entitlements are not revoked', live_ents)),
			(status = 'REFUNDED' AND (n_paid <> 1 OR n_split <> 2 OR fee + net <> paid), format('refunded, but its sale has %s INVOICE_PAID of %s and %s split entries (fee %s, net %s)', n_paid, paid, n_split, fee, net)),
			(status = 'REFUNDED' AND (n_refund <> 2 OR refund_fee <> fee OR refund_net <> net), format('refunded with %s REFUND entries reversing fee %s and net %s, want 2 reversing fee %s and net %s', n_refund, refund_fee, refund_net, fee, net)),
			(status = 'REFUNDED' AND (payouts <> 1 OR NOT payout_settled), format('refunded, yet its %s payouts are not all CANCELED or SENT', payouts)),
			(status <> 'REFUNDED' AND n_refund <> 0, format('%s REFUND entries on a purchase that is not REFUNDED', n_refund))
		) AS checks(broken, problem)
		WHERE broken
		ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (LedgerProblem, error) {
		var p LedgerProblem
		err := r.Scan(&p.PurchaseID, &p.Status, &p.Problem)
		return p, err
	})
}
