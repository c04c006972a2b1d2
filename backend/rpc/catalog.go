package rpc

import (
	"context"

	"satchel.dev/backend/market"
	catalogv1 "satchel.dev/shared/api/satchel/catalog/v1"
	"satchel.dev/shared/api/satchel/catalog/v1/catalogv1connect"
)

type catalogHandler struct {
	games market.GameService
}

func (h catalogHandler) ListGames(ctx context.Context, req *catalogv1.ListGamesRequest) (*catalogv1.ListGamesResponse, error) {
	page, err := h.games.ListGames(ctx, actor(ctx), market.GameFilter{
		Query: req.GetQuery(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
	})
	if err != nil {
		return nil, err
	}
	out := &catalogv1.ListGamesResponse{NextPageToken: page.NextPageToken}
	for _, g := range page.Games {
		out.Games = append(out.Games, gameToProto(g))
	}
	return out, nil
}

func (h catalogHandler) GetGame(ctx context.Context, req *catalogv1.GetGameRequest) (*catalogv1.GetGameResponse, error) {
	g, releases, err := h.games.GameBySlug(ctx, actor(ctx), req.GetSlug())
	if err != nil {
		return nil, err
	}
	return &catalogv1.GetGameResponse{Game: gameToProto(g), Releases: releasesToProto(releases)}, nil
}

var _ catalogv1connect.CatalogServiceHandler = catalogHandler{}
