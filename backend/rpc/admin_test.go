package rpc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/market"
	"satchel.dev/backend/payouts"
	"satchel.dev/backend/postgres"
	adminpb "satchel.dev/shared/api/satchel/admin/v1"
	"satchel.dev/shared/api/satchel/admin/v1/adminv1connect"
	catalogpb "satchel.dev/shared/api/satchel/catalog/v1"
	"satchel.dev/shared/api/satchel/catalog/v1/catalogv1connect"
	developerpb "satchel.dev/shared/api/satchel/developer/v1"
	"satchel.dev/shared/api/satchel/developer/v1/developerv1connect"
	librarypb "satchel.dev/shared/api/satchel/library/v1"
	purchasepb "satchel.dev/shared/api/satchel/purchase/v1"
)

func (b *bundle) adminClient(r role) adminv1connect.AdminServiceClient {
	return adminv1connect.NewAdminServiceClient(b.client(r), b.srv.URL)
}

// ban bans the fixture's game, as an admin.
func (b *bundle) ban() {
	b.t.Helper()
	if _, err := b.adminClient(admin).SetGameStatus(context.Background(), &adminpb.SetGameStatusRequest{
		GameId: b.game.ID, Status: catalogpb.GameStatus_GAME_STATUS_BANNED, Reason: "malware reported"}); err != nil {
		b.t.Fatal(err)
	}
}

// paid applies the settlement of the player's purchase and returns it, PAID, with its payout
// SCHEDULED (no worker pays it in these tests).
func (b *bundle) paid() market.Purchase {
	b.t.Helper()
	return b.settle(b.bought)
}

func (b *bundle) settle(p market.Purchase) market.Purchase {
	b.t.Helper()
	if err := b.purchases.Settle(context.Background(), settled(p, p.AmountMsat, 1)); err != nil {
		b.t.Fatal(err)
	}
	if st := b.status(p.ID); st != market.PurchasePaid {
		b.t.Fatalf("purchase %s is %s after its settlement", p.ID, st)
	}
	p.Status = market.PurchasePaid
	return p
}

// payout returns the payout of a purchase.
func (b *bundle) payout(purchaseID string) payouts.Payout {
	b.t.Helper()
	p, err := postgres.NewPayoutRepo(b.db).PayoutByPurchase(context.Background(), purchaseID)
	if err != nil {
		b.t.Fatal(err)
	}
	return p
}

// failedPayout returns the player's purchase's payout after its last attempt failed.
func (b *bundle) failedPayout() payouts.Payout {
	b.t.Helper()
	po := b.payout(b.paid().ID)
	p, err := postgres.NewPayoutRepo(b.db).MarkAttemptFailed(context.Background(), po.ID, "no route to the developer's node", true, time.Now())
	if err != nil || p.Status != payouts.StatusFailed {
		b.t.Fatalf("failing payout: %v %v", p.Status, err)
	}
	return p
}

// audit returns the audit records of a target, newest first.
func (b *bundle) audit(targetID string) []*adminpb.AuditRecord {
	b.t.Helper()
	res, err := b.adminClient(admin).ListAuditRecords(context.Background(), &adminpb.ListAuditRecordsRequest{TargetId: targetID})
	if err != nil {
		b.t.Fatal(err)
	}
	return res.GetRecords()
}

