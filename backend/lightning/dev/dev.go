// Package dev is the dev invoice provider: test money for local runs, the default when no LND
// node is configured, never enabled together with one.
//
// It issues invoices in the real BOLT 11 format on regtest (lnbcrt...), signed by a node key of
// its own, so the same decoding code and QR codes work as with LND. Nothing pays them on its
// own: they are settled when told, by Settle (`satchel-server dev pay <invoice>`, the launcher's
// "Pay with test money" button through a dev-only RPC) or by PayInvoice from the same database.
// It takes no real money and pays none: PayInvoice only records payments (see there).
//
// Everything lives in PostgreSQL (migration 0004: dev_node, dev_invoices, dev_payments), because
// `dev pay` runs in another process than the server and the server must survive restarts.
// Settlements are announced with pg_notify on the channel "dev_invoice_settled".
package dev

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/lightning/bolt11"
	"satchel.dev/backend/market"
)

// NotifyChannel is the PostgreSQL notification channel a settlement is announced on; the
// payload is its settle index. Listeners must read settlements by index, never from payloads.
const NotifyChannel = "dev_invoice_settled"

// settleLock is the key of the transaction-level advisory lock every settlement takes just
// before it takes its settle index. Held until after commit, it makes settle indexes become
// visible in index order, so a subscriber that has seen index n has seen every index below n.
const settleLock = 0x5a7cde7

// paymentLockClass is the first key of the transaction-level advisory lock PayInvoice holds on
// one payment hash (the second key is the hash's hashtext), so a payment hash is paid once.
// Two-key advisory locks never conflict with one-key ones such as settleLock.
const paymentLockClass = 0x5a7c

// Errors of Settle and CancelInvoice, wrapped with the invoice's details.
var (
	ErrAlreadyPaid = errors.New("dev invoice is already paid")
	ErrExpired     = errors.New("dev invoice has expired")
	ErrCanceled    = errors.New("dev invoice was canceled")
	// ErrNotInvoice: what Settle was given is neither a payment hash nor a BOLT 11 invoice.
	ErrNotInvoice = errors.New("neither a payment hash nor a BOLT 11 invoice")
)

// refusal is one of Settle's refusals: its message and chain are err's (errors.Is still finds
// the sentinel), and it carries the domain code a person paying with test money is answered
// with (market.ErrorCode, and so the RPC's code).
type refusal struct {
	code market.Code
	err  error
}

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// As gives errors.As the refusal as a *market.Error of its code and message.
func (r *refusal) As(target any) bool {
	t, ok := target.(**market.Error)
	if ok {
		*t = &market.Error{Code: r.code, Message: r.err.Error()}
	}
	return ok
}

// coded gives Settle's refusals their domain code: a request that is not an invoice is
// invalid, an invoice of another node or none is not found, and one that is paid, expired or
// canceled cannot be paid now. Anything else (the database failed) is left as it is: internal.
func coded(err error) error {
	var code market.Code
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotInvoice):
		code = market.CodeInvalid
	case errors.Is(err, ErrAlreadyPaid), errors.Is(err, ErrExpired), errors.Is(err, ErrCanceled):
		code = market.CodeFailedPrecondition
	case errors.Is(err, lightning.ErrNotFound):
		code = market.CodeNotFound
	default:
		return err
	}
	return &refusal{code: code, err: err}
}

// Config configures a Provider.
type Config struct {
	// Now is the clock deciding expiry (default time.Now). Tests move it.
	Now func() time.Time
	// PollInterval is how often SubscribeSettlements looks for settlements even when no
	// notification came (default 5s): a safety net, notifications are the normal path.
	PollInterval time.Duration
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.PollInterval == 0 {
		c.PollInterval = 5 * time.Second
	}
	return c
}

// Validate reports a setting that cannot work.
func (c Config) Validate() error {
	if c.PollInterval < 0 {
		return fmt.Errorf("dev provider: PollInterval %v is negative", c.PollInterval)
	}
	return nil
}

// Provider is the dev invoice provider. It is safe for concurrent use, and several Providers
// (processes) may share one database.
type Provider struct {
	pool *pgxpool.Pool
	cfg  Config
	key  *btcec.PrivateKey
}

var _ lightning.Provider = (*Provider)(nil)

