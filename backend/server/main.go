// Package server is satchel-server's wiring, written once: Open builds every part of a server
// from its Config (database, job queue, stores, invoice provider, services, HTTP handler), Run
// starts the background work and serves, and Close releases it all. cmd/satchel-server reads
// the Config from flags and runs a Main; the rpc tests open the same Main and serve its handler.
//
// It lives outside package main so that tests of other packages can import it.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"satchel.dev/backend/admin"
	"satchel.dev/backend/announce"
	"satchel.dev/backend/builds"
	"satchel.dev/backend/lightning"
	"satchel.dev/backend/metrics"
	"satchel.dev/backend/payouts"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/purchases"
	"satchel.dev/backend/rpc"
	"satchel.dev/shared/nostr"
)

// Main is one satchel-server. Its exported parts are for tests that look inside a server;
// nothing but Open sets them.
type Main struct {
	Config Config // as given to Open, with the public URL filled in
	// URL is where this server listens (scheme://host:port); Listener accepts its
	// connections, and Handler is its whole HTTP surface.
	URL      string
	Listener net.Listener
	Handler  http.Handler

	DB        *postgres.DB
	Users     *postgres.UserService
	Games     *postgres.GameService
	Builds    *builds.Service
	Media     *builds.Media
	Purchases *purchases.Service
	Provider  lightning.Provider
	// Notifier hands committed changes to the streams; Run makes it listen.
	Notifier *postgres.Notifier

	log      *slog.Logger
	key      nostr.SecretKey // signs announcements, with NostrRelays
	jobs     *river.Client[pgx.Tx]
	metrics  *metrics.Metrics  // nil without MetricsListen
	devLNURL http.Handler      // this server's Lightning Addresses, with test money
	resolver *payouts.Resolver // the payout worker's, for a live check of the addresses set
	shutdown chan struct{}     // closed when Run begins to shut down: open streams end
	closers  []func()          // run by Close, last first
}

