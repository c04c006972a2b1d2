package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"satchel.dev/backend/pgcluster"
	librarypb "satchel.dev/shared/api/satchel/library/v1"
	"satchel.dev/shared/api/satchel/library/v1/libraryv1connect"
	purchasepb "satchel.dev/shared/api/satchel/purchase/v1"
	"satchel.dev/shared/api/satchel/purchase/v1/purchasev1connect"
	"satchel.dev/shared/nip98"
	"satchel.dev/shared/nostr"
)

// benchBuying measures purchases created and settled per second through the API (guests
// buying the featured demo game with test money, workers at once), beside pgbench's TPC-B-like
// workload on the same cluster, and then the time from a settlement to its event on the buyer's
// WatchLibrary stream.
func benchBuying(ctx context.Context, s *server, c *pgcluster.Cluster, workers int, d time.Duration) error {
	gameID, err := featuredGame(ctx, s.url)
	if err != nil {
		return err
	}
	tpcb, err := pgbenchTPCB(ctx, c, workers, d)
	if err != nil {
		return err
	}
	rate, _, err := buyFor(ctx, []string{s.url}, gameID, workers, 0, d)
	if err != nil {
		return err
	}
	lat, err := settlementToStream(ctx, s.url, gameID, 100)
	if err != nil {
		return err
	}
	fmt.Printf("buying: %d clients, %s (goal: at least 0.3 of pgbench's TPC-B)\n", workers, d)
	fmt.Printf("%-44s %10s %18s\n", "", "per second", "ratio to pgbench")
	fmt.Printf("%-44s %10.0f %18s\n", "pgbench TPC-B-like transactions (baseline)", tpcb, "1.00")
	fmt.Printf("%-44s %10.0f %18.2f\n", "purchases created, paid and seen PAID", rate, rate/tpcb)
	fmt.Printf("settlement to WatchLibrary event over %d purchases: p50 %v, p99 %v\n", len(lat),
		lat[len(lat)/2].Round(10*time.Microsecond), lat[len(lat)*99/100].Round(10*time.Microsecond))
	return nil
}

// featuredGame returns the id of the demo's featured game, the one the bench buys.
func featuredGame(ctx context.Context, base string) (string, error) {
	var game struct {
		Game struct {
			ID string `json:"id"`
		} `json:"game"`
	}
	err := signedCall(ctx, nil, base, "satchel.catalog.v1.CatalogService/GetGame", map[string]any{"slug": "lantern-drift"}, &game)
	return game.Game.ID, err
}

// benchInstances measures purchases per second with two server instances on one database,
// served round-robin by the bench's clients (a purchase created on one instance is paid and
// watched on the other), readers reading the catalog from both at once, beside the same load on
// the first instance alone; then runs check-ledger on the database.
func benchInstances(ctx context.Context, one, two *server, dsn string, workers int, d time.Duration) error {
	gameID, err := featuredGame(ctx, one.url)
	if err != nil {
		return err
	}
	const readers = 4
	single, singleReads, err := buyFor(ctx, []string{one.url}, gameID, workers, readers, d)
	if err != nil {
		return err
	}
	double, doubleReads, err := buyFor(ctx, []string{one.url, two.url}, gameID, workers, readers, d)
	if err != nil {
		return err
	}
	fmt.Printf("two instances on one PostgreSQL, round-robin: %d buying clients and %d catalog readers, %s\n", workers, readers, d)
	fmt.Printf("%-44s %14s %14s %8s\n", "", "one instance", "two instances", "ratio")
	fmt.Printf("%-44s %14.0f %14.0f %8.2f\n", "purchases created, paid and seen PAID /s", single, double, double/single)
	fmt.Printf("%-44s %14.0f %14.0f %8.2f\n", "GetGame reads /s meanwhile", singleReads, doubleReads, doubleReads/singleReads)
	check := exec.CommandContext(ctx, one.cmd.Path, "check-ledger")
	check.Env = append(os.Environ(), "DATABASE_URL="+dsn)
	out, err := check.CombinedOutput()
	if err != nil {
		return fmt.Errorf("check-ledger after the two-instance run: %w\n%s", err, out)
	}
	fmt.Printf("check-ledger: %s", out)
	return nil
}

