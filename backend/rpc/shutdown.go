package rpc

import (
	"context"

	"connectrpc.com/connect"

	"satchel.dev/backend/market"
)

// shutdownInterceptor ends every open server stream as soon as shutdown is closed (the server
// began to shut down), with an Unavailable error that tells the client to reconnect: an
// http.Server's Shutdown waits for handlers to return, and a stream's handler returns only
// when its context ends. Unary calls are left to finish.
type shutdownInterceptor struct {
	shutdown <-chan struct{} // nil: never
}

func (s shutdownInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc { return next }

func (s shutdownInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (s shutdownInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	if s.shutdown == nil {
		return next
	}
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-s.shutdown:
				cancel()
			case <-ctx.Done():
			}
		}()
		err := next(ctx, conn)
		select {
		case <-s.shutdown:
			return market.Errorf(market.CodeUnavailable, "the server is shutting down: reconnect, to it or another instance")
		default:
			return err
		}
	}
}
