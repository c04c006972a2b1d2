// Command satchel-server is Satchel's backend: the store, the developer API and (in later
// issues) purchases, builds and payouts, over Connect RPC.
//
//	satchel-server [serve] [flags]              serve the API (the default)
//	satchel-server migrate [flags]              bring the database schema up to date and exit
//	satchel-server check-ledger [flags]         check every purchase against the ledger's
//	                                            invariants; exit 1 listing those that break one
//	satchel-server dev pay [--server URL] INVOICE  pay an invoice of a server running the dev
//	                                            invoice provider, with test money
//	satchel-server admin [--server URL] COMMAND  the operators' actions (feature, ban, refund,
//	                                            revoke, payouts, announcements, audit) on a
//	                                            running server, signed with an admin's key
//
// With no DATABASE_URL it starts a private PostgreSQL cluster under --data-dir and stops it on
// exit. See -h of each subcommand for its flags and their SATCHEL_* variables.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"satchel.dev/backend/admin"
	"satchel.dev/backend/announce"
	"satchel.dev/backend/blob"
	"satchel.dev/backend/blob/local"
	"satchel.dev/backend/blob/s3"
	"satchel.dev/backend/builds"
	"satchel.dev/backend/demo"
	"satchel.dev/backend/lightning"
	"satchel.dev/backend/lightning/dev"
	"satchel.dev/backend/lightning/lnd"
	"satchel.dev/backend/metrics"
	"satchel.dev/backend/payouts"
	"satchel.dev/backend/pgcluster"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/purchases"
	"satchel.dev/backend/rpc"
	testmoneyv1 "satchel.dev/shared/api/satchel/testmoney/v1"
	"satchel.dev/shared/api/satchel/testmoney/v1/testmoneyv1connect"
	"satchel.dev/shared/nostr"
	"satchel.dev/shared/zipsafe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "satchel-server:", err)
		}
		os.Exit(2)
	}
}

// run is main with its dependencies passed in. It returns when ctx is done or on error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "serve" || args[0] == "migrate" || args[0] == "check-ledger") {
		cmd, args = args[0], args[1:]
	}
	if len(args) > 1 && args[0] == "dev" && args[1] == "pay" {
		return devPay(ctx, args[2:], stdout)
	}
	if len(args) > 0 && args[0] == "admin" {
		return adminCommand(ctx, args[1:], getenv, stdout)
	}
	cfg, err := parseConfig("satchel-server "+cmd, args, getenv)
	if err != nil {
		return err
	}
	var key *nostr.SecretKey
	if cmd == "serve" && len(cfg.NostrRelays) > 0 {
		k, err := cfg.platformKey()
		if err != nil {
			return err
		}
		key = &k
	}
	log := newLogger(cfg.LogFormat, stderr)
	dsn, stopDB, err := database(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopDB()
	if err := postgres.Migrate(ctx, dsn); err != nil {
		return err
	}
	switch cmd {
	case "migrate":
		log.Info("database schema is up to date")
		return nil
	case "check-ledger":
		return checkLedger(ctx, dsn, stdout)
	}
	return serve(ctx, cfg, key, dsn, log, stdout)
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// database returns the DSN to use: DATABASE_URL, or the private cluster under the data dir,
// started here and stopped by the returned function.
func database(ctx context.Context, cfg Config, log *slog.Logger) (dsn string, stop func(), err error) {
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL, func() {}, nil
	}
	dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "postgres"))
	if err != nil {
		return "", nil, err
	}
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Logger: log})
	if err != nil {
		return "", nil, err
	}
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cluster.Stop(ctx); err != nil {
			log.Error("stopping the private PostgreSQL cluster", "err", err)
			return
		}
		log.Info("private PostgreSQL cluster stopped")
	}
	err = cluster.CreateDatabase(ctx, "satchel", "")
	var pe *pgconn.PgError
	if err != nil && !(errors.As(err, &pe) && pe.Code == "42P04") { // 42P04: it already exists
		stop()
		return "", nil, err
	}
	log.Info("private PostgreSQL cluster running", "dir", dir)
	return cluster.DSN("satchel"), stop, nil
}