// buyFor runs workers clients buying gameID for d, each purchase created on one of urls and paid
// and watched on the next (round-robin), and readers clients reading the game from urls in turn
// meanwhile; it returns the purchases and the reads per second.
func buyFor(ctx context.Context, urls []string, gameID string, workers, readers int, d time.Duration) (purchases, reads float64, err error) {
	var bought, read, turn atomic.Int64
	var firstErr error
	var once sync.Once
	fail := func(err error) { once.Do(func() { firstErr = err }) }
	runCtx, stop := context.WithTimeout(ctx, d)
	defer stop()
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for runCtx.Err() == nil {
				i := turn.Add(1)
				create, pay := urls[i%int64(len(urls))], urls[(i+1)%int64(len(urls))]
				if err := within(ctx, "a purchase created, paid and seen PAID", 30*time.Second, func(ctx context.Context) error {
					return buyOnce(ctx, create, pay, gameID)
				}); err != nil {
					fail(err)
					return
				}
				bought.Add(1)
			}
		})
	}
	for r := range readers {
		wg.Go(func() {
			for i := r; runCtx.Err() == nil; i++ {
				err := within(ctx, "a catalog read", 30*time.Second, func(ctx context.Context) error {
					return signedCall(ctx, nil, urls[i%len(urls)], "satchel.catalog.v1.CatalogService/GetGame", map[string]any{"slug": "lantern-drift"}, nil)
				})
				if err != nil {
					fail(err)
					return
				}
				read.Add(1)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, 0, firstErr
	}
	secs := time.Since(start).Seconds()
	return float64(bought.Load()) / secs, float64(read.Load()) / secs, nil
}

// buyOnce buys the game as a guest on the server at create, pays with test money and waits on
// WatchPurchase for PAID on the one at pay (the same, or another instance on the same database).
func buyOnce(ctx context.Context, create, pay, gameID string) error {
	var res struct {
		Purchase struct {
			ID             string `json:"id"`
			PaymentRequest string `json:"paymentRequest"`
		} `json:"purchase"`
		ReceiptCode string `json:"receiptCode"`
	}
	if err := signedCall(ctx, nil, create, "satchel.purchase.v1.PurchaseService/CreatePurchase", map[string]any{"gameId": gameID}, &res); err != nil {
		return err
	}
	watch := purchasev1connect.NewPurchaseServiceClient(http.DefaultClient, pay)
	stream, err := watch.WatchPurchase(ctx, &purchasepb.WatchPurchaseRequest{PurchaseId: res.Purchase.ID, ReceiptCode: res.ReceiptCode})
	if err != nil {
		return err
	}
	defer stream.Close()
	if err := signedCall(ctx, nil, pay, "satchel.testmoney.v1.TestMoneyService/PayInvoice", map[string]any{"paymentRequest": res.Purchase.PaymentRequest}, nil); err != nil {
		return err
	}
	for stream.Receive() {
		if stream.Msg().GetPurchase().GetStatus() == purchasepb.PurchaseStatus_PURCHASE_STATUS_PAID {
			return nil
		}
	}
	return fmt.Errorf("purchase %s never turned PAID: %v", res.Purchase.ID, stream.Err())
}

// settlementToStream measures, n times, the time from a payment's settlement (the test-money
// payment returning) to the ENTITLEMENT_GRANTED event on the buyer's library stream, sorted.
// Each buyer's stream is listening (its first message has arrived) before the purchase.
func settlementToStream(ctx context.Context, base, gameID string, n int) ([]time.Duration, error) {
	var out []time.Duration
	for i := range n {
		err := within(ctx, fmt.Sprintf("settlement to stream, purchase %d of %d", i+1, n), 30*time.Second, func(ctx context.Context) error {
			lat, err := settleAndWatch(ctx, base, gameID)
			if err == nil {
				out = append(out, lat)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(out)
	return out, nil
}

// settleAndWatch opens a new buyer's library stream, waits for its first message, buys the game
// and pays, and returns the time from the payment to the ENTITLEMENT_GRANTED event.
func settleAndWatch(ctx context.Context, base, gameID string) (time.Duration, error) {
	key, err := nostr.GenerateKey()
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	signed := &http.Client{Transport: &nip98.Transport{Signer: key}}
	stream, err := libraryv1connect.NewLibraryServiceClient(signed, base).WatchLibrary(ctx, &librarypb.WatchLibraryRequest{})
	if err != nil {
		return 0, err
	}
	defer stream.Close()
	if !stream.Receive() {
		return 0, fmt.Errorf("the library stream ended before its first message: %v", stream.Err())
	}
	var res struct {
		Purchase struct {
			PaymentRequest string `json:"paymentRequest"`
		} `json:"purchase"`
	}
	if err := signedCall(ctx, key, base, "satchel.purchase.v1.PurchaseService/CreatePurchase", map[string]any{"gameId": gameID}, &res); err != nil {
		return 0, err
	}
	if err := signedCall(ctx, nil, base, "satchel.testmoney.v1.TestMoneyService/PayInvoice", map[string]any{"paymentRequest": res.Purchase.PaymentRequest}, nil); err != nil {
		return 0, err
	}
	settled := time.Now()
	if !stream.Receive() {
		return 0, fmt.Errorf("the library stream ended before the entitlement: %v", stream.Err())
	}
	lat := time.Since(settled)
	if k := stream.Msg().GetChange().GetKind(); k != librarypb.LibraryChange_KIND_ENTITLEMENT_GRANTED {
		return 0, fmt.Errorf("the library stream sent %v, want the entitlement", k)
	}
	return lat, nil
}

// pgbenchTPCB runs pgbench's default TPC-B-like workload on the cluster's pgbench database.
func pgbenchTPCB(ctx context.Context, c *pgcluster.Cluster, conns int, d time.Duration) (float64, error) {
	out, err := exec.CommandContext(ctx, filepath.Join(c.BinDir(), "pgbench"), "-c", strconv.Itoa(conns), "-j", "2",
		"-T", strconv.Itoa(int(d.Seconds())), "-h", c.SocketDir(), "-p", strconv.Itoa(c.Port()), "-U", "postgres", "pgbench").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("cannot read pgbench's output:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
