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
	"satchel.dev/backend/purchases"
)

// PurchaseRepo implements purchases.Store.
type PurchaseRepo struct {
	db *DB
}

// NewPurchaseRepo returns the purchase repository on db; settlements enqueue payout jobs on
// db's queue (DB.SetQueue).
func NewPurchaseRepo(db *DB) *PurchaseRepo { return &PurchaseRepo{db: db} }

var _ purchases.Store = (*PurchaseRepo)(nil)

// Channels on which committed changes are announced (NOTIFY); the payload is the purchase id,
// or the library change id (announced by migration 0011's trigger on library_changes).
const (
	PurchaseChannel = "satchel_purchase"
	LibraryChannel  = "satchel_library"
)

// purchaseColumns are the columns scanPurchase reads, of a purchase p joined with its game g.
const purchaseColumns = `
	SELECT p.id, p.game_id, g.title, coalesce(p.buyer_user_id::text, ''), coalesce(p.guest_receipt_code, ''),
	       coalesce(p.invoice_provider, ''), coalesce(p.invoice_id, ''), coalesce(p.payment_request, ''),
	       p.status, p.amount_msat, p.expires_at, p.paid_at, coalesce(p.failure_reason, ''), p.created_at,
	       p.guest_receipt_sealed`

const purchaseSelect = purchaseColumns + `
	FROM purchases p JOIN games g ON g.id = p.game_id`

func scanPurchase(row pgx.Row) (market.Purchase, error) {
	var p market.Purchase
	err := row.Scan(&p.ID, &p.GameID, &p.GameTitle, &p.BuyerUserID, &p.GuestCodeHash, &p.Provider, &p.InvoiceID,
		&p.PaymentRequest, &p.Status, &p.AmountMsat, &p.ExpiresAt, &p.PaidAt, &p.FailureReason, &p.CreatedAt,
		&p.SealedReceipt)
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

// OpenPurchase returns the buyer's PENDING purchase of the game (there is at most one), or
// NotFound.
func (s *PurchaseRepo) OpenPurchase(ctx context.Context, userID, gameID string) (market.Purchase, error) {
	p, err := scanPurchase(s.db.pool.QueryRow(ctx, purchaseSelect+`
		WHERE p.buyer_user_id = $1 AND p.game_id = $2 AND p.status = 'PENDING'`, userID, gameID))
	return p, notFound(err, "no open purchase of game %s", gameID)
}

// PurchaseByReceipt returns the unclaimed guest purchase with that receipt hash, or NotFound.
func (s *PurchaseRepo) PurchaseByReceipt(ctx context.Context, codeHash string) (market.Purchase, error) {
	p, err := scanPurchase(s.db.pool.QueryRow(ctx, purchaseSelect+` WHERE p.guest_receipt_code = $1`, codeHash))
	return p, notFound(err, "no purchase has that receipt code, or it was claimed already")
}

// GameByID returns a game in any status.
func (s *PurchaseRepo) GameByID(ctx context.Context, gameID string) (market.Game, error) {
	g, err := scanGame(s.db.pool.QueryRow(ctx, gameSelect+` WHERE g.id = $1`, gameID))
	return g, gameNotFound(err, gameID)
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

// insertPurchaseSQL inserts a purchase; its parameters are purchaseArgs'.
const insertPurchaseSQL = `
	INSERT INTO purchases (buyer_user_id, guest_receipt_code, game_id, invoice_provider, invoice_id, payment_request,
	                       status, amount_msat, expires_at, paid_at, request_key, guest_receipt_sealed)
	VALUES (nullif($1, '')::uuid, nullif($2, ''), $3, nullif($4, ''), nullif($5, ''), nullif($6, ''), $7, $8, $9, $10,
	        nullif($11, ''), $12)`

func purchaseArgs(p market.Purchase, requestKey string) []any {
	return []any{p.BuyerUserID, p.GuestCodeHash, p.GameID, p.Provider, p.InvoiceID, p.PaymentRequest, p.Status, p.AmountMsat,
		p.ExpiresAt, p.PaidAt, requestKey, p.SealedReceipt}
}

// insertError turns the unique violations of inserting a purchase into their errors: a taken
// request key is AlreadyExists, and a second open purchase of a game by one buyer is
// purchases.ErrOpenPurchase.
func insertError(err error) error {
	switch {
	case uniqueViolation(err, "purchases_request_key_key"):
		return market.Errorf(market.CodeAlreadyExists, "a purchase with that request id exists")
	case uniqueViolation(err, "purchases_one_pending_idx"):
		return purchases.ErrOpenPurchase
	}
	return err
}

// insertPurchase inserts p (without committing) and returns its id, with insertError's errors.
func insertPurchase(ctx context.Context, tx pgx.Tx, p market.Purchase, requestKey string) (string, error) {
	var id string
	err := tx.QueryRow(ctx, insertPurchaseSQL+` RETURNING id`, purchaseArgs(p, requestKey)...).Scan(&id)
	return id, insertError(err)
}

// CreatePending stores a PENDING purchase with its invoice and the INVOICE_CREATED ledger entry,
// in one statement, and returns it as stored. A taken request key is AlreadyExists (the caller
// returns the existing purchase).
func (s *PurchaseRepo) CreatePending(ctx context.Context, p market.Purchase, requestKey string) (market.Purchase, error) {
	meta, err := json.Marshal(map[string]any{"invoice_id": p.InvoiceID})
	if err != nil {
		return market.Purchase{}, err
	}
	out, err := scanPurchase(s.db.pool.QueryRow(ctx, `
		WITH p AS (`+insertPurchaseSQL+` RETURNING *),
		l AS (INSERT INTO ledger_entries (purchase_id, type, amount_msat, meta_json) SELECT id, $13, amount_msat, $14 FROM p)
		`+purchaseColumns+` FROM p JOIN games g ON g.id = p.game_id`,
		append(purchaseArgs(p, requestKey), market.LedgerInvoiceCreated, meta)...))
	return out, insertError(err)
}

// GrantFree stores a free purchase as PAID with its entitlement, and no ledger money.
func (s *PurchaseRepo) GrantFree(ctx context.Context, p market.Purchase, requestKey string) (market.Purchase, error) {
	var id string
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if id, err = insertPurchase(ctx, tx, p, requestKey); err != nil {
			return err
		}
		granted, err := grantEntitlement(ctx, tx, id)
		if err == nil && !granted {
			err = market.Errorf(market.CodeAlreadyExists, "you own this game already")
		}
		return err
	})
	if err != nil {
		return market.Purchase{}, err
	}
	return s.Purchase(ctx, id)
}