// serve runs the API until ctx is done, then shuts down gracefully. key signs announcements on
// Nostr (nil: announcing is off).
func serve(ctx context.Context, cfg Config, key *nostr.SecretKey, dsn string, log *slog.Logger, stdout io.Writer) error {
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	users, games := postgres.NewUserService(db), postgres.NewGameService(db).WithMinPrice(cfg.MinPriceSats*1000)
	var m *metrics.Metrics
	if cfg.MetricsListen != "" {
		m = metrics.New(db.Stats, log)
	}
	secret, err := loadSecret(cfg)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	localURL := scheme + "://" + ln.Addr().String()
	if cfg.PublicURL == "" {
		cfg.PublicURL = localURL
	}
	store, files, err := blobStore(ctx, cfg, secret)
	if err != nil {
		return err
	}
	if files != nil {
		files = m.CountBlobBytes(files)
	}
	pipeline, err := builds.New(postgres.NewBuildRepo(db), store, builds.Config{
		MaxBuildBytes: cfg.MaxBuildBytes,
		Zip: zipsafe.Limits{MaxEntries: cfg.MaxZipEntries, MaxFileBytes: min(cfg.MaxZipBytes, zipsafe.DefaultLimits().MaxFileBytes),
			MaxTotalBytes: cfg.MaxZipBytes, MaxRatio: cfg.MaxZipRatio},
		IPHashSecret: secret,
	}, log)
	if err != nil {
		return err
	}
	provider, testMoney, err := invoiceProvider(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	// The job queue works payouts. With test money the demo's Lightning Address is served by this
	// server itself, over plain HTTP on loopback (payouts.DevLNURLHandler).
	payoutRepo := postgres.NewPayoutRepo(db)
	payoutWorker, err := payouts.NewWorker(payoutRepo, provider, payouts.Config{
		LNURL: payouts.LNURLConfig{AllowHTTP: testMoney != nil, AllowPrivate: testMoney != nil}}, log)
	if err != nil {
		return err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, payoutWorker)
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 10}}
	// Announcements on Nostr run on a queue of their own: a slow relay never delays a payout.
	announcements := postgres.NewAnnounceRepo(db)
	if key != nil {
		links := announce.Links{Game: cfg.GameLink, File: cfg.FileLink}
		if links.Game == "" {
			links.Game = cfg.PublicURL + "/games/{slug}"
		}
		if links.File == "" {
			links.File = cfg.PublicURL + "/games/{slug}/releases/{version}/build.zip"
		}
		sign, deliver, err := announce.Workers(announcements, announce.Config{Relays: cfg.NostrRelays, Key: *key, Links: links,
			OnAttempt: m.AnnouncementAttempt}, log)
		if err != nil {
			return err
		}
		river.AddWorker(workers, sign)
		river.AddWorker(workers, deliver)
		queues[announce.Queue] = river.QueueConfig{MaxWorkers: 4}
		log.Info("announcing listed games and published releases on Nostr", "relays", cfg.NostrRelays,
			"pubkey", key.PublicKey().Npub())
	}
	jobs, err := river.NewClient(riverpgxv5.New(db.Pool()), &river.Config{Logger: log, Workers: workers,
		Queues: queues, RescueStuckJobsAfter: 5 * time.Minute,
		FetchCooldown: 20 * time.Millisecond, FetchPollInterval: 200 * time.Millisecond}) // payouts start within ~10 ms of a sale
	if err != nil {
		return err
	}
	if m != nil {
		m.JobKinds(payouts.Args{}.Kind(), announce.Args{}.Kind(), announce.DeliverArgs{}.Kind())
		failed, stopFailed := jobs.Subscribe(river.EventKindJobFailed)
		defer stopFailed()
		go func() {
			for ev := range failed {
				m.JobFailed(ev.Job.Kind)
			}
		}()
	}
	if err := jobs.Start(ctx); err != nil {
		return err
	}
	if key != nil {
		games = games.WithAnnouncements(jobs)
	}
	defer func() { // a job stopped mid-payment is safe: the next run tracks the payment
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := jobs.Stop(stopCtx); err != nil {
			_ = jobs.StopAndCancel(context.Background())
		}
	}()
	notifier := postgres.NewNotifier(db, log)
	go notifier.Run(ctx)
	buying, err := purchases.New(postgres.NewPurchaseRepo(db, jobs), postgres.NewLibraryRepo(db), notifier, provider,
		purchases.Config{FeeBps: cfg.FeeBps, InvoiceExpiry: cfg.InvoiceExpiry, ReceiptSecret: secret,
			MinPriceMsat: cfg.MinPriceSats * 1000,
			CreatePer:    time.Minute / time.Duration(cfg.PurchaseRate), CreateBurst: 2 * cfg.PurchaseRate,
			OnSettled: m.ObserveSettlement, OnUnaccounted: m.UnaccountedPayment, OnReconcileError: m.ReconcileFailed}, log)
	if err != nil {
		return err
	}
	if err := buying.Reconcile(ctx); err != nil {
		return fmt.Errorf("reconciling pending purchases with the %s provider: %w", provider.Name(), err)
	}
	go buying.RunSettlements(ctx)
	go buying.RunExpiry(ctx, 10*time.Second)

	var devLNURL http.Handler
	if testMoney != nil {
		if devLNURL, err = payouts.DevLNURLHandler(provider.Network()); err != nil {
			return err
		}
	}
	payoutService := payouts.NewService(payoutRepo, jobs, provider, log)
	handler := rpc.NewHandler(rpc.Config{
		PublicURL: cfg.PublicURL, MaxBodyBytes: cfg.MaxBodyBytes, Admins: cfg.Admins, Logger: log,
		BehindProxy: cfg.BehindTLSProxy, Metrics: m,
	}, rpc.Services{Users: users, Games: games, Builds: pipeline, Purchases: buying, TestMoney: testMoney,
		Payouts: payoutService, Admin: admin.New(postgres.NewAdminRepo(db, games), payoutService, announcements, log),
		Files: files, DevLNURL: devLNURL, Ready: db.Ping})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	srv.Protocols.SetUnencryptedHTTP2(true) // gRPC clients and load tools over h2c

	go housekeeping(ctx, users, pipeline, log)

	errc := make(chan error, 2)
	if m != nil {
		msrv, metricsURL, err := serveMetrics(cfg.MetricsListen, m, log)
		if err != nil {
			return err
		}
		defer msrv.Close()
		fmt.Fprintf(stdout, "Prometheus metrics at %s\n", metricsURL)
	}
	go func() {
		if cfg.TLSCert != "" {
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	if cfg.Demo {
		// With test money the demo developer is paid at this server's own Lightning Address.
		address := "demo@example.com"
		if devLNURL != nil {
			address = "demo@" + strings.TrimPrefix(strings.TrimPrefix(cfg.PublicURL, "http://"), "https://")
		}
		if err := loadDemo(ctx, cfg, users, games, pipeline, localURL, address); err != nil {
			return fmt.Errorf("loading the demo catalog: %w", err)
		}
		log.Info("demo catalog loaded")
	}
	log.Info("satchel-server listening", "url", localURL, "public_url", cfg.PublicURL)
	fmt.Fprintf(stdout, "satchel-server is serving on %s (Ctrl-C stops it)\n", localURL)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// serveMetrics serves /metrics on its own listener, never the public one, until closed.
func serveMetrics(addr string, m *metrics.Metrics, log *slog.Logger) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
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
// pass the clock check, and deletes uploads that expired unfinished.
func housekeeping(ctx context.Context, users *postgres.UserService, pipeline *builds.Service, log *slog.Logger) {
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
		}
	}
}