// New returns the dev provider on pool, whose database must be migrated (postgres.Migrate).
// It loads the dev node's key, creating it on the database's first use.
func New(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Provider, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	fresh, err := btcec.NewPrivateKey()
	if err != nil {
		return nil, fmt.Errorf("dev provider: node key: %w", err)
	}
	var raw []byte
	for range 2 { // a second try sees the key another process created while this one tried
		err = pool.QueryRow(ctx, `
			WITH created AS (
				INSERT INTO dev_node (private_key) VALUES ($1) ON CONFLICT (id) DO NOTHING RETURNING private_key
			)
			SELECT private_key FROM created UNION ALL SELECT private_key FROM dev_node`,
			fresh.Serialize()).Scan(&raw)
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("dev provider: node key: %w", err)
	}
	key, _ := btcec.PrivKeyFromBytes(raw)
	return &Provider{pool: pool, cfg: cfg, key: key}, nil
}

// Name implements lightning.Provider: "dev".
func (p *Provider) Name() string { return "dev" }

// Network implements lightning.Provider: "bcrt" (regtest).
func (p *Provider) Network() string { return bolt11.Regtest }

// NodeID is the dev node's public key (compressed), the payee of its invoices.
func (p *Provider) NodeID() [33]byte {
	var id [33]byte
	copy(id[:], p.key.PubKey().SerializeCompressed())
	return id
}

// CreateInvoice implements lightning.Provider. The invoice's timestamp is now to the second;
// expiry is rounded up to whole seconds, and 0 means bolt11.DefaultExpiry. The memo must fit
// a BOLT 11 description (bolt11.MaxFieldBytes bytes of UTF-8).
func (p *Provider) CreateInvoice(ctx context.Context, amountMsat int64, memo string, expiry time.Duration) (lightning.Invoice, error) {
	if amountMsat <= 0 {
		return lightning.Invoice{}, fmt.Errorf("dev provider: invoice amount must be positive, got %d msat", amountMsat)
	}
	if expiry < 0 {
		return lightning.Invoice{}, fmt.Errorf("dev provider: invoice expiry %v is negative", expiry)
	}
	if expiry == 0 {
		expiry = bolt11.DefaultExpiry
	}
	expiry = (expiry + time.Second - 1).Truncate(time.Second)

	var preimage, secret [32]byte
	if _, err := rand.Read(preimage[:]); err != nil {
		return lightning.Invoice{}, err
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return lightning.Invoice{}, err
	}
	inv := &bolt11.Invoice{
		Network:       bolt11.Regtest,
		AmountMsat:    amountMsat,
		Timestamp:     p.cfg.Now().Truncate(time.Second),
		PaymentHash:   sha256.Sum256(preimage[:]),
		PaymentSecret: secret,
		Description:   memo,
		Expiry:        expiry,
	}
	pr, err := bolt11.Encode(inv, p.key)
	if err != nil {
		return lightning.Invoice{}, fmt.Errorf("dev provider: %w", err)
	}
	row := p.pool.QueryRow(ctx, `
		INSERT INTO dev_invoices (payment_hash, preimage, payment_request, amount_msat, memo, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING `+invoiceColumns,
		hex.EncodeToString(inv.PaymentHash[:]), hex.EncodeToString(preimage[:]), pr, amountMsat, memo,
		inv.Timestamp, inv.ExpiresAt())
	out, _, err := p.scanInvoice(row)
	if err != nil {
		return lightning.Invoice{}, fmt.Errorf("dev provider: store invoice: %w", err)
	}
	return out, nil
}

// invoiceColumns are the columns scanInvoice reads, in its order.
const invoiceColumns = `payment_hash, payment_request, amount_msat, memo, created_at, expires_at, state,
	coalesce(settle_index, 0), coalesce(settled_at, 'epoch'), coalesce(amount_paid_msat, 0), preimage`

// scanInvoice reads one row of invoiceColumns; an OPEN invoice past its expiry reads as
// CANCELED. It also returns the preimage.
func (p *Provider) scanInvoice(row pgx.Row) (lightning.Invoice, string, error) {
	var inv lightning.Invoice
	var state, preimage string
	var settledAt time.Time
	var settleIndex int64
	if err := row.Scan(&inv.ID, &inv.PaymentRequest, &inv.AmountMsat, &inv.Memo, &inv.CreatedAt, &inv.ExpiresAt,
		&state, &settleIndex, &settledAt, &inv.AmountPaidMsat, &preimage); err != nil {
		return lightning.Invoice{}, "", err
	}
	inv.State = lightning.InvoiceState(state)
	if inv.State == lightning.InvoiceOpen && !p.cfg.Now().Before(inv.ExpiresAt) {
		inv.State = lightning.InvoiceCanceled
	}
	if inv.State == lightning.InvoiceSettled {
		inv.SettleIndex = uint64(settleIndex)
		inv.SettledAt = settledAt
	}
	return inv, preimage, nil
}

