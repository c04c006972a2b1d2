// Command payoutbench measures how long a developer waits for a payout: from the settlement of
// a purchase to its payout SENT, over a real regtest network (btcd and two LND nodes), with
// the payout worker on River as the server runs it and a real Lightning Address server whose
// invoices come from the developer's node. Beside it, the time of a direct payment between the
// same two nodes, in the same run, for scale.
//
//	go run ./backend/payouts/internal/payoutbench [-n 300] [-concurrency 1]
//
// It starts everything it needs (a throwaway PostgreSQL cluster, the network: about 20 s) and
// prints p50, p99 and mean of each. It measures, it does not assert: compare the ratio between
// runs, not the raw numbers.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/lightning/lnd"
	"satchel.dev/backend/lightning/lnd/regtest"
	"satchel.dev/backend/market"
	"satchel.dev/backend/payouts"
	"satchel.dev/backend/payouts/internal/payouttest"
	"satchel.dev/backend/payouts/lnurltest"
	"satchel.dev/backend/pgcluster"
	"satchel.dev/backend/postgres"
)

func main() {
	n := flag.Int("n", 300, "purchases to pay out, and direct payments to make")
	concurrency := flag.Int("concurrency", 1, "sales in flight at once")
	priceMsat := flag.Int64("price-msat", 100_000, "price of each sale; the payout is 90% of it")
	verbose := flag.Bool("v", false, "log progress")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *n, *concurrency, *priceMsat, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "payoutbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n, concurrency int, priceMsat int64, verbose bool) error {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tmp, err := os.MkdirTemp("", "payoutbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Println("starting PostgreSQL and a regtest network (btcd, two LND nodes)...")
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(tmp, "pg"), Throwaway: true, Logger: log})
	if err != nil {
		return err
	}
	defer cluster.Stop(context.Background())
	if err := cluster.CreateDatabase(ctx, "bench", ""); err != nil {
		return err
	}
	dsn := cluster.DSN("bench")
	if err := postgres.Migrate(ctx, dsn); err != nil {
		return err
	}
	nw, err := regtest.Start(ctx, regtest.Options{Dir: filepath.Join(tmp, "regtest"), Logger: log})
	if err != nil {
		return err
	}
	defer nw.Stop(context.Background())
	fmt.Printf("network up in %v\n", nw.StartTime.Round(time.Millisecond))

	platform, err := lnd.New(nw.Platform.Config())
	if err != nil {
		return err
	}
	developer, err := lnd.New(nw.Buyer.Config())
	if err != nil {
		return err
	}
	devNode, err := lnurltest.NewNode(nw.Buyer.RESTURL, nw.Buyer.TLSCertPath, nw.Buyer.MacaroonPath)
	if err != nil {
		return err
	}
	lnurl := lnurltest.Start(devNode, lnurltest.Honest, false)
	defer lnurl.Close()

	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	// As satchel-server runs it: the worker's defaults, ten workers, River fetching at most every
	// 20 ms and at least every 200 ms; only the Lightning Address server is on loopback over HTTP.
	repo := postgres.NewPayoutRepo(db)
	w, err := payouts.NewWorker(repo, platform, payouts.Config{LNURL: payouts.LNURLConfig{AllowHTTP: true, AllowPrivate: true}}, quiet)
	if err != nil {
		return err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	jobs, err := river.NewClient(riverpgxv5.New(db.Pool()), &river.Config{Logger: quiet, Workers: workers,
		Queues:        map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 10}},
		FetchCooldown: 20 * time.Millisecond, FetchPollInterval: 200 * time.Millisecond})
	if err != nil {
		return err
	}
	if err := jobs.Start(ctx); err != nil {
		return err
	}
	defer jobs.Stop(context.Background())
	db.SetQueue(jobs)
	shop, err := payouttest.Open(ctx, db, lnurl.Address("dev"), priceMsat)
	if err != nil {
		return err
	}
	_, net := market.Split(priceMsat, payouttest.FeeBps)

	fmt.Printf("direct payments: %d of %d msat, platform -> developer node...\n", n, net)
	direct := make([]time.Duration, 0, n)
	for range n {
		inv, err := developer.CreateInvoice(ctx, net, "direct", time.Hour)
		if err != nil {
			return err
		}
		began := time.Now()
		pay, err := platform.PayInvoice(ctx, inv.PaymentRequest, 10_000, time.Minute)
		if err != nil {
			return err
		}
		if pay.Status != lightning.PaymentSucceeded {
			return fmt.Errorf("direct payment: %+v", pay)
		}
		direct = append(direct, time.Since(began))
	}

	fmt.Printf("payouts: %d sales, %d at a time...\n", n, concurrency)
	var mu sync.Mutex
	var timings []timing
	var firstErr error
	began := time.Now()
	var wg sync.WaitGroup
	next := make(chan struct{})
	go func() {
		defer close(next)
		for range n {
			select {
			case next <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range concurrency {
		wg.Go(func() {
			for range next {
				t, err := payOne(ctx, shop, db)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				timings = append(timings, t)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	elapsed := time.Since(began)

	var total, toStored, toSent []time.Duration
	for _, t := range timings {
		total, toStored, toSent = append(total, t.total), append(toStored, t.toStored), append(toSent, t.toSent)
	}
	fmt.Printf("\n%-44s %10s %10s %10s\n", "", "p50", "p99", "mean")
	row := func(name string, d []time.Duration) {
		p50, p99, mean := stats(d)
		fmt.Printf("%-44s %10v %10v %10v\n", name, p50, p99, mean)
	}
	row("direct payment (platform -> developer node)", direct)
	row("settlement -> payout SENT", total)
	row("  settlement -> invoice stored (queue, LNURL)", toStored)
	row("  invoice stored -> SENT (payment)", toSent)
	dp50, _, _ := stats(direct)
	tp50, _, _ := stats(total)
	fmt.Printf("\npayouts: %d in %v (%.1f/s, %d at a time); p50 payout / p50 direct payment = %.1f\n",
		len(total), elapsed.Round(time.Millisecond), float64(len(total))/elapsed.Seconds(), concurrency,
		float64(tp50)/float64(dp50))
	return nil
}

// timing is how long one payout took, and its two halves.
type timing struct{ total, toStored, toSent time.Duration }

// payOne sells once and waits for the payout to be SENT; the times come from the database's
// clock: the settlement's INVOICE_PAID entry, the invoice stored, the payout sent.
func payOne(ctx context.Context, shop *payouttest.Shop, db *postgres.DB) (t timing, err error) {
	sale, err := shop.Sell(ctx)
	if err != nil {
		return t, err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var status string
		var lastErr *string
		var settled, stored, sent *time.Time
		err := db.Pool().QueryRow(ctx, `
			SELECT po.status, po.last_error, l.created_at, i.created_at, po.sent_at
			FROM payouts po
			JOIN ledger_entries l ON l.purchase_id = po.purchase_id AND l.type = 'INVOICE_PAID'
			LEFT JOIN payout_invoices i ON i.payment_hash = po.payment_hash
			WHERE po.purchase_id = $1`, sale.ID).Scan(&status, &lastErr, &settled, &stored, &sent)
		if err != nil {
			return t, err
		}
		switch status {
		case "SENT":
			t.total, t.toStored, t.toSent = sent.Sub(*settled), stored.Sub(*settled), sent.Sub(*stored)
			return t, nil
		case "RETRYING", "FAILED":
			return t, fmt.Errorf("payout of %s: %s: %s", sale.ID, status, *lastErr)
		}
		if time.Now().After(deadline) {
			return t, fmt.Errorf("payout of %s still %s after a minute", sale.ID, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stats returns the p50, p99 and mean of d, rounded for people.
func stats(d []time.Duration) (p50, p99, mean time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	var sum time.Duration
	for _, x := range s {
		sum += x
	}
	q := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	r := func(x time.Duration) time.Duration { return x.Round(10 * time.Microsecond) }
	return r(q(0.50)), r(q(0.99)), r(sum / time.Duration(len(s)))
}
