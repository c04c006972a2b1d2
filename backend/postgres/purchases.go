package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/market"
	"satchel.dev/backend/payouts"
)

// PurchaseRepo implements purchases.Repo.
type PurchaseRepo struct {
	db   *DB
	jobs *river.Client[pgx.Tx]
}

// NewPurchaseRepo returns the purchase repository on db; jobs enqueues payout jobs.
func NewPurchaseRepo(db *DB, jobs *river.Client[pgx.Tx]) *PurchaseRepo {
	return &PurchaseRepo{db: db, jobs: jobs}
}

// Channels on which committed changes are announced (NOTIFY); the payload is the purchase id,
// or the library change id.
const (
	PurchaseChannel = "satchel_purchase"
	LibraryChannel  = "satchel_library"
)

// libraryLock serializes the writers of library_changes so ids are taken in commit order.
const libraryLock = 0x5a7c4e2

const purchaseSelect = `
	SELECT p.id, p.game_id, g.title, coalesce(p.buyer_user_id::text, ''), coalesce(p.guest_receipt_code, ''),
	       coalesce(p.invoice_provider, ''), coalesce(p.invoice_id, ''), coalesce(p.payment_request, ''),
	       p.status, p.amount_msat, p.expires_at, p.paid_at, coalesce(p.failure_reason, ''), p.created_at
	FROM purchases p JOIN games g ON g.id = p.game_id`

func scanPurchase(row pgx.Row) (market.Purchase, error) {
	var p market.Purchase
	err := row.Scan(&p.ID, &p.GameID, &p.GameTitle, &p.BuyerUserID, &p.GuestCodeHash, &p.Provider, &p.InvoiceID,
		&p.PaymentRequest, &p.Status, &p.AmountMsat, &p.ExpiresAt, &p.PaidAt, &p.FailureReason, &p.CreatedAt)
	return p, err
}

// Purchase returns a purchase by id.
func (s *PurchaseRepo) Purchase(ctx context.Context, id string) (market.Purchase, error) {
	p, err := scanPurchase(s.db.pool.QueryRow(ctx, purchaseSelect+` WHERE p.id = $1`, id))
	return p, notFound(err, "no purchase %s", id)
}

// PurchaseByRequestKey returns the purchase a request key made, or NotFound.
func (s *PurchaseRepo) PurchaseByRequestKey(ctx context.Context, key string) (market.Purchase, error) {
	p, err := scanPurchase(s.db.pool.QueryRow(ctx, purchaseSelect+` WHERE p.request_key = $1`, key))
	return p, notFound(err, "no purchase for that request id")
}

// PurchaseByReceipt returns the unclaimed guest purchase with that receipt hash, or NotFound.
func (s *PurchaseRepo) PurchaseByReceipt(ctx context.Context, codeHash string) (market.Purchase, error) {
	p, err := scanPurchase(s.db.pool.QueryRow(ctx, purchaseSelect+` WHERE p.guest_receipt_code = $1`, codeHash))
	return p, notFound(err, "no purchase has that receipt code, or it was claimed already")
}

// GameByID returns a game in any status.
func (s *PurchaseRepo) GameByID(ctx context.Context, gameID string) (market.Game, error) {
	g, err := scanGame(s.db.pool.QueryRow(ctx, gameSelect+` WHERE g.id = $1`, gameID))
	return g, notFound(err, "no game with id %s", gameID)
}

// Entitlement returns the id of the user's unrevoked entitlement to the game, or NotFound.
func (s *PurchaseRepo) Entitlement(ctx context.Context, userID, gameID string) (string, error) {
	return entitlement(ctx, s.db.pool, userID, gameID)
}

func entitlement(ctx context.Context, q querier, userID, gameID string) (string, error) {
	var id string
	err := q.QueryRow(ctx, `
		SELECT id FROM entitlements WHERE buyer_user_id = $1 AND game_id = $2 AND revoked_at IS NULL
		ORDER BY granted_at LIMIT 1`, userID, gameID).Scan(&id)
	return id, notFound(err, "no entitlement to game %s", gameID)
}

// EntitlementByReceipt returns the unrevoked entitlement of an unclaimed guest purchase.
func (s *PurchaseRepo) EntitlementByReceipt(ctx context.Context, codeHash, gameID string) (string, error) {
	var id string
	err := s.db.pool.QueryRow(ctx, `
		SELECT id FROM entitlements WHERE guest_receipt_code = $1 AND game_id = $2 AND revoked_at IS NULL`,
		codeHash, gameID).Scan(&id)
	return id, notFound(err, "that receipt code does not own game %s", gameID)
}

