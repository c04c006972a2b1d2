package pgcluster_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"satchel.dev/backend/pgcluster"
)

// The test binary doubles as a helper process that starts a cluster, says
// so on stdout and waits to be killed: see startOrphan.
const (
	helperDirEnv       = "PGCLUSTER_TEST_HELPER_DIR"
	helperThrowawayEnv = "PGCLUSTER_TEST_HELPER_THROWAWAY"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperDirEnv); dir != "" {
		runHelper(dir, os.Getenv(helperThrowawayEnv) == "1")
		return
	}
	os.Exit(m.Run())
}

func runHelper(dir string, throwaway bool) {
	ctx := context.Background()
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Throwaway: throwaway, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := c.CreateDatabase(ctx, "app", ""); err == nil {
		err = c.Exec(ctx, "app", "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before the kill')")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	fmt.Printf("ready %d\n", c.Port())
	select {} // until killed
}

func logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func start(t *testing.T, o pgcluster.Options) *pgcluster.Cluster {
	t.Helper()
	if o.Logger == nil {
		o.Logger = logger(t)
	}
	began := time.Now()
	c, err := pgcluster.Start(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Start took %v", time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return c
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

func queryString(t *testing.T, conn *pgx.Conn, sql string) string {
	t.Helper()
	var s string
	if err := conn.QueryRow(t.Context(), sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func TestThrowaway(t *testing.T) {
	ctx := t.Context()
	c := start(t, pgcluster.Options{Dir: t.TempDir(), Throwaway: true})

	if _, err := os.Stat(filepath.Join(c.BinDir(), "pgbench")); err != nil {
		t.Errorf("BinDir %s has no pgbench: %v", c.BinDir(), err)
	}
	wantDSN := fmt.Sprintf("postgres://postgres@/app?host=%s&port=%d&sslmode=disable", c.SocketDir(), c.Port())
	if got := c.DSN("app"); got != wantDSN {
		t.Errorf("DSN = %s, want %s", got, wantDSN)
	}
	if err := c.CreateDatabase(ctx, "app", ""); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, c.DSN("app"))
	if _, err := conn.Exec(ctx, "CREATE TABLE t (v text); INSERT INTO t VALUES ('hello')"); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, conn, "SELECT v FROM t"); got != "hello" {
		t.Errorf("got %q", got)
	}
	if got := queryString(t, conn, "SHOW fsync"); got != "off" {
		t.Errorf("fsync = %s, want off for a throwaway cluster", got)
	}
	if got := queryString(t, conn, "SHOW listen_addresses"); got != "" {
		t.Errorf("listen_addresses = %q, want none", got)
	}
	if got := queryString(t, conn, "SELECT current_user"); got != "postgres" {
		t.Errorf("current_user = %s", got)
	}
	conn.Close(ctx) // a template must have no connections while it is copied
	if err := c.CreateDatabase(ctx, "copy", "app"); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, connect(t, c.DSN("copy")), "SELECT v FROM t"); got != "hello" {
		t.Errorf("copy has %q", got)
	}
	if err := c.DropDatabase(ctx, "copy"); err != nil {
		t.Fatal(err)
	}

	began := time.Now()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("Stop took %v", time.Since(began).Round(time.Millisecond))
	if _, err := os.Stat(filepath.Join(c.DataDir(), "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("postmaster.pid still there after Stop: %v", err)
	}
	if _, err := pgx.Connect(ctx, c.DSN("app")); err == nil {
		t.Error("connected after Stop")
	}
}

// TestThrowawayKeepsCommitsWhenKilled: a throwaway cluster stopped in immediate mode (what
// the soak does to PostgreSQL) still has every commit it acknowledged. With
// synchronous_commit off it lost the last ones, and the soak saw a sale the server had logged
// as paid come back PENDING.
func TestThrowawayKeepsCommitsWhenKilled(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	c := start(t, pgcluster.Options{Dir: dir, Throwaway: true})
	if err := c.CreateDatabase(ctx, "app", ""); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, c.DSN("app"))
	if _, err := conn.Exec(ctx, "CREATE TABLE t (n int)"); err != nil {
		t.Fatal(err)
	}
	const commits = 200
	for n := range commits {
		if _, err := conn.Exec(ctx, "INSERT INTO t VALUES ($1)", n); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close(ctx)
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	c2 := start(t, pgcluster.Options{Dir: dir, Throwaway: true})
	if got := queryString(t, connect(t, c2.DSN("app")), "SELECT count(*)::text FROM t"); got != strconv.Itoa(commits) {
		t.Errorf("%s rows after PostgreSQL was killed, want the %d committed", got, commits)
	}
}

func TestPersistentRestart(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	c := start(t, pgcluster.Options{Dir: dir})
	if err := c.CreateDatabase(ctx, "app", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(ctx, "app", "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives')"); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, connect(t, c.DSN("app")), "SHOW fsync"); got != "on" {
		t.Errorf("fsync = %s, want on for a persistent cluster", got)
	}
	port, dsn := c.Port(), c.DSN("app")
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	c2 := start(t, pgcluster.Options{Dir: dir})
	if c2.Port() != port || c2.DSN("app") != dsn {
		t.Errorf("restart moved the cluster: port %d → %d, DSN %s → %s", port, c2.Port(), dsn, c2.DSN("app"))
	}
	if got := queryString(t, connect(t, c2.DSN("app")), "SELECT v FROM kept"); got != "survives" {
		t.Errorf("got %q", got)
	}
}

func TestExplicitPort(t *testing.T) {
	dir := t.TempDir()
	c := start(t, pgcluster.Options{Dir: dir, Port: 54329, Throwaway: true})
	if c.Port() != 54329 {
		t.Fatalf("Port = %d", c.Port())
	}
	connect(t, c.DSN("postgres"))
	if err := c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Port 0 now reuses the port stored by the first start.
	if c := start(t, pgcluster.Options{Dir: dir, Throwaway: true}); c.Port() != 54329 {
		t.Errorf("Port = %d after restart, want 54329", c.Port())
	}
}

func TestStalePostmasterPid(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	c := start(t, pgcluster.Options{Dir: dir, Throwaway: true})
	port := c.Port()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	// A PID file naming a process that is gone, and one naming a live
	// process that is not PostgreSQL (the PID was reused, as after a
	// reboot): PostgreSQL itself refuses to start over the latter.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	for name, pid := range map[string]int{"dead": dead.Process.Pid, "reused": os.Getpid()} {
		t.Run(name, func(t *testing.T) {
			pidFile := filepath.Join(c.DataDir(), "postmaster.pid")
			stale := fmt.Sprintf("%d\n%s\n1700000000\n%d\n%s\n\n  5432001         0\nready   \n", pid, c.DataDir(), port, c.SocketDir())
			if err := os.WriteFile(pidFile, []byte(stale), 0o600); err != nil {
				t.Fatal(err)
			}
			lock := filepath.Join(c.SocketDir(), fmt.Sprintf(".s.PGSQL.%d.lock", port))
			if err := os.WriteFile(lock, []byte(strconv.Itoa(pid)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			c2 := start(t, pgcluster.Options{Dir: dir, Throwaway: true})
			connect(t, c2.DSN("postgres"))
			if err := c2.Stop(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestStopTwice(t *testing.T) {
	c := start(t, pgcluster.Options{Dir: t.TempDir(), Throwaway: true})
	for i := range 2 {
		if err := c.Stop(t.Context()); err != nil {
			t.Fatalf("Stop #%d: %v", i+1, err)
		}
	}
}

func TestDirInUse(t *testing.T) {
	dir := t.TempDir()
	c := start(t, pgcluster.Options{Dir: dir, Throwaway: true})
	_, err := pgcluster.Start(t.Context(), pgcluster.Options{Dir: dir, Throwaway: true, Logger: logger(t)})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Start on a dir in use: err = %v, want an 'in use' error", err)
	}
	connect(t, c.DSN("postgres")) // the first cluster is unharmed
	if err := c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	start(t, pgcluster.Options{Dir: dir, Throwaway: true}) // free again
}

func TestInterruptedInitdb(t *testing.T) {
	dir := t.TempDir()
	// What a killed initdb leaves: a staging dir with some of its files.
	staging := filepath.Join(dir, "data.initdb")
	if err := os.MkdirAll(filepath.Join(staging, "base"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(staging, "PG_VERSION"), []byte("15\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := start(t, pgcluster.Options{Dir: dir, Throwaway: true})
	connect(t, c.DSN("postgres"))
	if _, err := os.Stat(staging); !os.IsNotExist(err) {
		t.Errorf("staging dir still there: %v", err)
	}
	if err := c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}

	// A data dir that initdb started but did not finish (no pg_control),
	// as running initdb straight into it would leave.
	data := c.DataDir()
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(data, "global"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "PG_VERSION"), []byte("15\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c = start(t, pgcluster.Options{Dir: dir, Throwaway: true})
	connect(t, c.DSN("postgres"))
}

func TestForeignDataDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "precious.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := pgcluster.Start(t.Context(), pgcluster.Options{Dir: dir, Throwaway: true, Logger: logger(t)})
	if err == nil || !strings.Contains(err.Error(), "not a PostgreSQL data directory") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "precious.txt")); err != nil {
		t.Errorf("foreign data dir was touched: %v", err)
	}
}

func TestSocketPathTooLong(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	_, err := pgcluster.Start(t.Context(), pgcluster.Options{Dir: dir, Logger: logger(t)})
	if err == nil || !strings.Contains(err.Error(), "Unix socket limit") {
		t.Fatalf("err = %v, want the socket path limit error", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Start made %s before failing: %v", dir, err)
	}
}

func TestBinDirNotFound(t *testing.T) {
	_, err := pgcluster.Start(t.Context(), pgcluster.Options{Dir: t.TempDir(), BinDir: t.TempDir(), Logger: logger(t)})
	if err == nil || !strings.Contains(err.Error(), "BinDir") {
		t.Fatalf("err = %v", err)
	}
}

// startOrphan runs the helper process on dir, waits until its cluster is
// up, then kills it with SIGKILL, leaving its server behind (or not, for a
// throwaway cluster, whose watchdog stops it). It returns the server's PID.
func startOrphan(t *testing.T, dir string, throwaway bool) (port int, postmasterPID int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperDirEnv+"="+dir, helperThrowawayEnv+"="+map[bool]string{true: "1"}[throwaway])
	cmd.Stderr = tWriter{t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %v", err)
	}
	if _, err := fmt.Sscanf(line, "ready %d", &port); err != nil {
		t.Fatalf("helper said %q", line)
	}
	b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	postmasterPID, _ = strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	return port, postmasterPID
}

// alive reports whether pid runs (a zombie, exited but not yet reaped by
// init, does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, after, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(after, "Z") && !strings.HasPrefix(after, "X")
}

// waitGone waits up to 10 seconds for pid to exit.
func waitGone(pid int) bool {
	for deadline := time.Now().Add(10 * time.Second); alive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

func TestServerLeftByKilledProcess(t *testing.T) {
	dir := t.TempDir()
	port, pid := startOrphan(t, dir, false)
	if !alive(pid) {
		t.Fatalf("the server of a killed persistent cluster's owner is gone; want it left running")
	}
	c := start(t, pgcluster.Options{Dir: dir})
	if !waitGone(pid) {
		t.Errorf("the server left running (pid %d) was not stopped", pid)
	}
	if c.Port() != port {
		t.Errorf("Port = %d, want %d", c.Port(), port)
	}
	if got := queryString(t, connect(t, c.DSN("app")), "SELECT v FROM kept"); got != "before the kill" {
		t.Errorf("got %q", got)
	}
}

func TestThrowawayServerStopsWithOwner(t *testing.T) {
	dir := t.TempDir()
	_, pid := startOrphan(t, dir, true)
	if !waitGone(pid) {
		t.Fatalf("the server of a killed throwaway cluster's owner (pid %d) still runs", pid)
	}
	// The dir can be started again.
	c := start(t, pgcluster.Options{Dir: dir, Throwaway: true})
	connect(t, c.DSN("postgres"))
}
