package postgres_test

import (
	"context"
	"testing"

	"satchel.dev/backend/postgres"
	"satchel.dev/backend/postgres/pgtest"
)

// TestMigrationPayoutEdges: migration 0009 brings a ledger written before it under its
// invariants: a routing fee paid on a SENT payout becomes its PAYOUT_ROUTING_FEE entry, and an
// unsent payout of 0 msat is canceled; check-ledger then finds nothing wrong.
func TestMigrationPayoutEdges(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	if err := postgres.MigrateTo(ctx, dsn, 8); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dsn)
	var dev, game string
	must := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if err := conn.QueryRow(ctx, `INSERT INTO users (pubkey) VALUES (repeat('d', 64)) RETURNING id`).Scan(&dev); err != nil {
		t.Fatal(err)
	}
	must(`INSERT INTO developer_profiles (user_id, payout_ln_address) VALUES ($1, 'dev@example.com')`, dev)
	if err := conn.QueryRow(ctx, `INSERT INTO games (developer_user_id, slug, title, price_msat) VALUES ($1, 'old-game', 'Old', 200000)
		RETURNING id`, dev).Scan(&game); err != nil {
		t.Fatal(err)
	}
	// sale makes a paid sale with its split, entitlement and payout (status, amount, routing fee).
	sale := func(buyerKey string, fee, net int64, status string, routingFee int64) string {
		t.Helper()
		var buyer, purchase string
		if err := conn.QueryRow(ctx, `INSERT INTO users (pubkey) VALUES ($1) RETURNING id`, buyerKey).Scan(&buyer); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, `
			INSERT INTO purchases (buyer_user_id, game_id, invoice_provider, invoice_id, status, amount_msat, paid_at)
			VALUES ($1, $2, 'dev', $3, 'PAID', 200000, now()) RETURNING id`, buyer, game, buyerKey).Scan(&purchase); err != nil {
			t.Fatal(err)
		}
		must(`INSERT INTO ledger_entries (purchase_id, type, amount_msat) VALUES ($1, 'INVOICE_PAID', 200000),
			($1, 'PLATFORM_FEE', $2), ($1, 'DEVELOPER_NET', $3)`, purchase, fee, net)
		must(`INSERT INTO entitlements (purchase_id, buyer_user_id, game_id) VALUES ($1, $2, $3)`, purchase, buyer, game)
		must(`INSERT INTO payouts (purchase_id, developer_user_id, destination_ln_address, amount_msat, status, idempotency_key,
			fee_msat, sent_at) VALUES ($1, $2, 'dev@example.com', $3, $4, $5, $6, CASE WHEN $4::text = 'SENT' THEN now() END)`,
			purchase, dev, net, status, "payout:"+purchase, routingFee)
		if status == "SENT" {
			must(`INSERT INTO ledger_entries (purchase_id, type, amount_msat) VALUES ($1, 'PAYOUT_SENT', $2)`, purchase, net)
		}
		return purchase
	}
	sent := sale(stringOf('1'), 20000, 180000, "SENT", 1200)
	nothing := sale(stringOf('2'), 200000, 0, "SCHEDULED", 0)

	if err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	var fee int64
	if err := conn.QueryRow(ctx, `SELECT amount_msat FROM ledger_entries WHERE purchase_id = $1 AND type = 'PAYOUT_ROUTING_FEE'`,
		sent).Scan(&fee); err != nil || fee != 1200 {
		t.Errorf("the SENT payout's routing fee in the ledger: %d, %v; want 1200", fee, err)
	}
	var status string
	if err := conn.QueryRow(ctx, `SELECT status FROM payouts WHERE purchase_id = $1`, nothing).Scan(&status); err != nil || status != "CANCELED" {
		t.Errorf("the payout of 0 msat: %s, %v; want CANCELED", status, err)
	}
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	problems, err := db.CheckLedger(ctx)
	if err != nil || len(problems) != 0 {
		t.Errorf("check-ledger after migrating: %+v, %v", problems, err)
	}
}

// stringOf is 64 times c: a public key.
func stringOf(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}
