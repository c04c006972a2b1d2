package purchases

import (
	"context"
	"time"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/market"
)

// Store keeps purchases, entitlements and the provider's settlement cursor. Package postgres
// implements it.
type Store interface {
	// Purchase returns a purchase by id (market NotFound if none).
	Purchase(ctx context.Context, id string) (market.Purchase, error)
	// PurchaseByRequestKey returns the purchase a request key made (market NotFound if none).
	PurchaseByRequestKey(ctx context.Context, key string) (market.Purchase, error)
	// OpenPurchase returns the buyer's PENDING purchase of the game (there is at most one), or
	// market NotFound.
	OpenPurchase(ctx context.Context, userID, gameID string) (market.Purchase, error)
	// GameByID returns a game in any status (market.GameNotFound if none).
	GameByID(ctx context.Context, gameID string) (market.Game, error)
	// Entitlement returns the id of the user's unrevoked entitlement to the game, or market
	// NotFound.
	Entitlement(ctx context.Context, userID, gameID string) (string, error)
	// EntitlementByReceipt returns the unrevoked entitlement of the unclaimed guest purchase
	// with that receipt hash to the game, or market NotFound.
	EntitlementByReceipt(ctx context.Context, codeHash, gameID string) (string, error)
	// CreatePending stores a PENDING purchase with its invoice and the INVOICE_CREATED ledger
	// entry. A taken request key is market AlreadyExists; a second open purchase of a game by
	// one buyer is ErrOpenPurchase.
	CreatePending(ctx context.Context, p market.Purchase, requestKey string) (market.Purchase, error)
	// GrantFree stores a free purchase as PAID with its entitlement, and no ledger money. Its
	// errors are CreatePending's, and market AlreadyExists when the buyer owns the game.
	GrantFree(ctx context.Context, p market.Purchase, requestKey string) (market.Purchase, error)
	// Settle applies a provider's settlement in one transaction, exactly once whatever arrives
	// twice, late or out of order, and says what it did (see SettleOutcome): the purchase PAID
	// with paid_at; ledger INVOICE_PAID, PLATFORM_FEE and DEVELOPER_NET split at feeBps
	// (market.Split); the entitlement; the payout SCHEDULED and its job, when the developer's
	// share is owed (payouts.Owed), or FAILED at once (NoPayoutProfile) when the developer has
	// no payout profile; and the library change. Money that no sale can take is one
	// INVOICE_PAID entry on its purchase and nothing else. It returns the purchase (zero when the
	// invoice is unknown, or the settlement was applied before). Settlements of different
	// purchases may be applied at the same time; the provider's cursor is SaveCursor's.
	Settle(ctx context.Context, provider string, inv lightning.Invoice, feeBps int) (market.Purchase, SettleOutcome, error)
	// SaveCursor stores the settle index below which (inclusive) every settlement of the
	// provider is applied, unless a higher one is stored already.
	SaveCursor(ctx context.Context, provider string, settleIndex uint64) error
	// Close moves a PENDING purchase to EXPIRED or FAILED with a reason; a purchase no longer
	// PENDING is left alone (ok false).
	Close(ctx context.Context, id string, to market.PurchaseStatus, reason string) (ok bool, err error)
	// Pending returns the PENDING purchases of a provider; with dueBy set, only those whose
	// invoice expired before it.
	Pending(ctx context.Context, provider string, dueBy *time.Time) ([]market.Purchase, error)
	// Cursor returns the last settle index handled for a provider (0 if none).
	Cursor(ctx context.Context, provider string) (uint64, error)
	// ResetCursor sets the provider's cursor back to 0 if it is still from, for a provider
	// whose settle indexes started again (lightning.ErrIndexBehind): another instance that
	// reset it and moved on is not set back.
	ResetCursor(ctx context.Context, provider string, from uint64) error
	// Claim moves the unclaimed guest purchase with that receipt hash, and its entitlement, to
	// the user. A purchase that grants nothing is refused with market.CheckClaim's reason, and
	// so is a claim that would give the user a game they own, or a second open purchase of one.
	Claim(ctx context.Context, codeHash, userID string) (market.Purchase, error)
}

// LibraryStore reads players' libraries. Package postgres implements it.
type LibraryStore interface {
	// Library returns the user's owned games and the id of the last library change so far.
	Library(ctx context.Context, userID string) ([]market.LibraryGame, int64, error)
	// Changes returns up to limit changes to the user's library after change id after, oldest
	// first, each granted or published one with its game as it is now.
	Changes(ctx context.Context, userID string, after int64, limit int) ([]market.LibraryChange, error)
}

// Notifier tells of changes committed by any server instance. Package postgres implements it.
type Notifier interface {
	// PurchaseChanges returns a channel that receives the id of each purchase whose status
	// changes from now on, and Resync whenever some may have been missed; and the function that
	// ends the subscription. A subscriber that falls behind misses the newest ids: subscribers
	// re-read state rather than trust the ids alone.
	PurchaseChanges() (<-chan string, func())
	// LibraryChanges is PurchaseChanges for changes to libraries; the payloads say nothing but
	// that some library may have changed.
	LibraryChanges() (<-chan string, func())
}

// Resync is what a Notifier sends when notifications may have been missed: subscribers re-read
// what they watch.
const Resync = ""

// ErrOpenPurchase says that the buyer has a PENDING purchase of the game already (see
// Store.OpenPurchase).
var ErrOpenPurchase = market.Errorf(market.CodeAlreadyExists, "you have an open purchase of this game: pay its invoice, or wait until it expires")

// SettleOutcome says what a settlement did (Store.Settle).
type SettleOutcome string

const (
	SettledPaid    SettleOutcome = "paid"      // the purchase is now PAID
	SettledIgnored SettleOutcome = "ignored"   // unknown invoice, or a settlement handled before
	SettledFailed  SettleOutcome = "underpaid" // less than the price arrived: FAILED, the money listed for a refund
	// SettledLate: the money arrived for a purchase already EXPIRED or FAILED; it is recorded
	// and listed for a refund.
	SettledLate SettleOutcome = "late"
	// SettledDuplicate: the money arrived for a game its buyer owns already (a second payment):
	// the purchase is FAILED, the money recorded and listed for a refund; nothing is granted.
	SettledDuplicate SettleOutcome = "duplicate"
	// SettledPaidPayoutFailed: the purchase is PAID, but its developer has no payout profile,
	// so its payout is FAILED at once (NoPayoutProfile) for the operator to retry once they
	// have one.
	SettledPaidPayoutFailed SettleOutcome = "paid, payout failed"
)

// NoPayoutProfile is the last error of a payout whose developer had no payout profile.
const NoPayoutProfile = "the developer has no payout profile (no Lightning Address): ask them to set one, then retry this payout"
