package rpc

import (
	"context"
	"encoding/json"

	"google.golang.org/protobuf/types/known/timestamppb"

	"satchel.dev/backend/admin"
	"satchel.dev/backend/announce"
	"satchel.dev/backend/market"
	"satchel.dev/backend/payouts"
	"satchel.dev/backend/purchases"
	adminv1 "satchel.dev/shared/api/satchel/admin/v1"
	"satchel.dev/shared/api/satchel/admin/v1/adminv1connect"
)

type adminHandler struct {
	admin     *admin.Service
	purchases *purchases.Service
}

func (h adminHandler) SetGameStatus(ctx context.Context, req *adminv1.SetGameStatusRequest) (*adminv1.SetGameStatusResponse, error) {
	g, err := h.admin.SetGameStatus(ctx, actor(ctx), req.GetGameId(), statusFromProto(req.GetStatus()), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &adminv1.SetGameStatusResponse{Game: gameToProto(g)}, nil
}

func (h adminHandler) UnbanGame(ctx context.Context, req *adminv1.UnbanGameRequest) (*adminv1.UnbanGameResponse, error) {
	g, err := h.admin.UnbanGame(ctx, actor(ctx), req.GetGameId(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &adminv1.UnbanGameResponse{Game: gameToProto(g)}, nil
}

func (h adminHandler) RevokeEntitlement(ctx context.Context, req *adminv1.RevokeEntitlementRequest) (*adminv1.RevokeEntitlementResponse, error) {
	e, err := h.admin.RevokeEntitlement(ctx, actor(ctx), req.GetEntitlementId(), req.GetPurchaseId(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &adminv1.RevokeEntitlementResponse{Entitlement: &adminv1.Entitlement{
		Id: e.ID, PurchaseId: e.PurchaseID, GameId: e.GameID, BuyerUserId: e.BuyerUserID,
		GrantedAt: timestamppb.New(e.GrantedAt), RevokedAt: optionalTime(e.RevokedAt),
	}}, nil
}

func (h adminHandler) RefundPurchase(ctx context.Context, req *adminv1.RefundPurchaseRequest) (*adminv1.RefundPurchaseResponse, error) {
	p, err := h.admin.RefundPurchase(ctx, actor(ctx), req.GetPurchaseId(), req.GetReason(), req.GetReference())
	if err != nil {
		return nil, err
	}
	return &adminv1.RefundPurchaseResponse{Purchase: purchaseHandler{purchases: h.purchases}.toProto(p)}, nil
}

func (h adminHandler) ListPayouts(ctx context.Context, req *adminv1.ListPayoutsRequest) (*adminv1.ListPayoutsResponse, error) {
	var status payouts.Status
	for k, v := range payoutStatuses {
		if v == req.GetStatus() {
			status = k
		}
	}
	page, err := h.admin.ListPayouts(ctx, actor(ctx), status, payouts.Filter{PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, err
	}
	out := &adminv1.ListPayoutsResponse{NextPageToken: page.NextPageToken}
	for _, p := range page.Payouts {
		out.Payouts = append(out.Payouts, payoutToProto(p))
	}
	return out, nil
}

func (h adminHandler) RetryPayout(ctx context.Context, req *adminv1.RetryPayoutRequest) (*adminv1.RetryPayoutResponse, error) {
	p, err := h.admin.RetryPayout(ctx, actor(ctx), req.GetPayoutId(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &adminv1.RetryPayoutResponse{Payout: payoutToProto(p)}, nil
}

func (h adminHandler) CancelPayout(ctx context.Context, req *adminv1.CancelPayoutRequest) (*adminv1.CancelPayoutResponse, error) {
	p, err := h.admin.CancelPayout(ctx, actor(ctx), req.GetPayoutId(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &adminv1.CancelPayoutResponse{Payout: payoutToProto(p)}, nil
}

var paymentStates = map[payouts.PaymentState]adminv1.PaymentState{
	payouts.PaymentInFlight: adminv1.PaymentState_PAYMENT_STATE_IN_FLIGHT,
	payouts.PaymentUnknown:  adminv1.PaymentState_PAYMENT_STATE_UNKNOWN,
}

func (h adminHandler) ListStuckPayouts(ctx context.Context, req *adminv1.ListStuckPayoutsRequest) (*adminv1.ListStuckPayoutsResponse, error) {
	list, err := h.admin.ListStuckPayouts(ctx, actor(ctx), req.GetOlderThan().AsDuration(), int(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	out := &adminv1.ListStuckPayoutsResponse{}
	for _, p := range list {
		out.Payouts = append(out.Payouts, &adminv1.StuckPayout{Payout: payoutToProto(p), PaymentState: paymentStates[p.PaymentState],
			PaymentStateSince: optionalTime(p.PaymentStateSince)})
	}
	return out, nil
}

var announcementKinds = map[market.AnnouncementKind]adminv1.AnnouncementKind{
	market.AnnounceListed:    adminv1.AnnouncementKind_ANNOUNCEMENT_KIND_GAME_LISTED,
	market.AnnounceFeatured:  adminv1.AnnouncementKind_ANNOUNCEMENT_KIND_GAME_FEATURED,
	market.AnnouncePublished: adminv1.AnnouncementKind_ANNOUNCEMENT_KIND_RELEASE_PUBLISHED,
}

var deliveryStatuses = map[announce.Status]adminv1.DeliveryStatus{
	announce.StatusPending: adminv1.DeliveryStatus_DELIVERY_STATUS_PENDING,
	announce.StatusSent:    adminv1.DeliveryStatus_DELIVERY_STATUS_SENT,
	announce.StatusFailed:  adminv1.DeliveryStatus_DELIVERY_STATUS_FAILED,
	announce.StatusSkipped: adminv1.DeliveryStatus_DELIVERY_STATUS_SKIPPED,
}

func (h adminHandler) ListAnnouncements(ctx context.Context, req *adminv1.ListAnnouncementsRequest) (*adminv1.ListAnnouncementsResponse, error) {
	views, err := h.admin.ListAnnouncements(ctx, actor(ctx), req.GetGameId(), int(req.GetLimit()))
	if err != nil {
		return nil, err
	}
	out := &adminv1.ListAnnouncementsResponse{}
	for _, v := range views {
		a := &adminv1.Announcement{Id: v.ID, Kind: announcementKinds[v.Kind], GameId: v.GameID, GameSlug: v.GameSlug,
			GameTitle: v.GameTitle, Version: v.Version, EventIds: v.EventIDs, Skipped: v.Skipped,
			CreatedAt: timestamppb.New(v.CreatedAt), SignedAt: optionalTime(v.SignedAt)}
		for _, d := range v.Deliveries {
			pd := &adminv1.AnnouncementDelivery{Relay: d.Relay, Status: deliveryStatuses[d.Status],
				AttemptCount: int32(d.AttemptCount), LastError: d.LastError, NextAttemptAt: optionalTime(d.NextAttemptAt),
				SentAt: optionalTime(d.SentAt)}
			for _, at := range d.Attempts {
				pd.Attempts = append(pd.Attempts, &adminv1.DeliveryAttempt{Attempt: int32(at.N), Ok: at.OK, Result: at.Result,
					StartedAt: timestamppb.New(at.StartedAt), FinishedAt: timestamppb.New(at.At)})
			}
			a.Deliveries = append(a.Deliveries, pd)
		}
		out.Announcements = append(out.Announcements, a)
	}
	return out, nil
}

func (h adminHandler) ListAuditRecords(ctx context.Context, req *adminv1.ListAuditRecordsRequest) (*adminv1.ListAuditRecordsResponse, error) {
	records, err := h.admin.ListAudit(ctx, actor(ctx), req.GetTargetId(), int(req.GetLimit()))
	if err != nil {
		return nil, err
	}
	out := &adminv1.ListAuditRecordsResponse{}
	for _, r := range records {
		details, _ := json.Marshal(r.Details)
		out.Records = append(out.Records, &adminv1.AuditRecord{Id: r.ID, AdminPubkey: r.AdminPubkey, Action: string(r.Action),
			TargetKind: r.TargetKind, TargetId: r.TargetID, Reason: r.Reason, DetailsJson: string(details),
			CreatedAt: timestamppb.New(r.At)})
	}
	return out, nil
}

var _ adminv1connect.AdminServiceHandler = adminHandler{}
