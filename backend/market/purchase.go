package market

import (
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
)

// Split divides an amount received between the platform and the developer: the fee is
// floor(amount × feeBps / 10000), so rounding favours the developer, and fee + net = amount.
func Split(amountMsat int64, feeBps int) (feeMsat, netMsat int64) {
	fee := amountMsat / 10000 * int64(feeBps)
	fee += amountMsat % 10000 * int64(feeBps) / 10000 // no overflow for any amount below 2^63/10^4
	return fee, amountMsat - fee
}

// CheckPurchasable refuses games that are not for sale: drafts and banned games. An UNLISTED
// game is for sale to whoever has its link.
func CheckPurchasable(g Game) error {
	if g.Status == StatusDraft || g.Status == StatusBanned {
		return Errorf(CodeFailedPrecondition, "game %q is not for sale", g.Slug)
	}
	return nil
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]{8,64}$`)

// RequestKey scopes a client's request id to who asks, so that one buyer's retry never
// returns another's purchase. An empty request id gives an empty key (no retry protection).
func RequestKey(a Actor, requestID string) (string, error) {
	if requestID == "" {
		return "", nil
	}
	if !requestIDPattern.MatchString(requestID) {
		return "", Errorf(CodeInvalid, "request_id must be 8 to 64 letters, digits or dashes, such as a random UUID")
	}
	if a.Anonymous() {
		return "g:" + requestID, nil
	}
	return "u:" + a.UserID + ":" + requestID, nil
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
