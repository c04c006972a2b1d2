package market

import (
	"strings"
	"time"
)

// AdminAction names what an operator did.
type AdminAction string

const (
	ActionSetGameStatus     AdminAction = "SET_GAME_STATUS"
	ActionUnbanGame         AdminAction = "UNBAN_GAME"
	ActionRevokeEntitlement AdminAction = "REVOKE_ENTITLEMENT"
	ActionRefundPurchase    AdminAction = "REFUND_PURCHASE"
	ActionRetryPayout       AdminAction = "RETRY_PAYOUT"
	ActionCancelPayout      AdminAction = "CANCEL_PAYOUT"
)

// Kinds of things an admin action is done to.
const (
	TargetGame        = "game"
	TargetEntitlement = "entitlement"
	TargetPurchase    = "purchase"
	TargetPayout      = "payout"
)

// AuditRecord is what an admin action leaves behind, written in the same transaction as the
// change: who (the admin's key), what (the action and its target, Details), when, and why.
type AuditRecord struct {
	ID          string
	AdminPubkey string
	Action      AdminAction
	TargetKind  string
	TargetID    string
	Reason      string
	Details     map[string]any // what changed, from what to what
	At          time.Time
}

const maxReason = 500

// NewAudit checks that a is an admin and that the reason is acceptable (required when
// reasonRequired), and returns the audit record of action on the target; the store adds the
// details and the time.
func NewAudit(a Actor, action AdminAction, targetKind, targetID, reason string, reasonRequired bool) (AuditRecord, error) {
	if err := RequireAdmin(a); err != nil {
		return AuditRecord{}, err
	}
	if err := checkText("reason", reason, 0, maxReason, true); err != nil {
		return AuditRecord{}, err
	}
	if reasonRequired && strings.TrimSpace(reason) == "" {
		return AuditRecord{}, Errorf(CodeInvalid, "reason is required for %s: say why, in words the next operator will understand", action)
	}
	return AuditRecord{AdminPubkey: a.Pubkey, Action: action, TargetKind: targetKind, TargetID: targetID,
		Reason: strings.TrimSpace(reason), Details: map[string]any{}}, nil
}

// StatusReasonRequired reports whether moving a game to status to needs a reason: banning
// does, featuring and the rest do not.
func StatusReasonRequired(to GameStatus) bool { return to == StatusBanned }

// CheckUnban decides whether an admin may lift g's ban and to which status: before is the
// status the game had when it was banned ("" when unknown), hasPublished whether it has a
// published release. A game returns to its status before the ban, or UNLISTED when that is
// unknown or no longer possible.
func CheckUnban(a Actor, g Game, before GameStatus, hasPublished bool) (GameStatus, error) {
	if err := RequireAdmin(a); err != nil {
		return "", err
	}
	if g.Status != StatusBanned {
		return "", Errorf(CodeFailedPrecondition, "game %q is %s, not BANNED: nothing to unban", g.Slug, g.Status)
	}
	to := before
	if !to.Valid() || to == StatusBanned || checkListable(g, to, hasPublished) != nil {
		to = StatusUnlisted
	}
	return to, nil
}

// Entitlement is a buyer's right to download a game, granted by a paid purchase.
type Entitlement struct {
	ID          string
	PurchaseID  string
	GameID      string
	BuyerUserID string // empty for an unclaimed guest purchase
	GrantedAt   time.Time
	RevokedAt   *time.Time
}

// CheckRevoke refuses to revoke an entitlement that is revoked already.
func CheckRevoke(e Entitlement) error {
	if e.RevokedAt != nil {
		return Errorf(CodeFailedPrecondition, "entitlement %s was revoked at %s already", e.ID, e.RevokedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// LedgerRefund is the ledger type of a refund made outside the system (beyond the seeds): one
// entry reverses the sale's PLATFORM_FEE and another its DEVELOPER_NET, each naming the type it
// reverses in meta_json.reverses, so the refund's entries sum to INVOICE_PAID.
const LedgerRefund LedgerType = "REFUND"

// CheckRefund decides whether a purchase may be marked REFUNDED: a PAID purchase of a game
// with a price (a free one has nothing to refund: revoke its entitlement instead), or an
// EXPIRED or FAILED one for which unaccountedMsat arrived anyway (late, underpaid, or a second
// payment for an owned game): beyond DESIGN.md's state machine, EXPIRED and FAILED may become
// REFUNDED when money was received for them.
func CheckRefund(p Purchase, unaccountedMsat int64) error {
	switch {
	case p.Status == PurchaseRefunded:
		return Errorf(CodeFailedPrecondition, "purchase %s is REFUNDED already", p.ID)
	case (p.Status == PurchaseExpired || p.Status == PurchaseFailed) && unaccountedMsat > 0:
		return nil
	case p.Status != PurchasePaid:
		return Errorf(CodeFailedPrecondition, "purchase %s is %s and no money was received for it: only a PAID purchase, or money received for one that is not, can be refunded", p.ID, p.Status)
	case p.Provider == "":
		return Errorf(CodeFailedPrecondition, "purchase %s was free: nothing was paid, so nothing can be refunded; revoke its entitlement instead", p.ID)
	}
	return nil
}
