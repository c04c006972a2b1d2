package rpc

import (
	"context"

	"satchel.dev/backend/market"
	accountv1 "satchel.dev/shared/api/satchel/account/v1"
	"satchel.dev/shared/api/satchel/account/v1/accountv1connect"
)

type accountHandler struct {
	users market.UserService
}

func (h accountHandler) GetMe(ctx context.Context, _ *accountv1.GetMeRequest) (*accountv1.GetMeResponse, error) {
	a := actor(ctx)
	u, err := h.users.Me(ctx, a)
	if err != nil {
		return nil, err
	}
	return &accountv1.GetMeResponse{User: userToProto(u, a.Admin)}, nil
}

func (h accountHandler) UpdateProfile(ctx context.Context, req *accountv1.UpdateProfileRequest) (*accountv1.UpdateProfileResponse, error) {
	a := actor(ctx)
	u, err := h.users.UpdateProfile(ctx, a, market.ProfileUpdate{DisplayName: req.DisplayName, AvatarURL: req.AvatarUrl, StudioName: req.StudioName})
	if err != nil {
		return nil, err
	}
	return &accountv1.UpdateProfileResponse{User: userToProto(u, a.Admin)}, nil
}

var _ accountv1connect.AccountServiceHandler = accountHandler{}
