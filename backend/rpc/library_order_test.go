package rpc_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"satchel.dev/backend/market"
	librarypb "satchel.dev/shared/api/satchel/library/v1"
	"satchel.dev/shared/api/satchel/library/v1/libraryv1connect"
	"satchel.dev/shared/nip98"
	"satchel.dev/shared/nostr"
)

// TestLibraryChangesOfConcurrentSettlementsResume: a few players buy every game of the store
// while a crowd of other players and guests buy too, and all the invoices are paid at once, so
// the server applies many settlements side by side. Each player's library stream drops and
// resumes from the last token it got every few changes. Every player receives each of its
// grants once, in increasing change ids, and then the release published after them: none
// missing, none twice.
func TestLibraryChangesOfConcurrentSettlementsResume(t *testing.T) {
	b := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dev := b.actor(owner)
	games := []market.Game{b.game}
	for i := range 5 {
		g := b.must(b.games.CreateGame(ctx, dev, market.NewGame{Slug: fmt.Sprintf("order-%d", i), Title: fmt.Sprintf("Order %d", i), PriceMsat: 1_000_000}))
		r := b.mustR(b.games.CreateRelease(ctx, dev, g.ID, "1.0.0", "first"))
		b.finish(b.send(dev, r.ID, testZip))
		b.mustR(b.games.PublishRelease(ctx, dev, r.ID))
		games = append(games, b.must(b.games.SetGameStatus(ctx, dev, g.ID, market.StatusListed)))
	}
	newPlayer := func() (market.Actor, *http.Client) {
		key, err := nostr.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		id, err := b.users.EnsureUser(ctx, key.PublicKey().Hex())
		if err != nil {
			t.Fatal(err)
		}
		return market.Actor{UserID: id, Pubkey: key.PublicKey().Hex()}, &http.Client{Transport: &nip98.Transport{Signer: key}}
	}
	var invoices []string
	buy := func(a market.Actor, g market.Game) {
		p, _, err := b.purchases.Create(ctx, a, g.ID, "", "", market.Client{IP: "10.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		invoices = append(invoices, p.PaymentRequest)
	}

	type watcher struct {
		lib   libraryv1connect.LibraryServiceClient
		token string // before any of its purchases
		got   []*librarypb.LibraryChange
		err   error
	}
	watchers := make([]*watcher, 4)
	for i := range watchers {
		a, c := newPlayer()
		w := &watcher{lib: libraryv1connect.NewLibraryServiceClient(c, b.srv.URL)}
		list, err := w.lib.ListLibrary(ctx, &librarypb.ListLibraryRequest{})
		if err != nil {
			t.Fatal(err)
		}
		w.token = list.GetResumeToken()
		for _, g := range games {
			buy(a, g)
		}
		watchers[i] = w
	}
	for i := range 60 { // the crowd: a player or a guest each
		a := market.Actor{}
		if i%2 == 0 {
			a, _ = newPlayer()
		}
		buy(a, games[i%len(games)])
	}
	rand.Shuffle(len(invoices), func(i, j int) { invoices[i], invoices[j] = invoices[j], invoices[i] })

	// Each watcher reads until it has one grant per game, then until the release published last.
	granted := make(chan struct{}, len(watchers))
	var readers sync.WaitGroup
	for _, w := range watchers {
		readers.Add(1)
		go func() {
			defer readers.Done()
			grants := map[string]bool{}
			w.got, w.err = readResuming(ctx, w.lib, w.token, 3, func(c *librarypb.LibraryChange) bool {
				if c.GetKind() == librarypb.LibraryChange_KIND_ENTITLEMENT_GRANTED {
					grants[c.GetGame().GetGameId()] = true
					if len(grants) == len(games) {
						granted <- struct{}{}
					}
				}
				return c.GetKind() == librarypb.LibraryChange_KIND_RELEASE_PUBLISHED
			})
			if w.err != nil {
				cancel() // the others would wait for the release in vain
			}
		}()
	}
	pay := make(chan string)
	var payers sync.WaitGroup
	for range 8 {
		payers.Add(1)
		go func() {
			defer payers.Done()
			for inv := range pay {
				if _, err := b.dev.Settle(ctx, inv); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for _, inv := range invoices {
		pay <- inv
	}
	close(pay)
	payers.Wait()
	for range watchers {
		select {
		case <-granted:
		case <-ctx.Done():
			readers.Wait()
			for i, w := range watchers {
				t.Logf("watcher %d read %v (%v)", i, w.got, w.err)
			}
			t.Fatal("a watcher never received all its grants")
		}
	}
	if _, err := b.games.PublishRelease(ctx, dev, b.pending.ID); err != nil {
		t.Fatal(err)
	}
	readers.Wait()

	for i, w := range watchers {
		if w.err != nil {
			t.Fatalf("watcher %d: %v", i, w.err)
		}
		var last int64
		seen := map[string]bool{}
		for _, c := range w.got {
			id, err := strconv.ParseInt(c.GetResumeToken(), 10, 64)
			if err != nil || id <= last {
				t.Errorf("watcher %d: change %v after change %d: want increasing ids", i, c, last)
			}
			last = id
			if c.GetKind() == librarypb.LibraryChange_KIND_ENTITLEMENT_GRANTED {
				if seen[c.GetGame().GetGameId()] {
					t.Errorf("watcher %d: game %s granted twice", i, c.GetGame().GetGameId())
				}
				seen[c.GetGame().GetGameId()] = true
			}
		}
		if want := len(games) + 1; len(w.got) != want || len(seen) != len(games) {
			t.Errorf("watcher %d: %d changes with %d games granted, want %d grants and the release: %v", i, len(w.got), len(seen), len(games), w.got)
		}
	}
	b.checkLedger()
}

// readResuming reads a library stream from token, and drops it and resumes from the last token
// it received every `every` changes, until last says a change is the last. It returns the
// changes read.
func readResuming(ctx context.Context, lib libraryv1connect.LibraryServiceClient, token string, every int, last func(*librarypb.LibraryChange) bool) ([]*librarypb.LibraryChange, error) {
	var got []*librarypb.LibraryChange
	for {
		sctx, drop := context.WithCancel(ctx)
		stream, err := lib.WatchLibrary(sctx, &librarypb.WatchLibraryRequest{ResumeToken: token})
		if err != nil {
			drop()
			return got, err
		}
		if !stream.Receive() || stream.Msg().GetResumeToken() != token {
			drop()
			return got, fmt.Errorf("the stream from token %s did not start with it: %v %v", token, stream.Msg(), stream.Err())
		}
		for range every {
			if !stream.Receive() {
				drop()
				return got, fmt.Errorf("the stream from token %s ended: %v", token, stream.Err())
			}
			c := stream.Msg().GetChange()
			got, token = append(got, c), c.GetResumeToken()
			if last(c) {
				drop()
				return got, nil
			}
		}
		drop()
	}
}
