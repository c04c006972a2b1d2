package pgcluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serverBinaries must all be present in a usable bin directory.
var serverBinaries = []string{"initdb", "pg_ctl", "postgres"}

// findBinDir locates the PostgreSQL server binaries: override if given,
// else `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin.
func findBinDir(ctx context.Context, override string) (string, error) {
	if override != "" {
		if err := checkBinDir(override); err != nil {
			return "", fmt.Errorf("pgcluster: Options.BinDir: %w", err)
		}
		return override, nil
	}
	var candidates []string
	if pgConfig, err := exec.LookPath("pg_config"); err == nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		out, err := exec.CommandContext(ctx, pgConfig, "--bindir").Output()
		cancel()
		if err == nil {
			candidates = append(candidates, strings.TrimSpace(string(out)))
		}
	}
	versioned, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(versioned, func(a, b string) int { // newest first
		return compareVersions(filepath.Base(filepath.Dir(b)), filepath.Base(filepath.Dir(a)))
	})
	candidates = append(candidates, versioned...)
	for _, dir := range candidates {
		if checkBinDir(dir) == nil {
			return dir, nil
		}
	}
	return "", errors.New("pgcluster: PostgreSQL binaries not found (no initdb, pg_ctl and postgres in `pg_config --bindir` nor in /usr/lib/postgresql/*/bin): install postgresql-15 (make setup does this)")
}

func checkBinDir(dir string) error {
	for _, name := range serverBinaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return fmt.Errorf("%s is not executable", filepath.Join(dir, name))
		}
	}
	return nil
}

// compareVersions compares dotted numeric versions such as "15" and "9.6".
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)

// checkVersion makes sure the binaries can run the existing data directory:
// PostgreSQL data directories only work with the major version that made
// them.
func (c *Cluster) checkVersion(ctx context.Context) error {
	b, err := os.ReadFile(filepath.Join(c.dataDir, "PG_VERSION"))
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	dataVersion := strings.TrimSpace(string(b))
	out, err := exec.CommandContext(ctx, filepath.Join(c.binDir, "postgres"), "--version").Output()
	if err != nil {
		return fmt.Errorf("pgcluster: %s --version: %w", filepath.Join(c.binDir, "postgres"), err)
	}
	m := versionRE.FindStringSubmatch(string(out))
	if m == nil {
		return fmt.Errorf("pgcluster: cannot read the version in %q", strings.TrimSpace(string(out)))
	}
	binVersion := m[1]
	if n, _ := strconv.Atoi(m[1]); n < 10 && m[2] != "" {
		binVersion += "." + m[2] // before 10 the major version had two parts
	}
	if dataVersion != binVersion {
		return fmt.Errorf("pgcluster: data directory %s was made by PostgreSQL %s but the binaries in %s are PostgreSQL %s: install postgresql-%s, or remove %s to start afresh (its data will be lost)",
			c.dataDir, dataVersion, c.binDir, binVersion, dataVersion, c.dir)
	}
	return nil
}

// lookupRunAs sets the credential child processes run with: the postgres
// OS user's when this process is root (initdb and postgres refuse root).
func (c *Cluster) lookupRunAs() error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("pgcluster: running as root, PostgreSQL must run as the OS user postgres, which was not found (%v): install postgresql-15 (make setup does this), which creates it", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("pgcluster: OS user postgres: %w", err)
	}
	c.runAs = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	c.runHome = u.HomeDir
	return nil
}

