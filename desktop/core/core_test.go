package core_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"satchel.dev/shared/nostr"

	"satchel.dev/desktop/client"
	"satchel.dev/desktop/core"
	"satchel.dev/desktop/internal/testenv"
	"satchel.dev/desktop/library"
	"satchel.dev/desktop/settings"
)

var env struct {
	bin    string
	server *testenv.Server
}

func TestMain(m *testing.M) {
	root, err := os.MkdirTemp("", "satchel-core")
	if err == nil {
		env.bin = filepath.Join(root, "bin")
		err = testenv.Build(env.bin, testenv.ServerPackages()...)
	}
	if err == nil {
		env.server, err = testenv.StartServer(env.bin, filepath.Join(root, "server"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	env.server.Stop()
	os.RemoveAll(root)
	os.Exit(code)
}

// TestEngine drives the Core as a window would: it runs the engine, buys a free game, sees it
// install by itself through events, launches it, and then, with the server unreachable,
// still lists it, shows its page and launches it.
func TestEngine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := t.TempDir()
	dirs := settings.Dirs{Data: filepath.Join(root, "data"), Config: filepath.Join(root, "config")}
	marker := filepath.Join(root, "marker")
	key, _ := nostr.GenerateKey()
	c, err := core.Open(core.Config{Dirs: dirs, Signer: key, Server: env.server.URL, LaunchGrace: 300 * time.Millisecond,
		GameEnv: append(os.Environ(), "SATCHEL_DEMO_MARKER="+marker)})
	if err != nil {
		t.Fatal(err)
	}
	events, stop := c.Subscribe()
	defer stop()
	go c.Run(ctx)
	next := func(kind core.EventKind) core.Event {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case e := <-events:
				if e.Kind == core.EventInstallFailed {
					t.Fatalf("install failed: %s", e.Message)
				}
				if e.Kind == kind {
					return e
				}
			case <-timeout:
				t.Fatalf("no %s event", kind)
			}
		}
	}
	if e := next(core.EventSync); !e.Sync.Connected && e.Sync.LastError != "" {
		t.Fatalf("sync: %+v", e.Sync)
	}

	p, err := c.Buy(ctx, "moss-and-mortar", false)
	if err != nil || p.Status != "PAID" || p.AmountMsat != 0 {
		t.Fatalf("Buy = %+v, %v", p, err)
	}
	if e := next(core.EventInstalled); e.Slug != "moss-and-mortar" || e.Version != "1.2.0" {
		t.Errorf("installed event: %+v", e)
	}
	g, err := c.Game("moss-and-mortar")
	if err != nil || g.Status != library.StatusInstalled || g.Installed != "1.2.0" {
		t.Fatalf("Game = %+v, %v", g, err)
	}

	s, err := c.Launch(ctx, "moss-and-mortar")
	if err != nil {
		t.Fatal(err)
	}
	if e := next(core.EventLaunched); e.PID != s.PID {
		t.Errorf("launched event %+v, session pid %d", e, s.PID)
	}
	if len(c.Running()) != 1 {
		t.Errorf("Running = %v", c.Running())
	}
	if _, err := c.Launch(ctx, "moss-and-mortar"); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("a second launch = %v", err)
	}
	if e := next(core.EventExited); e.ExitCode != 0 {
		t.Errorf("exited event: %+v", e)
	}
	<-s.Done()
	if b, _ := os.ReadFile(marker); !strings.HasPrefix(string(b), "Moss & Mortar ") {
		t.Errorf("marker = %q", b)
	}
	cancel()

	// The server is gone: the library and the game are still there.
	off, err := core.Open(core.Config{Dirs: dirs, Signer: key, Server: "http://127.0.0.1:9", LaunchGrace: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	lib, err := off.Refresh(context.Background())
	if !client.Offline(err) || len(lib) != 1 || lib[0].Installed != "1.2.0" {
		t.Errorf("Refresh offline = %+v, %v", lib, err)
	}
	// Its page too, from the library, with the reason the store's side is missing.
	page, err := off.StorePage(context.Background(), "moss-and-mortar")
	if !client.Offline(err) || page.Slug != "moss-and-mortar" || page.Title != "Moss & Mortar" || page.Latest != "1.2.0" {
		t.Errorf("StorePage offline = %+v, %v", page, err)
	}
	if page, err := off.StorePage(context.Background(), "pocket-orbits"); !client.Offline(err) || page.Slug != "" {
		t.Errorf("StorePage offline of a game not in the library = %+v, %v", page, err)
	}
	s, err = off.Launch(context.Background(), "moss-and-mortar")
	if err != nil {
		t.Fatal(err)
	}
	s.Stop()
	s.Wait()
}

// TestPurchaseElsewhereInstalls buys a game with `satchel buy` (a Core that does not run the
// engine) on the same launcher, then starts the engine, as the window or `satchel sync` does:
// it installs the purchase, although the buy had already recorded the game as owned.
func TestPurchaseElsewhereInstalls(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := t.TempDir()
	dirs := settings.Dirs{Data: filepath.Join(root, "data"), Config: filepath.Join(root, "config")}
	key, _ := nostr.GenerateKey()
	open := func() *core.Core {
		c, err := core.Open(core.Config{Dirs: dirs, Signer: key, Server: env.server.URL})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	buyer := open()
	if p, err := buyer.Buy(ctx, "moss-and-mortar", false); err != nil || p.Status != "PAID" {
		t.Fatalf("Buy = %+v, %v", p, err)
	}
	if _, err := buyer.Refresh(ctx); err != nil { // as `satchel buy` does
		t.Fatal(err)
	}
	c := open()
	events, stop := c.Subscribe()
	defer stop()
	go c.Run(ctx)
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-events:
			switch e.Kind {
			case core.EventInstallFailed:
				t.Fatalf("install failed: %s", e.Message)
			case core.EventInstalled:
				if e.Slug != "moss-and-mortar" {
					t.Fatalf("installed %+v", e)
				}
				return
			}
		case <-timeout:
			t.Fatal("the game bought elsewhere did not install")
		}
	}
}