func details(t *testing.T, r *adminpb.AuditRecord) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal([]byte(r.GetDetailsJson()), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAdminBanFeatureUnban: a ban needs a reason; a banned game leaves the store, cannot be
// bought, and its downloads stop for its owners and its developer; unbanning restores its
// status before the ban. Featuring and unfeaturing. Every change is audited.
func TestAdminBanFeatureUnban(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ac := b.adminClient(admin)
	b.paid() // the player owns the game
	feature := func(status catalogpb.GameStatus, reason string) (*adminpb.SetGameStatusResponse, error) {
		return ac.SetGameStatus(ctx, &adminpb.SetGameStatusRequest{GameId: b.game.ID, Status: status, Reason: reason})
	}
	if res, err := feature(catalogpb.GameStatus_GAME_STATUS_FEATURED, ""); err != nil || res.GetGame().GetStatus() != catalogpb.GameStatus_GAME_STATUS_FEATURED {
		t.Fatalf("featuring: %v %v", res, err)
	}
	if res, err := feature(catalogpb.GameStatus_GAME_STATUS_LISTED, "rotation"); err != nil || res.GetGame().GetStatus() != catalogpb.GameStatus_GAME_STATUS_LISTED {
		t.Fatalf("unfeaturing: %v %v", res, err)
	}
	if _, err := feature(catalogpb.GameStatus_GAME_STATUS_BANNED, "  "); code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "reason") {
		t.Errorf("banning without a reason: %v", err)
	}
	b.ban()

	store := catalogv1connect.NewCatalogServiceClient(b.client(anonymous), b.srv.URL)
	list, err := store.ListGames(ctx, &catalogpb.ListGamesRequest{})
	if err != nil || len(list.GetGames()) != 0 {
		t.Errorf("the store with the game banned: %v %v", list, err)
	}
	if _, err := store.GetGame(ctx, &catalogpb.GetGameRequest{Slug: b.game.Slug}); code(err) != connect.CodeNotFound {
		t.Errorf("GetGame of a banned game: %v", err)
	}
	if _, err := b.purchaseClient(other).CreatePurchase(ctx, &purchasepb.CreatePurchaseRequest{GameId: b.game.ID}); code(err) != connect.CodeFailedPrecondition {
		t.Errorf("buying a banned game: %v", err)
	}
	for _, r := range []role{player, owner} {
		if _, err := b.libraryClient(r).GetDownload(ctx, &librarypb.GetDownloadRequest{GameId: b.game.ID}); code(err) != connect.CodePermissionDenied || !strings.Contains(err.Error(), "banned") {
			t.Errorf("%s's download of a banned game: %v", r, err)
		}
	}
	dev := developerv1connect.NewDeveloperServiceClient(b.client(owner), b.srv.URL)
	if _, err := dev.SetGameStatus(ctx, &developerpb.SetGameStatusRequest{GameId: b.game.ID, Status: catalogpb.GameStatus_GAME_STATUS_LISTED}); code(err) != connect.CodePermissionDenied {
		t.Errorf("the developer relisting a banned game: %v", err)
	}

	if _, err := ac.UnbanGame(ctx, &adminpb.UnbanGameRequest{GameId: b.game.ID}); code(err) != connect.CodeInvalidArgument {
		t.Errorf("unbanning without a reason: %v", err)
	}
	res, err := ac.UnbanGame(ctx, &adminpb.UnbanGameRequest{GameId: b.game.ID, Reason: "the report was wrong"})
	if err != nil || res.GetGame().GetStatus() != catalogpb.GameStatus_GAME_STATUS_LISTED {
		t.Fatalf("unbanning: %v %v, want LISTED again", res, err)
	}
	if _, err := ac.UnbanGame(ctx, &adminpb.UnbanGameRequest{GameId: b.game.ID, Reason: "again"}); code(err) != connect.CodeFailedPrecondition {
		t.Errorf("unbanning a game that is not banned: %v", err)
	}
	if list, _ := store.ListGames(ctx, &catalogpb.ListGamesRequest{}); len(list.GetGames()) != 1 {
		t.Errorf("the store after the unban: %v", list)
	}
	if _, err := b.libraryClient(player).GetDownload(ctx, &librarypb.GetDownloadRequest{GameId: b.game.ID}); err != nil {
		t.Errorf("the owner's download after the unban: %v", err)
	}

	records := b.audit(b.game.ID)
	var got []string
	for _, r := range records {
		d := details(t, r)
		got = append(got, r.GetAction()+" "+d["from"].(string)+"->"+d["to"].(string)+" "+r.GetReason())
		if r.GetAdminPubkey() != b.keys[admin].PublicKey().Hex() || r.GetTargetKind() != "game" || r.GetCreatedAt() == nil {
			t.Errorf("record %v", r)
		}
	}
	want := []string{"UNBAN_GAME BANNED->LISTED the report was wrong", "SET_GAME_STATUS LISTED->BANNED malware reported",
		"SET_GAME_STATUS FEATURED->LISTED rotation", "SET_GAME_STATUS LISTED->FEATURED "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit of the game, newest first (-want +got):\n%s", diff)
	}
}

