package rpc_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"satchel.dev/backend/payouts"
	"satchel.dev/backend/postgres"
	adminpb "satchel.dev/shared/api/satchel/admin/v1"
)

// TestAdminStuckPayouts: operators list the payouts whose payment has been in flight past the
// bound (an hour unless they ask for another), with since when.
func TestAdminStuckPayouts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	repo := postgres.NewPayoutRepo(b.db)
	po := b.payout(b.paid().ID)
	hash := make([]byte, 32)
	_, _ = rand.Read(hash)
	inv := payouts.Invoice{PaymentRequest: "lnbcrt-test", PaymentHash: hex.EncodeToString(hash), AmountMsat: po.AmountMsat,
		ExpiresAt: time.Now().Add(time.Hour), Address: po.Destination}
	if err := repo.StoreInvoice(ctx, po.ID, inv); err != nil {
		t.Fatal(err)
	}
	if err := repo.NotePayment(ctx, po.ID, inv.PaymentHash, payouts.PaymentInFlight, ""); err != nil {
		t.Fatal(err)
	}
	ac := b.adminClient(admin)
	list := func(olderThan time.Duration) []*adminpb.StuckPayout {
		t.Helper()
		req := &adminpb.ListStuckPayoutsRequest{}
		if olderThan != 0 {
			req.OlderThan = durationpb.New(olderThan)
		}
		res, err := ac.ListStuckPayouts(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return res.GetPayouts()
	}
	if got := list(0); len(got) != 0 {
		t.Errorf("stuck payouts at once: %v, want none within the hour", got)
	}
	if _, err := b.db.Pool().Exec(ctx, `UPDATE payouts SET payment_state_since = now() - interval '2 hours' WHERE id = $1`, po.ID); err != nil {
		t.Fatal(err)
	}
	got := list(0)
	if len(got) != 1 || got[0].GetPayout().GetId() != po.ID || got[0].GetPayout().GetPaymentHash() != inv.PaymentHash ||
		got[0].GetPaymentState() != adminpb.PaymentState_PAYMENT_STATE_IN_FLIGHT ||
		time.Since(got[0].GetPaymentStateSince().AsTime()) < 2*time.Hour-time.Minute {
		t.Errorf("stuck payouts after two hours: %v", got)
	}
	if got := list(3 * time.Hour); len(got) != 0 {
		t.Errorf("stuck for more than three hours: %v", got)
	}
	_, err := ac.ListStuckPayouts(ctx, &adminpb.ListStuckPayoutsRequest{OlderThan: durationpb.New(-time.Minute)})
	if code(err) != connect.CodeInvalidArgument {
		t.Errorf("a negative bound: %v, want invalid argument", err)
	}
}
