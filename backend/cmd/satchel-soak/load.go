package main

import (
	"archive/zip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"connectrpc.com/connect"

	"satchel.dev/backend/lightning"
	adminv1 "satchel.dev/shared/api/satchel/admin/v1"
	catalogv1 "satchel.dev/shared/api/satchel/catalog/v1"
	developerv1 "satchel.dev/shared/api/satchel/developer/v1"
	libraryv1 "satchel.dev/shared/api/satchel/library/v1"
	purchasev1 "satchel.dev/shared/api/satchel/purchase/v1"
	"satchel.dev/shared/nostr"
)

// wait waits about mean (exponentially distributed, at most three times mean), or until ctx
// ends; it reports whether ctx is still live.
func wait(ctx context.Context, rng *mrand.Rand, mean time.Duration) bool {
	d := min(time.Duration(rng.ExpFloat64()*float64(mean)), 3*mean)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ---- developers ----

// developer creates games, and releases of them: each build is uploaded and published with the
// satchel CLI's push, as a CI pipeline would.
type developer struct {
	s     *soak
	n     int
	key   nostr.SecretKey
	api   apis
	rng   *mrand.Rand
	dir   string
	games []devGame
}

type devGame struct {
	id, slug string
	releases int
}

func (s *soak) newDeveloper(ctx context.Context, n int) (*developer, error) {
	key, err := nostr.GenerateKey()
	if err != nil {
		return nil, err
	}
	d := &developer{s: s, n: n, key: key, api: newAPIs(key, s.instances, s.rec), rng: s.rng(), dir: filepath.Join(s.env.dir, fmt.Sprintf("developer-%d", n))}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return nil, err
	}
	_, err = call(ctx, d.api, d.rng, func(a *api) (*developerv1.SetPayoutAddressResponse, error) {
		return a.developer.SetPayoutAddress(ctx, &developerv1.SetPayoutAddressRequest{LnAddress: s.env.lnurl.Address(fmt.Sprintf("dev%d", n))})
	})
	if err != nil {
		return nil, errorf(err, "developer %d: SetPayoutAddress", n)
	}
	return d, nil
}

// newGame creates a game, pushes and publishes its first release, and lists it.
func (d *developer) newGame(ctx context.Context) error {
	slug := fmt.Sprintf("soak-%d-%d", d.n, len(d.games)+1)
	price := int64(1000+d.rng.IntN(1000)) * 1000
	res, err := call(ctx, d.api, d.rng, func(a *api) (*developerv1.CreateGameResponse, error) {
		return a.developer.CreateGame(ctx, &developerv1.CreateGameRequest{Slug: slug,
			Title: "Soak " + slug, Summary: "a game of the soak", PriceMsat: price})
	})
	if connect.CodeOf(err) == connect.CodeAlreadyExists { // a retry after an outage that had created it
		g, gerr := call(ctx, d.api, d.rng, func(a *api) (*catalogv1.GetGameResponse, error) {
			return a.catalog.GetGame(ctx, &catalogv1.GetGameRequest{Slug: slug})
		})
		if gerr != nil {
			return errorf(gerr, "GetGame %s", slug)
		}
		res, err = &developerv1.CreateGameResponse{Game: g.GetGame()}, nil
	}
	if err != nil {
		return errorf(err, "CreateGame %s", slug)
	}
	g := devGame{id: res.GetGame().GetId(), slug: slug}
	if err := d.push(ctx, &g); err != nil {
		return err
	}
	_, err = call(ctx, d.api, d.rng, func(a *api) (*developerv1.SetGameStatusResponse, error) {
		return a.developer.SetGameStatus(ctx, &developerv1.SetGameStatusRequest{GameId: g.id, Status: catalogv1.GameStatus_GAME_STATUS_LISTED})
	})
	if err != nil {
		return errorf(err, "listing %s", slug)
	}
	d.games = append(d.games, g)
	d.s.rec.count("games listed")
	return nil
}

