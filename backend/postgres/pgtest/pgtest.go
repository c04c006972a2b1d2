// Package pgtest gives tests real PostgreSQL databases: one private,
// throwaway cluster per test binary, a template database migrated once, and
// a fresh copy of it for each test that asks.
//
// Use it from the package's TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m, migrations.Up) }
//
//	func TestSomething(t *testing.T) {
//		dsn := pgtest.NewDatabase(t) // a database of its own, dropped after the test
//		...
//	}
package pgtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"satchel.dev/backend/pgcluster"
)

// TemplateDatabase is the database migrated by Main, which every database
// made by NewDatabase copies.
const TemplateDatabase = "template_satchel"

// Set by Main for the whole test binary.
var (
	cluster *pgcluster.Cluster
	counter atomic.Int64
)

// Main runs a test binary's tests against a private PostgreSQL cluster. Call
// it from TestMain; it does not return.
//
// It starts one throwaway cluster (pgcluster, in a new temporary dir),
// creates TemplateDatabase, runs migrate on it once (if migrate is not nil;
// migrate must close its connections before returning), marks it as a
// template that accepts no connections, runs the tests, stops the cluster,
// removes the temporary dir, and exits with m.Run's code. If the cluster
// cannot be prepared it prints why and exits with code 1 without running
// any test.
//
// If the test binary dies without returning from m.Run (a test panics, the
// -timeout fires, SIGKILL), the cluster's watchdog stops the server and a
// second one here removes the temporary dir.
func Main(m *testing.M, migrate func(ctx context.Context, dsn string) error) {
	os.Exit(run(m, migrate))
}

func run(m *testing.M, migrate func(ctx context.Context, dsn string) error) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return fail(err)
	}
	cleaner, err := startDirCleaner(dir)
	if err != nil {
		os.RemoveAll(dir)
		return fail(err)
	}
	defer cleaner.removeNow()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Throwaway: true, Logger: log})
	if err != nil {
		return fail(err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Stop(stopCtx); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	}()
	if err := prepareTemplate(ctx, c, migrate); err != nil {
		return fail(err)
	}
	cancel()

	cluster = c
	defer func() { cluster = nil }()
	return m.Run()
}

func prepareTemplate(ctx context.Context, c *pgcluster.Cluster, migrate func(ctx context.Context, dsn string) error) error {
	if err := c.CreateDatabase(ctx, TemplateDatabase, ""); err != nil {
		return err
	}
	if migrate != nil {
		if err := migrate(ctx, c.DSN(TemplateDatabase)); err != nil {
			return fmt.Errorf("migrate %s: %w", TemplateDatabase, err)
		}
	}
	// A template with connections cannot be copied: close any that migrate
	// left open, and accept no more.
	if err := c.Exec(ctx, "postgres", "ALTER DATABASE "+TemplateDatabase+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return err
	}
	return c.Exec(ctx, "postgres",
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", TemplateDatabase)
}

// NewDatabase creates a database of the test's own, a copy of
// TemplateDatabase named tN (N unique within the test binary), and returns
// its DSN. The database is dropped when the test and its subtests finish,
// connections still open to it included. Safe for parallel tests. It fails
// the test if Main is not in charge of the test binary.
func NewDatabase(t testing.TB) string {
	t.Helper()
	c := Cluster()
	name := fmt.Sprintf("t%d", counter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.CreateDatabase(ctx, name, TemplateDatabase); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.DropDatabase(ctx, name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return c.DSN(name)
}

// Cluster returns the cluster Main started, for tests that need more than a
// database (running pgbench from its BinDir, creating databases of their
// own, ...). Tests must not stop it. It panics if Main is not in charge of
// the test binary.
func Cluster() *pgcluster.Cluster {
	if cluster == nil {
		panic("pgtest: no cluster: call pgtest.Main(m, migrate) from the package's TestMain")
	}
	return cluster
}

// dirCleaner is a shell process that removes the temporary dir if the test
// binary dies without doing it (see pgcluster's watchdog, which stops the
// server in that case: the cleaner waits for it to be gone first).
type dirCleaner struct {
	dir string
	cmd *exec.Cmd
	w   *os.File
}

const cleanerScript = `read -r line
[ "$line" = quit ] && exit 0
i=0
while [ -e "$1/data/postmaster.pid" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
rm -rf "$1"
`

func startDirCleaner(dir string) (*dirCleaner, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cmd := exec.Command("/bin/sh", "-c", cleanerScript, "pgtest-cleaner", dir)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // out of reach of a Ctrl-C to the test
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start temp dir cleaner: %w", err)
	}
	return &dirCleaner{dir: dir, cmd: cmd, w: w}, nil
}

// removeNow removes the dir and dismisses the cleaner process.
func (d *dirCleaner) removeNow() {
	if err := os.RemoveAll(d.dir); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
	}
	_, _ = d.w.WriteString("quit\n")
	d.w.Close()
	_ = d.cmd.Wait()
}
