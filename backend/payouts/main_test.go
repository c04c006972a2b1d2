package payouts_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/lightning/lnd"
	"satchel.dev/backend/lightning/lnd/regtest"
	"satchel.dev/backend/market"
	"satchel.dev/backend/payouts"
	"satchel.dev/backend/payouts/internal/payouttest"
	"satchel.dev/backend/payouts/lnurltest"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/postgres/pgtest"
)

// The package's regtest network, up once for the whole test binary: the platform node pays
// payouts; the buyer node is the developers' wallet, behind the Lightning Address servers.
var (
	network  *regtest.Network
	devNode  *lnurltest.Node // the buyer node: where payouts arrive
	platNode *lnurltest.Node // the platform node, to count its payments
)

// reaperStdin keeps the regtest folder's reaper waiting until this process ends.
var reaperStdin io.WriteCloser

// workerEnv, when set, makes the test binary a payout worker process (see workerProcess).
const workerEnv = "SATCHEL_PAYOUTS_TEST_WORKER"

func TestMain(m *testing.M) {
	if cfg := os.Getenv(workerEnv); cfg != "" {
		os.Exit(workerProcess(cfg))
	}
	flag.Parse()
	if err := startNetwork(); err != nil {
		fmt.Fprintln(os.Stderr, "payouts tests need a regtest network:", err)
		os.Exit(1)
	}
	// pgtest.Main exits without returning: the daemons die with this process (the harness
	// starts them with a parent-death signal) and a reaper removes their folder.
	pgtest.Main(m, postgres.Migrate)
}

func startNetwork() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "payouts-regtest-")
	if err != nil {
		return err
	}
	reaper := exec.Command("/bin/sh", "-c", `read -r _; sleep 2; rm -rf "$1"`, "reaper", dir)
	reaper.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if reaperStdin, err = reaper.StdinPipe(); err != nil { // closed when this process ends, whatever the way
		return err
	}
	if err := reaper.Start(); err != nil {
		return err
	}
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	nw, err := regtest.Start(ctx, regtest.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))})
	if err != nil {
		return err
	}
	network = nw
	if devNode, err = lnurltest.NewNode(nw.Buyer.RESTURL, nw.Buyer.TLSCertPath, nw.Buyer.MacaroonPath); err != nil {
		return err
	}
	platNode, err = lnurltest.NewNode(nw.Platform.RESTURL, nw.Platform.TLSCertPath, nw.Platform.MacaroonPath)
	return err
}

// testConfig is the workers' configuration in tests: short timeouts and backoffs, and
// Lightning Address servers on loopback over HTTP.
func testConfig() payouts.Config {
	return payouts.Config{
		PaymentTimeout:  2 * time.Second,
		MaxAttempts:     2,
		BackoffBase:     100 * time.Millisecond,
		BackoffMax:      200 * time.Millisecond,
		RecheckInterval: 200 * time.Millisecond,
		LNURL:           payouts.LNURLConfig{AllowHTTP: true, AllowPrivate: true, RequestTimeout: time.Second},
	}
}

// bundle is one test's real parts: a database with a developer selling a game, whose
// Lightning Address is served by a real LNURL server issuing invoices of the developer's node.
type bundle struct {
	t        *testing.T
	ctx      context.Context
	dsn      string
	db       *postgres.DB
	repo     *postgres.PayoutRepo
	jobs     *river.Client[pgx.Tx] // insert-only
	shop     *payouttest.Shop
	lnurl    *lnurltest.Server
	platform *lnd.Provider
	log      *slog.Logger
}

const (
	priceMsat = 200_000 // 200 sat
	netMsat   = 180_000 // after the 10% fee
)

func setup(t *testing.T, mode lnurltest.Mode) *bundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	b := &bundle{t: t, ctx: ctx, dsn: pgtest.NewDatabase(t), log: testLogger(t)}
	var err error
	if b.db, err = postgres.Open(ctx, b.dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.db.Close)
	b.repo = postgres.NewPayoutRepo(b.db)
	if b.jobs, err = river.NewClient(riverpgxv5.New(b.db.Pool()), &river.Config{Logger: b.log}); err != nil {
		t.Fatal(err)
	}
	b.db.SetQueue(b.jobs)
	b.lnurl = lnurltest.Start(devNode, mode, false)
	t.Cleanup(b.lnurl.Close)
	if b.shop, err = payouttest.Open(ctx, b.db, b.lnurl.Address("dev"), priceMsat); err != nil {
		t.Fatal(err)
	}
	if b.platform, err = lnd.New(network.Platform.Config()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.platform.Close)
	return b
}

