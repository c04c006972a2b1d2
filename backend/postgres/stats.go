package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"satchel.dev/backend/payouts"
)

// Stats are the counts the metrics endpoint reports, read at scrape time, so that every
// instance sharing the database reports the same numbers.
type Stats struct {
	Purchases  map[string]int64 // purchases by status
	Payouts    map[string]Sum   // payouts by status, with their amounts
	Jobs       []JobCount       // the job queue by queue, kind and state
	Deliveries map[string]int64 // announcement deliveries by status
	// StuckPayouts counts the payouts whose payment has been IN_FLIGHT or UNKNOWN for longer
	// than payouts.DefaultStuckAfter, by that state.
	StuckPayouts map[string]int64
}

// Sum is a count and the sum of the amounts counted, in millisatoshi.
type Sum struct {
	Count      int64
	AmountMsat int64
}

// JobCount is how many jobs of one kind are in one state on one queue.
type JobCount struct {
	Queue, Kind, State string
	Count              int64
}

// Stats reads the counts the metrics endpoint reports.
func (db *DB) Stats(ctx context.Context) (Stats, error) {
	s := Stats{Purchases: map[string]int64{}, Payouts: map[string]Sum{}, Deliveries: map[string]int64{}, StuckPayouts: map[string]int64{}}
	err := db.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT status, count(*) FROM purchases GROUP BY status`)
		if err != nil {
			return err
		}
		var status string
		var n, amount int64
		if _, err := pgx.ForEachRow(rows, []any{&status, &n}, func() error { s.Purchases[status] = n; return nil }); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT status, count(*), coalesce(sum(amount_msat), 0)::bigint FROM payouts GROUP BY status`)
		if err != nil {
			return err
		}
		if _, err := pgx.ForEachRow(rows, []any{&status, &n, &amount}, func() error {
			s.Payouts[status] = Sum{Count: n, AmountMsat: amount}
			return nil
		}); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `
			SELECT payment_state, count(*) FROM payouts
			WHERE payment_state IS NOT NULL AND payment_state_since < now() - make_interval(secs => $1)
			GROUP BY payment_state`, payouts.DefaultStuckAfter.Seconds())
		if err != nil {
			return err
		}
		if _, err := pgx.ForEachRow(rows, []any{&status, &n}, func() error { s.StuckPayouts[status] = n; return nil }); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT status, count(*) FROM announcement_deliveries GROUP BY status`)
		if err != nil {
			return err
		}
		if _, err := pgx.ForEachRow(rows, []any{&status, &n}, func() error { s.Deliveries[status] = n; return nil }); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT queue, kind, state::text, count(*) FROM river_job GROUP BY queue, kind, state ORDER BY 1, 2, 3`)
		if err != nil {
			return err
		}
		s.Jobs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (JobCount, error) {
			var j JobCount
			err := r.Scan(&j.Queue, &j.Kind, &j.State, &j.Count)
			return j, err
		})
		return err
	})
	return s, err
}
