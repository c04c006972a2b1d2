package market

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"time"
)

// PurchaseStatus is where a purchase is: PENDING -> PAID | EXPIRED | FAILED, PAID -> REFUNDED.
type PurchaseStatus string

const (
	PurchasePending  PurchaseStatus = "PENDING"
	PurchasePaid     PurchaseStatus = "PAID"
	PurchaseExpired  PurchaseStatus = "EXPIRED"
	PurchaseFailed   PurchaseStatus = "FAILED"
	PurchaseRefunded PurchaseStatus = "REFUNDED"
)

// Final reports whether no further change can happen to the purchase but a refund.
func (s PurchaseStatus) Final() bool { return s != PurchasePending }

// Purchase is a payment attempt for a game, and its outcome.
type Purchase struct {
	ID             string
	GameID         string
	GameTitle      string
	BuyerUserID    string // empty for a guest
	GuestCodeHash  string // ReceiptHash of a guest's receipt code; empty once claimed
	Provider       string // invoice provider ("lnd", "dev"); empty for a free game
	InvoiceID      string // the provider's id (payment hash); empty for a free game
	PaymentRequest string // BOLT 11; empty for a free game
	Status         PurchaseStatus
	AmountMsat     int64
	ExpiresAt      *time.Time
	PaidAt         *time.Time
	FailureReason  string
	CreatedAt      time.Time
	// SealedReceipt is a guest's receipt code sealed under the server's secret, so that a retry
	// can be given the code again; nil for others and once claimed.
	SealedReceipt []byte
}

// Guest reports whether the purchase belongs to a receipt code rather than a user.
func (p Purchase) Guest() bool { return p.BuyerUserID == "" }

// LedgerType is the kind of a ledger entry.
type LedgerType string

const (
	LedgerInvoiceCreated LedgerType = "INVOICE_CREATED"
	LedgerInvoicePaid    LedgerType = "INVOICE_PAID"
	LedgerPlatformFee    LedgerType = "PLATFORM_FEE"
	LedgerDeveloperNet   LedgerType = "DEVELOPER_NET"
	LedgerPayoutSent     LedgerType = "PAYOUT_SENT"
	LedgerPayoutFailed   LedgerType = "PAYOUT_FAILED"
	// LedgerPayoutRoutingFee (beyond the seeds) is the routing fee the platform paid, on top of
	// the developer's amount, to send a payout: never more than the sale's PLATFORM_FEE.
	LedgerPayoutRoutingFee LedgerType = "PAYOUT_ROUTING_FEE"
)

// Split divides an amount received between the platform and the developer: the fee is
// floor(amount × feeBps / 10000), so rounding favours the developer, and fee + net = amount.
func Split(amountMsat int64, feeBps int) (feeMsat, netMsat int64) {
	fee := amountMsat / 10000 * int64(feeBps)
	fee += amountMsat % 10000 * int64(feeBps) / 10000 // no overflow for any amount below 2^63/10^4
	return fee, amountMsat - fee
}

// CheckPurchasable refuses games that are not for sale: drafts and banned games (a draft as
// GameNotFound to whom it is hidden, see Hidden). An UNLISTED game is for sale to whoever has
// its link.
func CheckPurchasable(a Actor, g Game) error {
	if Hidden(a, g) {
		return GameNotFound(g.ID)
	}
	if g.Status == StatusDraft || g.Status == StatusBanned {
		return Errorf(CodeFailedPrecondition, "game %q is not for sale", g.Slug)
	}
	return nil
}

var (
	requestIDPattern    = regexp.MustCompile(`^[A-Za-z0-9-]{8,64}$`)
	clientSecretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{32,128}$`)
)

// RequestKey scopes a client's request id to who asks and to the game, so that a retry returns
// the purchase it made and never anyone else's. A signed-in buyer is known by their key; a guest
// proves it is the same client with clientSecret (at least 128 random bits, 32 to 128 letters,
// digits, '-' or '_'), of which the key keeps only a hash. An empty request id gives an empty
// key (no retry protection).
func RequestKey(a Actor, gameID, requestID, clientSecret string) (string, error) {
	if requestID == "" {
		return "", nil
	}
	if !requestIDPattern.MatchString(requestID) {
		return "", Errorf(CodeInvalid, "request_id must be 8 to 64 letters, digits or dashes, such as a random UUID")
	}
	if !a.Anonymous() {
		return "u:" + a.UserID + ":" + gameID + ":" + requestID, nil
	}
	if !clientSecretPattern.MatchString(clientSecret) {
		return "", Errorf(CodeInvalid, "a guest's request_id needs a client_secret: 32 to 128 random letters, digits, '-' or '_' (such as 32 random hex digits), the same on every retry")
	}
	sum := sha256.Sum256([]byte(clientSecret))
	return "g:" + gameID + ":" + hex.EncodeToString(sum[:]) + ":" + requestID, nil
}

// CheckPurchaseAccess decides whether the caller may see p: its buyer, admins, or whoever
// gives the guest receipt code whose hash is codeHash.
func CheckPurchaseAccess(a Actor, p Purchase, codeHash string) error {
	switch {
	case a.Admin, !a.Anonymous() && a.UserID == p.BuyerUserID:
		return nil
	case codeHash != "" && codeHash == p.GuestCodeHash:
		return nil
	case a.Anonymous() && codeHash == "":
		return Errorf(CodeUnauthenticated, "sign in, or give the purchase's receipt code")
	}
	return Errorf(CodeNotFound, "no purchase %s for you", p.ID)
}

// CheckClaim decides whether a guest purchase may move to a signed-in player: a PAID purchase
// whose entitlement stands, or a PENDING one (the game is theirs once it is paid). A refunded,
// revoked, expired or failed purchase grants nothing, and the error says why.
func CheckClaim(p Purchase, revoked bool) error {
	switch {
	case p.Status == PurchaseRefunded:
		return Errorf(CodeFailedPrecondition, "purchase %s was refunded: its receipt code grants nothing any more", p.ID)
	case p.Status == PurchaseExpired || p.Status == PurchaseFailed:
		return Errorf(CodeFailedPrecondition, "purchase %s was never paid (%s): its receipt code grants nothing; buy the game again", p.ID, p.Status)
	case revoked:
		return Errorf(CodeFailedPrecondition, "the game of purchase %s was revoked by the store's operator: its receipt code grants nothing", p.ID)
	}
	return nil
}