// grantSQL gives the purchase $1's buyer (or guest code) the game, unless the buyer holds a
// live entitlement to it already (a buyer owns a game once): then it returns no row.
const grantSQL = `
	INSERT INTO entitlements (purchase_id, buyer_user_id, guest_receipt_code, game_id)
	SELECT id, buyer_user_id, guest_receipt_code, game_id FROM purchases WHERE id = $1
	ON CONFLICT (buyer_user_id, game_id) WHERE revoked_at IS NULL AND buyer_user_id IS NOT NULL DO NOTHING
	RETURNING id, game_id, buyer_user_id, guest_receipt_code`

// grant is an entitlement grantSQL made.
type grant struct {
	id, gameID  string
	buyer, code *string
}

// scanGrant reads grantSQL's row; granted is false when it made none.
func scanGrant(row pgx.Row) (g grant, granted bool, err error) {
	err = row.Scan(&g.id, &g.gameID, &g.buyer, &g.code)
	if errors.Is(err, pgx.ErrNoRows) {
		return grant{}, false, nil
	}
	return g, err == nil, err
}

// grantEntitlement gives the purchase's buyer (or guest code) the game, records the library
// change and announces both. It grants nothing (granted false) when the buyer holds a live
// entitlement to the game already.
func grantEntitlement(ctx context.Context, tx pgx.Tx, purchaseID string) (granted bool, err error) {
	g, granted, err := scanGrant(tx.QueryRow(ctx, grantSQL, purchaseID))
	if !granted || err != nil {
		return false, err
	}
	b := &pgx.Batch{}
	b.Queue(insertLibraryChange, market.ChangeGranted, g.gameID, g.buyer, g.code, g.id, nil)
	b.Queue(`SELECT pg_notify($1, $2)`, PurchaseChannel, purchaseID)
	return true, tx.SendBatch(ctx, b).Close()
}

// libraryChange records a change to libraries in tx, announced on LibraryChannel at commit.
// Its id becomes visible in id order among the changes one player's stream sees (migration
// 0011): a player's change holds that player's lock until tx ends, and a change every owner sees
// (a release published) holds the store-wide lock, so such a change waits for the players'
// changes under way, and they wait for it. Changes of different players do not wait on each
// other.
func libraryChange(ctx context.Context, tx pgx.Tx, kind, gameID string, userID, code, entitlementID, releaseID *string) error {
	_, err := tx.Exec(ctx, insertLibraryChange, kind, gameID, userID, code, entitlementID, releaseID)
	return err
}

