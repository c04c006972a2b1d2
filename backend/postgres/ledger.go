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
//   - a PENDING, EXPIRED or FAILED purchase has no entitlement, no payout and no split; money
//     received for an EXPIRED or FAILED purchase (late, underpaid, or a second payment for a
//     game its buyer owns) is reported as "refund due" until the operator refunds it;
//   - a REFUNDED purchase that was never a sale (its money came unaccounted) has one REFUND
//     entry reversing its INVOICE_PAID, and no payout or entitlement;
//   - a REFUNDED purchase has no entitlement that is not revoked, keeps its sale's entries as
//     a PAID one does, and has two REFUND entries that reverse them: one of the PLATFORM_FEE
//     amount, one of the DEVELOPER_NET amount (so REFUND entries sum to INVOICE_PAID), and its
//     payout CANCELED (never paid) or SENT (paid before the refund);
//   - no purchase but a REFUNDED one has REFUND entries;
//   - a paid sale whose DEVELOPER_NET is 0 has no payout (one CANCELED before migration 0009
//     is tolerated): a payout of nothing is never created;
//   - every SENT payout has exactly one PAYOUT_SENT entry of its amount, and a
//     PAYOUT_ROUTING_FEE entry of its routing fee when that is above 0 (beyond the seeds);
//     no other purchase has either; and the routing fee is at most the sale's PLATFORM_FEE.
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
			       coalesce(sum(amount_msat) FILTER (WHERE type = 'REFUND' AND meta_json->>'reverses' = 'DEVELOPER_NET'), 0) AS refund_net,
			       coalesce(sum(amount_msat) FILTER (WHERE type = 'REFUND' AND meta_json->>'reverses' = 'INVOICE_PAID'), 0)  AS refund_paid,
			       max(meta_json->>'unaccounted') FILTER (WHERE type = 'INVOICE_PAID')      AS unaccounted,
			       count(*) FILTER (WHERE type = 'PAYOUT_SENT')                        AS n_sent,
			       coalesce(sum(amount_msat) FILTER (WHERE type = 'PAYOUT_SENT'), 0)   AS sent,
			       count(*) FILTER (WHERE type = 'PAYOUT_ROUTING_FEE')                 AS n_routing,
			       coalesce(sum(amount_msat) FILTER (WHERE type = 'PAYOUT_ROUTING_FEE'), 0) AS routing
			FROM ledger_entries GROUP BY purchase_id),
		e AS (SELECT purchase_id, count(*) AS n, count(*) FILTER (WHERE revoked_at IS NULL) AS live
		      FROM entitlements GROUP BY purchase_id),
		po AS (SELECT purchase_id, count(*) AS n, sum(amount_msat) AS amount,
		              bool_and(status IN ('CANCELED', 'SENT')) AS settled, bool_and(status = 'CANCELED') AS canceled,
		              count(*) FILTER (WHERE status = 'SENT') AS n_sent,
		              coalesce(sum(amount_msat) FILTER (WHERE status = 'SENT'), 0) AS sent,
		              coalesce(sum(fee_msat) FILTER (WHERE status = 'SENT'), 0) AS routing
		       FROM payouts GROUP BY purchase_id),
		c AS (
			SELECT p.id, p.status, p.amount_msat, p.invoice_provider IS NULL AS free,
			       coalesce(l.n_paid, 0) AS n_paid, coalesce(l.paid, 0) AS paid, coalesce(l.fee, 0) AS fee,
			       coalesce(l.net, 0) AS net, coalesce(l.n_split, 0) AS n_split, coalesce(l.n_money, 0) AS n_money,
			       coalesce(l.n_refund, 0) AS n_refund, coalesce(l.refund_fee, 0) AS refund_fee,
			       coalesce(l.refund_net, 0) AS refund_net, coalesce(l.refund_paid, 0) AS refund_paid,
			       coalesce(l.unaccounted, 'unknown') AS unaccounted, coalesce(po.settled, false) AS payout_settled,
			       coalesce(e.n, 0) AS ents, coalesce(e.live, 0) AS live_ents,
			       coalesce(po.n, 0) AS payouts, coalesce(po.amount, 0) AS payout_amount,
			       coalesce(po.canceled, false) AS payout_canceled,
			       coalesce(l.n_sent, 0) AS n_sent, coalesce(l.sent, 0) AS sent, coalesce(po.n_sent, 0) AS payouts_sent,
			       coalesce(po.sent, 0) AS payout_sent, coalesce(l.n_routing, 0) AS n_routing, coalesce(l.routing, 0) AS routing,
			       coalesce(po.routing, 0) AS payout_routing
			FROM purchases p LEFT JOIN l ON l.purchase_id = p.id LEFT JOIN e ON e.purchase_id = p.id
			LEFT JOIN po ON po.purchase_id = p.id)
		SELECT id, status, problem FROM c, LATERAL (VALUES
			(status = 'PAID' AND NOT free AND n_paid <> 1, format('%s INVOICE_PAID entries, want 1', n_paid)),
			(status = 'PAID' AND NOT free AND paid < amount_msat, format('INVOICE_PAID %s is below the price %s', paid, amount_msat)),
			(status = 'PAID' AND NOT free AND (n_split <> 2 OR fee + net <> paid), format('PLATFORM_FEE %s + DEVELOPER_NET %s <> INVOICE_PAID %s (%s entries)', fee, net, paid, n_split)),
			(status = 'PAID' AND ents <> 1, format('%s entitlements, want 1', ents)),
			(status = 'PAID' AND NOT free AND net > 0 AND (payouts <> 1 OR payout_amount <> net), format('%s payouts of %s msat, want 1 of %s', payouts, payout_amount, net)),
			(status = 'PAID' AND NOT free AND net = 0 AND payouts <> 0 AND NOT (payouts = 1 AND payout_canceled), format('%s payouts of a DEVELOPER_NET of 0, want none', payouts)),
			(status = 'PAID' AND free AND (payouts <> 0 OR n_money <> 0), format('a free purchase with %s payouts and %s ledger entries', payouts, n_money)),
			(status = 'PENDING' AND (ents <> 0 OR payouts <> 0 OR n_paid <> 0), format('not paid, yet %s entitlements, %s payouts, %s INVOICE_PAID', ents, payouts, n_paid)),
			(status IN ('EXPIRED', 'FAILED') AND (ents <> 0 OR payouts <> 0 OR n_split <> 0), format('not paid, yet %s entitlements, %s payouts, %s split entries', ents, payouts, n_split)),
			(status IN ('EXPIRED', 'FAILED') AND n_paid <> 0, format('refund due: %s msat received (%s) that no sale accounts for; refund it with: satchel-server admin refund %s --reason TEXT', paid, unaccounted, id)),
			(status = 'REFUNDED' AND live_ents <> 0, format('refunded, yet %s entitlements are not revoked', live_ents)),
			(status = 'REFUNDED' AND n_split <> 0 AND (n_paid <> 1 OR n_split <> 2 OR fee + net <> paid), format('refunded, but its sale has %s INVOICE_PAID of %s and %s split entries (fee %s, net %s)', n_paid, paid, n_split, fee, net)),
			(status = 'REFUNDED' AND n_split <> 0 AND (n_refund <> 2 OR refund_fee <> fee OR refund_net <> net), format('refunded with %s REFUND entries reversing fee %s and net %s, want 2 reversing fee %s and net %s', n_refund, refund_fee, refund_net, fee, net)),
			(status = 'REFUNDED' AND n_split <> 0 AND (payouts <> 1 OR NOT payout_settled), format('refunded, yet its %s payouts are not all CANCELED or SENT', payouts)),
			(status = 'REFUNDED' AND n_split = 0 AND (n_paid <> 1 OR n_refund <> 1 OR refund_paid <> paid OR payouts <> 0 OR ents <> 0), format('refunded money no sale accounted for, with %s INVOICE_PAID of %s, %s REFUND entries reversing %s, %s payouts and %s entitlements; want 1 REFUND reversing it all and none', n_paid, paid, n_refund, refund_paid, payouts, ents)),
			(status <> 'REFUNDED' AND n_refund <> 0, format('%s REFUND entries on a purchase that is not REFUNDED', n_refund)),
			(n_sent <> payouts_sent OR sent <> payout_sent, format('%s PAYOUT_SENT entries of %s msat for %s SENT payouts of %s msat', n_sent, sent, payouts_sent, payout_sent)),
			(n_routing > 1 OR routing <> payout_routing, format('%s PAYOUT_ROUTING_FEE entries of %s msat, want the SENT payout''s routing fee of %s msat', n_routing, routing, payout_routing)),
			(routing > fee, format('PAYOUT_ROUTING_FEE %s msat is more than the sale''s PLATFORM_FEE %s msat', routing, fee))
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
