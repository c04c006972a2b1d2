// Package rpc is Satchel's HTTP transport: the Connect handlers of every API service, the
// interceptors that authenticate callers and map errors, and the health endpoints. Handlers
// only translate between the API's messages and the market's services.
package rpc

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"connectrpc.com/connect"

	"satchel.dev/backend/admin"
	"satchel.dev/backend/builds"
	"satchel.dev/backend/market"
	"satchel.dev/backend/metrics"
	"satchel.dev/backend/purchases"
	"satchel.dev/shared/api/satchel/account/v1/accountv1connect"
	"satchel.dev/shared/api/satchel/admin/v1/adminv1connect"
	"satchel.dev/shared/api/satchel/catalog/v1/catalogv1connect"
	"satchel.dev/shared/api/satchel/developer/v1/developerv1connect"
	"satchel.dev/shared/api/satchel/library/v1/libraryv1connect"
	"satchel.dev/shared/api/satchel/purchase/v1/purchasev1connect"
	"satchel.dev/shared/api/satchel/testmoney/v1/testmoneyv1connect"
)

// Config is what the transport needs to know about the server.
type Config struct {
	// PublicURL is the scheme and host clients reach the server at, as signed in NIP-98's u tag.
	PublicURL string
	// MaxBodyBytes bounds every RPC request body.
	MaxBodyBytes int64
	// Admins are the hex public keys allowed to call the admin service.
	Admins []string
	Logger *slog.Logger
	// Now is the clock NIP-98 signatures are checked against; nil means time.Now.
	Now func() time.Time
	// BehindProxy trusts the last X-Forwarded-For address as the client's.
	BehindProxy bool
	// Metrics counts every RPC by procedure and code, with its latency; nil counts nothing.
	Metrics *metrics.Metrics
	// CatalogVersion lets the public catalog's answers be cached while it stays the same; nil
	// caches nothing.
	CatalogVersion CatalogVersion
	// Shutdown is closed when the server begins to shut down: every open server stream then
	// ends at once with Unavailable (clients reconnect), so that shutting down does not wait
	// for them. Nil never closes.
	Shutdown <-chan struct{}
}

// Services are the domain services the handlers call.
type Services struct {
	Users  market.UserService
	Games  market.GameService
	Builds *builds.Service
	// Media keeps games' covers and screenshots; the handler serves them under /media/.
	Media     *builds.Media
	Purchases *purchases.Service
	// Addresses sets developers' payout addresses.
	Addresses PayoutAddresses
	// Payouts shows developers their sales, ledger and payouts.
	Payouts PayoutViews
	// Admin is what the operators do (the admin service).
	Admin *admin.Service
	// TestMoney is the dev invoice provider; nil with a real one.
	TestMoney TestMoney
	// Files serves the local blob store's signed upload and download URLs under /blob/; nil
	// when builds live in S3.
	Files http.Handler
	// DevLNURL answers Lightning Addresses at this server under /.well-known/lnurlp/ with test
	// money; nil with a real invoice provider.
	DevLNURL http.Handler
	// Ready reports whether the server can serve (its database answers).
	Ready func(context.Context) error
}

// compressMinBytes is the size below which the Connect handlers send a message uncompressed.
const compressMinBytes = 1024