// insertLibraryChange is libraryChange's statement.
const insertLibraryChange = `
	INSERT INTO library_changes (kind, game_id, user_id, guest_receipt_code, entitlement_id, release_id)
	VALUES ($1, $2, $3, $4, $5, $6)`

func ledger(ctx context.Context, tx pgx.Tx, purchaseID string, typ market.LedgerType, amount int64, meta map[string]any) error {
	raw, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO ledger_entries (purchase_id, type, amount_msat, meta_json) VALUES ($1, $2, $3, $4)`,
		purchaseID, typ, amount, raw)
	return err
}

// Settle implements purchases.Store. A sale is five round trips, none of them under a lock that
// other purchases wait on: begin; the purchase locked; one batch that does the sale (sell); the
// payout's job; commit. It leaves the provider's cursor to SaveCursor.
func (s *PurchaseRepo) Settle(ctx context.Context, provider string, inv lightning.Invoice, feeBps int) (market.Purchase, purchases.SettleOutcome, error) {
	var p market.Purchase
	outcome := purchases.SettledIgnored
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		var id string
		var status market.PurchaseStatus
		var amount int64
		err := tx.QueryRow(ctx, `
			SELECT id, status, amount_msat FROM purchases WHERE invoice_provider = $1 AND invoice_id = $2 FOR UPDATE`,
			provider, inv.ID).Scan(&id, &status, &amount)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		meta := map[string]any{"invoice_id": inv.ID, "settle_index": inv.SettleIndex}
		switch {
		case status == market.PurchaseExpired || status == market.PurchaseFailed:
			received, err := receivedUnaccounted(ctx, tx, id, inv.AmountPaidMsat, meta, purchases.SettledLate,
				fmt.Sprintf("the payment arrived after the purchase was %s", status))
			if err != nil || !received {
				return err
			}
			outcome = purchases.SettledLate
			p, err = scanPurchase(tx.QueryRow(ctx, purchaseSelect+` WHERE p.id = $1`, id))
			return err
		case status != market.PurchasePending:
			return nil // PAID or REFUNDED: this settlement was applied before
		case inv.AmountPaidMsat < amount:
			reason := fmt.Sprintf("underpaid: %d msat arrived for a price of %d msat; the store refunds it", inv.AmountPaidMsat, amount)
			outcome = purchases.SettledFailed
			p, err = refusePayment(ctx, tx, id, inv.AmountPaidMsat, meta, outcome, reason)
			return err
		}
		p, outcome, err = s.sell(ctx, tx, id, inv, feeBps, meta)
		if err == nil && outcome == purchases.SettledDuplicate {
			p, err = refusePayment(ctx, tx, id, inv.AmountPaidMsat, meta, outcome,
				"a second payment for a game you own already: nothing was granted, and the store refunds it")
		}
		return err
	})
	if err != nil {
		return market.Purchase{}, outcome, err
	}
	return p, outcome, nil
}

// sell applies the sale of the PENDING purchase id, locked in tx. In one batch it grants the
// entitlement and, only if it granted one, marks the purchase PAID with paid_at, writes
// INVOICE_PAID, PLATFORM_FEE and DEVELOPER_NET, inserts the payout when the developer's share
// is owed, records the library change and announces the purchase; it reads the purchase back
// in the same batch. Then it enqueues the payout's job, or records the payout FAILED when the
// developer has no payout profile. A buyer who owns the game already is SettledDuplicate, with
// nothing written.
func (s *PurchaseRepo) sell(ctx context.Context, tx pgx.Tx, id string, inv lightning.Invoice, feeBps int, meta map[string]any) (market.Purchase, purchases.SettleOutcome, error) {
	raw, err := json.Marshal(meta)
	if err != nil {
		return market.Purchase{}, "", err
	}
	paid := inv.AmountPaidMsat
	fee, net := market.Split(paid, feeBps)
	var p market.Purchase
	var granted bool
	var payoutID, address string
	b := &pgx.Batch{}
	b.Queue(grantSQL, id).QueryRow(func(row pgx.Row) (err error) {
		_, granted, err = scanGrant(row)
		return err
	})
	// The statements below change nothing when no entitlement was granted: the purchase is then
	// still PENDING.
	b.Queue(`
		UPDATE purchases SET status = 'PAID', paid_at = $2, updated_at = now()
		WHERE id = $1 AND EXISTS (SELECT 1 FROM entitlements WHERE purchase_id = $1)`, id, inv.SettledAt)
	if !brokenSettlement {
		b.Queue(`
		INSERT INTO ledger_entries (purchase_id, type, amount_msat, meta_json)
		SELECT p.id, e.type, e.amount, $8 FROM purchases p,
		       (VALUES (1, $2::text, $3::bigint), (2, $4, $5), (3, $6, $7)) AS e(n, type, amount)
		WHERE p.id = $1 AND p.status = 'PAID'
		ORDER BY e.n`, id, market.LedgerInvoicePaid, paid, market.LedgerPlatformFee, fee, market.LedgerDeveloperNet, net, raw)
	}
	owed := payouts.Owed(net)
	if owed {
		b.Queue(`
			INSERT INTO payouts (purchase_id, developer_user_id, destination_ln_address, amount_msat, status, idempotency_key, last_error)
			SELECT p.id, g.developer_user_id, coalesce(d.payout_ln_address, ''), $2,
			       CASE WHEN d.user_id IS NULL THEN 'FAILED' ELSE 'SCHEDULED' END, 'payout:' || p.id,
			       CASE WHEN d.user_id IS NULL THEN $3 END
			FROM purchases p JOIN games g ON g.id = p.game_id LEFT JOIN developer_profiles d ON d.user_id = g.developer_user_id
			WHERE p.id = $1 AND p.status = 'PAID'
			RETURNING id, destination_ln_address`, id, net, purchases.NoPayoutProfile).QueryRow(func(row pgx.Row) error {
			err := row.Scan(&payoutID, &address)
			if errors.Is(err, pgx.ErrNoRows) && !granted {
				return nil
			}
			return err
		})
	}
	b.Queue(`
		INSERT INTO library_changes (kind, game_id, user_id, guest_receipt_code, entitlement_id)
		SELECT $2, game_id, buyer_user_id, guest_receipt_code, id FROM entitlements WHERE purchase_id = $1`,
		id, market.ChangeGranted) // as libraryChange, for the entitlement granted if any
	b.Queue(`SELECT pg_notify($1, id::text) FROM purchases WHERE id = $2 AND status = 'PAID'`, PurchaseChannel, id)
	b.Queue(purchaseSelect+` WHERE p.id = $1`, id).QueryRow(func(row pgx.Row) (err error) {
		p, err = scanPurchase(row)
		return err
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return market.Purchase{}, "", err
	}
	switch {
	case !granted:
		return market.Purchase{}, purchases.SettledDuplicate, nil
	case !owed:
		return p, purchases.SettledPaid, nil // the whole price is the platform's fee: no payout of nothing
	case address == "":
		return p, purchases.SettledPaidPayoutFailed, ledger(ctx, tx, id, market.LedgerPayoutFailed, net,
			map[string]any{"payout_id": payoutID, "error": purchases.NoPayoutProfile})
	}
	return p, purchases.SettledPaid, s.db.enqueue(ctx, tx, payouts.Args{PurchaseID: id}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
}

// refusePayment closes the PENDING purchase id FAILED with the reason, records the money that
// arrived for it as unaccounted (receivedUnaccounted), and returns the purchase.
func refusePayment(ctx context.Context, tx pgx.Tx, id string, amount int64, meta map[string]any, why purchases.SettleOutcome, reason string) (market.Purchase, error) {
	if err := closeTx(ctx, tx, id, market.PurchaseFailed, reason); err != nil {
		return market.Purchase{}, err
	}
	if _, err := receivedUnaccounted(ctx, tx, id, amount, meta, why, reason); err != nil {
		return market.Purchase{}, err
	}
	return scanPurchase(tx.QueryRow(ctx, purchaseSelect+` WHERE p.id = $1`, id))
}

// SaveCursor implements purchases.Store: the cursor only moves forward.
func (s *PurchaseRepo) SaveCursor(ctx context.Context, provider string, settleIndex uint64) error {
	_, err := s.db.pool.Exec(ctx, `
		INSERT INTO lightning_cursors (provider, settle_index) VALUES ($1, $2)
		ON CONFLICT (provider) DO UPDATE SET settle_index = greatest(lightning_cursors.settle_index, EXCLUDED.settle_index)`,
		provider, int64(settleIndex))
	return err
}

// ResetCursor implements purchases.Store.
func (s *PurchaseRepo) ResetCursor(ctx context.Context, provider string, from uint64) error {
	_, err := s.db.pool.Exec(ctx, `UPDATE lightning_cursors SET settle_index = 0 WHERE provider = $1 AND settle_index = $2`,
		provider, int64(from))
	return err
}

// receivedUnaccounted records money received for a purchase that cannot take it as its
// INVOICE_PAID entry (meta_json.unaccounted says why), once: it reports false when the
// purchase has its INVOICE_PAID already.
func receivedUnaccounted(ctx context.Context, tx pgx.Tx, purchaseID string, amount int64, meta map[string]any, why purchases.SettleOutcome, reason string) (bool, error) {
	meta["unaccounted"], meta["reason"] = why, reason
	raw, err := json.Marshal(meta)
	if err != nil {
		return false, err
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO ledger_entries (purchase_id, type, amount_msat, meta_json) VALUES ($1, 'INVOICE_PAID', $2, $3)
		ON CONFLICT (purchase_id) WHERE type = 'INVOICE_PAID' DO NOTHING`, purchaseID, amount, raw)
	return tag.RowsAffected() == 1, err
}