// TestCheckout buys a paid game as the window does: Checkout follows the payment, reports
// PAID, and the game installs by itself.
func TestCheckout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := t.TempDir()
	key, _ := nostr.GenerateKey()
	c, err := core.Open(core.Config{Dirs: settings.Dirs{Data: filepath.Join(root, "data"), Config: filepath.Join(root, "config")},
		Signer: key, Server: env.server.URL})
	if err != nil {
		t.Fatal(err)
	}
	events, stop := c.Subscribe()
	defer stop()
	go c.Run(ctx)
	updates := make(chan core.Purchase, 8)
	p, err := c.Checkout(ctx, "lantern-drift", false, func(u core.Purchase) { updates <- u },
		func(u core.Purchase) { t.Errorf("following the purchase failed: %s", u.FailureReason) })
	if err != nil || p.Status != core.PurchasePending || p.Guest {
		t.Fatalf("Checkout = %+v, %v", p, err)
	}
	if err := c.PayTestMoney(ctx, p.Invoice); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(30 * time.Second)
	for paid := false; !paid; {
		select {
		case u := <-updates:
			paid = u.ID == p.ID && u.Status == core.PurchasePaid
		case <-timeout:
			t.Fatal("no PAID update")
		}
	}
	for {
		select {
		case e := <-events:
			if e.Kind == core.EventInstallFailed {
				t.Fatalf("install failed: %s", e.Message)
			}
			if e.Kind == core.EventInstalled && e.Slug == "lantern-drift" {
				return
			}
		case <-timeout:
			t.Fatal("no installed event")
		}
	}
}

// TestCheckoutSurvivesADroppedLine: with the checkout open, the line to the server drops; the
// checkout says it is reconnecting, follows the same purchase again once the line is back, and
// turns PAID when the invoice, paid meanwhile, settles. Buying the game again meanwhile, even
// from another launcher process on the same folders, returns the open purchase (a guest's with
// its receipt code): one invoice, never two.
func TestCheckoutSurvivesADroppedLine(t *testing.T) {
	for _, guest := range []bool{false, true} {
		t.Run(fmt.Sprintf("guest=%v", guest), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			u, _ := url.Parse(env.server.URL)
			proxy, err := testenv.StartProxy(u.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer proxy.Close()
			// The requests name the server's URL (NIP-98 signs it) but go through the proxy.
			tr := client.NewTransport()
			tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, proxy.Addr)
			}
			root := t.TempDir()
			dirs := settings.Dirs{Data: filepath.Join(root, "data"), Config: filepath.Join(root, "config")}
			key, _ := nostr.GenerateKey()
			c, err := core.Open(core.Config{Dirs: dirs, Signer: key, Server: env.server.URL, Transport: tr})
			if err != nil {
				t.Fatal(err)
			}
			events, stop := c.Subscribe()
			defer stop()
			updates := make(chan core.Purchase, 64)
			p, err := c.Checkout(ctx, "lantern-drift", guest, func(u core.Purchase) { updates <- u },
				func(u core.Purchase) { t.Errorf("following the purchase failed: %s", u.FailureReason) })
			if err != nil || p.Status != core.PurchasePending || p.Guest != guest || (p.ReceiptCode != "") != guest {
				t.Fatalf("Checkout = %+v, %v", p, err)
			}
			next := func(what string, match func(core.Purchase) bool) {
				t.Helper()
				timeout := time.After(30 * time.Second)
				for {
					select {
					case u := <-updates:
						if u.ID != p.ID {
							t.Fatalf("an update of another purchase: %+v", u)
						}
						if match(u) {
							return
						}
					case <-timeout:
						t.Fatalf("no update: %s", what)
					}
				}
			}
			next("the purchase followed", func(u core.Purchase) bool { return u.Status == core.PurchasePending && !u.Reconnecting })

			proxy.Cut(true)
			next("reconnecting", func(u core.Purchase) bool { return u.Status == core.PurchasePending && u.Reconnecting })

			// Another launcher process on the same folders, with a line that works.
			other, err := core.Open(core.Config{Dirs: dirs, Signer: key, Server: env.server.URL})
			if err != nil {
				t.Fatal(err)
			}
			again, err := other.Buy(ctx, "lantern-drift", guest)
			if err != nil || again.ID != p.ID || again.Invoice != p.Invoice || again.ReceiptCode != p.ReceiptCode {
				t.Fatalf("buying again = %+v, %v; want the open purchase %+v", again, err, p)
			}
			if err := other.PayTestMoney(ctx, p.Invoice); err != nil {
				t.Fatal(err)
			}
			proxy.Restore()
			next("PAID", func(u core.Purchase) bool { return u.Status == core.PurchasePaid && !u.Reconnecting })
			for timeout := time.After(30 * time.Second); ; {
				select {
				case e := <-events:
					if e.Kind == core.EventInstallFailed {
						t.Fatalf("install failed: %s", e.Message)
					}
					if e.Kind == core.EventInstalled && e.Slug == "lantern-drift" {
						return
					}
				case <-timeout:
					t.Fatal("no installed event")
				}
			}
		})
	}
}
