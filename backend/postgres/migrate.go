package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the key of the session advisory lock held while migrating, so that servers
// starting together on one database take turns.
const migrationLock = 0x5a7c4e1

type migration struct {
	version  int
	name     string
	up, down string
}

// migrations returns the embedded migrations, oldest first. Files are named
// NNNN_name.up.sql and NNNN_name.down.sql.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]*migration{}
	for _, name := range names {
		base := path.Base(name)
		num, rest, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", base)
		}
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		m := byVersion[v]
		if m == nil {
			m = &migration{version: v}
			byVersion[v] = m
		}
		switch {
		case strings.HasSuffix(rest, ".up.sql"):
			m.name, m.up = strings.TrimSuffix(rest, ".up.sql"), string(body)
		case strings.HasSuffix(rest, ".down.sql"):
			m.down = string(body)
		default:
			return nil, fmt.Errorf("migration %s: name must end in .up.sql or .down.sql", base)
		}
	}
	var all []migration
	for _, m := range byVersion {
		if m.up == "" || m.down == "" {
			return nil, fmt.Errorf("migration %04d needs both an up and a down file", m.version)
		}
		all = append(all, *m)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].version < all[j].version })
	return all, nil
}

// Migrate applies every embedded migration the database at dsn has not had yet, then the job
// queue's (River's) own migrations. Servers may call it at the same time: each migration runs
// in its own transaction, under an advisory lock.
func Migrate(ctx context.Context, dsn string) error {
	return MigrateTo(ctx, dsn, -1)
}

// migrateRiver brings River's tables up (or, with down, removes them).
func migrateRiver(ctx context.Context, dsn string, down bool) error {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return err
	}
	dir, opts := rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{}
	if down {
		dir, opts.TargetVersion = rivermigrate.DirectionDown, -1
	}
	if _, err := m.Migrate(ctx, dir, opts); err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	return nil
}

// MigrateTo moves the schema up or down to version (0 removes everything, the job queue's
// tables included; -1 means the newest).
func MigrateTo(ctx context.Context, dsn string, version int) error {
	all, err := migrations()
	if err != nil {
		return err
	}
	if version < 0 {
		version = all[len(all)-1].version
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// Closing the connection releases the lock.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    int PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if current > all[len(all)-1].version {
		return fmt.Errorf("migrate: the database is at version %d, newer than this server (%d): run a newer satchel-server", current, all[len(all)-1].version)
	}
	for _, m := range all {
		if m.version > current && m.version <= version {
			if err := step(ctx, conn, m, m.up, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)"); err != nil {
				return err
			}
		}
	}
	for i := len(all) - 1; i >= 0; i-- {
		if m := all[i]; m.version <= current && m.version > version {
			if err := step(ctx, conn, m, m.down, "DELETE FROM schema_migrations WHERE version = $1 AND name = $2"); err != nil {
				return err
			}
		}
	}
	// River's tables stand beside ours: up with the newest schema, down with nothing.
	switch version {
	case all[len(all)-1].version:
		return migrateRiver(ctx, dsn, false)
	case 0:
		return migrateRiver(ctx, dsn, true)
	}
	return nil
}

// step runs one migration's SQL and its bookkeeping in one transaction.
func step(ctx context.Context, conn *pgx.Conn, m migration, sql, record string) error {
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, record, m.version, m.name)
		return err
	})
	if err != nil {
		return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
	}
	return nil
}