// insertPurchase inserts p (without committing) and returns its id; a taken request key is
// AlreadyExists.
func insertPurchase(ctx context.Context, tx pgx.Tx, p market.Purchase, requestKey string) (string, error) {
	var id string
	err := tx.QueryRow(ctx, `
		INSERT INTO purchases (buyer_user_id, guest_receipt_code, game_id, invoice_provider, invoice_id, payment_request,
		                       status, amount_msat, expires_at, paid_at, request_key)
		VALUES (nullif($1, '')::uuid, nullif($2, ''), $3, nullif($4, ''), nullif($5, ''), nullif($6, ''), $7, $8, $9, $10, nullif($11, ''))
		RETURNING id`,
		p.BuyerUserID, p.GuestCodeHash, p.GameID, p.Provider, p.InvoiceID, p.PaymentRequest, p.Status, p.AmountMsat,
		p.ExpiresAt, p.PaidAt, requestKey).Scan(&id)
	if uniqueViolation(err, "purchases_request_key_key") {
		return "", market.Errorf(market.CodeAlreadyExists, "a purchase with that request id exists")
	}
	return id, err
}

// CreatePending stores a PENDING purchase with its invoice and the INVOICE_CREATED ledger entry.
// A taken request key is AlreadyExists (the caller returns the existing purchase).
func (s *PurchaseRepo) CreatePending(ctx context.Context, p market.Purchase, requestKey string) (market.Purchase, error) {
	var id string
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if id, err = insertPurchase(ctx, tx, p, requestKey); err != nil {
			return err
		}
		return ledger(ctx, tx, id, market.LedgerInvoiceCreated, p.AmountMsat, map[string]any{"invoice_id": p.InvoiceID})
	})
	if err != nil {
		return market.Purchase{}, err
	}
	return s.Purchase(ctx, id)
}

// GrantFree stores a free purchase as PAID with its entitlement, and no ledger money.
func (s *PurchaseRepo) GrantFree(ctx context.Context, p market.Purchase, requestKey string) (market.Purchase, error) {
	var id string
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if id, err = insertPurchase(ctx, tx, p, requestKey); err != nil {
			return err
		}
		return grantEntitlement(ctx, tx, id)
	})
	if err != nil {
		return market.Purchase{}, err
	}
	return s.Purchase(ctx, id)
}

// grantEntitlement gives the purchase's buyer (or guest code) the game, records the library
// change and announces both.
func grantEntitlement(ctx context.Context, tx pgx.Tx, purchaseID string) error {
	var entID, gameID string
	var buyer, code *string
	err := tx.QueryRow(ctx, `
		INSERT INTO entitlements (purchase_id, buyer_user_id, guest_receipt_code, game_id)
		SELECT id, buyer_user_id, guest_receipt_code, game_id FROM purchases WHERE id = $1
		RETURNING id, game_id, buyer_user_id, guest_receipt_code`, purchaseID).Scan(&entID, &gameID, &buyer, &code)
	if err != nil {
		return err
	}
	if err := libraryChange(ctx, tx, "ENTITLEMENT_GRANTED", gameID, buyer, code, &entID, nil); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, PurchaseChannel, purchaseID)
	return err
}

// libraryChange records a change to libraries and announces it on commit.
func libraryChange(ctx context.Context, tx pgx.Tx, kind, gameID string, userID, code, entitlementID, releaseID *string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, libraryLock); err != nil {
		return err
	}
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO library_changes (kind, game_id, user_id, guest_receipt_code, entitlement_id, release_id)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, kind, gameID, userID, code, entitlementID, releaseID).Scan(&id)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, LibraryChannel, fmt.Sprint(id))
	return err
}

