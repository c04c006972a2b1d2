package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"satchel.dev/backend/postgres"
	"satchel.dev/backend/postgres/pgtest"
)

// exitStatus is the exit code of a finished cli run.
func exitStatus(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

// TestHelp: -h, --help and help print the help of satchel-server and of every command, with
// examples, on stdout, and exit 0.
func TestHelp(t *testing.T) {
	asks := [][]string{{"-h"}, {"--help"}, {"help"}, {"help", "serve"}, {"help", "admin", "ban"}, {"admin", "-h"}, {"dev", "pay", "-h"}}
	for _, cmd := range []string{"serve", "migrate", "check-ledger", "backfill-entries"} {
		asks = append(asks, []string{cmd, "-h"}, []string{cmd, "--help"})
	}
	for cmd := range adminCommands {
		asks = append(asks, []string{"admin", cmd, "--help"})
	}
	for _, args := range asks {
		out, err := cli(t, nil, args...)
		if code := exitStatus(t, err); code != 0 || !strings.Contains(out, "xample") || !strings.Contains(strings.ToLower(out), "usage") {
			t.Errorf("satchel-server %s: exit %d, want 0 with usage and examples:\n%s", strings.Join(args, " "), code, out)
		}
	}
	for _, cmd := range []string{"serve", "migrate", "check-ledger", "backfill-entries", "dev pay"} {
		if commands[cmd] == "" {
			t.Errorf("%s has no help", cmd)
		}
	}
	for cmd := range adminCommands {
		if adminHelp[cmd] == "" {
			t.Errorf("admin %s has no help", cmd)
		}
	}
}

// TestVersion: --version says which build this is and exits 0, needing no database.
func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "version"} {
		out, err := cli(t, nil, arg)
		if code := exitStatus(t, err); code != 0 || !strings.HasPrefix(out, "satchel-server ") || !strings.Contains(out, "commit ") {
			t.Errorf("satchel-server %s: exit %d, want 0 and the version:\n%s", arg, code, out)
		}
	}
}

// TestExitCodes: a wrong command line exits 2; check-ledger exits 0 on a sound ledger, 1 when a
// purchase breaks an invariant, and 3 when it cannot reach the database.
func TestExitCodes(t *testing.T) {
	for _, args := range [][]string{{"serve", "--no-such-flag"}, {"serve", "extra"}, {"dev"}, {"admin", "no-such-command"},
		{"serve", "--secret-file", "/nonexistent"}, {"help", "no-such-command"}} {
		if out, err := cli(t, nil, args...); exitStatus(t, err) != exitUsage {
			t.Errorf("satchel-server %s: %v, want exit 2:\n%s", strings.Join(args, " "), err, out)
		}
	}
	dsn := pgtest.NewDatabase(t)
	if out, err := cli(t, []string{"DATABASE_URL=" + dsn}, "check-ledger"); exitStatus(t, err) != exitOK {
		t.Errorf("check-ledger on an empty database: %v\n%s", err, out)
	}
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A PAID purchase with no ledger entries, no entitlement and no payout.
	if _, err := db.Pool().Exec(context.Background(), `
		WITH u AS (INSERT INTO users (pubkey) VALUES (repeat('ab', 32)) RETURNING id),
		     g AS (INSERT INTO games (developer_user_id, slug, title) SELECT id, 'broken-game', 'Broken' FROM u RETURNING id)
		INSERT INTO purchases (game_id, status, amount_msat, paid_at) SELECT id, 'PAID', 1000000, now() FROM g`); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, []string{"DATABASE_URL=" + dsn}, "check-ledger")
	if exitStatus(t, err) != exitLedger || !strings.Contains(out, "purchase ") {
		t.Errorf("check-ledger on a broken ledger: %v, want exit 1 listing the purchase:\n%s", err, out)
	}
	if out, err := cli(t, []string{"DATABASE_URL=postgres://nobody@127.0.0.1:1/none?connect_timeout=2"}, "check-ledger"); exitStatus(t, err) != exitFailed {
		t.Errorf("check-ledger without a database: %v, want exit 3:\n%s", err, out)
	}
}

// TestSecretsFromFiles: the server's secret and the S3 secret key are read from the files the
// *-file flags and _FILE variables name, and a server started as the README shows holds no
// secret in its command line.
func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	secret, s3Secret := strings.Repeat("5e", 32), "s3-secret-"+strings.Repeat("x", 20)
	secretFile, s3File := filepath.Join(dir, "secret"), filepath.Join(dir, "s3")
	for f, v := range map[string]string{secretFile: secret + "\n", s3File: s3Secret} {
		if err := os.WriteFile(f, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"SATCHEL_S3_SECRET_KEY_FILE": s3File}
	c, err := parseConfig("serve", []string{"--secret-file", secretFile, "--s3-endpoint", "s3.example.com", "--s3-bucket", "b",
		"--s3-access-key", "k"}, func(k string) string { return env[k] })
	if err != nil || c.Secret != secret || c.S3.SecretKey != s3Secret {
		t.Errorf("parseConfig with secret files: secret %q, S3 secret key %q, %v", c.Secret, c.S3.SecretKey, err)
	}
	if _, err := parseConfig("serve", []string{"--secret", secret, "--secret-file", secretFile}, func(string) string { return "" }); err == nil {
		t.Error("--secret with --secret-file: accepted, want refused")
	}
	if out, err := cli(t, []string{"SATCHEL_SECRET=" + secret, "SATCHEL_S3_SECRET_KEY=" + s3Secret}, "serve", "-h"); err != nil ||
		strings.Contains(out, secret) || strings.Contains(out, s3Secret) {
		t.Errorf("serve -h with secrets in the environment: %v, and it shows them:\n%s", err, out)
	}

	data := filepath.Join(dir, "data")
	s := startServer(t, []string{"DATABASE_URL=" + pgtest.NewDatabase(t), "SATCHEL_SECRET_FILE=" + secretFile},
		"serve", "--listen", "127.0.0.1:0", "--data-dir", data)
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", s.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cmdline), secret) {
		t.Errorf("the process's command line holds the secret: %q", cmdline)
	}
	if _, err := os.Stat(filepath.Join(data, "secret")); !os.IsNotExist(err) {
		t.Errorf("the server made <data-dir>/secret though it was given one: %v", err)
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err, s.log())
	}
}

// TestLogLines: the server logs one line per request and one per event that matters; the job
// queue's periodic INFO lines are DEBUG, and so not in the default log.
func TestLogLines(t *testing.T) {
	s := startServer(t, []string{"DATABASE_URL=" + pgtest.NewDatabase(t), "SATCHEL_LOG_FORMAT=json"},
		"serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	for range 3 {
		if code, _ := post(t, s.url, "satchel.catalog.v1.CatalogService/ListGames", "{}", ""); code != 200 {
			t.Fatalf("ListGames: %d", code)
		}
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err, s.log())
	}
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(s.log()), "\n") {
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("a log line that is not one JSON record: %q", line)
		}
		if rec.Level == "INFO" {
			counts[rec.Msg]++
		}
	}
	want := map[string]int{"satchel-server listening": 1, "request": 3, "shutting down": 1}
	if !maps.Equal(counts, want) {
		t.Errorf("INFO lines by message: %v, want %v; the log:\n%s", counts, want, s.log())
	}
}