// Open builds a server from cfg (which Validate accepted): it starts the private database
// cluster when there is no DatabaseURL, brings the schema up to date, listens on cfg.Listen,
// and wires every part. Nothing runs until Run; Close releases what Open made, also after an
// error.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Main, error) {
	m := &Main{Config: cfg, log: log, shutdown: make(chan struct{})}
	if err := m.open(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// open is Open on m.
func (m *Main) open(ctx context.Context) error {
	cfg, log := m.Config, m.log
	var err error
	if len(cfg.NostrRelays) > 0 {
		if m.key, err = cfg.platformKey(); err != nil {
			return err
		}
	}
	dsn, stopDB, err := Database(ctx, cfg, log)
	if err != nil {
		return err
	}
	m.closers = append(m.closers, stopDB)
	if m.DB, err = postgres.Open(ctx, dsn); err != nil {
		return err
	}
	m.closers = append(m.closers, m.DB.Close)
	if m.Listener, err = net.Listen("tcp", cfg.Listen); err != nil {
		return err
	}
	m.closers = append(m.closers, func() { _ = m.Listener.Close() })
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	m.URL = scheme + "://" + m.Listener.Addr().String()
	if m.Config.PublicURL == "" {
		m.Config.PublicURL = m.URL
	}
	if cfg.MetricsListen != "" {
		m.metrics = metrics.New(m.DB.Stats, log)
	}
	return m.wire(ctx)
}

// wire builds the stores, the invoice provider, the job queue, the services and the handler.
func (m *Main) wire(ctx context.Context) error {
	cfg, db := m.Config, m.DB
	secret, err := loadSecret(cfg)
	if err != nil {
		return err
	}
	store, files, err := blobStore(ctx, cfg, secret)
	if err != nil {
		return err
	}
	if files != nil {
		files = m.metrics.CountBlobBytes(files)
	}
	if m.Builds, err = buildPipeline(cfg, db, store, secret, m.log); err != nil {
		return err
	}
	m.Media = builds.NewMedia(postgres.NewMediaRepo(db), store, builds.Config{UploadExpiry: cfg.UploadExpiry}, m.log)
	provider, testMoney, err := invoiceProvider(ctx, cfg, db, m.log)
	if err != nil {
		return err
	}
	m.Provider = provider
	if testMoney != nil {
		if m.devLNURL, err = payouts.DevLNURLHandler(provider.Network()); err != nil {
			return err
		}
	}
	announcing, err := m.queue()
	if err != nil {
		return err
	}
	m.Users = postgres.NewUserService(db)
	m.Games = postgres.NewGameService(db).WithMinPrice(cfg.MinPriceSats * 1000)
	if announcing {
		m.Games = m.Games.WithAnnouncements()
	}
	m.Notifier = postgres.NewNotifier(db, m.log)
	m.Purchases, err = purchases.New(postgres.NewPurchaseRepo(db), postgres.NewLibraryRepo(db), m.Notifier, provider,
		purchases.Config{FeeBps: cfg.FeeBps, InvoiceExpiry: cfg.InvoiceExpiry, ReceiptSecret: secret,
			MinPriceMsat: cfg.MinPriceSats * 1000,
			CreatePer:    time.Minute / time.Duration(cfg.PurchaseRate), CreateBurst: 2 * cfg.PurchaseRate,
			OnSettled: m.metrics.ObserveSettlement, OnUnaccounted: m.metrics.UnaccountedPayment,
			OnReconcileError: m.metrics.ReconcileFailed}, m.log)
	if err != nil {
		return err
	}
	payoutService := payouts.NewService(postgres.NewPayoutRepo(db), provider, m.log)
	m.Handler = rpc.NewHandler(rpc.Config{
		PublicURL: cfg.PublicURL, MaxBodyBytes: cfg.MaxBodyBytes, Admins: cfg.Admins, Logger: m.log,
		BehindProxy: cfg.BehindTLSProxy, Metrics: m.metrics, CatalogVersion: m.Notifier.CatalogVersion, Shutdown: m.shutdown,
	}, rpc.Services{Users: m.Users, Games: m.Games, Builds: m.Builds, Media: m.Media, Purchases: m.Purchases, TestMoney: testMoney,
		Addresses: payouts.NewAddressCheck(m.Users, m.Games, m.resolver, cfg.FeeBps, cfg.MinPriceSats*1000),
		Payouts:   payoutService, Admin: admin.New(postgres.NewAdminRepo(db, m.Games), payoutService, postgres.NewAnnounceRepo(db), m.log),
		Files: files, DevLNURL: m.devLNURL, Ready: db.Ping})
	return nil
}

// queue makes the job queue, the one every store enqueues on (postgres.DB.SetQueue), with the
// workers of payouts and, when relays are configured, of announcements on a queue of their own
// (a slow relay never delays a payout). It reports whether announcing is on.
func (m *Main) queue() (announcing bool, err error) {
	cfg, db := m.Config, m.DB
	// With test money the demo's Lightning Address is served by this server itself, over plain
	// HTTP on loopback (payouts.DevLNURLHandler).
	payoutCfg := payouts.Config{LNURL: payouts.LNURLConfig{AllowHTTP: m.devLNURL != nil, AllowPrivate: m.devLNURL != nil}}
	queueCfg := &river.Config{Logger: slog.New(infoAsDebug{m.log.Handler()}),
		RescueStuckJobsAfter: 5 * time.Minute,
		FetchCooldown:        20 * time.Millisecond, FetchPollInterval: 200 * time.Millisecond} // payouts start within ~10 ms of a sale
	tuneQueue(&payoutCfg, queueCfg)
	payoutWorker, err := payouts.NewWorker(postgres.NewPayoutRepo(db), m.Provider, payoutCfg, m.log)
	if err != nil {
		return false, err
	}
	m.resolver = payoutWorker.Resolver()
	workers := river.NewWorkers()
	river.AddWorker(workers, payoutWorker)
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 10}}
	if len(cfg.NostrRelays) > 0 {
		if err := m.announceWorkers(workers); err != nil {
			return false, err
		}
		queues[announce.Queue] = river.QueueConfig{MaxWorkers: 4}
	}
	queueCfg.Workers, queueCfg.Queues = workers, queues
	m.jobs, err = river.NewClient(riverpgxv5.New(db.Pool()), queueCfg)
	if err != nil {
		return false, err
	}
	db.SetQueue(m.jobs)
	return len(cfg.NostrRelays) > 0, nil
}

