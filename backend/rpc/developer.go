package rpc

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"satchel.dev/backend/builds"
	"satchel.dev/backend/market"
	developerv1 "satchel.dev/shared/api/satchel/developer/v1"
	"satchel.dev/shared/api/satchel/developer/v1/developerv1connect"
)

type developerHandler struct {
	users  market.UserService
	games  market.GameService
	builds *builds.Service
}

func (h developerHandler) SetPayoutAddress(ctx context.Context, req *developerv1.SetPayoutAddressRequest) (*developerv1.SetPayoutAddressResponse, error) {
	p, err := h.users.SetPayoutAddress(ctx, actor(ctx), req.GetLnAddress())
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

var _ developerv1connect.DeveloperServiceHandler = developerHandler{}