// normalizeHash returns id as a lowercase hex payment hash, or an ErrNotFound error.
func normalizeHash(id string) (string, error) {
	h := strings.ToLower(strings.TrimSpace(id))
	if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
		return "", fmt.Errorf("dev provider: no invoice %q: not a payment hash (64 hex digits): %w", id, lightning.ErrNotFound)
	}
	return h, nil
}

// LookupInvoice implements lightning.Provider.
func (p *Provider) LookupInvoice(ctx context.Context, id string) (lightning.Invoice, error) {
	hash, err := normalizeHash(id)
	if err != nil {
		return lightning.Invoice{}, err
	}
	return p.lookup(ctx, p.pool, hash)
}

func (p *Provider) lookup(ctx context.Context, q querier, hash string) (lightning.Invoice, error) {
	inv, _, err := p.scanInvoice(q.QueryRow(ctx, `SELECT `+invoiceColumns+` FROM dev_invoices WHERE payment_hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return lightning.Invoice{}, fmt.Errorf("dev provider: no invoice with payment hash %s: %w", hash, lightning.ErrNotFound)
	}
	return inv, err
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// CancelInvoice implements lightning.Provider. Canceling an expired invoice (which already
// reads as CANCELED) records it as canceled; a settled one fails with ErrAlreadyPaid.
func (p *Provider) CancelInvoice(ctx context.Context, id string) error {
	hash, err := normalizeHash(id)
	if err != nil {
		return err
	}
	tag, err := p.pool.Exec(ctx, `UPDATE dev_invoices SET state = 'CANCELED' WHERE payment_hash = $1 AND state = 'OPEN'`, hash)
	if err != nil {
		return fmt.Errorf("dev provider: cancel invoice: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	inv, err := p.lookup(ctx, p.pool, hash)
	if err != nil {
		return err
	}
	if inv.State == lightning.InvoiceSettled {
		return fmt.Errorf("dev provider: cannot cancel invoice %s: %w (settle index %d)", hash, ErrAlreadyPaid, inv.SettleIndex)
	}
	return nil // already canceled
}

// Settle pays the dev node's own open, unexpired invoice with test money, given its payment
// request (as a payer would paste it, "lightning:" prefix allowed) or its payment hash. The
// invoice is marked SETTLED with the next settle index and announced on NotifyChannel. This is
// what `satchel-server dev pay` and the launcher's "Pay with test money" button call.
//
// It fails with ErrAlreadyPaid for a settled invoice, ErrExpired for an expired one,
// ErrCanceled for a canceled one (all three market.CodeFailedPrecondition), ErrNotInvoice for
// what is neither an invoice nor a payment hash (market.CodeInvalid), and lightning.ErrNotFound
// for an invoice of another node or none at all (market.CodeNotFound).
func (p *Provider) Settle(ctx context.Context, paymentRequestOrHash string) (lightning.Invoice, error) {
	var inv lightning.Invoice
	hash, err := normalizeHash(paymentRequestOrHash)
	if err == nil {
		inv, _, err = p.settle(ctx, p.pool, hash)
	} else {
		// The exact payment request of one of this node's open invoices is settled by its text,
		// without recovering its signature; anything else is decoded to say what it is.
		inv, _, err = p.settleBy(ctx, p.pool, byRequest, requestText(paymentRequestOrHash))
		if errors.Is(err, pgx.ErrNoRows) {
			if hash, err = p.ownHash(paymentRequestOrHash); err != nil {
				return lightning.Invoice{}, coded(err)
			}
			inv, _, err = p.settle(ctx, p.pool, hash)
		} else if err != nil {
			err = fmt.Errorf("dev provider: settle: %w", err)
		}
	}
	if err == nil {
		p.announce(ctx, inv.SettleIndex)
	}
	return inv, coded(err)
}

// requestText is a pasted payment request as this node stores its own: no "lightning:" prefix,
// lowercase (an invoice in a QR code is often all uppercase; mixed case is no invoice).
func requestText(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= len("lightning:") && strings.EqualFold(s[:len("lightning:")], "lightning:") {
		s = s[len("lightning:"):]
	}
	if strings.ToUpper(s) == s {
		s = strings.ToLower(s)
	}
	return s
}

// announce tells subscribers of a committed settlement. It is sent after the commit, outside
// the settlement lock: a notifying transaction's commit waits on every other one's, and under
// the lock that wait would hold up every settlement. An announcement that fails is only late:
// subscribers also look every PollInterval. It is sent even when ctx was canceled meanwhile:
// the settlement happened.
func (p *Provider) announce(ctx context.Context, settleIndex uint64) {
	_, _ = p.pool.Exec(context.WithoutCancel(ctx), `SELECT pg_notify($1, $2)`, NotifyChannel, strconv.FormatUint(settleIndex, 10))
}

// ownHash turns a payment request of this node, or a payment hash, into the payment hash.
func (p *Provider) ownHash(s string) (string, error) {
	if hash, err := normalizeHash(s); err == nil {
		return hash, nil
	}
	inv, err := bolt11.Decode(s)
	if err != nil {
		return "", fmt.Errorf("dev provider: %q is %w (%v): paste the whole invoice (lnbcrt...) or its payment hash",
			market.Clip(s), ErrNotInvoice, err)
	}
	if inv.Payee != p.NodeID() {
		return "", fmt.Errorf("dev provider: invoice is payable to node %x, not to this dev node %x: %w",
			inv.Payee, p.NodeID(), lightning.ErrNotFound)
	}
	return hex.EncodeToString(inv.PaymentHash[:]), nil
}

// settle settles the invoice with payment hash hash in one statement on q (the pool, which
// runs it in a transaction of its own, or a transaction), which takes the settlement lock (held
// until its transaction ends, so settle indexes become visible in index order). The caller
// announces it once committed. It returns the settled invoice and its preimage, or says why
// the invoice cannot be settled (ErrAlreadyPaid, ErrExpired, ErrCanceled, lightning.ErrNotFound).
func (p *Provider) settle(ctx context.Context, q querier, hash string) (lightning.Invoice, string, error) {
	inv, preimage, err := p.settleBy(ctx, q, byHash, hash)
	if errors.Is(err, pgx.ErrNoRows) {
		cur, err := p.lookup(ctx, q, hash)
		switch {
		case err != nil:
			return lightning.Invoice{}, "", err
		case cur.State == lightning.InvoiceSettled:
			return lightning.Invoice{}, "", fmt.Errorf("dev provider: invoice %s: %w (settle index %d, at %s)",
				hash, ErrAlreadyPaid, cur.SettleIndex, cur.SettledAt.Format(time.RFC3339))
		case !p.cfg.Now().Before(cur.ExpiresAt):
			return lightning.Invoice{}, "", fmt.Errorf("dev provider: invoice %s: %w (at %s): create a new one",
				hash, ErrExpired, cur.ExpiresAt.Format(time.RFC3339))
		default:
			return lightning.Invoice{}, "", fmt.Errorf("dev provider: invoice %s: %w", hash, ErrCanceled)
		}
	}
	if err != nil {
		return lightning.Invoice{}, "", fmt.Errorf("dev provider: settle: %w", err)
	}
	return inv, preimage, nil
}

// invoiceKey is a unique column of dev_invoices an invoice is settled by.
type invoiceKey string

const (
	byHash    invoiceKey = "payment_hash"
	byRequest invoiceKey = "payment_request" // unique since migration 0014
)

// settleBy settles the open, unexpired invoice whose key column is value, as settle does, in
// one statement on q. pgx.ErrNoRows when there is no such invoice.
func (p *Provider) settleBy(ctx context.Context, q querier, key invoiceKey, value string) (lightning.Invoice, string, error) {
	return p.scanInvoice(q.QueryRow(ctx, `
		WITH locked AS MATERIALIZED (SELECT pg_advisory_xact_lock($3)),
		settled AS (
			UPDATE dev_invoices
			SET state = 'SETTLED', settle_index = nextval('dev_settle_index'), settled_at = $2, amount_paid_msat = amount_msat
			FROM locked
			WHERE `+string(key)+` = $1 AND state = 'OPEN' AND expires_at > $2
			RETURNING dev_invoices.*)
		SELECT `+invoiceColumns+` FROM settled`,
		value, p.cfg.Now(), settleLock))
}

// SubscribeSettlements implements lightning.Provider. It holds a connection of its own (taken
// from the pool, closed on return) listening on NotifyChannel. It first delivers the invoices
// settled with an index above after, then, on every notification (and every PollInterval),
// those above the last one delivered: it always reads by index, so a notification arriving
// before the replay finishes, or several arriving at once, neither loses nor repeats one.
func (p *Provider) SubscribeSettlements(ctx context.Context, after uint64, fn func(lightning.Invoice) error) error {
	pc, err := p.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("dev provider: subscribe: %w", err)
	}
	conn := pc.Hijack() // LISTEN state must not go back to the pool
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		conn.Close(closeCtx)
	}()

	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return p.subscribeErr(ctx, err)
	}
	last := after
	deliver := func() error {
		rows, err := conn.Query(ctx, `SELECT `+invoiceColumns+` FROM dev_invoices
			WHERE settle_index > $1 ORDER BY settle_index`, int64(last))
		if err != nil {
			return p.subscribeErr(ctx, err)
		}
		var batch []lightning.Invoice
		for rows.Next() {
			inv, _, err := p.scanInvoice(rows)
			if err != nil {
				rows.Close()
				return p.subscribeErr(ctx, err)
			}
			batch = append(batch, inv)
		}
		if err := rows.Err(); err != nil {
			return p.subscribeErr(ctx, err)
		}
		for _, inv := range batch {
			if err := fn(inv); err != nil {
				return err
			}
			last = inv.SettleIndex
		}
		return nil
	}
	if err := deliver(); err != nil {
		return err
	}
	for {
		wait, cancel := context.WithTimeout(ctx, p.cfg.PollInterval)
		_, err := conn.WaitForNotification(wait)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && (!errors.Is(err, context.DeadlineExceeded) || conn.IsClosed()) {
			return p.subscribeErr(ctx, err)
		}
		if err := deliver(); err != nil {
			return err
		}
	}
}

// subscribeErr is ctx.Err() once ctx is done, and err wrapped otherwise.
func (p *Provider) subscribeErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("dev provider: settlement stream broke: %w", err)
}

// PayInvoice implements lightning.Provider for test money: no money moves, ever.
//
// An invoice of the dev node itself is settled (as Settle does) and the payment succeeds with
// its preimage; if the invoice cannot be settled (already paid by other means, expired,
// canceled) the payment fails with that reason. Any other invoice, of any network, is only
// recorded as a succeeded payment with fee 0 and no preimage: local runs can then pay out to
// real Lightning Addresses without paying anything. An expired invoice or one without an
// amount is refused with an error and nothing is recorded.
//
// One payment per payment hash: paying an invoice whose payment succeeded returns that
// payment; one whose payment failed is tried again. maxFeeMsat and timeout do not matter:
// the fee is 0 and the result immediate.
func (p *Provider) PayInvoice(ctx context.Context, paymentRequest string, maxFeeMsat int64, timeout time.Duration) (lightning.Payment, error) {
	inv, err := bolt11.Decode(paymentRequest)
	if err != nil {
		return lightning.Payment{}, fmt.Errorf("dev provider: pay: %w", err)
	}
	if inv.AmountMsat == 0 {
		return lightning.Payment{}, errors.New("dev provider: pay: the invoice names no amount; ask for one with an amount")
	}
	hash := hex.EncodeToString(inv.PaymentHash[:])
	if inv.Payee != p.NodeID() {
		return p.record(ctx, hash, paymentRequest, inv)
	}
	var pay lightning.Payment
	var settled lightning.Invoice // one of ours, settled by this payment
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, paymentLockClass, hash); err != nil {
			return err
		}
		prev, err := p.payment(ctx, tx, hash)
		if err == nil && prev.Status == lightning.PaymentSucceeded {
			pay = prev
			return nil
		}
		if err != nil && !errors.Is(err, lightning.ErrNotFound) {
			return err
		}
		if inv.Expired(p.cfg.Now()) {
			return fmt.Errorf("dev provider: pay: the invoice expired at %s", inv.ExpiresAt().Format(time.RFC3339))
		}
		pay = lightning.Payment{PaymentHash: hash, Status: lightning.PaymentSucceeded, AmountMsat: inv.AmountMsat}
		// Settle it in this transaction; savepoint so a refusal can be recorded.
		err = pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
			var err error
			settled, pay.Preimage, err = p.settle(ctx, sp, hash)
			return err
		})
		switch {
		case errors.Is(err, ErrAlreadyPaid), errors.Is(err, ErrExpired), errors.Is(err, ErrCanceled), errors.Is(err, lightning.ErrNotFound):
			pay.Status, pay.FailureReason = lightning.PaymentFailed, err.Error()
		case err != nil:
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO dev_payments (payment_hash, payment_request, status, amount_msat, preimage, failure_reason)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (payment_hash) DO UPDATE SET payment_request = excluded.payment_request, status = excluded.status,
				amount_msat = excluded.amount_msat, preimage = excluded.preimage, failure_reason = excluded.failure_reason,
				updated_at = now()`,
			hash, paymentRequest, string(pay.Status), pay.AmountMsat, pay.Preimage, pay.FailureReason)
		return err
	})
	if err != nil {
		return lightning.Payment{}, err
	}
	if settled.SettleIndex > 0 {
		p.announce(ctx, settled.SettleIndex)
	}
	return pay, nil
}

