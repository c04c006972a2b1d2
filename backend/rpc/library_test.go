package rpc_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"

	librarypb "satchel.dev/shared/api/satchel/library/v1"
)

// downloadEvents counts the recorded downloads.
func (b *bundle) downloadEvents() int {
	b.t.Helper()
	var n int
	if err := b.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM download_events`).Scan(&n); err != nil {
		b.t.Fatal(err)
	}
	return n
}

// TestPreviewIsNotADownload: a preview (what the launcher asks to size an update) gives the
// release's manifest without a URL and records no download, for an owner and for a guest's
// receipt code; a download after it is recorded as before; and a preview is refused to whoever
// may not download, with the same answer.
func TestPreviewIsNotADownload(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.paid()
	b.settle(b.guest)
	for _, tc := range []struct {
		name string
		r    role
		req  *librarypb.GetDownloadRequest
	}{
		{"owner", player, &librarypb.GetDownloadRequest{GameId: b.game.ID}},
		{"guest", anonymous, &librarypb.GetDownloadRequest{GameId: b.game.ID, ReceiptCode: b.receipt}},
		{"developer, unpublished", owner, &librarypb.GetDownloadRequest{GameId: b.game.ID, ReleaseId: b.pending.ID}},
	} {
		lib := b.libraryClient(tc.r)
		before := b.downloadEvents()
		preview := &librarypb.GetDownloadRequest{GameId: tc.req.GetGameId(), ReleaseId: tc.req.GetReleaseId(), ReceiptCode: tc.req.GetReceiptCode(), Preview: true}
		p, err := lib.GetDownload(ctx, preview)
		if err != nil {
			t.Fatalf("%s: preview: %v", tc.name, err)
		}
		if p.GetUrl() != "" || p.GetExpiresAt() != nil || len(p.GetFiles()) != 2 || p.GetSizeBytes() != int64(len(testZip)) || p.GetSha256() == "" || p.GetVersion() == "" {
			t.Errorf("%s: preview = %v; want the manifest and sizes without a URL", tc.name, p)
		}
		if n := b.downloadEvents(); n != before {
			t.Fatalf("%s: %d download events after a preview, want %d as before it", tc.name, n, before)
		}
		d, err := lib.GetDownload(ctx, tc.req)
		if err != nil || d.GetUrl() == "" || d.GetExpiresAt() == nil || d.GetSha256() != p.GetSha256() || d.GetReleaseId() != p.GetReleaseId() {
			t.Fatalf("%s: download after the preview: %v, %v", tc.name, d, err)
		}
	}
	// The owner's and the guest's downloads; the developer's is not a player's.
	if n := b.downloadEvents(); n != 2 {
		t.Errorf("%d download events after two players' downloads, want 2", n)
	}

	refused := func(r role, req *librarypb.GetDownloadRequest) {
		t.Helper()
		lib := b.libraryClient(r)
		_, want := lib.GetDownload(ctx, req)
		preview := &librarypb.GetDownloadRequest{GameId: req.GetGameId(), ReleaseId: req.GetReleaseId(), ReceiptCode: req.GetReceiptCode(), Preview: true}
		_, got := lib.GetDownload(ctx, preview)
		if want == nil || got == nil || code(got) != code(want) || got.Error() != want.Error() {
			t.Errorf("%s's preview of %v: %v; want refused as the download is: %v", r, req, got, want)
		}
	}
	refused(other, &librarypb.GetDownloadRequest{GameId: b.game.ID})                                // does not own it
	refused(anonymous, &librarypb.GetDownloadRequest{GameId: b.game.ID})                            // no signature, no code
	refused(anonymous, &librarypb.GetDownloadRequest{GameId: b.game.ID, ReceiptCode: "not-a-code"}) // a wrong code
	refused(player, &librarypb.GetDownloadRequest{GameId: b.game.ID, ReleaseId: b.pending.ID})      // unpublished
	b.ban()
	refused(player, &librarypb.GetDownloadRequest{GameId: b.game.ID})
	if _, err := b.libraryClient(player).GetDownload(ctx, &librarypb.GetDownloadRequest{GameId: b.game.ID, Preview: true}); code(err) != connect.CodePermissionDenied {
		t.Errorf("the owner's preview of a banned game: %v, want permission_denied", err)
	}
	if n := b.downloadEvents(); n != 2 {
		t.Errorf("%d download events after refused calls, want still 2", n)
	}
}
