// Command satchel-regtest runs Satchel against a real Lightning network on this machine: a
// regtest btcd and two LND nodes (the platform's and a buyer's wallet, with a funded channel),
// and satchel-server taking its invoices from the platform's node. `make regtest` runs it; it
// prints how to pay an invoice from the buyer's node with lncli. Ctrl-C stops everything.
//
// Each run starts from an empty network and an empty database under --dir.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"satchel.dev/backend/lightning/lnd/regtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "satchel-regtest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	dir := flag.String("dir", ".data/regtest", "where the network and the server's data live (emptied first)")
	listen := flag.String("listen", "127.0.0.1:8080", "satchel-server's address")
	flag.Parse()
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(abs); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	fmt.Println("starting a regtest Lightning network: btcd and two LND nodes (about 15 s)...")
	nw, err := regtest.Start(ctx, regtest.Options{Dir: filepath.Join(abs, "network"), Logger: log})
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := nw.Stop(ctx); err != nil {
			log.Error("stopping the regtest network", "err", err)
		}
	}()

	self, err := os.Executable()
	if err != nil {
		return err
	}
	p := nw.Platform.Config()
	server := exec.Command(filepath.Join(filepath.Dir(self), "satchel-server"), "serve", "--demo",
		"--listen", *listen, "--data-dir", filepath.Join(abs, "server"),
		"--invoice-provider", "lnd", "--lnd-url", p.URL, "--lnd-tls-cert", p.TLSCertPath,
		"--lnd-macaroon", p.MacaroonPath, "--lnd-network", "bcrt")
	server.Stdout, server.Stderr = os.Stdout, os.Stderr
	server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C reaches it through us, in order
	if err := server.Start(); err != nil {
		return fmt.Errorf("starting satchel-server (make build builds it): %w", err)
	}
	fmt.Printf(`
The network is up. The buyer's wallet pays an invoice from CreatePurchase with:

  %s payinvoice --force <invoice>

Buy the featured demo game as a guest, for instance:

  curl -s -H 'Content-Type: application/json' -d '{}' http://%[2]s/satchel.catalog.v1.CatalogService/ListGames
  curl -s -H 'Content-Type: application/json' -d '{"gameId":"<id>"}' http://%[2]s/satchel.purchase.v1.PurchaseService/CreatePurchase

Ctrl-C stops the server and the network.
`, strings.Join(nw.Buyer.Lncli().Args, " "), *listen)

	done := make(chan error, 1)
	go func() { done <- server.Wait() }()
	select {
	case err := <-done:
		return fmt.Errorf("satchel-server exited: %v", err)
	case <-ctx.Done():
	}
	_ = server.Process.Signal(syscall.SIGTERM)
	return <-done
}