// Close moves a PENDING purchase to EXPIRED or FAILED with a reason; a purchase no longer
// PENDING is left alone (ok false).
func (s *PurchaseRepo) Close(ctx context.Context, id string, to market.PurchaseStatus, reason string) (bool, error) {
	var ok bool
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		err := closeTx(ctx, tx, id, to, reason)
		if errors.Is(err, errNotPending) {
			return nil
		}
		ok = err == nil
		return err
	})
	return ok, err
}

var errNotPending = errors.New("the purchase is not PENDING")

// closeTx moves a PENDING purchase to EXPIRED or FAILED with a reason and announces it; a
// purchase no longer PENDING is errNotPending.
func closeTx(ctx context.Context, tx pgx.Tx, id string, to market.PurchaseStatus, reason string) error {
	tag, err := tx.Exec(ctx, `
		UPDATE purchases SET status = $2, failure_reason = nullif($3, ''), updated_at = now()
		WHERE id = $1 AND status = 'PENDING'`, id, to, reason)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return errNotPending
	}
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, PurchaseChannel, id)
	return err
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
// the user; the code stops working on its own. A purchase that grants nothing (refunded,
// revoked, never paid) is refused with the reason (market.CheckClaim), and so is a claim that
// would give the user a game they own, or a second open purchase of one: the receipt then
// stays the guest's.
func (s *PurchaseRepo) Claim(ctx context.Context, codeHash, userID string) (market.Purchase, error) {
	var id string
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		p, err := scanPurchase(tx.QueryRow(ctx, purchaseSelect+` WHERE p.guest_receipt_code = $1 FOR UPDATE OF p`, codeHash))
		if err != nil {
			return notFound(err, "no purchase has that receipt code, or it was claimed already")
		}
		id = p.ID
		var revoked bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM entitlements WHERE purchase_id = $1 AND revoked_at IS NOT NULL)`,
			p.ID).Scan(&revoked); err != nil {
			return err
		}
		if err := market.CheckClaim(p, revoked); err != nil {
			return err
		}
		owned := market.Errorf(market.CodeAlreadyExists,
			"you own %q already: this receipt was not claimed and still works on its own", p.GameTitle)
		if _, err := entitlement(ctx, tx, userID, p.GameID); err == nil {
			return owned
		} else if market.ErrorCode(err) != market.CodeNotFound {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE purchases SET buyer_user_id = $2, guest_receipt_code = NULL, guest_receipt_sealed = NULL, updated_at = now()
			WHERE id = $1`, p.ID, userID)
		if uniqueViolation(err, "purchases_one_pending_idx") {
			return market.Errorf(market.CodeFailedPrecondition,
				"you have an open purchase of %q already: pay or let one of them expire, then claim this receipt", p.GameTitle)
		}
		if err != nil {
			return err
		}
		var entID, gameID string
		err = tx.QueryRow(ctx, `
			UPDATE entitlements SET buyer_user_id = $2, guest_receipt_code = NULL
			WHERE purchase_id = $1 RETURNING id, game_id`, p.ID, userID).Scan(&entID, &gameID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // not paid yet: the entitlement will be the user's when it is
		}
		if uniqueViolation(err, "entitlements_one_live_idx") {
			return owned
		}
		if err != nil {
			return err
		}
		return libraryChange(ctx, tx, string(market.ChangeGranted), gameID, &userID, nil, &entID, nil)
	})
	if err != nil {
		return market.Purchase{}, err
	}
	return s.Purchase(ctx, id)
}