// acquireLock takes the flock on Dir/cluster.lock, which stays held until
// Stop (or until this process dies, when the kernel drops it).
func (c *Cluster) acquireLock() error {
	path := filepath.Join(c.dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			owner, _ := os.ReadFile(path)
			return fmt.Errorf("pgcluster: cluster %s is in use by another process (pid %s) or another Cluster of this one: stop it first, or use another dir",
				c.dir, strings.TrimSpace(string(owner)))
		}
		return fmt.Errorf("pgcluster: lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	c.lock = f
	return nil
}

// resolvePort returns the port to use: want if non-zero, else the one
// stored in path, else a newly picked free one. The result is stored.
func resolvePort(path string, want int, log *slog.Logger) (int, error) {
	port := want
	if port == 0 {
		if b, err := os.ReadFile(path); err == nil {
			p, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err == nil && p > 0 && p <= 65535 {
				return p, nil
			}
			log.Warn("pgcluster: ignoring invalid stored port", "file", path, "content", string(b))
		}
		port = freePort()
	}
	if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(port) {
		return port, nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
		return 0, fmt.Errorf("pgcluster: store port: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, fmt.Errorf("pgcluster: store port: %w", err)
	}
	return port, nil
}

// freePort picks a port no TCP listener uses on the loopback. The server
// listens only on its private Unix socket, so this is a courtesy rather
// than a need.
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 20000 + os.Getpid()%30000
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// prepareDirs creates Dir/run and, when running as root, gives Dir and
// Dir/run to the postgres user and makes sure it can reach Dir.
func (c *Cluster) prepareDirs() error {
	if err := os.MkdirAll(c.socketDir, 0o700); err != nil {
		return fmt.Errorf("pgcluster: create socket dir: %w", err)
	}
	if c.runAs == nil {
		return nil
	}
	uid, gid := int(c.runAs.Uid), int(c.runAs.Gid)
	for _, p := range []string{c.dir, c.socketDir} {
		if err := os.Chown(p, uid, gid); err != nil {
			return fmt.Errorf("pgcluster: give %s to the postgres user: %w", p, err)
		}
	}
	if fi, err := os.Stat(c.logFile); err == nil && ownerOf(fi) != c.runAs.Uid {
		if err := os.Chown(c.logFile, uid, gid); err != nil {
			return fmt.Errorf("pgcluster: give %s to the postgres user: %w", c.logFile, err)
		}
	}
	if fi, err := os.Stat(c.dataDir); err == nil && ownerOf(fi) != c.runAs.Uid {
		c.log.Info("pgcluster: giving the data dir to the postgres OS user", "dir", c.dataDir)
		if err := chownTree(c.dataDir, uid, gid); err != nil {
			return err
		}
	}
	return c.ensureTraversable()
}

// ensureTraversable gives the postgres user search permission (x, never
// read) on each ancestor of Dir it could not traverse, and logs it.
func (c *Cluster) ensureTraversable() error {
	u, err := user.LookupId(strconv.FormatUint(uint64(c.runAs.Uid), 10))
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	gids := map[uint32]bool{c.runAs.Gid: true}
	if groups, err := u.GroupIds(); err == nil {
		for _, g := range groups {
			if n, err := strconv.ParseUint(g, 10, 32); err == nil {
				gids[uint32(n)] = true
			}
		}
	}
	var ancestors []string
	for p := filepath.Dir(c.dir); ; p = filepath.Dir(p) {
		ancestors = append(ancestors, p)
		if p == filepath.Dir(p) {
			break
		}
	}
	slices.Reverse(ancestors)
	var granted []string
	for _, p := range ancestors {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		var bit fs.FileMode
		switch {
		case st.Uid == c.runAs.Uid:
			bit = 0o100
		case gids[st.Gid]:
			bit = 0o010
		default:
			bit = 0o001
		}
		if fi.Mode().Perm()&bit != 0 {
			continue
		}
		if err := os.Chmod(p, fi.Mode().Perm()|bit|(fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))); err != nil {
			return fmt.Errorf("pgcluster: the postgres OS user cannot reach %s and granting it search permission on %s failed: %w", c.dir, p, err)
		}
		granted = append(granted, p)
	}
	if len(granted) > 0 {
		c.log.Info("pgcluster: granted the postgres OS user search permission (x, not read) on ancestors of the cluster dir so that it can reach it",
			"dirs", strings.Join(granted, " "))
	}
	return nil
}

func ownerOf(fi os.FileInfo) uint32 { return fi.Sys().(*syscall.Stat_t).Uid }

func chownTree(root string, uid, gid int) error {
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		return fmt.Errorf("pgcluster: give %s to the postgres user: %w", root, err)
	}
	return nil
}

