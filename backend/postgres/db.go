// Package postgres is the adapter to PostgreSQL (through pgx): it implements the store each
// service declares (purchases.Store, payouts.Store, builds.Repo, announce.Store, admin.Store)
// and market's game and user services, with plain SQL kept beside the code that runs it, one
// file per table group. It only stores: the rules it applies come from market or from the
// service, as functions or checks passed in. Jobs are inserted in the transaction of the change
// that makes them, through the one queue DB.SetQueue gives.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"satchel.dev/backend/market"
)

// DB is a pool of connections to Satchel's database, and the job queue on it.
type DB struct {
	pool *pgxpool.Pool
	jobs *river.Client[pgx.Tx] // see SetQueue
}

// DefaultMaxConns is the size of the connection pool when dsn does not set pool_max_conns.
// pgx's own default (the number of CPUs, at least 4) leaves requests, settlements and jobs
// waiting for a connection while PostgreSQL idles: most of a transaction's time is round trips.
const DefaultMaxConns = 32

// Open connects to the database at dsn and checks that it answers. It does not migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: %w", err)
	}
	return &DB{pool: pool}, nil
}

// Pool is the connection pool, for adapters that bring their own SQL: the job queue and the
// dev invoice provider.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// SetQueue makes jobs the one queue of every job a repository enqueues: each job is inserted
// in the transaction of the change that makes it (River's practice), so it exists exactly when
// the change committed. cmd's Main calls it once, with the River client it made on Pool, before
// anything enqueues; an enqueue before it fails. An insert-only client (no workers) may take
// any job; a client with workers takes only the kinds it works.
func (db *DB) SetQueue(jobs *river.Client[pgx.Tx]) { db.jobs = jobs }

// enqueue inserts a job in tx through the queue SetQueue gave.
func (db *DB) enqueue(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	if db.jobs == nil {
		return fmt.Errorf("postgres: no job queue to enqueue %s on (see DB.SetQueue)", args.Kind())
	}
	_, err := db.jobs.InsertTx(ctx, tx, args, opts)
	return err
}

// Close closes every connection.
func (db *DB) Close() { db.pool.Close() }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// tx runs fn in a transaction, committed when fn returns nil.
func (db *DB) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}

// uniqueViolation reports whether err is a unique violation of the named constraint.
func uniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == constraint
}

// notFound turns pgx.ErrNoRows into a NotFound error with msg, and passes other errors on.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return market.Errorf(market.CodeNotFound, format, args...)
	}
	return err
}