// push builds a new release of g and pushes it with the CLI (--publish), again on another
// instance when one fails, for up to retryLimit.
func (d *developer) push(ctx context.Context, g *devGame) error {
	version := fmt.Sprintf("1.0.%d", g.releases)
	zipPath := filepath.Join(d.dir, g.slug+"-"+version+".zip")
	if err := writeBuild(zipPath, g.slug, version, d.rng); err != nil {
		return err
	}
	defer os.Remove(zipPath)
	began := time.Now()
	deadline := began.Add(retryLimit)
	for {
		in := d.api.pick(d.rng).in
		_, err := d.s.cli(ctx, cliRun{nsec: d.key.Nsec(), dir: d.dir, server: in.url}, "push", g.slug, version, zipPath, "--publish")
		if err == nil {
			d.s.rec.observe("push and publish (satchel push)", began, nil)
			g.releases++
			d.s.addRelease(g.slug, version)
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			d.s.rec.observe("push and publish (satchel push)", began, err)
			return errorf(err, "satchel push %s %s", g.slug, version)
		}
		d.s.rec.count("push retried")
		if !wait(ctx, d.rng, time.Second) {
			return ctx.Err()
		}
	}
}

// run adds releases to the developer's games (and now and then a new game) until ctx ends.
func (d *developer) run(ctx context.Context, every time.Duration) {
	for wait(ctx, d.rng, every) {
		var err error
		if d.rng.IntN(4) == 0 {
			err = d.newGame(ctx)
		} else {
			err = d.push(ctx, &d.games[d.rng.IntN(len(d.games))])
		}
		if err != nil && ctx.Err() == nil {
			d.s.problem("developer %d: %v", d.n, err)
		}
	}
}

