// Package pgcluster runs a private PostgreSQL cluster from the machine's
// PostgreSQL binaries (initdb, pg_ctl, postgres).
//
// It is the adapter satchel-server uses when no DATABASE_URL is given (a
// persistent cluster under the repo's .data/, reused between runs) and the
// one the tests use (throwaway clusters in temporary directories).
//
// Everything a cluster needs lives inside Options.Dir:
//
//	Dir/data/          the PostgreSQL data directory (PGDATA)
//	Dir/data.initdb/   only while initdb runs; renamed to data/ when it succeeds
//	Dir/run/           the Unix socket directory (the server listens on no TCP address)
//	Dir/postgres.log   the server log
//	Dir/port           the port chosen the first time, reused afterwards
//	Dir/cluster.lock   flock held by the process that owns the running cluster
//
// The server only listens on a Unix socket inside Dir/run, with trust
// authentication for the superuser "postgres": whoever can reach that
// directory can connect, so it is kept private (mode 0700).
//
// When the current process is root, initdb, pg_ctl and the server run as the
// "postgres" OS user (PostgreSQL refuses to run as root): Dir is chowned to
// that user, and ancestors of Dir that it could not traverse are given search
// permission (x, never read), which is logged.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options configures Start.
type Options struct {
	// Dir is the cluster root: the data directory, the socket directory and
	// the log all go inside it. It is created if missing. Required.
	Dir string

	// Port is the port number of the server's Unix socket (the server
	// listens on no TCP address). 0 picks a free one the first time and
	// stores it in Dir, so later starts on the same Dir reuse it and DSNs
	// stay stable. A non-zero Port is used as given and stored too.
	Port int

	// Throwaway trades durability for speed, for tests: initdb --no-sync,
	// the server runs with fsync and full_page_writes off and timezone UTC,
	// Stop uses immediate mode, and the server is stopped by a watchdog
	// process if the process that started it dies without calling Stop
	// (panic, os.Exit, SIGKILL). What it loses is only what the operating
	// system had not written when the machine itself went down: a commit
	// acknowledged before PostgreSQL is killed (synchronous_commit stays on)
	// is still there when it starts again, as in production.
	Throwaway bool

	// Logger receives progress and warnings. nil means slog.Default().
	Logger *slog.Logger

	// BinDir overrides where the PostgreSQL server binaries are looked up.
	// "" means: `pg_config --bindir` if pg_config is on PATH, else the
	// newest /usr/lib/postgresql/*/bin.
	BinDir string
}

// Cluster is a running private PostgreSQL server started by Start.
// Its methods are safe for concurrent use.
type Cluster struct {
	dir       string
	dataDir   string
	socketDir string
	logFile   string
	binDir    string
	port      int
	throwaway bool
	log       *slog.Logger

	// runAs is the postgres OS user's credential when the current process
	// is root, nil otherwise (child processes then run as the current user).
	runAs   *syscall.Credential
	runHome string

	mu       sync.Mutex
	stopped  bool
	lock     *os.File // flock on Dir/cluster.lock, held until Stop
	watchdog *watchdog
}

// Layout of Dir.
const (
	dataName    = "data"
	stagingName = "data.initdb"
	runName     = "run"
	logName     = "postgres.log"
	portName    = "port"
	lockName    = "cluster.lock"

	// maxSocketPath is the longest Unix socket path the kernel accepts
	// (sun_path is 108 bytes including the terminating NUL). Start fails
	// if Dir/run/.s.PGSQL.65535 would be longer.
	maxSocketPath = 107
)

