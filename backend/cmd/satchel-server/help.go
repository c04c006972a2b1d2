package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes, as `satchel-server --help` documents them; exitCode maps errors to them.
const (
	exitOK     = 0 // done; also after printing help
	exitLedger = 1 // check-ledger: a purchase breaks an invariant of the money path
	exitUsage  = 2 // the command line or the configuration is wrong: the message says what to change
	exitFailed = 3 // anything else failed: the database, the server called, a file...
)

// errLedgerBroken is check-ledger's answer when a purchase breaks an invariant (exit 1).
var errLedgerBroken = errors.New("the ledger breaks its invariants")

// usageError is a wrong command line or configuration (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usage marks err (when not nil) as a usage error, and turns flag.ErrHelp into the help of
// command.
func usage(err error, command string, fs *flag.FlagSet) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		return helpRequested{commandHelp(command, fs)}
	}
	return usageError{err}
}

// helpRequested is the answer to -h or --help: run prints text on stdout and exits 0.
type helpRequested struct{ text string }

func (h helpRequested) Error() string { return "help requested" }

// exitCode maps run's error to the documented exit codes, telling stderr what went wrong.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "satchel-server:", err)
	var ue usageError
	switch {
	case errors.Is(err, errLedgerBroken):
		return exitLedger
	case errors.As(err, &ue):
		return exitUsage
	}
	return exitFailed
}

// helpAsked reports whether args ask for help.
func helpAsked(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			return true
		}
	}
	return false
}

const overview = `satchel-server is Satchel's backend: the store, the developer API, purchases over
Lightning, builds and payouts, served over Connect RPC (Connect, gRPC and gRPC-Web).

Usage:
  satchel-server [serve] [flags]                serve the API (the default command)
  satchel-server migrate [flags]                bring the database schema up to date and exit
  satchel-server check-ledger [flags]           check every purchase against the ledger's invariants
  satchel-server backfill-entries [flags]       record where old builds' files lie in their zips (once)
  satchel-server dev pay [--server URL] INVOICE pay a dev-provider invoice with test money
  satchel-server admin [flags] COMMAND [ARGS]   the operators' actions on a running server
  satchel-server help [COMMAND]                 this help, or a command's (as COMMAND -h)
  satchel-server --version                      the version, commit and Go version it was built from

Every flag of serve, migrate and check-ledger has a SATCHEL_* environment variable (DATABASE_URL
for --database-url); a flag wins over its variable. Secrets are never needed on the command line:
--secret-file and --s3-secret-key-file (or their _FILE variables) name files holding them.

Examples:
  satchel-server --demo
  DATABASE_URL=postgres://satchel@db/satchel satchel-server serve --listen 0.0.0.0:8080 \
      --behind-tls-proxy --public-url https://store.example.com --secret-file /etc/satchel/secret
  satchel-server serve -h

Exit codes:
  0  done (and after printing help)
  1  check-ledger found purchases that break an invariant (it lists them)
  2  the command line or the configuration is wrong (the message says what to change)
  3  anything else failed (the database, the server called, a file)
`

// commands are the help of each command but admin's, whose help is adminUsage: what it does and
// examples; the flags follow, from the command's flag set.
var commands = map[string]string{
	"serve": `usage: satchel-server [serve] [flags]

Serves the API on --listen until SIGTERM or SIGINT, then drains requests and stops. With no
DATABASE_URL it starts a private PostgreSQL cluster under --data-dir (and stops it on exit). It
brings the schema up to date first, under a lock, so several instances may start together.

Examples:
  satchel-server serve --demo
  satchel-server serve --listen 127.0.0.1:9000 --metrics-listen 127.0.0.1:9090
  SATCHEL_SECRET_FILE=/run/secrets/satchel DATABASE_URL=postgres://satchel@db/satchel \
      satchel-server serve --listen 0.0.0.0:8080 --behind-tls-proxy --public-url https://store.example.com
`,
	"migrate": `usage: satchel-server migrate [flags]

Brings the database schema up to date and exits. serve does it too on every start.

Examples:
  DATABASE_URL=postgres://satchel@db/satchel satchel-server migrate
  satchel-server migrate --data-dir /var/lib/satchel
`,
	"check-ledger": `usage: satchel-server check-ledger [flags]

Checks every purchase against the money path's invariants (for every PAID purchase
PLATFORM_FEE + DEVELOPER_NET = INVOICE_PAID, one entitlement, one payout; nothing for unpaid
ones; refunds and payouts recorded as they happened). Exits 0 when all hold, 1 listing the
purchases that break one, 3 when it cannot check (the database does not answer).

Examples:
  DATABASE_URL=postgres://satchel@db/satchel satchel-server check-ledger
  satchel-server check-ledger --data-dir .data || alert "the ledger is broken"
`,
	"backfill-entries": `usage: satchel-server backfill-entries [flags]

Records where the files of every build finished before migration 0010 lie in its zip, reading
the zips from the store the server uses (--data-dir or the --s3-* settings), one line per
build. Running it again does only what is left; it exits 3 if any build could not be done.

Examples:
  DATABASE_URL=postgres://satchel@db/satchel satchel-server backfill-entries --s3-endpoint s3.example.com \
      --s3-bucket builds --s3-access-key AKIA... --s3-secret-key-file /run/secrets/s3
  satchel-server backfill-entries --data-dir .data
`,
	"dev pay": `usage: satchel-server dev pay [--server URL] INVOICE

Pays an invoice of a server running the dev invoice provider, with test money (nothing real is
paid). A server with a real invoice provider refuses it.

Examples:
  satchel-server dev pay lnbcrt10u1p...
  satchel-server dev pay --server http://127.0.0.1:9000 lnbcrt10u1p...
`,
}

// commandHelp is a command's help text followed by its flags.
func commandHelp(command string, fs *flag.FlagSet) string {
	var b strings.Builder
	b.WriteString(commands[command])
	b.WriteString("\nFlags:\n")
	out := fs.Output()
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(out)
	return b.String()
}
