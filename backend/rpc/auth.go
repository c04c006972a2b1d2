package rpc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"

	"satchel.dev/backend/market"
	"satchel.dev/shared/nip98"
)

type ctxKey int

const (
	signedRequestKey ctxKey = iota
	actorKey
	requestIDKey
	clientKey
)

// signedRequest is what a NIP-98 signature must cover, read off the HTTP request before
// Connect decodes it.
type signedRequest struct {
	url, method, payloadSHA256 string
}

// readBody bounds every RPC request body and, for a signed request, reads it whole so that its
// sha256 can be checked against the signature's payload tag. A body over maxBytes is refused
// with ResourceExhausted: at once when Content-Length says so, before reading anything.
// publicURL is the scheme and host clients sign for.
func readBody(next http.Handler, maxBytes int64, publicURL string, ew *connect.ErrorWriter) http.Handler {
	tooLarge := func(w http.ResponseWriter, r *http.Request) {
		_ = ew.Write(w, r, connect.NewError(connect.CodeResourceExhausted,
			fmt.Errorf("the request body is over the server's limit of %d bytes", maxBytes)))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBytes {
			tooLarge(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBytes)
		if r.Header.Get("Authorization") != "" {
			body, err := io.ReadAll(r.Body)
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				tooLarge(w, r)
				return
			}
			if err != nil {
				_ = ew.Write(w, r, connect.NewError(connect.CodeCanceled, fmt.Errorf("reading the request: %w", err)))
				return
			}
			sum := sha256.Sum256(body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			r = r.WithContext(context.WithValue(r.Context(), signedRequestKey, signedRequest{
				url:           publicURL + r.URL.RequestURI(),
				method:        r.Method,
				payloadSHA256: hex.EncodeToString(sum[:]),
			}))
		}
		next.ServeHTTP(w, r)
	})
}

// authInterceptor turns a NIP-98 Authorization header into the call's market.Actor. A request
// without the header is anonymous (the services refuse what anonymous callers may not do); a
// header that fails any check is refused with Unauthenticated, naming the check.
type authInterceptor struct {
	users  market.UserService
	admins map[string]bool
	now    func() time.Time
}

func (a *authInterceptor) authenticate(ctx context.Context, h http.Header) (context.Context, error) {
	header := h.Get("Authorization")
	if header == "" {
		return context.WithValue(ctx, actorKey, market.Actor{}), nil
	}
	sr, ok := ctx.Value(signedRequestKey).(signedRequest)
	if !ok {
		return nil, errors.New("rpc: the request body was not read before authentication")
	}
	ev, err := nip98.Verify(header, nip98.Request{Method: sr.method, URL: sr.url, PayloadSHA256: sr.payloadSHA256, Now: a.now()})
	if err != nil {
		return nil, market.Errorf(market.CodeUnauthenticated, "%s", err.Error())
	}
	userID, err := a.users.SignIn(ctx, ev.PubKey, ev.ID, time.Unix(ev.CreatedAt, 0))
	if err != nil {
		return nil, err
	}
	return context.WithValue(ctx, actorKey, market.Actor{UserID: userID, Pubkey: ev.PubKey, Admin: a.admins[ev.PubKey]}), nil
}

func (a *authInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		ctx, err := a.authenticate(ctx, req.Header())
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (a *authInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (a *authInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := a.authenticate(ctx, conn.RequestHeader())
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

// actor returns the caller set by authInterceptor.
func actor(ctx context.Context) market.Actor {
	a, _ := ctx.Value(actorKey).(market.Actor)
	return a
}

// trimURL returns a public base URL without its trailing slash.
func trimURL(u string) string { return strings.TrimRight(u, "/") }
