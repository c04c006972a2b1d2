package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"satchel.dev/backend/announce/relaytest"
	"satchel.dev/backend/blob/s3/s3test"
	"satchel.dev/backend/lightning/lnd"
	"satchel.dev/backend/lightning/lnd/regtest"
	"satchel.dev/backend/payouts/lnurltest"
	"satchel.dev/backend/pgcluster"
	"satchel.dev/shared/nostr"
)

// env is every real part the servers run on: one PostgreSQL cluster, a regtest Lightning
// network (the platform's node takes the purchases; the buyer's node pays them and, behind a
// Lightning Address server, receives the developers' payouts), an S3 server holding the
// builds, and two Nostr relays.
type env struct {
	dir       string
	pg        *pgcluster.Cluster
	pgOpts    pgcluster.Options
	dsn       string
	network   *regtest.Network
	buyer     *lnd.Provider      // the players' wallet
	buyerNode *lnurltest.Node    // the same node over REST: it pays again, and is the developers' wallet
	lnurl     *lnurltest.Server  // the developers' Lightning Addresses
	s3        *s3test.Server     // the builds
	relays    []*relaytest.Relay // relays[0] goes down in the relay fault
	owner     *owner

	secret   string          // the servers' shared secret, hex
	platform nostr.SecretKey // signs the announcements
	admin    nostr.SecretKey // the operator's key (--admins)

	pgMu sync.Mutex // serializes stopping and starting the cluster
}

// startEnv starts every part under dir (emptied first). On error it stops what it started.
func startEnv(ctx context.Context, dir string, log *slog.Logger) (_ *env, err error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	e := &env{dir: dir, owner: &owner{}}
	defer func() {
		if err != nil {
			e.stop()
		}
	}()
	e.pgOpts = pgcluster.Options{Dir: filepath.Join(dir, "postgres"), Throwaway: true, Logger: log}
	if e.pg, err = pgcluster.Start(ctx, e.pgOpts); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := e.pg.CreateDatabase(ctx, "satchel", ""); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	e.dsn = e.pg.DSN("satchel")
	if e.s3, err = s3test.Launch(filepath.Join(dir, "s3")); err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	if e.network, err = regtest.Start(ctx, regtest.Options{Dir: filepath.Join(dir, "regtest"), Logger: log}); err != nil {
		return nil, err
	}
	if e.buyer, err = lnd.New(e.network.Buyer.Config()); err != nil {
		return nil, err
	}
	b := e.network.Buyer
	if e.buyerNode, err = lnurltest.NewNode(b.RESTURL, b.TLSCertPath, b.MacaroonPath); err != nil {
		return nil, err
	}
	e.lnurl = lnurltest.Start(e.buyerNode, lnurltest.Honest, false)
	if err := e.owner.try(func() {
		e.relays = []*relaytest.Relay{relaytest.Start(e.owner), relaytest.Start(e.owner)}
	}); err != nil {
		return nil, err
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	e.secret = hex.EncodeToString(raw)
	if e.platform, err = nostr.GenerateKey(); err != nil {
		return nil, err
	}
	if e.admin, err = nostr.GenerateKey(); err != nil {
		return nil, err
	}
	return e, nil
}

// stopPG stops the cluster in immediate mode (a crash, as far as the servers can tell).
func (e *env) stopPG(ctx context.Context) error {
	e.pgMu.Lock()
	defer e.pgMu.Unlock()
	if e.pg == nil {
		return nil
	}
	err := e.pg.Stop(ctx)
	e.pg = nil
	return err
}

// startPG starts the cluster again on the same socket, with the same data.
func (e *env) startPG(ctx context.Context) error {
	e.pgMu.Lock()
	defer e.pgMu.Unlock()
	if e.pg != nil {
		return nil
	}
	pg, err := pgcluster.Start(ctx, e.pgOpts)
	if err != nil {
		return fmt.Errorf("starting PostgreSQL again: %w", err)
	}
	e.pg = pg
	return nil
}

// stop stops every part, the relays and the LNURL server last.
func (e *env) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if e.buyer != nil {
		e.buyer.Close()
	}
	if e.network != nil {
		_ = e.network.Stop(ctx)
	}
	if e.s3 != nil {
		e.s3.Stop()
	}
	_ = e.stopPG(ctx)
	if e.lnurl != nil {
		e.lnurl.Close()
	}
	e.owner.cleanup()
}

// owner is the relays' relaytest.TB: Fatal panics with the message, which try turns back into
// an error, and Cleanup's functions run at the end of the soak.
type owner struct {
	mu       sync.Mutex
	cleanups []func()
}

type fatal struct{ msg string }

func (o *owner) Helper()                           {}
func (o *owner) Fatal(args ...any)                 { panic(fatal{fmt.Sprint(args...)}) }
func (o *owner) Fatalf(format string, args ...any) { panic(fatal{fmt.Sprintf(format, args...)}) }

func (o *owner) Cleanup(f func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cleanups = append(o.cleanups, f)
}

// try runs f, returning a relay's Fatal as an error.
func (o *owner) try(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			ft, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			err = errors.New(ft.msg)
		}
	}()
	f()
	return nil
}

func (o *owner) cleanup() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.cleanups) - 1; i >= 0; i-- {
		o.cleanups[i]()
	}
	o.cleanups = nil
}