// NewHandler returns the server's whole HTTP surface: every Connect service, gRPC server
// reflection and health checking, /healthz and /readyz, each request logged with a request id.
func NewHandler(cfg Config, s Services) http.Handler {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	admins := map[string]bool{}
	for _, pk := range cfg.Admins {
		admins[pk] = true
	}
	auth := &authInterceptor{users: s.Users, admins: admins, now: now}
	opts := []connect.HandlerOption{
		connect.WithInterceptors(
			metricsInterceptor{metrics: cfg.Metrics},
			errorInterceptor{log: cfg.Logger},
			auth,
			shutdownInterceptor{shutdown: cfg.Shutdown},
		),
		connect.WithReadMaxBytes(int(cfg.MaxBodyBytes)),
		// Messages under compressMinBytes go uncompressed: gzip costs more CPU than their
		// few bytes save (most stream messages, such as a purchase's status, are far smaller).
		connect.WithCompressMinBytes(compressMinBytes),
	}
	ew := connect.NewErrorWriter(opts...)
	mux := http.NewServeMux()
	var services []string
	handle := func(path string, h http.Handler) {
		services = append(services, path)
		mux.Handle(path, readBody(h, cfg.MaxBodyBytes, trimURL(cfg.PublicURL), ew))
	}
	cache := newCatalogCache(cfg.CatalogVersion)
	writes := opts // the services that change the catalog
	if cache != nil {
		writes = append(opts[:len(opts):len(opts)], connect.WithInterceptors(cache.writes()))
	}
	catalogPath, catalog := catalogv1connect.NewCatalogServiceHandler(catalogHandler{games: s.Games, cache: cache},
		append(opts[:len(opts):len(opts)], cache.codecs()...)...)
	handle(catalogPath, notModified(cache.replay(catalog, cfg.Metrics)))
	handle(accountv1connect.NewAccountServiceHandler(accountHandler{users: s.Users}, writes...))
	handle(developerv1connect.NewDeveloperServiceHandler(developerHandler{addresses: s.Addresses, games: s.Games, builds: s.Builds, media: s.Media, payouts: s.Payouts}, writes...))
	handle(adminv1connect.NewAdminServiceHandler(adminHandler{admin: s.Admin, purchases: s.Purchases}, writes...))
	handle(libraryv1connect.NewLibraryServiceHandler(libraryHandler{builds: s.Builds, purchases: s.Purchases}, opts...))
	handle(purchasev1connect.NewPurchaseServiceHandler(purchaseHandler{purchases: s.Purchases}, opts...))
	handle(testmoneyv1connect.NewTestMoneyServiceHandler(testMoneyHandler{dev: s.TestMoney}, opts...))
	handleStandard(mux, services, s.Ready, connect.WithInterceptors(metricsInterceptor{metrics: cfg.Metrics}),
		connect.WithReadMaxBytes(int(cfg.MaxBodyBytes)))
	if s.Files != nil {
		mux.Handle("/blob/", s.Files)
	}
	web := webHandler{games: s.Games, builds: s.Builds, purchases: s.Purchases, auth: auth, publicURL: trimURL(cfg.PublicURL), log: cfg.Logger}
	mux.HandleFunc("GET /games/{slug}", web.page)
	mux.HandleFunc("GET /games/{slug}/releases/{version}/build.zip", web.build)
	mux.HandleFunc("GET /media/{game}/{file}", mediaHandler{media: s.Media, log: cfg.Logger}.serve)
	if s.DevLNURL != nil {
		mux.Handle("/.well-known/lnurlp/", s.DevLNURL)
	}

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			cfg.Logger.WarnContext(ctx, "not ready", "err", err)
			http.Error(w, "not ready: the database does not answer", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return logRequests(mux, cfg.Logger, cfg.BehindProxy)
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// logRequests gives each request an id (the client's X-Request-Id when it is sane, else a
// random one: unique, not secret), echoes it in the response, notes the client's address and
// agent, and logs one INFO line when the request ends. The line goes straight to log's handler,
// without the caller's source position (always this function), as it is written for every
// request.
func logRequests(next http.Handler, log *slog.Logger, behindProxy bool) http.Handler {
	h := log.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || !requestIDPattern.MatchString(id) {
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], rand.Uint64())
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		ctx = context.WithValue(ctx, clientKey, market.Client{IP: clientIP(r, behindProxy), UserAgent: r.UserAgent()})
		next.ServeHTTP(rec, r.WithContext(ctx))
		if !h.Enabled(r.Context(), slog.LevelInfo) {
			return
		}
		end := time.Now()
		line := slog.NewRecord(end, slog.LevelInfo, "request", 0)
		line.AddAttrs(slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", end.Sub(start)))
		_ = h.Handle(r.Context(), line)
	})
}

// clientIP is the address of the client: the connection's peer, or behind a proxy the last
// address of X-Forwarded-For (the one the proxy added).
func clientIP(r *http.Request, behindProxy bool) string {
	if behindProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			hops := strings.Split(xff[len(xff)-1], ",")
			if ip := strings.TrimSpace(hops[len(hops)-1]); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// client returns who is calling, as logRequests noted it.
func client(ctx context.Context) market.Client {
	c, _ := ctx.Value(clientKey).(market.Client)
	return c
}

// requestID returns the id logRequests gave the request.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Flush sends what is buffered: server streams need it.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer (flushing streams).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