// infoAsDebug is the job queue's log handler: River's INFO lines (its client, elector and
// maintenance services starting, stopping and running periodically) are logged at DEBUG, so that
// the server's log keeps one line per request and per event that matters; its warnings and
// errors pass unchanged.
type infoAsDebug struct{ slog.Handler }

func (h infoAsDebug) Enabled(ctx context.Context, level slog.Level) bool {
	if level == slog.LevelInfo {
		level = slog.LevelDebug
	}
	return h.Handler.Enabled(ctx, level)
}

func (h infoAsDebug) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo {
		r.Level = slog.LevelDebug
	}
	return h.Handler.Handle(ctx, r)
}

func (h infoAsDebug) WithAttrs(attrs []slog.Attr) slog.Handler {
	return infoAsDebug{h.Handler.WithAttrs(attrs)}
}

func (h infoAsDebug) WithGroup(name string) slog.Handler {
	return infoAsDebug{h.Handler.WithGroup(name)}
}

// announceWorkers adds the announcement workers, signing with the platform's key.
func (m *Main) announceWorkers(workers *river.Workers) error {
	cfg, key := m.Config, m.key
	links := announce.Links{Game: cfg.GameLink, File: cfg.FileLink}
	if links.Game == "" {
		links.Game = cfg.PublicURL + "/games/{slug}"
	}
	if links.File == "" {
		links.File = cfg.PublicURL + "/games/{slug}/releases/{version}/build.zip"
	}
	announceCfg := announce.Config{Relays: cfg.NostrRelays, Key: key, Links: links, OnAttempt: m.metrics.AnnouncementAttempt}
	tuneAnnounce(&announceCfg)
	sign, deliver, err := announce.Workers(postgres.NewAnnounceRepo(m.DB), announceCfg, m.log)
	if err != nil {
		return err
	}
	river.AddWorker(workers, sign)
	river.AddWorker(workers, deliver)
	m.log.Info("announcing listed games and published releases on Nostr", "relays", cfg.NostrRelays,
		"pubkey", key.PublicKey().Npub())
	return nil
}

