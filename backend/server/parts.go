package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"satchel.dev/backend/blob"
	"satchel.dev/backend/blob/local"
	"satchel.dev/backend/blob/s3"
	"satchel.dev/backend/builds"
	"satchel.dev/backend/demo"
	"satchel.dev/backend/lightning"
	"satchel.dev/backend/lightning/dev"
	"satchel.dev/backend/lightning/lnd"
	"satchel.dev/backend/pgcluster"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/rpc"
	"satchel.dev/shared/zipsafe"
)

// Database returns the DSN of the server's database, its schema brought up to date
// (postgres.Migrate): DATABASE_URL, or the private cluster under the data dir, started here and
// stopped by the returned function.
func Database(ctx context.Context, cfg Config, log *slog.Logger) (dsn string, stop func(), err error) {
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL, func() {}, postgres.Migrate(ctx, cfg.DatabaseURL)
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
	if err := postgres.Migrate(ctx, cluster.DSN("satchel")); err != nil {
		stop()
		return "", nil, err
	}
	return cluster.DSN("satchel"), stop, nil
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

// buildPipeline is the build pipeline of cfg over db and store.
func buildPipeline(cfg Config, db *postgres.DB, store blob.Store, secret []byte, log *slog.Logger) (*builds.Service, error) {
	return builds.New(postgres.NewBuildRepo(db), store, builds.Config{
		MaxBuildBytes: cfg.MaxBuildBytes, UploadExpiry: cfg.UploadExpiry, IPHashSecret: secret,
		Zip: zipsafe.Limits{MaxEntries: cfg.MaxZipEntries, MaxFileBytes: min(cfg.MaxZipBytes, zipsafe.DefaultLimits().MaxFileBytes),
			MaxTotalBytes: cfg.MaxZipBytes, MaxRatio: cfg.MaxZipRatio},
	}, log)
}

// OpenBuilds returns the build pipeline a server of cfg runs over db, with its store and
// secret, for commands that work on builds without serving (satchel-server backfill-entries).
func OpenBuilds(ctx context.Context, cfg Config, db *postgres.DB, log *slog.Logger) (*builds.Service, error) {
	secret, err := loadSecret(cfg)
	if err != nil {
		return nil, err
	}
	store, _, err := blobStore(ctx, cfg, secret)
	if err != nil {
		return nil, err
	}
	return buildPipeline(cfg, db, store, secret, log)
}

// loadDemo loads the demo catalog through the server's own upload path at localURL.
func loadDemo(ctx context.Context, cfg Config, users *postgres.UserService, games *postgres.GameService, pipeline *builds.Service,
	media *builds.Media, localURL, payoutAddress string) error {
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
	client := &http.Client{Transport: RewriteHost{Public: cfg.PublicURL, Local: localURL}}
	return demo.Load(ctx, demo.Deps{Users: users, Games: games, Builds: pipeline, Media: media, HTTP: client, GameBinary: game, WorkDir: work,
		PayoutAddress: payoutAddress})
}

// RewriteHost is a RoundTripper that sends requests for the Public URL to the Local one (a
// server's own address behind a proxy), and every other request on unchanged.
type RewriteHost struct{ Public, Local string }

// RoundTrip implements http.RoundTripper.
func (rw RewriteHost) RoundTrip(r *http.Request) (*http.Response, error) {
	if u := r.URL.String(); strings.HasPrefix(u, rw.Public+"/") {
		nu, err := url.Parse(rw.Local + strings.TrimPrefix(u, rw.Public))
		if err != nil {
			return nil, err
		}
		r = r.Clone(r.Context())
		r.URL, r.Host = nu, ""
	}
	return http.DefaultTransport.RoundTrip(r)
}
