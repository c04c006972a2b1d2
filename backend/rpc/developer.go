package rpc

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"satchel.dev/backend/builds"
	"satchel.dev/backend/market"
	"satchel.dev/backend/payouts"
	developerv1 "satchel.dev/shared/api/satchel/developer/v1"
	"satchel.dev/shared/api/satchel/developer/v1/developerv1connect"
)

type developerHandler struct {
	addresses PayoutAddresses
	games     market.GameService
	builds    *builds.Service
	media     *builds.Media
	payouts   PayoutViews
}

// PayoutAddresses sets developers' payout addresses (payouts.AddressCheck implements it,
// resolving each address live first).
type PayoutAddresses interface {
	SetPayoutAddress(ctx context.Context, a market.Actor, lnAddress string) (market.DeveloperProfile, error)
}

// PayoutViews shows developers their money (payouts.Service implements it).
type PayoutViews interface {
	ListSales(ctx context.Context, a market.Actor, f payouts.Filter) (payouts.SalePage, error)
	ListLedger(ctx context.Context, a market.Actor, f payouts.Filter) (payouts.LedgerPage, error)
	ListPayouts(ctx context.Context, a market.Actor, f payouts.Filter) (payouts.PayoutPage, error)
}

func (h developerHandler) SetPayoutAddress(ctx context.Context, req *developerv1.SetPayoutAddressRequest) (*developerv1.SetPayoutAddressResponse, error) {
	p, err := h.addresses.SetPayoutAddress(ctx, actor(ctx), req.GetLnAddress())
	if err != nil {
		return nil, err
	}
	return &developerv1.SetPayoutAddressResponse{LnAddress: p.PayoutLNAddress}, nil
}

func (h developerHandler) CreateGame(ctx context.Context, req *developerv1.CreateGameRequest) (*developerv1.CreateGameResponse, error) {
	g, err := h.games.CreateGame(ctx, actor(ctx), market.NewGame{
		Slug: req.GetSlug(), Title: req.GetTitle(), Summary: req.GetSummary(),
		DescriptionMD: req.GetDescriptionMd(), PriceMsat: req.GetPriceMsat(),
	})
	if err != nil {
		return nil, err
	}
	return &developerv1.CreateGameResponse{Game: gameToProto(g)}, nil
}

func (h developerHandler) UpdateGame(ctx context.Context, req *developerv1.UpdateGameRequest) (*developerv1.UpdateGameResponse, error) {
	g, err := h.games.UpdateGame(ctx, actor(ctx), req.GetGameId(), market.GameUpdate{
		Title: req.Title, Summary: req.Summary, DescriptionMD: req.DescriptionMd, PriceMsat: req.PriceMsat,
	})
	if err != nil {
		return nil, err
	}
	return &developerv1.UpdateGameResponse{Game: gameToProto(g)}, nil
}

func (h developerHandler) SetGameStatus(ctx context.Context, req *developerv1.SetGameStatusRequest) (*developerv1.SetGameStatusResponse, error) {
	g, err := h.games.SetGameStatus(ctx, actor(ctx), req.GetGameId(), statusFromProto(req.GetStatus()))
	if err != nil {
		return nil, err
	}
	return &developerv1.SetGameStatusResponse{Game: gameToProto(g)}, nil
}

func (h developerHandler) CreateRelease(ctx context.Context, req *developerv1.CreateReleaseRequest) (*developerv1.CreateReleaseResponse, error) {
	r, err := h.games.CreateRelease(ctx, actor(ctx), req.GetGameId(), req.GetVersion(), req.GetReleaseNotesMd())
	if err != nil {
		return nil, err
	}
	return &developerv1.CreateReleaseResponse{Release: releaseToProto(r)}, nil
}

func (h developerHandler) UpdateRelease(ctx context.Context, req *developerv1.UpdateReleaseRequest) (*developerv1.UpdateReleaseResponse, error) {
	r, err := h.games.UpdateRelease(ctx, actor(ctx), req.GetReleaseId(), market.ReleaseUpdate{
		Version: req.Version, NotesMD: req.ReleaseNotesMd,
	})
	if err != nil {
		return nil, err
	}
	return &developerv1.UpdateReleaseResponse{Release: releaseToProto(r)}, nil
}

