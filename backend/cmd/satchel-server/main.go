// Command satchel-server is Satchel's backend: the store, the developer API and (in later
// issues) purchases, builds and payouts, over Connect RPC.
//
//	satchel-server [serve] [flags]              serve the API (the default)
//	satchel-server migrate [flags]              bring the database schema up to date and exit
//	satchel-server check-ledger [flags]         check every purchase against the ledger's
//	                                            invariants; exit 1 listing those that break one
//	satchel-server backfill-entries [flags]     record where the files of builds finished
//	                                            before migration 0010 lie in their zips (once)
//	satchel-server dev pay [--server URL] INVOICE  pay an invoice of a server running the dev
//	                                            invoice provider, with test money
//	satchel-server --version                    print the version, commit and Go version
//	satchel-server admin [--server URL] COMMAND  the operators' actions (feature, ban, refund,
//	                                            revoke, payouts, announcements, audit) on a
//	                                            running server, signed with an admin's key
//
// With no DATABASE_URL it starts a private PostgreSQL cluster under --data-dir and stops it on
// exit. See -h of each subcommand for its flags and their SATCHEL_* variables. This package
// reads the flags into a server.Config and runs a server.Main, which holds the wiring.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"satchel.dev/backend/postgres"
	"satchel.dev/backend/server"
	testmoneyv1 "satchel.dev/shared/api/satchel/testmoney/v1"
	"satchel.dev/shared/api/satchel/testmoney/v1/testmoneyv1connect"
	"satchel.dev/shared/buildinfo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := exitCode(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr), os.Stderr)
	stop()
	os.Exit(code)
}

// run is main with its dependencies passed in. It returns when ctx is done or on error; help
// asked for is printed on stdout, and is no error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, getenv, stdout, stderr)
	var h helpRequested
	if errors.As(err, &h) {
		_, err = io.WriteString(stdout, h.text)
	}
	return err
}

// dispatch runs the command args name.
func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		if len(args) == 1 {
			return helpRequested{overview}
		}
		args = append(args[1:len(args):len(args)], "-h") // `help COMMAND` is `COMMAND -h`
	}
	if len(args) > 0 && (args[0] == "version" || args[0] == "--version" || args[0] == "-version") {
		_, err := fmt.Fprintln(stdout, "satchel-server", buildinfo.Read())
		return err
	}
	cmd := "serve"
	if len(args) > 0 && (args[0] == "serve" || args[0] == "migrate" || args[0] == "check-ledger" || args[0] == "backfill-entries") {
		cmd, args = args[0], args[1:]
	}
	if len(args) > 0 && args[0] == "dev" {
		if len(args) < 2 || args[1] != "pay" {
			return usageError{errors.New("dev: the only dev command is dev pay: run satchel-server dev pay -h")}
		}
		return devPay(ctx, args[2:], stdout)
	}
	if len(args) > 0 && args[0] == "admin" {
		return adminCommand(ctx, args[1:], getenv, stdout)
	}
	cfg, err := parseConfig(cmd, args, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogFormat, stderr)
	if cmd == "serve" {
		m, err := server.Open(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer m.Close()
		return m.Run(ctx, stdout)
	}
	dsn, stopDB, err := server.Database(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopDB()
	switch cmd {
	case "check-ledger":
		return checkLedger(ctx, dsn, stdout)
	case "backfill-entries":
		return backfillEntries(ctx, cfg, dsn, log, stdout)
	}
	log.Info("database schema is up to date")
	return nil
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// checkLedger prints every purchase that breaks an invariant of the money path.
func checkLedger(ctx context.Context, dsn string, stdout io.Writer) error {
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	problems, err := db.CheckLedger(ctx)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintf(stdout, "purchase %s (%s): %s\n", p.PurchaseID, p.Status, p.Problem)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %d problems", errLedgerBroken, len(problems))
	}
	fmt.Fprintln(stdout, "ledger OK: every purchase keeps the invariants")
	return nil
}

// devPay pays an invoice of a server running the dev provider through its test-money RPC.
func devPay(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("satchel-server dev pay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	server := fs.String("server", "http://127.0.0.1:8080", "the server that issued the invoice")
	if err := fs.Parse(args); err != nil {
		return usage(err, "dev pay", fs)
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("usage: satchel-server dev pay [--server URL] INVOICE")}
	}
	c := testmoneyv1connect.NewTestMoneyServiceClient(http.DefaultClient, *server)
	if _, err := c.PayInvoice(ctx, &testmoneyv1.PayInvoiceRequest{PaymentRequest: fs.Arg(0)}); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "paid with test money")
	return nil
}