func ledger(ctx context.Context, tx pgx.Tx, purchaseID string, typ market.LedgerType, amount int64, meta map[string]any) error {
	raw, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO ledger_entries (purchase_id, type, amount_msat, meta_json) VALUES ($1, $2, $3, $4)`,
		purchaseID, typ, amount, raw)
	return err
}

// SettleOutcome says what a settlement did.
type SettleOutcome string

const (
	SettledPaid    SettleOutcome = "paid"      // the purchase is now PAID
	SettledIgnored SettleOutcome = "ignored"   // unknown invoice, or the purchase was not PENDING
	SettledFailed  SettleOutcome = "underpaid" // less than the price arrived: FAILED
)

// Settle applies a provider's settlement in one transaction: the purchase PAID with paid_at;
// ledger INVOICE_PAID, PLATFORM_FEE and DEVELOPER_NET; the entitlement; the payout SCHEDULED
// and its job; the library change; and the provider's cursor. A settlement for an unknown or
// no longer PENDING purchase changes nothing but the cursor; one below the price marks the
// purchase FAILED. It returns the purchase (zero when unknown) and what happened.
func (s *PurchaseRepo) Settle(ctx context.Context, provider string, inv lightning.Invoice, feeBps int) (market.Purchase, SettleOutcome, error) {
	var id string
	outcome := SettledIgnored
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		if inv.SettleIndex > 0 {
			if _, err := tx.Exec(ctx, `
				INSERT INTO lightning_cursors (provider, settle_index) VALUES ($1, $2)
				ON CONFLICT (provider) DO UPDATE SET settle_index = greatest(lightning_cursors.settle_index, EXCLUDED.settle_index)`,
				provider, int64(inv.SettleIndex)); err != nil {
				return err
			}
		}
		var amount int64
		err := tx.QueryRow(ctx, `
			UPDATE purchases SET status = 'PAID', paid_at = $3, updated_at = now()
			WHERE invoice_provider = $1 AND invoice_id = $2 AND status = 'PENDING' AND amount_msat <= $4
			RETURNING id, amount_msat`, provider, inv.ID, inv.SettledAt, inv.AmountPaidMsat).Scan(&id, &amount)
		if errors.Is(err, pgx.ErrNoRows) {
			err = tx.QueryRow(ctx, `
				UPDATE purchases SET status = 'FAILED', updated_at = now(),
				       failure_reason = format('underpaid: %s msat arrived for a price of %s msat', $3::bigint, amount_msat)
				WHERE invoice_provider = $1 AND invoice_id = $2 AND status = 'PENDING' AND amount_msat > $3
				RETURNING id`, provider, inv.ID, inv.AmountPaidMsat).Scan(&id)
			if err == nil {
				outcome = SettledFailed
				_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, PurchaseChannel, id)
			}
			if errors.Is(err, pgx.ErrNoRows) {
				id, err = "", nil
			}
			return err
		}
		if err != nil {
			return err
		}
		outcome = SettledPaid
		paid := inv.AmountPaidMsat
		fee, net := market.Split(paid, feeBps)
		meta := map[string]any{"invoice_id": inv.ID, "settle_index": inv.SettleIndex}
		for _, e := range []struct {
			t market.LedgerType
			a int64
		}{{market.LedgerInvoicePaid, paid}, {market.LedgerPlatformFee, fee}, {market.LedgerDeveloperNet, net}} {
			if err := ledger(ctx, tx, id, e.t, e.a, meta); err != nil {
				return err
			}
		}
		if err := grantEntitlement(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO payouts (purchase_id, developer_user_id, destination_ln_address, amount_msat, status, idempotency_key)
			SELECT p.id, g.developer_user_id, d.payout_ln_address, $2, 'SCHEDULED', 'payout:' || p.id
			FROM purchases p JOIN games g ON g.id = p.game_id JOIN developer_profiles d ON d.user_id = g.developer_user_id
			WHERE p.id = $1`, id, net); err != nil {
			return err
		}
		_, err = s.jobs.InsertTx(ctx, tx, payouts.Args{PurchaseID: id}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
		return err
	})
	if err != nil || id == "" {
		return market.Purchase{}, outcome, err
	}
	p, err := s.Purchase(ctx, id)
	return p, outcome, err
}

// Close moves a PENDING purchase to EXPIRED or FAILED with a reason; a purchase no longer
// PENDING is left alone (ok false).
func (s *PurchaseRepo) Close(ctx context.Context, id string, to market.PurchaseStatus, reason string) (bool, error) {
	var ok bool
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE purchases SET status = $2, failure_reason = nullif($3, ''), updated_at = now()
			WHERE id = $1 AND status = 'PENDING'`, id, to, reason)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		ok = true
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, PurchaseChannel, id)
		return err
	})
	return ok, err
}

// Pending returns the PENDING purchases of a provider; with dueBy set, only those whose
// invoice expired before it.
func (s *PurchaseRepo) Pending(ctx context.Context, provider string, dueBy *time.Time) ([]market.Purchase, error) {
	rows, err := s.db.pool.Query(ctx, purchaseSelect+`
		WHERE p.status = 'PENDING' AND p.invoice_provider = $1 AND ($2::timestamptz IS NULL OR p.expires_at < $2)
		ORDER BY p.created_at`, provider, dueBy)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.Purchase, error) { return scanPurchase(r) })
}

// Cursor returns the last settle index handled for a provider (0 if none).
func (s *PurchaseRepo) Cursor(ctx context.Context, provider string) (uint64, error) {
	var idx int64
	err := s.db.pool.QueryRow(ctx, `SELECT settle_index FROM lightning_cursors WHERE provider = $1`, provider).Scan(&idx)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return uint64(idx), err
}

// Claim moves the unclaimed guest purchase with that receipt hash, and its entitlement, to
// the user; the code stops working on its own.
func (s *PurchaseRepo) Claim(ctx context.Context, codeHash, userID string) (market.Purchase, error) {
	var id string
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			UPDATE purchases SET buyer_user_id = $2, guest_receipt_code = NULL, updated_at = now()
			WHERE guest_receipt_code = $1 RETURNING id`, codeHash, userID).Scan(&id)
		if err != nil {
			return notFound(err, "no purchase has that receipt code, or it was claimed already")
		}
		var entID, gameID string
		err = tx.QueryRow(ctx, `
			UPDATE entitlements SET buyer_user_id = $2, guest_receipt_code = NULL
			WHERE purchase_id = $1 RETURNING id, game_id`, id, userID).Scan(&entID, &gameID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // not paid yet: the entitlement will be the user's when it is
		}
		if err != nil {
			return err
		}
		return libraryChange(ctx, tx, "ENTITLEMENT_GRANTED", gameID, &userID, nil, &entID, nil)
	})
	if err != nil {
		return market.Purchase{}, err
	}
	return s.Purchase(ctx, id)
}