func (h developerHandler) PublishRelease(ctx context.Context, req *developerv1.PublishReleaseRequest) (*developerv1.PublishReleaseResponse, error) {
	r, err := h.games.PublishRelease(ctx, actor(ctx), req.GetReleaseId())
	if err != nil {
		return nil, err
	}
	return &developerv1.PublishReleaseResponse{Release: releaseToProto(r)}, nil
}

func (h developerHandler) CreateUpload(ctx context.Context, req *developerv1.CreateUploadRequest) (*developerv1.CreateUploadResponse, error) {
	slot, err := h.builds.CreateUpload(ctx, actor(ctx), req.GetReleaseId(), req.GetSizeBytes(), req.GetSha256())
	if err != nil {
		return nil, err
	}
	out := &developerv1.CreateUploadResponse{UploadId: slot.Upload.ID, Url: slot.URL, Headers: map[string]string{},
		ExpiresAt: timestamppb.New(slot.Upload.ExpiresAt)}
	for k := range slot.Header {
		out.Headers[k] = slot.Header.Get(k)
	}
	return out, nil
}

func (h developerHandler) FinishUpload(ctx context.Context, req *developerv1.FinishUploadRequest) (*developerv1.FinishUploadResponse, error) {
	r, err := h.builds.FinishUpload(ctx, actor(ctx), req.GetUploadId())
	if err != nil {
		return nil, err
	}
	return &developerv1.FinishUploadResponse{Release: releaseToProto(r)}, nil
}

func (h developerHandler) CreateMediaUpload(ctx context.Context, req *developerv1.CreateMediaUploadRequest) (*developerv1.CreateMediaUploadResponse, error) {
	slot, err := h.media.CreateUpload(ctx, actor(ctx), req.GetGameId(), mediaKindFromProto(req.GetKind()), req.GetSizeBytes(),
		req.GetSha256(), req.GetContentType())
	if err != nil {
		return nil, err
	}
	out := &developerv1.CreateMediaUploadResponse{UploadId: slot.Upload.ID, Url: slot.URL, Headers: map[string]string{},
		ExpiresAt: timestamppb.New(slot.Upload.ExpiresAt)}
	for k := range slot.Header {
		out.Headers[k] = slot.Header.Get(k)
	}
	return out, nil
}

func (h developerHandler) FinishMediaUpload(ctx context.Context, req *developerv1.FinishMediaUploadRequest) (*developerv1.FinishMediaUploadResponse, error) {
	m, g, err := h.media.FinishUpload(ctx, actor(ctx), req.GetUploadId())
	if err != nil {
		return nil, err
	}
	return &developerv1.FinishMediaUploadResponse{Media: mediaToProto(m), Game: gameToProto(g)}, nil
}

func (h developerHandler) DeleteMedia(ctx context.Context, req *developerv1.DeleteMediaRequest) (*developerv1.DeleteMediaResponse, error) {
	g, err := h.media.Delete(ctx, actor(ctx), req.GetMediaId())
	if err != nil {
		return nil, err
	}
	return &developerv1.DeleteMediaResponse{Game: gameToProto(g)}, nil
}

func (h developerHandler) ListMyGames(ctx context.Context, _ *developerv1.ListMyGamesRequest) (*developerv1.ListMyGamesResponse, error) {
	games, err := h.games.ListMyGames(ctx, actor(ctx))
	if err != nil {
		return nil, err
	}
	out := &developerv1.ListMyGamesResponse{}
	for _, g := range games {
		out.Games = append(out.Games, &developerv1.MyGame{Game: gameToProto(g.Game), Releases: releasesToProto(g.Releases)})
	}
	return out, nil
}

