// Command satchel-soak runs the whole store under load while its parts fail, then checks that
// nothing was lost. `make soak` runs it for ten minutes; `make test` for one.
//
// It starts a PostgreSQL cluster, a regtest Lightning network (btcd, the platform's and the
// buyer's LND nodes), an S3 server (versitygw), two Nostr relays and a Lightning Address
// server for the developers (paid into the buyer's node), then several satchel-server
// processes on the one database, built with -tags soak (short retries, loopback Lightning
// Addresses: backend/server/soak.go). Developers create games and push releases with the
// satchel CLI; signed players and guests browse, buy, pay from the buyer's node and install with
// the satchel CLI (the launcher's engine, desktop/install); an admin refunds and revokes now and
// then. Meanwhile it kills instances (also right after payments and while a payout is held in
// flight), stops PostgreSQL, restarts the platform's LND node, stops the S3 server, takes a
// relay down and kills a launcher mid-install, each at least once, at moments drawn from the
// seed it prints. At the end it lets the store catch up and checks the ledger, the payments,
// the payouts, the installs, the announcements and the servers' goroutines and memory, prints
// a report, and exits 1 if a check failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// config is the soak's command line.
type config struct {
	Duration     time.Duration // of the load (longer if the faults need it)
	Seed         uint64        // 0: from the clock
	Instances    int
	Players      int // signed players buying at once
	Guests       int
	Developers   int
	BuyEvery     time.Duration // mean pause of each player between actions
	ReleaseEvery time.Duration // mean pause of each developer between releases
	AdminEvery   time.Duration
	HoldFor      time.Duration // how long the developers' node holds payouts in flight
	Faults       bool
	Dir          string // everything the run writes (emptied first)
	BinDir       string // satchel-server (-tags soak) and satchel
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "satchel-soak:", err)
		os.Exit(2)
	}
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "satchel-soak:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	c := config{}
	fs := flag.NewFlagSet("satchel-soak", flag.ContinueOnError)
	fs.DurationVar(&c.Duration, "duration", 10*time.Minute, "how long the load runs")
	fs.Uint64Var(&c.Seed, "seed", 0, "seed of the faults' order and moments and of the load (0: from the clock; printed)")
	fs.IntVar(&c.Instances, "instances", 3, "satchel-server processes on the one database")
	fs.IntVar(&c.Players, "players", 3, "signed-in players at once")
	fs.IntVar(&c.Guests, "guests", 1, "guests at once")
	fs.IntVar(&c.Developers, "developers", 2, "developers")
	fs.DurationVar(&c.BuyEvery, "buy-every", 4*time.Second, "mean pause of each player between purchases")
	fs.DurationVar(&c.ReleaseEvery, "release-every", 15*time.Second, "mean pause of each developer between releases")
	fs.DurationVar(&c.AdminEvery, "admin-every", 20*time.Second, "mean pause of the admin between refunds or revocations")
	fs.DurationVar(&c.HoldFor, "hold-for", time.Minute, "how long payouts stay held in flight in the payout-held fault")
	fs.BoolVar(&c.Faults, "faults", true, "inject faults (false: load only)")
	fs.StringVar(&c.Dir, "dir", ".data/soak", "where the run keeps everything, logs included (emptied first)")
	fs.StringVar(&c.BinDir, "bin", "", "folder of satchel-server (built with -tags soak) and satchel (default: beside this program)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.BinDir == "" {
		self, err := os.Executable()
		if err != nil {
			return c, err
		}
		c.BinDir = filepath.Dir(self)
	}
	if c.Instances < 2 || c.Players < 1 || c.Developers < 1 || c.Duration <= 0 {
		return c, errors.New("use at least 2 instances, 1 player, 1 developer and a positive duration")
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	return c, nil
}

// soak is one run: its parts, its servers, and what the load did (to check at the end).
type soak struct {
	cfg       config
	env       *env
	instances []*instance
	rec       *recorder
	serverBin string
	cliBin    string

	seedMu sync.Mutex
	seeds  *mrand.Rand

	paid    chan struct{}    // a payment just succeeded: its settlement is under way
	crash   chan string      // the next install to run is killed at this step
	crashed chan crashResult // how it went

	mu          sync.Mutex
	payments    map[string]bool // hashes of the buyer's payments that succeeded
	sales       []string        // signed players' purchases, for the admin
	refunded    map[string]bool
	published   [][2]string // slug, version
	installs    int
	badInstalls []string
	crashes     []crashResult
	problems    int
}

