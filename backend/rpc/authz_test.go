package rpc_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// streamingRPCs are the server-streaming procedures, called with stream rather than call.
var streamingRPCs = map[string]bool{}

// procedures lists every RPC of every satchel.* service linked into this test (the rpc package
// serves them all) as "package.Service/Method": an RPC added without a row in
// TestAuthorizationMatrix fails that test.
func procedures() []string {
	var out []string
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(f.Package()), "satchel.") {
			return true
		}
		for i := 0; i < f.Services().Len(); i++ {
			s := f.Services().Get(i)
			for j := 0; j < s.Methods().Len(); j++ {
				m := s.Methods().Get(j)
				proc := string(s.FullName()) + "/" + string(m.Name())
				streamingRPCs[proc] = m.IsStreamingServer()
				out = append(out, proc)
			}
		}
		return true
	})
	sort.Strings(out)
	return out
}

// want lists the expected Connect code per role, in the order of roles:
// anonymous, player, owning developer, other developer, admin.
type want [5]string

const (
	ok     = "ok"
	unauth = "unauthenticated"
	denied = "permission_denied"
)

// TestAuthorizationMatrix calls every RPC as every role on a fresh fixture and checks the code.
func TestAuthorizationMatrix(t *testing.T) {
	signedIn := want{unauth, ok, ok, ok, ok}
	ownerOnly := want{unauth, denied, ok, denied, denied}
	developers := want{unauth, denied, ok, ok, denied}
	buyerOnly := want{unauth, ok, "not_found", "not_found", ok}
	adminOnly := want{unauth, denied, denied, denied, ok}
	matrix := map[string]struct {
		body func(b *bundle) map[string]any
		want want
	}{
		"satchel.account.v1.AccountService/GetMe": {func(*bundle) map[string]any { return nil }, signedIn},
		"satchel.account.v1.AccountService/UpdateProfile": {
			func(*bundle) map[string]any { return map[string]any{"displayName": "Ada"} }, signedIn},
		"satchel.catalog.v1.CatalogService/ListGames": {
			func(*bundle) map[string]any { return nil }, want{ok, ok, ok, ok, ok}},
		"satchel.catalog.v1.CatalogService/GetGame": {
			func(b *bundle) map[string]any { return map[string]any{"slug": b.game.Slug} }, want{ok, ok, ok, ok, ok}},
		"satchel.developer.v1.DeveloperService/SetPayoutAddress": {
			func(b *bundle) map[string]any { return map[string]any{"lnAddress": b.address("me")} }, signedIn},
		"satchel.developer.v1.DeveloperService/CreateGame": {
			func(*bundle) map[string]any { return map[string]any{"slug": "new-game", "title": "New"} }, developers},
		"satchel.developer.v1.DeveloperService/UpdateGame": {
			func(b *bundle) map[string]any { return map[string]any{"gameId": b.game.ID, "title": "Renamed"} }, ownerOnly},
		"satchel.developer.v1.DeveloperService/SetGameStatus": {
			func(b *bundle) map[string]any {
				return map[string]any{"gameId": b.game.ID, "status": "GAME_STATUS_UNLISTED"}
			}, ownerOnly},
		"satchel.developer.v1.DeveloperService/CreateRelease": {
			func(b *bundle) map[string]any { return map[string]any{"gameId": b.game.ID, "version": "3.0.0"} }, ownerOnly},
		"satchel.developer.v1.DeveloperService/UpdateRelease": {
			func(b *bundle) map[string]any {
				return map[string]any{"releaseId": b.pending.ID, "releaseNotesMd": "x"}
			}, ownerOnly},
		"satchel.developer.v1.DeveloperService/PublishRelease": {
			func(b *bundle) map[string]any { return map[string]any{"releaseId": b.pending.ID} }, ownerOnly},
		"satchel.developer.v1.DeveloperService/ListMyGames": {func(*bundle) map[string]any { return nil }, signedIn},
		"satchel.developer.v1.DeveloperService/CreateUpload": {
			func(b *bundle) map[string]any {
				return map[string]any{"releaseId": b.pending.ID, "sizeBytes": 100, "sha256": strings.Repeat("ab", 32)}
			}, ownerOnly},
		"satchel.developer.v1.DeveloperService/ListSales": {
			func(b *bundle) map[string]any { return map[string]any{"gameId": b.game.ID} }, ownerOnly},
		"satchel.developer.v1.DeveloperService/ListLedger": {
			func(b *bundle) map[string]any { return map[string]any{"gameId": b.game.ID, "pageSize": 5} }, ownerOnly},
		"satchel.developer.v1.DeveloperService/ListPayouts": {func(*bundle) map[string]any { return nil }, developers},
		"satchel.developer.v1.DeveloperService/FinishUpload": {
			func(b *bundle) map[string]any { return map[string]any{"uploadId": b.upload.Upload.ID} }, ownerOnly},
		"satchel.developer.v1.DeveloperService/CreateMediaUpload": {
			func(b *bundle) map[string]any {
				return map[string]any{"gameId": b.game.ID, "kind": "MEDIA_KIND_COVER", "sizeBytes": 100, "sha256": strings.Repeat("ab", 32),
					"contentType": "image/png"}
			}, ownerOnly},
		"satchel.developer.v1.DeveloperService/FinishMediaUpload": {
			func(b *bundle) map[string]any {
				return map[string]any{"uploadId": b.sendImage(b.game.ID, "MEDIA_KIND_COVER", "image/png", pngOf(b.t, 32, 32, 1)).body["uploadId"]}
			}, ownerOnly},
		"satchel.developer.v1.DeveloperService/DeleteMedia": {
			func(b *bundle) map[string]any {
				m := b.image(b.game.ID, "MEDIA_KIND_COVER", "image/png", pngOf(b.t, 32, 32, 1)).body["media"].(map[string]any)
				return map[string]any{"mediaId": m["id"]}
			}, ownerOnly},
		"satchel.library.v1.LibraryService/GetDownload": {
			func(b *bundle) map[string]any { return map[string]any{"gameId": b.game.ID} }, want{unauth, denied, ok, denied, ok}},
		"satchel.library.v1.LibraryService/ListLibrary": {func(*bundle) map[string]any { return nil }, signedIn},
		"satchel.library.v1.LibraryService/WatchLibrary": {
			func(*bundle) map[string]any { return map[string]any{"resumeToken": "0"} }, signedIn},
		"satchel.purchase.v1.PurchaseService/CreatePurchase": {
			func(b *bundle) map[string]any { return map[string]any{"gameId": b.game.ID} }, want{ok, ok, ok, ok, ok}},
		"satchel.purchase.v1.PurchaseService/GetPurchase": {
			func(b *bundle) map[string]any { return map[string]any{"purchaseId": b.bought.ID} }, buyerOnly},
		"satchel.purchase.v1.PurchaseService/WatchPurchase": {
			func(b *bundle) map[string]any { return map[string]any{"purchaseId": b.bought.ID} }, buyerOnly},
		"satchel.purchase.v1.PurchaseService/ClaimReceipt": {
			// Paid first: a player with an open purchase of the game cannot take a second one.
			func(b *bundle) map[string]any { b.settle(b.guest); return map[string]any{"receiptCode": b.receipt} }, signedIn},
		"satchel.testmoney.v1.TestMoneyService/PayInvoice": {
			func(b *bundle) map[string]any { return map[string]any{"paymentRequest": b.bought.PaymentRequest} }, want{ok, ok, ok, ok, ok}},
		"satchel.admin.v1.AdminService/SetGameStatus": {
			func(b *bundle) map[string]any {
				return map[string]any{"gameId": b.game.ID, "status": "GAME_STATUS_FEATURED"}
			},
			adminOnly},
		"satchel.admin.v1.AdminService/UnbanGame": {
			func(b *bundle) map[string]any {
				b.ban()
				return map[string]any{"gameId": b.game.ID, "reason": "appeal upheld"}
			}, adminOnly},
		"satchel.admin.v1.AdminService/RevokeEntitlement": {
			func(b *bundle) map[string]any {
				return map[string]any{"purchaseId": b.paid().ID, "reason": "chargeback"}
			}, adminOnly},
		"satchel.admin.v1.AdminService/RefundPurchase": {
			func(b *bundle) map[string]any {
				return map[string]any{"purchaseId": b.paid().ID, "reason": "refunded by email"}
			}, adminOnly},
		"satchel.admin.v1.AdminService/ListPayouts": {func(*bundle) map[string]any { return nil }, adminOnly},
		"satchel.admin.v1.AdminService/RetryPayout": {
			func(b *bundle) map[string]any { return map[string]any{"payoutId": b.failedPayout().ID} }, adminOnly},
		"satchel.admin.v1.AdminService/CancelPayout": {
			func(b *bundle) map[string]any {
				return map[string]any{"payoutId": b.payout(b.paid().ID).ID, "reason": "developer asked"}
			}, adminOnly},
		"satchel.admin.v1.AdminService/ListStuckPayouts":  {func(*bundle) map[string]any { return nil }, adminOnly},
		"satchel.admin.v1.AdminService/ListAnnouncements": {func(*bundle) map[string]any { return nil }, adminOnly},
		"satchel.admin.v1.AdminService/ListAuditRecords":  {func(*bundle) map[string]any { return nil }, adminOnly},
	}
	for _, proc := range procedures() {
		row, found := matrix[proc]
		if !found {
			t.Errorf("%s has no row in the authorization matrix: add one", proc)
			continue
		}
		delete(matrix, proc)
		t.Run(proc, func(t *testing.T) {
			t.Parallel()
			streaming := streamingRPCs[proc]
			for i, r := range roles {
				b := setup(t)
				var got reply
				if streaming {
					got = b.stream(r, proc, jsonBody(row.body(b)), 30*time.Second)
				} else {
					got = b.call(r, proc, jsonBody(row.body(b)))
				}
				if got.code != row.want[i] {
					t.Errorf("as %s: %s (%s), want %s", r, got.code, got.message, row.want[i])
				}
			}
		})
	}
	for proc := range matrix {
		t.Errorf("the matrix has a row for %s, which the API does not have", proc)
	}
}