// record is PayInvoice for another node's invoice inv (decoded from paymentRequest, with
// payment hash hash): the payment is recorded as succeeded, in one statement holding the
// payment hash's lock, unless it succeeded before (that payment is returned).
func (p *Provider) record(ctx context.Context, hash, paymentRequest string, inv *bolt11.Invoice) (lightning.Payment, error) {
	if inv.Expired(p.cfg.Now()) {
		prev, err := p.payment(ctx, p.pool, hash)
		switch {
		case err == nil && prev.Status == lightning.PaymentSucceeded:
			return prev, nil
		case err != nil && !errors.Is(err, lightning.ErrNotFound):
			return lightning.Payment{}, err
		}
		return lightning.Payment{}, fmt.Errorf("dev provider: pay: the invoice expired at %s", inv.ExpiresAt().Format(time.RFC3339))
	}
	pay, err := scanPayment(p.pool.QueryRow(ctx, `
		WITH locked AS MATERIALIZED (SELECT pg_advisory_xact_lock($4, hashtext($1)))
		INSERT INTO dev_payments AS d (payment_hash, payment_request, status, amount_msat)
		SELECT $1, $2, 'SUCCEEDED', $3 FROM locked
		ON CONFLICT (payment_hash) DO UPDATE SET payment_request = excluded.payment_request, status = excluded.status,
			amount_msat = excluded.amount_msat, preimage = '', failure_reason = '', updated_at = now()
		WHERE d.status <> 'SUCCEEDED'
		RETURNING `+paymentColumns,
		hash, paymentRequest, inv.AmountMsat, paymentLockClass))
	if errors.Is(err, pgx.ErrNoRows) {
		return p.payment(ctx, p.pool, hash) // it succeeded before
	}
	if err != nil {
		return lightning.Payment{}, fmt.Errorf("dev provider: pay: %w", err)
	}
	return pay, nil
}