// Run starts the background work (the job queue, notifications, the settlements followed
// from where they were left, unpaid invoices expiring, housekeeping, metrics), loads the demo
// catalog if configured, and serves until ctx is done; then it shuts down gracefully: it stops
// accepting, ends the open streams at once (Unavailable: clients reconnect), lets unary calls
// finish (for up to 15 s), and returns nil. It tells stdout where it serves. Call it once.
func (m *Main) Run(ctx context.Context, stdout io.Writer) error {
	if err := m.start(ctx); err != nil {
		return err
	}
	if m.metrics != nil {
		msrv, metricsURL, err := serveMetrics(m.Config.MetricsListen, m.Config.Pprof, m.metrics, m.log)
		if err != nil {
			return err
		}
		defer msrv.Close()
		fmt.Fprintf(stdout, "Prometheus metrics at %s\n", metricsURL)
	}
	srv := &http.Server{
		Handler:           m.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
	}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	srv.Protocols.SetUnencryptedHTTP2(true) // gRPC clients and load tools over h2c
	srv.RegisterOnShutdown(func() { close(m.shutdown) })
	errc := make(chan error, 1)
	go func() {
		if m.Config.TLSCert != "" {
			errc <- srv.ServeTLS(m.Listener, m.Config.TLSCert, m.Config.TLSKey)
		} else {
			errc <- srv.Serve(m.Listener)
		}
	}()
	if m.Config.Demo {
		if err := m.loadDemo(ctx); err != nil {
			return fmt.Errorf("loading the demo catalog: %w", err)
		}
		m.log.Info("demo catalog loaded")
	}
	m.log.Info("satchel-server listening", "url", m.URL, "public_url", m.Config.PublicURL)
	fmt.Fprintf(stdout, "satchel-server is serving on %s (Ctrl-C stops it)\n", m.URL)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	m.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// start starts the background work of Run, each part until ctx is done.
func (m *Main) start(ctx context.Context) error {
	if m.metrics != nil {
		m.metrics.JobKinds(payouts.Args{}.Kind(), announce.Args{}.Kind(), announce.DeliverArgs{}.Kind())
		failed, stopFailed := m.jobs.Subscribe(river.EventKindJobFailed)
		m.closers = append(m.closers, stopFailed)
		go func() {
			for ev := range failed {
				m.metrics.JobFailed(ev.Job.Kind)
			}
		}()
	}
	if err := m.jobs.Start(ctx); err != nil {
		return err
	}
	m.closers = append(m.closers, func() { // a job stopped mid-payment is safe: the next run tracks the payment
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.jobs.Stop(stopCtx); err != nil {
			_ = m.jobs.StopAndCancel(context.Background())
		}
	})
	go m.Notifier.Run(ctx)
	if err := m.Purchases.Reconcile(ctx); err != nil {
		return fmt.Errorf("reconciling pending purchases with the %s provider: %w", m.Provider.Name(), err)
	}
	go m.Purchases.RunSettlements(ctx)
	go m.Purchases.RunExpiry(ctx, 10*time.Second)
	go housekeeping(ctx, m.Users, m.Builds, m.Media, m.log)
	return nil
}

// Close stops what Run started and releases what Open made, last made first. It may be called
// once, after Run has returned (or instead of Run).
func (m *Main) Close() {
	for i := len(m.closers) - 1; i >= 0; i-- {
		m.closers[i]()
	}
	m.closers = nil
}

// loadDemo loads the demo catalog through this server's own upload path. With test money the
// demo developer is paid at this server's own Lightning Address.
func (m *Main) loadDemo(ctx context.Context) error {
	address := "demo@example.com"
	if m.devLNURL != nil {
		address = "demo@" + strings.TrimPrefix(strings.TrimPrefix(m.Config.PublicURL, "http://"), "https://")
	}
	return loadDemo(ctx, m.Config, m.Users, m.Games, m.Builds, m.Media, m.URL, address)
}

// serveMetrics serves /metrics on its own listener, never the public one, until closed; with
// withPprof also net/http/pprof's /debug/pprof/, with block and mutex profiles recorded.
func serveMetrics(addr string, withPprof bool, m *metrics.Metrics, log *slog.Logger) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	if withPprof {
		runtime.SetBlockProfileRate(int(10 * time.Microsecond)) // one sample per 10 µs blocked
		runtime.SetMutexProfileFraction(10)
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		log.Warn("serving /debug/pprof/ on the metrics listener: for measuring only")
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serving /metrics", "err", err)
		}
	}()
	metricsURL := "http://" + ln.Addr().String() + "/metrics"
	log.Info("serving Prometheus metrics", "url", metricsURL)
	return srv, metricsURL, nil
}

// housekeeping runs every minute: it forgets used NIP-98 event ids once they are too old to
// pass the clock check, and deletes uploads of builds and images that expired unfinished.
func housekeeping(ctx context.Context, users *postgres.UserService, pipeline *builds.Service, media *builds.Media, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := users.PurgeNIP98Events(ctx, time.Now().Add(-5*time.Minute)); err != nil && ctx.Err() == nil {
				log.Warn("purging used NIP-98 event ids", "err", err)
			}
			if err := pipeline.PurgeExpiredUploads(ctx, time.Now()); err != nil && ctx.Err() == nil {
				log.Warn("purging expired uploads", "err", err)
			}
			if err := media.PurgeExpiredUploads(ctx, time.Now()); err != nil && ctx.Err() == nil {
				log.Warn("purging expired image uploads", "err", err)
			}
		}
	}
}
