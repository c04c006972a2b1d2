package rpc

import (
	"context"

	"satchel.dev/backend/market"
	adminv1 "satchel.dev/shared/api/satchel/admin/v1"
	"satchel.dev/shared/api/satchel/admin/v1/adminv1connect"
)

type adminHandler struct {
	games market.GameService
}

func (h adminHandler) SetGameStatus(ctx context.Context, req *adminv1.SetGameStatusRequest) (*adminv1.SetGameStatusResponse, error) {
	g, err := h.games.AdminSetGameStatus(ctx, actor(ctx), req.GetGameId(), statusFromProto(req.GetStatus()))
	if err != nil {
		return nil, err
	}
	return &adminv1.SetGameStatusResponse{Game: gameToProto(g)}, nil
}

var _ adminv1connect.AdminServiceHandler = adminHandler{}
