package rpc

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"connectrpc.com/connect"

	"satchel.dev/backend/market"
)

// answer is what the transport answers for a domain error code: the Connect code of an RPC,
// and the HTTP status of a plain HTTP endpoint (web.go).
type answer struct {
	connect connect.Code
	http    int
}

// codes maps each domain error code to its answer. It is the only place codes are translated.
var codes = map[market.Code]answer{
	market.CodeInvalid:            {connect.CodeInvalidArgument, http.StatusBadRequest},
	market.CodeNotFound:           {connect.CodeNotFound, http.StatusNotFound},
	market.CodeAlreadyExists:      {connect.CodeAlreadyExists, http.StatusConflict},
	market.CodePermissionDenied:   {connect.CodePermissionDenied, http.StatusForbidden},
	market.CodeUnauthenticated:    {connect.CodeUnauthenticated, http.StatusUnauthorized},
	market.CodeFailedPrecondition: {connect.CodeFailedPrecondition, http.StatusPreconditionFailed},
	market.CodeResourceExhausted:  {connect.CodeResourceExhausted, http.StatusTooManyRequests},
	market.CodeUnavailable:        {connect.CodeUnavailable, http.StatusServiceUnavailable},
	market.CodeInternal:           {connect.CodeInternal, http.StatusInternalServerError},
}

// domainError returns the domain error in err with its answer (ok false for anything else, and
// for an Internal one, whose message may hold things a client must not see).
func domainError(err error) (msg string, a answer, ok bool) {
	var me *market.Error
	if !errors.As(err, &me) || me.Code == market.CodeInternal {
		return "", answer{}, false
	}
	a, ok = codes[me.Code]
	return me.Message, a, ok
}

// internalError logs an unexpected error with the request id and returns the message a client
// gets instead of it.
func internalError(ctx context.Context, log *slog.Logger, where string, err error) string {
	id := requestID(ctx)
	log.ErrorContext(ctx, "internal error", "procedure", where, "request_id", id, "err", err)
	return "internal error on the server; try again, and if it persists report request id " + id
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
	if msg, a, ok := domainError(err); ok {
		return connect.NewError(a.connect, errors.New(msg))
	}
	return connect.NewError(connect.CodeInternal, errors.New(internalError(ctx, log, procedure, err)))
}

// toHTTP is toConnect for the plain HTTP endpoints: the status and message to answer err with.
func toHTTP(ctx context.Context, log *slog.Logger, path string, err error) (int, string) {
	if msg, a, ok := domainError(err); ok {
		return a.http, msg
	}
	return http.StatusInternalServerError, internalError(ctx, log, path, err)
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