// testLogger logs warnings and errors into the test's log (everything with -v).
func testLogger(t *testing.T) *slog.Logger {
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: level}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// worker returns a payout worker on the bundle's database, paying with provider.
func (b *bundle) worker(provider lightning.Provider, cfg payouts.Config) *payouts.Worker {
	b.t.Helper()
	w, err := payouts.NewWorker(b.repo, provider, cfg, b.log)
	if err != nil {
		b.t.Fatal(err)
	}
	return w
}

// clientOpts are the River settings of a worker client in tests.
type clientOpts struct {
	queue   string // "" is the default queue
	workers int
	rescue  time.Duration // RescueStuckJobsAfter; 0 for River's default
}

// startClient starts a River client working payout jobs with w; it stops with the test.
func (b *bundle) startClient(w *payouts.Worker, o clientOpts) *river.Client[pgx.Tx] {
	b.t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	cfg := &river.Config{
		Logger:            b.log,
		Workers:           workers,
		Queues:            map[string]river.QueueConfig{cmpOr(o.queue, river.QueueDefault): {MaxWorkers: max(o.workers, 1)}},
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 100 * time.Millisecond,
	}
	if o.rescue > 0 {
		cfg.JobTimeout, cfg.RescueStuckJobsAfter = o.rescue, o.rescue
	}
	c, err := river.NewClient(riverpgxv5.New(b.db.Pool()), cfg)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := c.Start(b.ctx); err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
	return c
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// sell settles a sale of the game: its payout is SCHEDULED and its job enqueued.
func (b *bundle) sell() market.Purchase {
	b.t.Helper()
	p, err := b.shop.Sell(b.ctx)
	if err != nil {
		b.t.Fatal(err)
	}
	return p
}

// payout returns the payout of a purchase.
func (b *bundle) payout(purchaseID string) payouts.Payout {
	b.t.Helper()
	p, err := b.repo.PayoutByPurchase(b.ctx, purchaseID)
	if err != nil {
		b.t.Fatal(err)
	}
	return p
}

// waitStatus waits until the purchase's payout has one of the statuses, and returns it.
func (b *bundle) waitStatus(purchaseID string, within time.Duration, statuses ...payouts.Status) payouts.Payout {
	b.t.Helper()
	return b.waitPayout(purchaseID, within, fmt.Sprint("one of ", statuses), func(p payouts.Payout) bool {
		return slices.Contains(statuses, p.Status)
	})
}

// waitJobDone waits for the completion of the purchase's payout job among events (from the
// River client's Subscribe(river.EventKindJobCompleted)): by then its last attempt has let go
// of the payout's lease.
func (b *bundle) waitJobDone(events <-chan *river.Event, purchaseID string, within time.Duration) {
	b.t.Helper()
	timeout := time.After(within)
	for {
		select {
		case ev := <-events:
			var args payouts.Args
			if json.Unmarshal(ev.Job.EncodedArgs, &args) == nil && args.PurchaseID == purchaseID {
				return
			}
		case <-timeout:
			b.t.Fatalf("the payout job of purchase %s did not complete within %v", purchaseID, within)
		}
	}
}

// ledgerCount counts the purchase's ledger entries of a type.
func (b *bundle) ledgerCount(purchaseID string, typ market.LedgerType) int {
	b.t.Helper()
	var n int
	if err := b.db.Pool().QueryRow(b.ctx, `SELECT count(*) FROM ledger_entries WHERE purchase_id = $1 AND type = $2`,
		purchaseID, typ).Scan(&n); err != nil {
		b.t.Fatal(err)
	}
	return n
}

// checkPaidOnce checks that the developer's node received exactly one payment for the
// payout, of its amount, and that the platform sent exactly one: of every invoice the
// Lightning Address server issued, one is settled, and it is the payout's.
func (b *bundle) checkPaidOnce(p payouts.Payout) {
	b.t.Helper()
	settled := 0
	for _, inv := range b.lnurl.Issued() {
		got, err := devNode.Invoice(b.ctx, inv.Hash)
		if err != nil {
			b.t.Fatal(err)
		}
		sent, _, err := platNode.PaymentsTo(b.ctx, inv.Hash)
		if err != nil {
			b.t.Fatal(err)
		}
		switch got.State {
		case "SETTLED":
			settled++
			if got.AmtPaidMsat != p.AmountMsat || inv.HashHex() != p.PaymentHash || sent != 1 {
				b.t.Errorf("invoice %s: settled with %d msat (payout %d msat, hash %s), %d payments succeeded",
					inv.HashHex(), got.AmtPaidMsat, p.AmountMsat, p.PaymentHash, sent)
			}
		default:
			if sent != 0 {
				b.t.Errorf("invoice %s is %s but %d payments of it succeeded", inv.HashHex(), got.State, sent)
			}
		}
	}
	if settled != 1 {
		b.t.Errorf("the developer's node has %d settled invoices for this payout (of %d issued), want exactly 1", settled, len(b.lnurl.Issued()))
	}
	if n := b.ledgerCount(p.PurchaseID, market.LedgerPayoutSent); n != 1 {
		b.t.Errorf("%d PAYOUT_SENT ledger entries, want 1", n)
	}
}

// checkNoPayment checks that no invoice the Lightning Address server issued was paid.
func (b *bundle) checkNoPayment() {
	b.t.Helper()
	for _, inv := range b.lnurl.Issued() {
		if got, err := devNode.Invoice(b.ctx, inv.Hash); err == nil && got.State == "SETTLED" {
			b.t.Errorf("invoice %s was paid", inv.HashHex())
		}
		if _, all, err := platNode.PaymentsTo(b.ctx, inv.Hash); err != nil || all != 0 {
			b.t.Errorf("the platform made %d payments of invoice %s (%v)", all, inv.HashHex(), err)
		}
	}
}

// workerProcessConfig tells a worker process what to work on and where to die.
type workerProcessConfig struct {
	DSN      string
	Platform lnd.Config
	// KillAt is the hook point where the process SIGKILLs itself. At "paying" with Held, it
	// dies once the developer's node holds the payment (the payment is in flight).
	KillAt                       string
	Held                         bool
	DevURL, DevCert, DevMacaroon string
}

// runWorkerProcess runs a worker in a process of its own, which kills itself (SIGKILL) at
// cfg.KillAt, and checks that it died so.
func (b *bundle) runWorkerProcess(cfg workerProcessConfig) {
	b.t.Helper()
	cfg.DSN, cfg.Platform = b.dsn, network.Platform.Config()
	cfg.DevURL, cfg.DevCert, cfg.DevMacaroon = network.Buyer.RESTURL, network.Buyer.TLSCertPath, network.Buyer.MacaroonPath
	raw, _ := json.Marshal(cfg)
	cmd := exec.CommandContext(b.ctx, os.Args[0])
	cmd.Env = append(os.Environ(), workerEnv+"="+string(raw))
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || !ee.Sys().(syscall.WaitStatus).Signaled() || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		b.t.Fatalf("worker process: %v, want killed by SIGKILL at %q; output:\n%s", err, cfg.KillAt, out)
	}
}