// TestAdminRevokeEntitlement: the owner's launcher hears ENTITLEMENT_REVOKED on its library
// stream, downloads stop (for a guest's receipt code too), and revoking twice is refused.
func TestAdminRevokeEntitlement(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := b.paid()
	lib := b.libraryClient(player)
	list, err := lib.ListLibrary(ctx, &librarypb.ListLibraryRequest{})
	if err != nil || len(list.GetGames()) != 1 {
		t.Fatalf("library: %v %v", list, err)
	}
	stream := b.watchLibrary(ctx, lib, list.GetResumeToken())
	ac := b.adminClient(admin)
	for _, req := range []*adminpb.RevokeEntitlementRequest{
		{PurchaseId: p.ID},
		{PurchaseId: p.ID, EntitlementId: list.GetGames()[0].GetEntitlementId(), Reason: "both"},
	} {
		if _, err := ac.RevokeEntitlement(ctx, req); code(err) != connect.CodeInvalidArgument {
			t.Errorf("RevokeEntitlement(%v): %v, want invalid_argument", req, err)
		}
	}
	res, err := ac.RevokeEntitlement(ctx, &adminpb.RevokeEntitlementRequest{PurchaseId: p.ID, Reason: "chargeback"})
	if err != nil {
		t.Fatal(err)
	}
	e := res.GetEntitlement()
	if e.GetId() != list.GetGames()[0].GetEntitlementId() || e.GetRevokedAt() == nil || e.GetPurchaseId() != p.ID {
		t.Errorf("revoked %v", e)
	}
	if !stream.Receive() {
		t.Fatal(stream.Err())
	}
	if c := stream.Msg().GetChange(); c.GetKind() != librarypb.LibraryChange_KIND_ENTITLEMENT_REVOKED || c.GetGame().GetGameId() != b.game.ID {
		t.Errorf("the launcher heard %v, want ENTITLEMENT_REVOKED of the game", c)
	}
	if _, err := lib.GetDownload(ctx, &librarypb.GetDownloadRequest{GameId: b.game.ID}); code(err) != connect.CodePermissionDenied {
		t.Errorf("download after the revocation: %v", err)
	}
	if list, _ := lib.ListLibrary(ctx, &librarypb.ListLibraryRequest{}); len(list.GetGames()) != 0 {
		t.Errorf("library after the revocation: %v", list)
	}
	if _, err := ac.RevokeEntitlement(ctx, &adminpb.RevokeEntitlementRequest{EntitlementId: e.GetId(), Reason: "again"}); code(err) != connect.CodeFailedPrecondition {
		t.Errorf("revoking twice: %v", err)
	}
	if recs := b.audit(e.GetId()); len(recs) != 1 || recs[0].GetAction() != "REVOKE_ENTITLEMENT" || recs[0].GetReason() != "chargeback" {
		t.Errorf("audit of the entitlement: %v", recs)
	}

	// A guest's receipt code stops working too.
	b.settle(b.guest)
	guest := b.libraryClient(anonymous)
	if _, err := guest.GetDownload(ctx, &librarypb.GetDownloadRequest{GameId: b.game.ID, ReceiptCode: b.receipt}); err != nil {
		t.Fatalf("the guest's download before: %v", err)
	}
	if _, err := ac.RevokeEntitlement(ctx, &adminpb.RevokeEntitlementRequest{PurchaseId: b.guest.ID, Reason: "stolen code"}); err != nil {
		t.Fatal(err)
	}
	if _, err := guest.GetDownload(ctx, &librarypb.GetDownloadRequest{GameId: b.game.ID, ReceiptCode: b.receipt}); code(err) != connect.CodeNotFound {
		t.Errorf("the guest's download after: %v", err)
	}
	b.checkLedger()
}