// Start brings up the cluster in o.Dir and returns once it accepts
// connections.
//
// It finds the PostgreSQL binaries, runs initdb if the data directory is not
// initialised yet (an initdb that was interrupted is detected and redone),
// removes a stale postmaster.pid left by a server that is gone, stops a
// server that a previous owner of o.Dir left running (for example after that
// process was killed with SIGKILL) so that it can be restarted with this
// call's settings, starts the server with pg_ctl and waits until it accepts
// connections.
//
// Only one Cluster at a time may own a Dir: Start fails if another live
// process (or another Cluster in this process) has it. The caller must call
// Stop when done.
func Start(ctx context.Context, o Options) (_ *Cluster, err error) {
	began := time.Now()
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if o.Dir == "" {
		return nil, errors.New("pgcluster: Options.Dir is required")
	}
	if o.Port < 0 || o.Port > 65535 {
		return nil, fmt.Errorf("pgcluster: Options.Port %d is out of range", o.Port)
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	binDir, err := findBinDir(ctx, o.BinDir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		dir:       dir,
		dataDir:   filepath.Join(dir, dataName),
		socketDir: filepath.Join(dir, runName),
		logFile:   filepath.Join(dir, logName),
		binDir:    binDir,
		throwaway: o.Throwaway,
		log:       log,
	}
	// Checked before anything is created, for the longest port number.
	if sock := filepath.Join(c.socketDir, ".s.PGSQL.65535"); len(sock) > maxSocketPath {
		return nil, fmt.Errorf("pgcluster: socket path %s would be %d bytes, over the %d-byte Unix socket limit: use a shorter cluster dir than %s",
			sock, len(sock), maxSocketPath, dir)
	}
	if err := c.lookupRunAs(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pgcluster: create cluster dir: %w", err)
	}
	if err := c.acquireLock(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.lock.Close()
		}
	}()

	if c.port, err = resolvePort(filepath.Join(dir, portName), o.Port, log); err != nil {
		return nil, err
	}
	if err := c.prepareDirs(); err != nil {
		return nil, err
	}
	if err := c.ensureInitialised(ctx); err != nil {
		return nil, err
	}
	if err := c.checkVersion(ctx); err != nil {
		return nil, err
	}
	if err := c.clearPrevious(ctx); err != nil {
		return nil, err
	}
	if c.throwaway {
		// Started before the server so that there is no moment when the
		// server runs without one.
		if c.watchdog, err = c.startWatchdog(); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				c.watchdog.quit()
			}
		}()
	}
	err = c.startServer(ctx)
	if err == nil {
		err = c.ping(ctx)
	}
	if err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = c.pgCtlStop(stopCtx, "immediate")
		return nil, err
	}
	log.Info("pgcluster: PostgreSQL started", "dir", dir, "port", c.port,
		"throwaway", c.throwaway, "elapsed", time.Since(began).Round(time.Millisecond))
	return c, nil
}

// Stop stops the server: fast mode (clients are disconnected, a checkpoint
// is written), or immediate mode for a Throwaway cluster. It then releases
// Dir for the next Start. Calling Stop again after it succeeded does nothing
// and returns nil; after a failure, calling it again retries.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	mode := "fast"
	if c.throwaway {
		mode = "immediate"
	}
	if err := c.pgCtlStop(ctx, mode); err != nil {
		return err
	}
	if c.watchdog != nil {
		c.watchdog.quit()
		c.watchdog = nil
	}
	c.lock.Close()
	c.stopped = true
	c.log.Info("pgcluster: PostgreSQL stopped", "dir", c.dir, "mode", mode)
	return nil
}

// DSN returns a pgx-compatible connection URL for database over the
// cluster's Unix socket, as the superuser postgres, for example
// postgres://postgres@/app?host=/x/run&port=5433&sslmode=disable.
func (c *Cluster) DSN(database string) string {
	host := strings.ReplaceAll(url.QueryEscape(c.socketDir), "%2F", "/")
	return "postgres://postgres@/" + url.PathEscape(database) +
		"?host=" + host + "&port=" + strconv.Itoa(c.port) + "&sslmode=disable"
}

// CreateDatabase creates database name, as a copy of template ("" means
// PostgreSQL's default, template1). The template must have no other
// connections while it is copied.
func (c *Cluster) CreateDatabase(ctx context.Context, name, template string) error {
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	return c.Exec(ctx, "postgres", sql)
}