// run runs the soak and writes its timeline and report to out. The error says why it did not
// pass.
func run(ctx context.Context, cfg config, out io.Writer) error {
	abs, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return err
	}
	rec := newRecorder(out)
	s := &soak{cfg: cfg, rec: rec, seeds: mrand.New(mrand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		serverBin: filepath.Join(cfg.BinDir, "satchel-server"), cliBin: filepath.Join(cfg.BinDir, "satchel"),
		paid: make(chan struct{}, 1), crash: make(chan string), crashed: make(chan crashResult, 8),
		payments: map[string]bool{}, refunded: map[string]bool{}}
	fmt.Fprintf(out, "satchel-soak: seed %d, load %v, %d instances, %d players, %d guests, %d developers, faults %t; everything in %s\n",
		cfg.Seed, cfg.Duration, cfg.Instances, cfg.Players, cfg.Guests, cfg.Developers, cfg.Faults, abs)
	for _, bin := range []string{s.serverBin, s.cliBin} {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%s is missing: make soak builds it (satchel-server with -tags soak)", bin)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec.logf("starting PostgreSQL, S3, the relays and the regtest network (btcd, two LND nodes)")
	if s.env, err = startEnv(ctx, abs, log); err != nil {
		return err
	}
	defer s.env.stop()
	for i := range cfg.Instances {
		in, err := newInstance(i+1, s.serverBin, s.env)
		if err != nil {
			return err
		}
		s.instances = append(s.instances, in)
	}
	defer func() {
		for _, in := range s.instances {
			in.stop()
		}
	}()
	if err := s.startInstances(ctx); err != nil {
		return err
	}
	rec.logf("%d instances serving: %s", len(s.instances), s.urls())

	checks, err := s.load(ctx)
	if err != nil {
		return err
	}
	rec.report(out, s.instances, checks)
	var failed []string
	for _, c := range checks {
		if !c.ok {
			failed = append(failed, c.name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("seed %d: checks failed: %s", cfg.Seed, strings.Join(failed, ", "))
	}
	fmt.Fprintf(out, "\nsatchel-soak: every check passed (seed %d)\n", cfg.Seed)
	return nil
}

// startInstances starts every instance at once (they migrate under an advisory lock).
func (s *soak) startInstances(ctx context.Context) error {
	errs := make([]error, len(s.instances))
	var wg sync.WaitGroup
	for i, in := range s.instances {
		wg.Go(func() { errs[i] = in.start(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// load sets up the catalog, runs the load and the faults, lets the store catch up, and
// returns the checks.
func (s *soak) load(ctx context.Context) ([]check, error) {
	var devs []*developer
	for i := range s.cfg.Developers {
		d, err := s.newDeveloper(ctx, i+1)
		if err != nil {
			return nil, err
		}
		for range 2 {
			if err := d.newGame(ctx); err != nil {
				return nil, err
			}
		}
		devs = append(devs, d)
	}
	s.rec.logf("%d developers, %d games listed; the load starts", len(devs), 2*len(devs))

	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	wg.Go(func() { s.sampleMetrics(loadCtx) })
	for _, d := range devs {
		wg.Go(func() { d.run(loadCtx, s.cfg.ReleaseEvery) })
	}
	for i := range s.cfg.Players {
		p, err := s.newPlayer(fmt.Sprintf("player-%d", i+1), false)
		if err != nil {
			return nil, err
		}
		p.startWatch(loadCtx)
		wg.Go(func() { p.run(loadCtx, s.cfg.BuyEvery) })
	}
	for i := range s.cfg.Guests {
		p, err := s.newPlayer(fmt.Sprintf("guest-%d", i+1), true)
		if err != nil {
			return nil, err
		}
		wg.Go(func() { p.run(loadCtx, 3*s.cfg.BuyEvery) })
	}
	wg.Go(func() { s.runAdmin(loadCtx, s.cfg.AdminEvery) })

	loadEnd := time.Now().Add(s.cfg.Duration)
	var faultErr error
	if s.cfg.Faults {
		faultErr = s.runFaults(ctx, loadEnd)
	}
	sleep(ctx, time.Until(loadEnd))
	s.rec.logf("the load stops; waiting for the players' last actions")
	stopLoad()
	wg.Wait()
	if faultErr != nil {
		return nil, faultErr
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	db, err := pgxpool.New(ctx, s.env.dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	s.rec.logf("letting the store catch up: payments settled, payouts ended, announcements delivered")
	if err := s.settle(ctx, db); err != nil {
		return nil, err
	}
	for _, in := range s.instances { // a last reading, idle
		in.sample(ctx)
	}
	return s.checks(ctx, db), nil
}

// sampleMetrics reads every running instance's /metrics every five seconds.
func (s *soak) sampleMetrics(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		for _, in := range s.instances {
			if in.up() {
				in.sample(ctx)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *soak) urls() string {
	var u []string
	for _, in := range s.instances {
		u = append(u, in.url)
	}
	return strings.Join(u, " ")
}

// rng returns a random source of its own for an actor, drawn from the seed.
func (s *soak) rng() *mrand.Rand {
	s.seedMu.Lock()
	defer s.seedMu.Unlock()
	return mrand.New(mrand.NewPCG(s.seeds.Uint64(), s.seeds.Uint64()))
}

// problem logs something the load could not do (an error the checks may explain).
func (s *soak) problem(format string, args ...any) {
	s.mu.Lock()
	s.problems++
	s.mu.Unlock()
	s.rec.count("load errors")
	s.rec.logf("load: "+format, args...)
}

func (s *soak) addPayment(hash, purchaseID string, signed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payments[hash] = true
	if signed {
		s.sales = append(s.sales, purchaseID)
	}
	s.rec.count("purchases paid")
}

func (s *soak) paymentHashes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedKeys(s.payments)
}

// takeSale removes and returns a random signed sale, for the admin.
func (s *soak) takeSale(rng *mrand.Rand) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sales) == 0 {
		return "", false
	}
	i := rng.IntN(len(s.sales))
	id := s.sales[i]
	s.sales = append(s.sales[:i], s.sales[i+1:]...)
	return id, true
}

func (s *soak) markRefunded(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refunded[id] = true
}

func (s *soak) isRefunded(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refunded[id]
}

func (s *soak) addRelease(slug, version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.published = append(s.published, [2]string{slug, version})
	s.rec.count("releases published")
}