// writeBuild writes a small game build: a launch manifest, a program and some data, with
// content unique to the release.
func writeBuild(path, slug, version string, rng *mrand.Rand) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	data := make([]byte, 64<<10+rng.IntN(192<<10))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	files := []struct {
		name string
		mode os.FileMode
		body []byte
	}{
		{"satchel.toml", 0o644, []byte("[launch.linux-amd64]\nexec = \"game.sh\"\n")},
		{"game.sh", 0o755, []byte("#!/bin/sh\necho " + slug + " " + version + "\n")},
		{"README.txt", 0o644, []byte(slug + " " + version + ", a build of the soak\n")},
		{"data/level.bin", 0o644, data},
	}
	for _, file := range files {
		h := &zip.FileHeader{Name: file.name, Method: zip.Deflate}
		h.SetMode(file.mode)
		w, err := zw.CreateHeader(h)
		if err == nil {
			_, err = w.Write(file.body)
		}
		if err != nil {
			f.Close()
			return err
		}
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ---- players ----

// player is a signed-in player or a guest with a launcher of their own (the satchel CLI on a
// data folder of theirs): they browse, buy from the buyer's node, install and check what
// they installed.
type player struct {
	s     *soak
	name  string
	key   nostr.SecretKey // zero for a guest
	guest bool
	api   apis
	rng   *mrand.Rand
	dir   string
	watch *watcher // signed players only
	// installed maps a slug to the release installed, for the recovery check.
	installed map[string]string
}

func (s *soak) newPlayer(name string, guest bool) (*player, error) {
	p := &player{s: s, name: name, guest: guest, rng: s.rng(), dir: filepath.Join(s.env.dir, "players", name), installed: map[string]string{}}
	var signer nostr.Signer
	if !guest {
		key, err := nostr.GenerateKey()
		if err != nil {
			return nil, err
		}
		p.key, signer = key, key
	}
	p.api = newAPIs(signer, s.instances, s.rec)
	return p, os.MkdirAll(p.dir, 0o755)
}

// run buys, installs and updates games until ctx ends; a signed player who owns every game
// hands over to a new player.
func (p *player) run(ctx context.Context, every time.Duration) {
	for wait(ctx, p.rng, every) {
		if err := p.act(ctx); err != nil && ctx.Err() == nil {
			p.s.problem("%s: %v", p.name, err)
		}
	}
}

func (p *player) act(ctx context.Context) error {
	list, err := call(ctx, p.api, p.rng, func(a *api) (*catalogv1.ListGamesResponse, error) {
		return a.catalog.ListGames(ctx, &catalogv1.ListGamesRequest{PageSize: 100})
	})
	if err != nil {
		return errorf(err, "ListGames")
	}
	games := list.GetGames()
	var choices []*catalogv1.Game
	for _, g := range games {
		if p.guest || !p.watch.owns(g.GetId()) {
			choices = append(choices, g)
		}
	}
	if len(choices) == 0 {
		if len(games) > 0 && p.rng.IntN(2) == 0 { // update a game the player owns
			g := games[p.rng.IntN(len(games))]
			return p.install(ctx, g.GetId(), g.GetSlug(), "")
		}
		return nil
	}
	g := choices[p.rng.IntN(len(choices))]
	if _, err := call(ctx, p.api, p.rng, func(a *api) (*catalogv1.GetGameResponse, error) {
		return a.catalog.GetGame(ctx, &catalogv1.GetGameRequest{Slug: g.GetSlug()})
	}); err != nil {
		return errorf(err, "GetGame %s", g.GetSlug())
	}
	return p.buy(ctx, g)
}

// buy buys g, pays it from the buyer's node, waits until it is owned, and installs it.
func (p *player) buy(ctx context.Context, g *catalogv1.Game) error {
	req := &purchasev1.CreatePurchaseRequest{GameId: g.GetId(), RequestId: randomHex(16)}
	if p.guest {
		req.ClientSecret = randomHex(16)
	}
	res, err := call(ctx, p.api, p.rng, func(a *api) (*purchasev1.CreatePurchaseResponse, error) {
		return a.purchase.CreatePurchase(ctx, req)
	})
	if err != nil {
		return errorf(err, "CreatePurchase %s", g.GetSlug())
	}
	pur, receipt := res.GetPurchase(), res.GetReceiptCode()
	paidAt, err := p.s.pay(ctx, pur.GetPaymentRequest(), pur.GetId(), !p.guest)
	if err != nil {
		return errorf(err, "paying %s", g.GetSlug())
	}
	if p.guest {
		if err := p.waitPaid(ctx, pur.GetId(), receipt, paidAt); err != nil {
			return err
		}
	} else if err := p.watch.waitGranted(ctx, g.GetId(), paidAt); err != nil {
		return err
	}
	return p.install(ctx, g.GetId(), g.GetSlug(), receipt)
}

// waitPaid follows a guest purchase on WatchPurchase until it is PAID.
func (p *player) waitPaid(ctx context.Context, id, receipt string, paidAt time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		stream, err := p.api.pick(p.rng).purchase.WatchPurchase(ctx, &purchasev1.WatchPurchaseRequest{PurchaseId: id, ReceiptCode: receipt})
		if err == nil {
			for stream.Receive() {
				switch stream.Msg().GetPurchase().GetStatus() {
				case purchasev1.PurchaseStatus_PURCHASE_STATUS_PAID:
					stream.Close()
					p.s.rec.observe("settlement → guest purchase PAID", paidAt, nil)
					return nil
				case purchasev1.PurchaseStatus_PURCHASE_STATUS_PENDING:
				default:
					stream.Close()
					return fmt.Errorf("guest purchase %s is %v after it was paid", id, stream.Msg().GetPurchase().GetStatus())
				}
			}
			err = stream.Err()
			stream.Close()
		}
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for guest purchase %s to be PAID after its payment: %w (last: %v)", id, ctx.Err(), err)
		}
		sleep(ctx, 200*time.Millisecond) // the instance went away: another one
	}
}