// DropDatabase drops database name if it exists, terminating the
// connections it still has (DROP DATABASE ... WITH (FORCE)).
func (c *Cluster) DropDatabase(ctx context.Context, name string) error {
	return c.Exec(ctx, "postgres", "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

// Exec runs one SQL statement in database on a connection of its own,
// closed before Exec returns.
func (c *Cluster) Exec(ctx context.Context, database, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, c.DSN(database))
	if err != nil {
		return fmt.Errorf("pgcluster: connect to %s: %w", database, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("pgcluster: %s: %w", sql, err)
	}
	return nil
}

// BinDir is the directory of the PostgreSQL binaries the cluster runs
// (initdb, pg_ctl, postgres, pgbench, psql, ...).
func (c *Cluster) BinDir() string { return c.binDir }

// Port is the server's port number (it names the Unix socket).
func (c *Cluster) Port() int { return c.port }

// SocketDir is the directory holding the server's Unix socket, the "host"
// of its connection strings.
func (c *Cluster) SocketDir() string { return c.socketDir }

// Dir is the absolute cluster root (Options.Dir).
func (c *Cluster) Dir() string { return c.dir }

// DataDir is the PostgreSQL data directory (PGDATA), inside Dir.
func (c *Cluster) DataDir() string { return c.dataDir }

// LogFile is the server's log file, inside Dir.
func (c *Cluster) LogFile() string { return c.logFile }

func (c *Cluster) socketPath() string {
	return filepath.Join(c.socketDir, ".s.PGSQL."+strconv.Itoa(c.port))
}

// startServer runs pg_ctl start and waits for it to report the server ready.
func (c *Cluster) startServer(ctx context.Context) error {
	rotateLog(c.logFile)
	var logStart int64
	if fi, err := os.Stat(c.logFile); err == nil {
		logStart = fi.Size()
	}
	opts := "-k " + shellQuote(c.socketDir) + " -p " + strconv.Itoa(c.port) + " -c listen_addresses=''"
	if c.throwaway {
		opts += " -c fsync=off -c full_page_writes=off -c timezone=UTC"
	}
	out, err := c.run(ctx, "pg_ctl", "start", "-w", "-t", waitSeconds(ctx), "-D", c.dataDir, "-l", c.logFile, "-o", opts)
	if err != nil {
		return fmt.Errorf("pgcluster: start PostgreSQL in %s: %w\n%s\nserver log (%s):\n%s",
			c.dataDir, err, out, c.logFile, logTail(c.logFile, logStart))
	}
	return nil
}

// ping waits until the server accepts a connection.
func (c *Cluster) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgcluster: PostgreSQL started but does not accept connections on %s: %w (see %s)", c.socketPath(), err, c.logFile)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// pgCtlStop stops the server if its postmaster.pid exists. A server that
// is already gone counts as stopped.
func (c *Cluster) pgCtlStop(ctx context.Context, mode string) error {
	pidFile := filepath.Join(c.dataDir, "postmaster.pid")
	if _, err := os.Stat(pidFile); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	out, err := c.run(ctx, "pg_ctl", "stop", "-w", "-t", waitSeconds(ctx), "-D", c.dataDir, "-m", mode)
	if err != nil {
		if _, statErr := os.Stat(pidFile); errors.Is(statErr, os.ErrNotExist) {
			return nil // stopped meanwhile, or by someone else
		}
		return fmt.Errorf("pgcluster: stop PostgreSQL in %s: %w\n%s", c.dataDir, err, out)
	}
	return nil
}

// command prepares one of the PostgreSQL binaries to run in Dir as the user
// the cluster runs as, with no PG* variables from this process's
// environment.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, name), args...)
	c.setupCmd(cmd)
	return cmd
}

func (c *Cluster) setupCmd(cmd *exec.Cmd) {
	cmd.Dir = c.dir
	env := make([]string, 0, len(os.Environ())+2)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || (c.runAs != nil && strings.HasPrefix(kv, "HOME=")) {
			continue
		}
		env = append(env, kv)
	}
	if c.runAs != nil {
		env = append(env, "HOME="+c.runHome)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.runAs}
	}
	if c.throwaway {
		env = append(env, "TZ=UTC") // initdb then skips probing the system time zone
	}
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
}

// run runs a PostgreSQL binary and returns its combined output.
func (c *Cluster) run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := c.command(ctx, name, args...)
	c.log.Debug("pgcluster: run", "cmd", cmd.String())
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// waitSeconds is pg_ctl's -t for ctx: the time left until its deadline, or
// 60 seconds.
func waitSeconds(ctx context.Context) string {
	secs := 60
	if d, ok := ctx.Deadline(); ok {
		secs = max(1, int(time.Until(d).Seconds()))
	}
	return strconv.Itoa(secs)
}

// shellQuote quotes s for /bin/sh (pg_ctl passes -o through the shell).
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