// ensureInitialised runs initdb unless Dir/data holds a complete cluster.
// initdb runs in Dir/data.initdb, renamed to Dir/data only once it
// succeeded, so a killed initdb leaves no half-made Dir/data behind: its
// leftovers are removed and initdb is redone.
func (c *Cluster) ensureInitialised(ctx context.Context) error {
	staging := filepath.Join(c.dir, stagingName)
	if _, err := os.Lstat(staging); err == nil {
		c.log.Warn("pgcluster: removing a half-initialised data dir left by an interrupted initdb", "dir", staging)
		if err := os.RemoveAll(staging); err != nil {
			return fmt.Errorf("pgcluster: remove half-initialised %s: %w", staging, err)
		}
	}
	switch state, err := dataDirState(c.dataDir); {
	case err != nil:
		return err
	case state == dataComplete:
		return nil
	case state == dataForeign:
		return fmt.Errorf("pgcluster: %s exists but is not a PostgreSQL data directory: move it away, or use another cluster dir", c.dataDir)
	case state == dataPartial:
		c.log.Warn("pgcluster: data dir is incomplete (interrupted initdb?): removing it and running initdb again", "dir", c.dataDir)
		if err := os.RemoveAll(c.dataDir); err != nil {
			return fmt.Errorf("pgcluster: remove incomplete %s: %w", c.dataDir, err)
		}
	}

	began := time.Now()
	if err := os.Mkdir(staging, 0o700); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if c.runAs != nil {
		if err := os.Chown(staging, int(c.runAs.Uid), int(c.runAs.Gid)); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
	}
	args := []string{"-D", staging, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale"}
	if c.throwaway {
		args = append(args, "--no-sync")
	}
	if out, err := c.run(ctx, "initdb", args...); err != nil {
		return fmt.Errorf("pgcluster: initdb %s: %w\n%s", c.dataDir, err, out)
	}
	if err := os.Rename(staging, c.dataDir); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if !c.throwaway {
		syncDir(c.dir)
	}
	c.log.Info("pgcluster: initialised PostgreSQL data dir", "dir", c.dataDir, "elapsed", time.Since(began).Round(time.Millisecond))
	return nil
}

type dataState int

const (
	dataMissing  dataState = iota // absent or empty
	dataComplete                  // made by a finished initdb
	dataPartial                   // has PG_VERSION but no pg_control
	dataForeign                   // something else
)

func dataDirState(dir string) (dataState, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return dataMissing, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pgcluster: %w", err)
	}
	if len(entries) == 0 {
		return dataPartial, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		return dataForeign, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "global", "pg_control")); err != nil {
		return dataPartial, nil
	}
	return dataComplete, nil
}

func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		f.Close()
	}
}

// clearPrevious deals with what an earlier run left: a server still
// running on the data dir (its owner died without stopping it, since this
// process now holds the cluster lock) is stopped; a postmaster.pid whose
// server is gone, and stale socket files, are removed. PostgreSQL would
// refuse to start over a stale postmaster.pid whose PID now belongs to
// another process, which is common after a reboot or in containers.
func (c *Cluster) clearPrevious(ctx context.Context) error {
	pidFile := filepath.Join(c.dataDir, "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err == nil {
		pid, _ := strconv.Atoi(strings.TrimSpace(firstLine(b)))
		if isPostmasterOf(pid, c.dataDir) {
			mode := "fast"
			if c.throwaway {
				mode = "immediate"
			}
			c.log.Warn("pgcluster: stopping the PostgreSQL server an earlier process left running on this data dir, to restart it", "pid", pid, "dir", c.dataDir, "mode", mode)
			if err := c.pgCtlStop(ctx, mode); err != nil {
				return err
			}
		} else {
			c.log.Info("pgcluster: removing stale postmaster.pid (its server is gone)", "pid", pid, "file", pidFile)
			if err := os.Remove(pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("pgcluster: remove stale %s: %w", pidFile, err)
			}
		}
	}
	// Only our server uses this directory, and it is not running.
	stale, _ := filepath.Glob(filepath.Join(c.socketDir, ".s.PGSQL.*"))
	for _, p := range stale {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("pgcluster: remove stale socket file: %w", err)
		}
	}
	return nil
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return string(line)
}

// isPostmasterOf reports whether pid is a live postgres process whose
// working directory is dataDir (the postmaster chdirs to its data dir).
func isPostmasterOf(pid int, dataDir string) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	procDir := "/proc/" + strconv.Itoa(pid)
	if _, err := os.Stat("/proc/self"); err != nil {
		return true // no procfs: trust the PID
	}
	cmdline, err := os.ReadFile(procDir + "/cmdline")
	if err != nil {
		return false // gone meanwhile
	}
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	if name := filepath.Base(string(argv0)); !strings.HasPrefix(name, "postgres") && !strings.HasPrefix(name, "postmaster") {
		return false
	}
	cwd, err1 := os.Stat(procDir + "/cwd")
	data, err2 := os.Stat(dataDir)
	if err1 != nil || err2 != nil {
		return err1 != nil && !errors.Is(err1, os.ErrNotExist) // cwd unreadable: trust the name
	}
	return os.SameFile(cwd, data)
}

// rotateLog keeps the server log from growing forever across runs of a
// persistent cluster: past 10 MiB it moves to postgres.log.1.
func rotateLog(path string) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 10<<20 {
		_ = os.Rename(path, path+".1")
	}
}

// logTail returns the last lines written to the log file after offset.
func logTail(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "(" + err.Error() + ")"
	}
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 30 {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