// install installs the latest release of a game with the satchel CLI, again on another
// instance after an outage; when the soak asks for it, the first run is killed at an install
// step, and the player's launcher recovers. Then it checks the installed files byte for byte
// against the manifest.
func (p *player) install(ctx context.Context, gameID, slug, receipt string) error {
	run := cliRun{nsec: p.nsec(), dir: p.dir}
	args := []string{"install", slug}
	if receipt != "" {
		args = append(args, "--receipt", receipt)
	}
	select {
	case step := <-p.s.crash:
		p.s.crashed <- p.killedInstall(ctx, run, step, slug, args)
	default:
	}
	began := time.Now()
	deadline := began.Add(retryLimit)
	var out []byte
	for {
		run.server = p.api.pick(p.rng).in.url
		var err error
		if out, err = p.s.cli(ctx, run, args...); err == nil {
			break
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			p.s.rec.observe("install (satchel install)", began, err)
			return errorf(err, "satchel install %s", slug)
		}
		p.s.rec.count("install retried")
		if !wait(ctx, p.rng, time.Second) {
			return ctx.Err()
		}
	}
	p.s.rec.observe("install (satchel install)", began, nil)
	var res struct {
		Version   string `json:"version"`
		ReleaseID string `json:"release_id"`
		Dir       string `json:"dir"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return fmt.Errorf("satchel install %s printed %q: %w", slug, out, err)
	}
	p.installed[slug] = res.ReleaseID
	return p.s.verifyInstall(ctx, p, gameID, slug, receipt, res.ReleaseID, res.Dir)
}

// killedInstall runs the install once, killed at step, then the launcher again to recover.
func (p *player) killedInstall(ctx context.Context, run cliRun, step, slug string, args []string) crashResult {
	run.server = p.api.pick(p.rng).in.url
	if step == midDownload {
		if _, err := p.s.cli(ctx, run, "config", "set", "speed-limit", "64K"); err != nil {
			p.s.problem("%s: %v", p.name, err)
		}
		run.killMidDownload = true
	} else {
		run.crashAt = step
	}
	_, err := p.s.cli(ctx, run, args...)
	res := crashResult{player: p.name, slug: slug, step: step, killed: killedBySIGKILL(err)}
	if !res.killed {
		res.why = "it ended before the step"
		if err != nil {
			res.why = err.Error()
		}
	}
	run.crashAt, run.killMidDownload = "", false
	if step == midDownload {
		if _, err := p.s.cli(ctx, run, "config", "set", "speed-limit", "off"); err != nil {
			p.s.problem("%s: %v", p.name, err)
		}
	}
	if res.killed {
		res.recovered = p.recovered(ctx, slug)
	}
	return res
}

// recovered runs the launcher again after a killed install: its start recovers the library,
// and the game's current version, if it had one, must still verify (playable).
func (p *player) recovered(ctx context.Context, slug string) bool {
	if _, had := p.installed[slug]; !had {
		_, err := p.s.cli(ctx, cliRun{nsec: p.nsec(), dir: p.dir, server: p.api.pick(p.rng).in.url}, "library", "--offline")
		return err == nil
	}
	_, err := p.s.cli(ctx, cliRun{nsec: p.nsec(), dir: p.dir, server: p.api.pick(p.rng).in.url}, "verify", slug)
	return err == nil
}

func (p *player) nsec() string {
	if p.guest {
		return ""
	}
	return p.key.Nsec()
}

// watcher follows a player's WatchLibrary stream on any running instance, resuming with the
// last token after an instance goes away, and keeps which games the player owns.
type watcher struct {
	p       *player
	mu      sync.Mutex
	owned   map[string]time.Time // game id -> when the grant arrived
	changed chan struct{}        // closed and replaced on every change
	ready   chan struct{}        // closed once the first stream is open
}

func (p *player) startWatch(ctx context.Context) *watcher {
	w := &watcher{p: p, owned: map[string]time.Time{}, changed: make(chan struct{}), ready: make(chan struct{})}
	p.watch = w
	go w.run(ctx)
	return w
}

func (w *watcher) run(ctx context.Context) {
	token := ""
	var once sync.Once
	for ctx.Err() == nil {
		stream, err := w.p.api.pick(w.p.rng).library.WatchLibrary(ctx, &libraryv1.WatchLibraryRequest{ResumeToken: token})
		if err == nil {
			for stream.Receive() {
				msg := stream.Msg()
				if t := msg.GetResumeToken(); t != "" {
					token = t
					once.Do(func() { close(w.ready) })
				}
				if c := msg.GetChange(); c != nil {
					token = c.GetResumeToken()
					w.apply(c)
				}
			}
			stream.Close()
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond): // the instance went away: another one
		}
	}
}

func (w *watcher) apply(c *libraryv1.LibraryChange) {
	w.mu.Lock()
	defer w.mu.Unlock()
	id := c.GetGame().GetGameId()
	switch c.GetKind() {
	case libraryv1.LibraryChange_KIND_ENTITLEMENT_GRANTED:
		w.owned[id] = time.Now()
	case libraryv1.LibraryChange_KIND_ENTITLEMENT_REVOKED:
		delete(w.owned, id)
	default:
		return
	}
	close(w.changed)
	w.changed = make(chan struct{})
}

func (w *watcher) owns(gameID string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.owned[gameID]
	return ok
}

// waitGranted waits until the stream says the player owns gameID, and records the time since
// paidAt (settlement → library event).
func (w *watcher) waitGranted(ctx context.Context, gameID string, paidAt time.Time) error {
	t := time.NewTimer(2 * time.Minute)
	defer t.Stop()
	for {
		w.mu.Lock()
		_, ok := w.owned[gameID]
		changed := w.changed
		w.mu.Unlock()
		if ok {
			w.p.s.rec.observe("settlement → WatchLibrary grant", paidAt, nil)
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			w.p.s.rec.observe("settlement → WatchLibrary grant", paidAt, errors.New("timeout"))
			return fmt.Errorf("waiting for the library stream to grant game %s: nothing 2 minutes after the payment", gameID)
		}
	}
}

// ---- the admin ----

// runAdmin refunds or revokes a signed player's purchase now and then.
func (s *soak) runAdmin(ctx context.Context, every time.Duration) {
	rng := s.rng()
	as := newAPIs(s.env.admin, s.instances, s.rec)
	for wait(ctx, rng, every) {
		id, ok := s.takeSale(rng)
		if !ok {
			continue
		}
		var err error
		if rng.IntN(2) == 0 {
			_, err = call(ctx, as, rng, func(a *api) (*adminv1.RefundPurchaseResponse, error) {
				return a.admin.RefundPurchase(ctx, &adminv1.RefundPurchaseRequest{PurchaseId: id, Reason: "soak: a refund now and then"})
			})
			if err == nil {
				s.markRefunded(id)
				s.rec.count("refunds")
			}
		} else {
			_, err = call(ctx, as, rng, func(a *api) (*adminv1.RevokeEntitlementResponse, error) {
				return a.admin.RevokeEntitlement(ctx, &adminv1.RevokeEntitlementRequest{PurchaseId: id, Reason: "soak: a revocation now and then"})
			})
			if err == nil {
				s.rec.count("revocations")
			}
		}
		if err != nil && !refusal(err) && ctx.Err() == nil {
			s.problem("admin: %v", err)
		}
	}
}

// ---- paying, and the launcher ----

// pay pays an invoice from the buyer's node, again while the platform's node cannot be
// reached, and records the payment (signed: a sale the admin may refund later). It returns when
// the payment succeeded.
func (s *soak) pay(ctx context.Context, invoice, purchaseID string, signed bool) (time.Time, error) {
	began := time.Now()
	deadline := began.Add(retryLimit)
	for {
		pay, err := s.env.buyer.PayInvoice(ctx, invoice, 20_000, 30*time.Second)
		if err == nil && pay.Status == lightning.PaymentInFlight {
			pay, err = s.trackPayment(ctx, pay.PaymentHash)
		}
		if err == nil && pay.Status == lightning.PaymentFailed { // failed during an outage: the wallet tries again
			if err = s.env.buyerNode.PayInvoice(ctx, invoice, 20_000); err == nil {
				pay.Status = lightning.PaymentSucceeded
			}
		}
		if err == nil && pay.Status == lightning.PaymentSucceeded {
			now := time.Now()
			s.rec.observe("pay from the buyer's node", began, nil)
			s.addPayment(pay.PaymentHash, purchaseID, signed)
			select {
			case s.paid <- struct{}{}:
			default:
			}
			return now, nil
		}
		if err == nil {
			err = fmt.Errorf("payment %s: %s", pay.Status, pay.FailureReason)
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			s.rec.observe("pay from the buyer's node", began, err)
			return time.Time{}, err
		}
		s.rec.count("payment retried")
		sleep(ctx, time.Second) // the platform's node may be restarting: the next attempt says
	}
}

// trackPayment waits until a payment in flight has ended.
func (s *soak) trackPayment(ctx context.Context, hash string) (lightning.Payment, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		pay, err := s.env.buyer.TrackPayment(ctx, hash)
		if err != nil || pay.Status != lightning.PaymentInFlight {
			return pay, err
		}
		select {
		case <-ctx.Done():
			return pay, fmt.Errorf("payment %s still in flight after 2 minutes", hash)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// cliRun is how to run the satchel CLI: as whom (nsec, empty for a guest), on which data
// folder and server; crashAt names the install step where it kills itself; killMidDownload
// has the soak kill it (SIGKILL) at its first progress line of a download under way.
type cliRun struct {
	nsec, dir, server, crashAt string
	killMidDownload            bool
}

// cli runs the satchel CLI (the launcher's engine: desktop/core and desktop/install) with
// --json, and returns its standard output.
func (s *soak) cli(ctx context.Context, r cliRun, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	full := append([]string{"--json", "--server", r.server, "--data-dir", filepath.Join(r.dir, "data"),
		"--config-dir", filepath.Join(r.dir, "config")}, args...)
	cmd := exec.CommandContext(ctx, s.cliBin, full...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + r.dir}
	if r.nsec != "" {
		cmd.Env = append(cmd.Env, "SATCHEL_NSEC="+r.nsec)
	}
	if r.crashAt != "" {
		cmd.Env = append(cmd.Env, "SATCHEL_TEST_CRASH_AT="+r.crashAt)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if r.killMidDownload {
		cmd.Stderr = &progressWatch{w: &stderr, hit: func() { _ = cmd.Process.Kill() }}
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if err := cmd.Wait(); err != nil {
		// With --json the CLI writes its error to stdout (as indented JSON); its progress and
		// any crash go to stderr.
		return []byte(stdout.String()), &cliError{err: err, args: strings.Join(args, " "),
			output: strings.Join(strings.Fields(stdout.String()), " ") + " " + lastLines(stderr.String(), 3)}
	}
	return []byte(stdout.String()), nil
}

type cliError struct {
	err          error
	args, output string
}

func (e *cliError) Error() string { return fmt.Sprintf("satchel %s: %v: %s", e.args, e.err, e.output) }
func (e *cliError) Unwrap() error { return e.err }

// progressWatch passes the CLI's standard error on to w, and calls hit once, at the first
// --json progress line of a download under way (some bytes in, not all).
type progressWatch struct {
	w     io.Writer
	line  []byte
	fired bool
	hit   func()
}

func (p *progressWatch) Write(b []byte) (int, error) {
	for _, c := range b {
		if c != '\n' {
			p.line = append(p.line, c)
			continue
		}
		var pr struct {
			Phase       string
			Done, Total int64
		}
		if !p.fired && json.Unmarshal(p.line, &pr) == nil && pr.Phase == "downloading" && pr.Done > 0 && pr.Done < pr.Total {
			p.fired = true
			p.hit()
		}
		p.line = p.line[:0]
	}
	return p.w.Write(b)
}

// killedBySIGKILL reports whether the CLI died of SIGKILL (its crash hook).
func killedBySIGKILL(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// verifyInstall checks every file of an install against the build's manifest, as the server
// gives it: the same size and sha256, and nothing missing.
func (s *soak) verifyInstall(ctx context.Context, p *player, gameID, slug, receipt, releaseID, dir string) error {
	res, err := call(ctx, p.api, p.rng, func(a *api) (*libraryv1.GetDownloadResponse, error) {
		return a.library.GetDownload(ctx, &libraryv1.GetDownloadRequest{GameId: gameID, ReleaseId: releaseID, ReceiptCode: receipt})
	})
	if refusal(err) { // revoked or refunded since: the manifest is no longer the player's to see
		s.rec.count("installs not checked (revoked meanwhile)")
		return nil
	}
	if err != nil {
		return errorf(err, "GetDownload %s", slug)
	}
	var bad []string
	for _, f := range res.GetFiles() {
		if problem := checkFile(filepath.Join(dir, filepath.FromSlash(f.GetPath())), f.GetSizeBytes(), f.GetSha256()); problem != "" {
			bad = append(bad, f.GetPath()+": "+problem)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.installs++
	if len(bad) > 0 || len(res.GetFiles()) == 0 {
		s.badInstalls = append(s.badInstalls, fmt.Sprintf("%s %s in %s: %s (of %d files)", slug, res.GetVersion(), dir, strings.Join(bad, "; "), len(res.GetFiles())))
	}
	return nil
}

// checkFile says what is wrong with the file at path, "" when it has the size and sha256.
func checkFile(path string, size int64, sum string) string {
	f, err := os.Open(path)
	if err != nil {
		return "missing"
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	switch {
	case err != nil:
		return err.Error()
	case n != size:
		return fmt.Sprintf("%d bytes, the manifest says %d", n, size)
	case hex.EncodeToString(h.Sum(nil)) != sum:
		return "sha256 differs"
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