// refunds returns a purchase's REFUND entries as "reverses amount".
func (b *bundle) refunds(purchaseID string) (entries []string, metas []map[string]any) {
	b.t.Helper()
	rows, err := b.db.Pool().Query(context.Background(), `
		SELECT meta_json->>'reverses', amount_msat, meta_json FROM ledger_entries
		WHERE purchase_id = $1 AND type = 'REFUND' ORDER BY meta_json->>'reverses'`, purchaseID)
	if err != nil {
		b.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var reverses string
		var amount int64
		meta := map[string]any{}
		if err := rows.Scan(&reverses, &amount, &meta); err != nil {
			b.t.Fatal(err)
		}
		entries = append(entries, fmt.Sprintf("%s %d", reverses, amount))
		metas = append(metas, meta)
	}
	return entries, metas
}

// TestAdminRefund: a refund made outside the system cancels the unpaid payout, marks the
// purchase REFUNDED, revokes its entitlement and writes two REFUND entries that reverse the
// fee and the net, so check-ledger passes; when the developer was paid already, the entry says
// how much to recover from them. Refunding twice, or a purchase that is not PAID, is refused.
func TestAdminRefund(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ac := b.adminClient(admin)
	if _, err := ac.RefundPurchase(ctx, &adminpb.RefundPurchaseRequest{PurchaseId: b.bought.ID, Reason: "x"}); code(err) != connect.CodeFailedPrecondition {
		t.Errorf("refunding a PENDING purchase: %v", err)
	}
	p := b.paid()
	if _, err := ac.RefundPurchase(ctx, &adminpb.RefundPurchaseRequest{PurchaseId: p.ID}); code(err) != connect.CodeInvalidArgument {
		t.Errorf("refunding without a reason: %v", err)
	}
	res, err := ac.RefundPurchase(ctx, &adminpb.RefundPurchaseRequest{PurchaseId: p.ID, Reason: "buyer paid twice", Reference: "ticket-42"})
	if err != nil || res.GetPurchase().GetStatus() != purchasepb.PurchaseStatus_PURCHASE_STATUS_REFUNDED {
		t.Fatalf("refund: %v %v", res, err)
	}
	if po := b.payout(p.ID); po.Status != payouts.StatusCanceled {
		t.Errorf("the unpaid payout is %s after the refund, want CANCELED", po.Status)
	}
	entries, metas := b.refunds(p.ID)
	if diff := cmp.Diff([]string{"DEVELOPER_NET 900000", "PLATFORM_FEE 100000"}, entries); diff != "" {
		t.Errorf("REFUND entries (-want +got):\n%s", diff)
	}
	for _, m := range metas {
		if m["reason"] != "buyer paid twice" || m["reference"] != "ticket-42" || m["by"] != b.keys[admin].PublicKey().Hex() || m["recover_from_developer_msat"] != nil {
			t.Errorf("REFUND meta_json %v", m)
		}
	}
	if _, err := b.libraryClient(player).GetDownload(ctx, &librarypb.GetDownloadRequest{GameId: b.game.ID}); code(err) != connect.CodePermissionDenied {
		t.Errorf("download after the refund: %v", err)
	}
	if _, err := ac.RefundPurchase(ctx, &adminpb.RefundPurchaseRequest{PurchaseId: p.ID, Reason: "again"}); code(err) != connect.CodeFailedPrecondition {
		t.Errorf("refunding twice: %v", err)
	}
	var actions []string
	for _, r := range b.audit(p.ID) {
		actions = append(actions, r.GetAction())
	}
	for _, r := range b.audit(b.payout(p.ID).ID) {
		actions = append(actions, r.GetAction()+" "+r.GetReason())
	}
	if diff := cmp.Diff([]string{"REFUND_PURCHASE", "CANCEL_PAYOUT purchase " + p.ID + " is being refunded: buyer paid twice"}, actions); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}

	// The guest's sale was paid out before the refund.
	g := b.settle(b.guest)
	po := b.payout(g.ID)
	if _, err := postgres.NewPayoutRepo(b.db).MarkSent(ctx, po.ID, lightning.Payment{Status: lightning.PaymentSucceeded}); err != nil {
		t.Fatal(err)
	}
	if _, err := ac.RefundPurchase(ctx, &adminpb.RefundPurchaseRequest{PurchaseId: g.ID, Reason: "game did not start"}); err != nil {
		t.Fatal(err)
	}
	_, metas = b.refunds(g.ID)
	if len(metas) != 2 || metas[0]["recover_from_developer_msat"] != float64(900_000) || metas[0]["payout_status"] != "SENT" {
		t.Errorf("refund of a sale paid out: %v", metas)
	}
	b.checkLedger()

	// The developer sees the refund in their ledger.
	dev := developerv1connect.NewDeveloperServiceClient(b.client(owner), b.srv.URL)
	ledger, err := dev.ListLedger(ctx, &developerpb.ListLedgerRequest{GameId: b.game.ID, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ledger.GetEntries() {
		if e.GetType() == developerpb.LedgerEntryType_LEDGER_ENTRY_TYPE_REFUND {
			n++
		}
	}
	if n != 4 {
		t.Errorf("the developer's ledger has %d REFUND entries, want 4", n)
	}

	// check-ledger notices a refund that does not reverse the whole sale.
	if _, err := b.db.Pool().Exec(ctx, `DELETE FROM ledger_entries WHERE purchase_id = $1 AND type = 'REFUND' AND meta_json->>'reverses' = 'PLATFORM_FEE'`, g.ID); err != nil {
		t.Fatal(err)
	}
	problems, err := b.db.CheckLedger(ctx)
	if err != nil || len(problems) != 1 || problems[0].PurchaseID != g.ID || !strings.Contains(problems[0].Problem, "REFUND entries") {
		t.Errorf("check-ledger with half a refund: %+v %v", problems, err)
	}
}

// TestAdminPayouts: operators list FAILED payouts, retry one, and cancel one (with a reason).
func TestAdminPayouts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ac := b.adminClient(admin)
	failed := b.failedPayout()
	list, err := ac.ListPayouts(ctx, &adminpb.ListPayoutsRequest{})
	if err != nil || len(list.GetPayouts()) != 1 || list.GetPayouts()[0].GetId() != failed.ID ||
		list.GetPayouts()[0].GetLastError() != "no route to the developer's node" {
		t.Fatalf("FAILED payouts: %v %v", list, err)
	}
	if list, _ := ac.ListPayouts(ctx, &adminpb.ListPayoutsRequest{Status: developerpb.PayoutStatus_PAYOUT_STATUS_SENT}); len(list.GetPayouts()) != 0 {
		t.Errorf("SENT payouts: %v", list)
	}
	res, err := ac.RetryPayout(ctx, &adminpb.RetryPayoutRequest{PayoutId: failed.ID, Reason: "the developer fixed their node"})
	if err != nil || res.GetPayout().GetStatus() != developerpb.PayoutStatus_PAYOUT_STATUS_RETRYING {
		t.Fatalf("retry: %v %v", res, err)
	}
	if _, err := ac.RetryPayout(ctx, &adminpb.RetryPayoutRequest{PayoutId: failed.ID}); code(err) != connect.CodeFailedPrecondition {
		t.Errorf("retrying a RETRYING payout: %v", err)
	}
	if _, err := ac.CancelPayout(ctx, &adminpb.CancelPayoutRequest{PayoutId: failed.ID}); code(err) != connect.CodeInvalidArgument {
		t.Errorf("canceling without a reason: %v", err)
	}
	c, err := ac.CancelPayout(ctx, &adminpb.CancelPayoutRequest{PayoutId: failed.ID, Reason: "paid by hand"})
	if err != nil || c.GetPayout().GetStatus() != developerpb.PayoutStatus_PAYOUT_STATUS_CANCELED {
		t.Fatalf("cancel: %v %v", c, err)
	}
	if list, _ := ac.ListPayouts(ctx, &adminpb.ListPayoutsRequest{Status: developerpb.PayoutStatus_PAYOUT_STATUS_CANCELED}); len(list.GetPayouts()) != 1 {
		t.Errorf("CANCELED payouts: %v", list)
	}
	var got []string
	for _, r := range b.audit(failed.ID) {
		d := details(t, r)
		got = append(got, r.GetAction()+" "+d["from"].(string)+"->"+d["to"].(string)+" "+r.GetReason())
	}
	want := []string{"CANCEL_PAYOUT RETRYING->CANCELED paid by hand", "RETRY_PAYOUT FAILED->RETRYING the developer fixed their node"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit of the payout (-want +got):\n%s", diff)
	}
}
