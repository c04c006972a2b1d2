package pgtest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"satchel.dev/backend/postgres/pgtest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, func(ctx context.Context, dsn string) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, `CREATE TABLE widgets (id serial PRIMARY KEY, name text NOT NULL);
			INSERT INTO widgets (name) VALUES ('from the template')`)
		return err
	})
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func names(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(t.Context(), "SELECT name FROM widgets ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestNewDatabaseHasTemplateSchema(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	if got := names(t, conn); len(got) != 1 || got[0] != "from the template" {
		t.Errorf("widgets = %q, want the template's row", got)
	}
}

func TestDatabasesAreIsolated(t *testing.T) {
	ctx := t.Context()
	dsnA, dsnB := pgtest.NewDatabase(t), pgtest.NewDatabase(t)
	if dsnA == dsnB {
		t.Fatalf("two databases share DSN %s", dsnA)
	}
	a, b := connect(t, dsnA), connect(t, dsnB)
	if _, err := a.Exec(ctx, "INSERT INTO widgets (name) VALUES ('only in a')"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Exec(ctx, "DELETE FROM widgets"); err != nil {
		t.Fatal(err)
	}
	if got := names(t, a); strings.Join(got, ",") != "from the template,only in a" {
		t.Errorf("a has %q", got)
	}
	if got := names(t, b); len(got) != 0 {
		t.Errorf("b has %q", got)
	}
	// The template itself is untouched.
	if got := names(t, connect(t, pgtest.NewDatabase(t))); len(got) != 1 {
		t.Errorf("a new database has %q", got)
	}
}

func TestParallel(t *testing.T) {
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			conn := connect(t, pgtest.NewDatabase(t))
			if _, err := conn.Exec(t.Context(), "INSERT INTO widgets (name) VALUES ($1)", fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
			if got := names(t, conn); len(got) != 2 || got[1] != fmt.Sprint(i) {
				t.Errorf("widgets = %q", got)
			}
		})
	}
}

func TestDatabaseDroppedAfterTest(t *testing.T) {
	var name string
	t.Run("user", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		conn := connect(t, dsn) // still open when the cleanup drops the database
		name = conn.Config().Database
	})
	conn := connect(t, pgtest.Cluster().DSN("postgres"))
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if name == "" || n != 0 {
		t.Errorf("database %q still exists after its test", name)
	}
}

func TestCluster(t *testing.T) {
	c := pgtest.Cluster()
	if _, err := os.Stat(filepath.Join(c.BinDir(), "pgbench")); err != nil {
		t.Errorf("no pgbench in BinDir: %v", err)
	}
	conn := connect(t, c.DSN("postgres"))
	var fsync string
	if err := conn.QueryRow(t.Context(), "SHOW fsync").Scan(&fsync); err != nil {
		t.Fatal(err)
	}
	if fsync != "off" {
		t.Errorf("fsync = %s, want off in a test cluster", fsync)
	}
}
