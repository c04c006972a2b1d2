// Package client is the launcher's Connect client of the Satchel API. Every request is signed
// with NIP-98 by the player's signer (when there is one); unary calls get a timeout;
// idempotent calls (and CreatePurchase, whose request_id makes a retry return the same
// purchase) are retried with backoff when the server cannot be reached; and every error is
// turned into an *Error whose message says what the player can do about it.
//
// The server's Connect codes are translated here (errors.go): a refusal matches a sentinel
// error (errors.Is(err, client.ErrNotFound)), a server out of reach is Offline. The engine
// (package core) tests those, never codes.
package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"connectrpc.com/connect"

	"satchel.dev/shared/api/satchel/account/v1/accountv1connect"
	"satchel.dev/shared/api/satchel/catalog/v1/catalogv1connect"
	"satchel.dev/shared/api/satchel/developer/v1/developerv1connect"
	"satchel.dev/shared/api/satchel/library/v1/libraryv1connect"
	"satchel.dev/shared/api/satchel/purchase/v1/purchasev1connect"
	"satchel.dev/shared/api/satchel/testmoney/v1/testmoneyv1connect"
	"satchel.dev/shared/nip98"
	"satchel.dev/shared/nostr"
)

// Config configures a Client. The zero value plus BaseURL works.
type Config struct {
	// BaseURL is the server, scheme://host[:port]. Required.
	BaseURL string
	// Signer signs every request (NIP-98). Nil sends unsigned requests, which only the
	// catalog and guest purchases accept.
	Signer nostr.Signer
	// Transport sends the requests; nil means NewTransport().
	Transport http.RoundTripper
	// Timeout bounds each unary call (all its attempts); default 30s. Streams have none.
	Timeout time.Duration
	// Attempts is how many times a retryable call is tried; default 3.
	Attempts int
	// Backoff is the wait before the first retry, doubled for each next one; default 300ms.
	Backoff time.Duration
}

// WithDefaults returns c with unset fields given their defaults.
func (c Config) WithDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Attempts == 0 {
		c.Attempts = 3
	}
	if c.Backoff == 0 {
		c.Backoff = 300 * time.Millisecond
	}
	return c
}

// Validate says what is wrong with c.
func (c Config) Validate() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("server %q is not a URL like https://satchel.example", c.BaseURL)
	}
	if c.Attempts < 1 || c.Timeout < 0 || c.Backoff < 0 {
		return errors.New("client: attempts must be at least 1, timeout and backoff not negative")
	}
	return nil
}

// Client holds one Connect client per service of the API, all sharing one signed transport.
// It is safe for concurrent use.
type Client struct {
	BaseURL   string
	Catalog   catalogv1connect.CatalogServiceClient
	Account   accountv1connect.AccountServiceClient
	Developer developerv1connect.DeveloperServiceClient
	Library   libraryv1connect.LibraryServiceClient
	Purchase  purchasev1connect.PurchaseServiceClient
	TestMoney testmoneyv1connect.TestMoneyServiceClient
	signer    nostr.Signer
}

// NewTransport returns the HTTP transport the launcher uses for the API and downloads: bounded
// dial and TLS handshake times, TCP keep-alives (so a dead connection under a long stream is
// noticed) and the environment's proxy settings.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 15 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
}

// New returns a client of the server cfg.BaseURL.
func New(cfg Config) (*Client, error) {
	cfg = cfg.WithDefaults()
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var rt http.RoundTripper = cfg.Transport
	if rt == nil {
		rt = NewTransport()
	}
	if cfg.Signer != nil {
		rt = &nip98.Transport{Signer: cfg.Signer, Base: rt}
	}
	hc := &http.Client{Transport: rt}
	opts := []connect.ClientOption{connect.WithInterceptors(&interceptor{cfg: cfg})}
	b := cfg.BaseURL
	return &Client{
		BaseURL:   b,
		Catalog:   catalogv1connect.NewCatalogServiceClient(hc, b, opts...),
		Account:   accountv1connect.NewAccountServiceClient(hc, b, opts...),
		Developer: developerv1connect.NewDeveloperServiceClient(hc, b, opts...),
		Library:   libraryv1connect.NewLibraryServiceClient(hc, b, opts...),
		Purchase:  purchasev1connect.NewPurchaseServiceClient(hc, b, opts...),
		TestMoney: testmoneyv1connect.NewTestMoneyServiceClient(hc, b, opts...),
		signer:    cfg.Signer,
	}, nil
}

// Signer is the identity the client signs with, nil for an unsigned client.
func (c *Client) Signer() nostr.Signer { return c.signer }

type interceptor struct{ cfg Config }

// retryable reports whether a call may be sent again: calls the API marks idempotent, and
// CreatePurchase, which returns the same purchase when retried with the same request_id.
func (i *interceptor) retryable(spec connect.Spec) bool {
	return spec.IdempotencyLevel != connect.IdempotencyUnknown ||
		spec.Procedure == purchasev1connect.PurchaseServiceCreatePurchaseProcedure
}

// WrapUnary adds the timeout, the retries and the explained errors.
func (i *interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if i.cfg.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, i.cfg.Timeout)
			defer cancel()
		}
		attempts := 1
		if i.retryable(req.Spec()) {
			attempts = i.cfg.Attempts
		}
		wait := i.cfg.Backoff
		for n := 1; ; n++ {
			res, err := next(ctx, req)
			if err == nil || n >= attempts || connect.CodeOf(err) != connect.CodeUnavailable || ctx.Err() != nil {
				return res, explain(i.cfg.BaseURL, req.Spec().Procedure, err)
			}
			jittered := wait/2 + rand.N(wait/2+1)
			select {
			case <-ctx.Done():
				return nil, explain(i.cfg.BaseURL, req.Spec().Procedure, err)
			case <-time.After(jittered):
			}
			wait *= 2
		}
	}
}

// WrapStreamingClient explains the errors of streams.
func (i *interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		return &explainedStream{StreamingClientConn: next(ctx, spec), base: i.cfg.BaseURL}
	}
}

// WrapStreamingHandler is not used by clients.
func (i *interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

type explainedStream struct {
	connect.StreamingClientConn
	base string
}

func (s *explainedStream) Receive(m any) error {
	return explain(s.base, s.Spec().Procedure, s.StreamingClientConn.Receive(m))
}

func (s *explainedStream) Send(m any) error {
	return explain(s.base, s.Spec().Procedure, s.StreamingClientConn.Send(m))
}