// invoiceProvider connects the configured invoice provider. With the dev provider it also
// returns it as the TestMoney settler behind the test-money RPC.
func invoiceProvider(ctx context.Context, cfg Config, db *postgres.DB, log *slog.Logger) (lightning.Provider, rpc.TestMoney, error) {
	if cfg.InvoiceProvider == "lnd" {
		p, err := lnd.New(cfg.LND)
		if err != nil {
			return nil, nil, err
		}
		log.Info("invoices come from LND: real money", "url", cfg.LND.URL, "network", cfg.LND.Network)
		return p, nil, nil
	}
	p, err := dev.New(ctx, db.Pool(), dev.Config{})
	if err != nil {
		return nil, nil, err
	}
	log.Warn("TEST MONEY: invoices come from the dev provider; nothing real is paid or received. " +
		"Pay one with `satchel-server dev pay <invoice>`")
	return p, p, nil
}

// checkLedger prints every purchase that breaks an invariant of the money path.
func checkLedger(ctx context.Context, dsn string, stdout io.Writer) error {
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	problems, err := db.CheckLedger(ctx)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintf(stdout, "purchase %s (%s): %s\n", p.PurchaseID, p.Status, p.Problem)
	}
	if len(problems) > 0 {
		return fmt.Errorf("the ledger breaks its invariants: %d problems", len(problems))
	}
	fmt.Fprintln(stdout, "ledger OK: every purchase keeps the invariants")
	return nil
}