// workerProcess is main of a worker process: a River client working payout jobs, killed by
// its own hook.
func workerProcess(raw string) int {
	var cfg workerProcessConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "worker process:", err)
		return 2
	}
	db, err := postgres.Open(ctx, cfg.DSN)
	if err != nil {
		return fail(err)
	}
	provider, err := lnd.New(cfg.Platform)
	if err != nil {
		return fail(err)
	}
	dev, err := lnurltest.NewNode(cfg.DevURL, cfg.DevCert, cfg.DevMacaroon)
	if err != nil {
		return fail(err)
	}
	w, err := payouts.NewWorker(postgres.NewPayoutRepo(db), provider, testConfig(), log)
	if err != nil {
		return fail(err)
	}
	die := func(point string) {
		fmt.Fprintln(os.Stderr, "worker process: killing myself at", point)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	payouts.SetHook(w, func(point string, p payouts.Payout) {
		if point != cfg.KillAt {
			return
		}
		if !cfg.Held {
			die(point)
		}
		hash, _ := hex.DecodeString(p.PaymentHash)
		go func() { // die once the developer's node holds the payment
			for {
				if inv, err := dev.Invoice(ctx, hash); err == nil && inv.State == "ACCEPTED" {
					die(point + " (payment held by the developer's node)")
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	})
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	client, err := river.NewClient(riverpgxv5.New(db.Pool()), &river.Config{
		Logger: log, Workers: workers, Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}},
		FetchCooldown: 20 * time.Millisecond, FetchPollInterval: 100 * time.Millisecond,
	})
	if err != nil {
		return fail(err)
	}
	if err := client.Start(ctx); err != nil {
		return fail(err)
	}
	time.Sleep(time.Minute) // a bound, not a wait: the hook kills this process long before
	return fail(fmt.Errorf("the hook point %q was never reached", cfg.KillAt))
}