func (h developerHandler) ListSales(ctx context.Context, req *developerv1.ListSalesRequest) (*developerv1.ListSalesResponse, error) {
	page, err := h.payouts.ListSales(ctx, actor(ctx), payouts.Filter{
		GameID: req.GetGameId(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, err
	}
	t := page.Totals
	out := &developerv1.ListSalesResponse{NextPageToken: page.NextPageToken, Totals: &developerv1.SalesTotals{
		SaleCount: t.Sales, GrossMsat: t.GrossMsat, FeeMsat: t.FeeMsat, NetMsat: t.NetMsat,
		SentMsat: t.SentMsat, PendingMsat: t.PendingMsat, FailedMsat: t.FailedMsat,
	}}
	for _, s := range page.Sales {
		sale := &developerv1.Sale{PurchaseId: s.PurchaseID, GameId: s.GameID, GameTitle: s.GameTitle,
			Status: purchaseStatuses[s.Status], PriceMsat: s.PriceMsat, FeeMsat: s.FeeMsat, NetMsat: s.NetMsat,
			PaidAt: timestamppb.New(s.PaidAt)}
		if s.Payout != nil {
			sale.Payout = payoutToProto(*s.Payout)
		}
		out.Sales = append(out.Sales, sale)
	}
	return out, nil
}

func (h developerHandler) ListLedger(ctx context.Context, req *developerv1.ListLedgerRequest) (*developerv1.ListLedgerResponse, error) {
	page, err := h.payouts.ListLedger(ctx, actor(ctx), payouts.Filter{
		GameID: req.GetGameId(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, err
	}
	out := &developerv1.ListLedgerResponse{NextPageToken: page.NextPageToken}
	for _, e := range page.Entries {
		out.Entries = append(out.Entries, &developerv1.LedgerEntry{Id: e.ID, PurchaseId: e.PurchaseID, GameId: e.GameID,
			GameTitle: e.GameTitle, Type: ledgerTypes[e.Type], AmountMsat: e.AmountMsat, MetaJson: e.MetaJSON,
			CreatedAt: timestamppb.New(e.CreatedAt)})
	}
	return out, nil
}

func (h developerHandler) ListPayouts(ctx context.Context, req *developerv1.ListPayoutsRequest) (*developerv1.ListPayoutsResponse, error) {
	page, err := h.payouts.ListPayouts(ctx, actor(ctx), payouts.Filter{
		GameID: req.GetGameId(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, err
	}
	out := &developerv1.ListPayoutsResponse{NextPageToken: page.NextPageToken}
	for _, p := range page.Payouts {
		out.Payouts = append(out.Payouts, payoutToProto(p))
	}
	return out, nil
}

var payoutStatuses = map[payouts.Status]developerv1.PayoutStatus{
	payouts.StatusScheduled: developerv1.PayoutStatus_PAYOUT_STATUS_SCHEDULED,
	payouts.StatusRetrying:  developerv1.PayoutStatus_PAYOUT_STATUS_RETRYING,
	payouts.StatusSent:      developerv1.PayoutStatus_PAYOUT_STATUS_SENT,
	payouts.StatusFailed:    developerv1.PayoutStatus_PAYOUT_STATUS_FAILED,
	payouts.StatusCanceled:  developerv1.PayoutStatus_PAYOUT_STATUS_CANCELED,
}

var ledgerTypes = map[market.LedgerType]developerv1.LedgerEntryType{
	market.LedgerInvoiceCreated:   developerv1.LedgerEntryType_LEDGER_ENTRY_TYPE_INVOICE_CREATED,
	market.LedgerInvoicePaid:      developerv1.LedgerEntryType_LEDGER_ENTRY_TYPE_INVOICE_PAID,
	market.LedgerPlatformFee:      developerv1.LedgerEntryType_LEDGER_ENTRY_TYPE_PLATFORM_FEE,
	market.LedgerDeveloperNet:     developerv1.LedgerEntryType_LEDGER_ENTRY_TYPE_DEVELOPER_NET,
	market.LedgerPayoutSent:       developerv1.LedgerEntryType_LEDGER_ENTRY_TYPE_PAYOUT_SENT,
	market.LedgerPayoutFailed:     developerv1.LedgerEntryType_LEDGER_ENTRY_TYPE_PAYOUT_FAILED,
	market.LedgerRefund:           developerv1.LedgerEntryType_LEDGER_ENTRY_TYPE_REFUND,
	market.LedgerPayoutRoutingFee: developerv1.LedgerEntryType_LEDGER_ENTRY_TYPE_PAYOUT_ROUTING_FEE,
}

func payoutToProto(p payouts.Payout) *developerv1.Payout {
	return &developerv1.Payout{
		Id: p.ID, PurchaseId: p.PurchaseID, GameId: p.GameID, GameTitle: p.GameTitle, LnAddress: p.Destination,
		AmountMsat: p.AmountMsat, Status: payoutStatuses[p.Status], AttemptCount: int32(p.AttemptCount),
		LastError: p.LastError, NextAttemptAt: optionalTime(p.NextAttemptAt), PaymentHash: p.PaymentHash,
		SentAt: optionalTime(p.SentAt), CreatedAt: timestamppb.New(p.CreatedAt), UpdatedAt: timestamppb.New(p.UpdatedAt),
	}
}

var _ developerv1connect.DeveloperServiceHandler = developerHandler{}
