// Command satchel-server is Satchel's backend: the store, the developer API and (in later
// issues) purchases, builds and payouts, over Connect RPC.
//
//	satchel-server [serve] [flags]   serve the API (the default)
//	satchel-server migrate [flags]   bring the database schema up to date and exit
//
// With no DATABASE_URL it starts a private PostgreSQL cluster under --data-dir and stops it on
// exit. See -h of each subcommand for its flags and their SATCHEL_* variables.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"satchel.dev/backend/demo"
	"satchel.dev/backend/pgcluster"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/rpc"
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
	if len(args) > 0 && (args[0] == "serve" || args[0] == "migrate") {
		cmd, args = args[0], args[1:]
	}
	cfg, err := parseConfig("satchel-server "+cmd, args, getenv)
	if err != nil {
		return err
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
	if cmd == "migrate" {
		log.Info("database schema is up to date")
		return nil
	}
	return serve(ctx, cfg, dsn, log, stdout)
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

// serve runs the API until ctx is done, then shuts down gracefully.
func serve(ctx context.Context, cfg Config, dsn string, log *slog.Logger, stdout io.Writer) error {
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	users, games := postgres.NewUserService(db), postgres.NewGameService(db)
	if cfg.Demo {
		if err := demo.Load(ctx, users, games); err != nil {
			return fmt.Errorf("loading the demo catalog: %w", err)
		}
		log.Info("demo catalog loaded")
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
	handler := rpc.NewHandler(rpc.Config{
		PublicURL: cfg.PublicURL, MaxBodyBytes: cfg.MaxBodyBytes, Admins: cfg.Admins, Logger: log,
	}, rpc.Services{Users: users, Games: games, Ready: db.Ping})
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

	go purgeNIP98Events(ctx, users, log)

	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
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

// purgeNIP98Events forgets used NIP-98 event ids once they are too old to pass the clock check.
func purgeNIP98Events(ctx context.Context, users *postgres.UserService, log *slog.Logger) {
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
		}
	}
}