// TrackPayment implements lightning.Provider.
func (p *Provider) TrackPayment(ctx context.Context, paymentHash string) (lightning.Payment, error) {
	hash, err := normalizeHash(paymentHash)
	if err != nil {
		return lightning.Payment{}, fmt.Errorf("dev provider: no payment %q: not a payment hash: %w", paymentHash, lightning.ErrNotFound)
	}
	return p.payment(ctx, p.pool, hash)
}

func (p *Provider) payment(ctx context.Context, q querier, hash string) (lightning.Payment, error) {
	pay, err := scanPayment(q.QueryRow(ctx, `SELECT `+paymentColumns+` FROM dev_payments WHERE payment_hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return lightning.Payment{}, fmt.Errorf("dev provider: no payment with hash %s: %w", hash, lightning.ErrNotFound)
	}
	return pay, err
}

// paymentColumns are the columns of dev_payments scanPayment reads, in its order.
const paymentColumns = `payment_hash, status, amount_msat, fee_msat, preimage, failure_reason`

func scanPayment(row pgx.Row) (lightning.Payment, error) {
	var pay lightning.Payment
	var status string
	if err := row.Scan(&pay.PaymentHash, &status, &pay.AmountMsat, &pay.FeeMsat, &pay.Preimage, &pay.FailureReason); err != nil {
		return lightning.Payment{}, err
	}
	pay.Status = lightning.PaymentStatus(status)
	return pay, nil
}
