package rpc

import (
	"context"
	"errors"
	"log/slog"

	"connectrpc.com/connect"

	"satchel.dev/backend/market"
)

// connectCodes maps each domain error code to its Connect code. It is the only place codes are
// translated.
var connectCodes = map[market.Code]connect.Code{
	market.CodeInvalid:            connect.CodeInvalidArgument,
	market.CodeNotFound:           connect.CodeNotFound,
	market.CodeAlreadyExists:      connect.CodeAlreadyExists,
	market.CodePermissionDenied:   connect.CodePermissionDenied,
	market.CodeUnauthenticated:    connect.CodeUnauthenticated,
	market.CodeFailedPrecondition: connect.CodeFailedPrecondition,
	market.CodeResourceExhausted:  connect.CodeResourceExhausted,
	market.CodeUnavailable:        connect.CodeUnavailable,
	market.CodeInternal:           connect.CodeInternal,
}

// toConnect turns any error a handler or interceptor returns into a *connect.Error. Domain
// errors keep their message; anything unexpected is logged with the request id and reported as
// Internal without its details, which may hold things a client must not see.
func toConnect(ctx context.Context, log *slog.Logger, procedure string, err error) error {
	var ce *connect.Error
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, errors.New("the request was canceled"))
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, errors.New("the request took too long; try again"))
	}
	var me *market.Error
	if errors.As(err, &me) && me.Code != market.CodeInternal {
		return connect.NewError(connectCodes[me.Code], errors.New(me.Message))
	}
	id := requestID(ctx)
	log.ErrorContext(ctx, "internal error", "procedure", procedure, "request_id", id, "err", err)
	return connect.NewError(connect.CodeInternal,
		errors.New("internal error on the server; try again, and if it persists report request id "+id))
}

// errorInterceptor maps every error leaving a handler through toConnect.
type errorInterceptor struct {
	log *slog.Logger
}

func (e errorInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		res, err := next(ctx, req)
		if err != nil {
			return nil, toConnect(ctx, e.log, req.Spec().Procedure, err)
		}
		return res, nil
	}
}

func (e errorInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (e errorInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if err := next(ctx, conn); err != nil {
			return toConnect(ctx, e.log, conn.Spec().Procedure, err)
		}
		return nil
	}
}