// devPay pays an invoice of a server running the dev provider through its test-money RPC.
func devPay(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("satchel-server dev pay", flag.ContinueOnError)
	server := fs.String("server", "http://127.0.0.1:8080", "the server that issued the invoice")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: satchel-server dev pay [--server URL] <invoice>")
	}
	c := testmoneyv1connect.NewTestMoneyServiceClient(http.DefaultClient, *server)
	if _, err := c.PayInvoice(ctx, &testmoneyv1.PayInvoiceRequest{PaymentRequest: fs.Arg(0)}); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "paid with test money")
	return nil
}

// loadSecret returns the configured secret, or the one kept in <data-dir>/secret, creating it
// on first use.
func loadSecret(cfg Config) ([]byte, error) {
	if cfg.Secret != "" {
		return hex.DecodeString(cfg.Secret)
	}
	path := filepath.Join(cfg.DataDir, "secret")
	if b, err := os.ReadFile(path); err == nil {
		return hex.DecodeString(strings.TrimSpace(string(b)))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another instance made it first
		return loadSecret(cfg)
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(hex.EncodeToString(b) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	return b, f.Close()
}

// blobStore returns where builds live: S3 when configured, else <data-dir>/builds served by this
// server under /blob/ (the returned handler).
func blobStore(ctx context.Context, cfg Config, secret []byte) (blob.Store, http.Handler, error) {
	if cfg.S3.Endpoint != "" {
		c := cfg.S3
		c.CreateBucket = true
		st, err := s3.New(ctx, c)
		return st, nil, err
	}
	st, err := local.New(filepath.Join(cfg.DataDir, "builds"), secret, cfg.PublicURL)
	if err != nil {
		return nil, nil, err
	}
	return st, st.Handler(), nil
}

// loadDemo loads the demo catalog through the server's own upload path at localURL.
func loadDemo(ctx context.Context, cfg Config, users *postgres.UserService, games *postgres.GameService, pipeline *builds.Service, localURL, payoutAddress string) error {
	game := cfg.DemoGame
	if game == "" {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		game = filepath.Join(filepath.Dir(self), "satchel-demo-game")
	}
	work, err := os.MkdirTemp("", "satchel-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	// Upload URLs name the public URL; behind a proxy, reach this process directly.
	client := &http.Client{Transport: rewriteHost{public: cfg.PublicURL, local: localURL}}
	return demo.Load(ctx, demo.Deps{Users: users, Games: games, Builds: pipeline, HTTP: client, GameBinary: game, WorkDir: work,
		PayoutAddress: payoutAddress})
}

// rewriteHost sends requests for the public URL to the local one.
type rewriteHost struct{ public, local string }

func (rw rewriteHost) RoundTrip(r *http.Request) (*http.Response, error) {
	if u := r.URL.String(); strings.HasPrefix(u, rw.public+"/") {
		nu, err := url.Parse(rw.local + strings.TrimPrefix(u, rw.public))
		if err != nil {
			return nil, err
		}
		r = r.Clone(r.Context())
		r.URL, r.Host = nu, ""
	}
	return http.DefaultTransport.RoundTrip(r)
}
