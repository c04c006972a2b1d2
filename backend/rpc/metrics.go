package rpc

import (
	"context"
	"time"

	"connectrpc.com/connect"

	"satchel.dev/backend/metrics"
)

// metricsInterceptor counts every RPC by procedure and the code it ended with (after
// errorInterceptor mapped it), with its latency. It sits outside every other interceptor, so
// refused signatures count too.
type metricsInterceptor struct {
	metrics *metrics.Metrics
}

// code is the label of an RPC's outcome: "ok", or the Connect code's name.
func code(err error) string {
	if err == nil {
		return "ok"
	}
	return connect.CodeOf(err).String()
}

func (m metricsInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	if m.metrics == nil {
		return next
	}
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		start := time.Now()
		res, err := next(ctx, req)
		m.metrics.ObserveRPC(req.Spec().Procedure, code(err), time.Since(start))
		return res, err
	}
}

func (m metricsInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (m metricsInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	if m.metrics == nil {
		return next
	}
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		start := time.Now()
		err := next(ctx, conn)
		m.metrics.ObserveRPC(conn.Spec().Procedure, code(err), time.Since(start))
		return err
	}
}
