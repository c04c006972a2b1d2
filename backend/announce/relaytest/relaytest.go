// Package relaytest runs real Nostr relays for tests (and the soak, cmd/satchel-soak): khatru
// with an in-memory slicestore, served by net/http on loopback, which a test can take down and
// bring back on the same address, make refuse or delay events, and read back over the wire
// with go-nostr.
package relaytest

import (
	"context"
	"io"
	"net"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/fiatjaf/eventstore/slicestore"
	"github.com/fiatjaf/khatru"
	gonostr "github.com/nbd-wtf/go-nostr"

	"satchel.dev/shared/nostr"
)

// TB is what a relay needs of its owner: *testing.T, or a program's own stand-in (Fatal
// must not return).
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Relay is a relay on a loopback address.
type Relay struct {
	URL string // ws://127.0.0.1:PORT

	t     TB
	addr  string
	relay *khatru.Relay

	mu     sync.Mutex
	srv    *httptest.Server
	saved  map[string]int // event id -> times stored
	offers int            // events offered (every EVENT the relay received)
	reject func(offer int, ev nostr.Event) (bool, string)
}

// Start starts a relay, up.
func Start(t TB) *Relay {
	t.Helper()
	r := StartDown(t)
	r.Up()
	return r
}

// StartDown makes a relay with an address that nothing listens on yet (Up starts it): a relay
// that is down.
func StartDown(t TB) *Relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	store := &slicestore.SliceStore{}
	if err := store.Init(); err != nil {
		t.Fatal(err)
	}
	r := &Relay{URL: "ws://" + addr, t: t, addr: addr, relay: khatru.NewRelay(), saved: map[string]int{}}
	r.relay.Log.SetOutput(io.Discard)
	r.relay.RejectEvent = append(r.relay.RejectEvent, func(_ context.Context, ev *gonostr.Event) (bool, string) {
		r.mu.Lock()
		r.offers++
		n, reject := r.offers, r.reject
		r.mu.Unlock()
		if reject == nil {
			return false, ""
		}
		return reject(n, fromGoNostr(ev))
	})
	// slicestore does not lock: one connection at a time may touch it.
	var storeMu sync.Mutex
	r.relay.StoreEvent = append(r.relay.StoreEvent, func(ctx context.Context, ev *gonostr.Event) error {
		storeMu.Lock()
		defer storeMu.Unlock()
		return store.SaveEvent(ctx, ev)
	})
	r.relay.QueryEvents = append(r.relay.QueryEvents, func(ctx context.Context, f gonostr.Filter) (chan *gonostr.Event, error) {
		storeMu.Lock()
		defer storeMu.Unlock()
		ch, err := store.QueryEvents(ctx, f)
		if err != nil {
			return nil, err
		}
		var all []*gonostr.Event
		for ev := range ch {
			all = append(all, ev)
		}
		out := make(chan *gonostr.Event, len(all))
		for _, ev := range all {
			out <- ev
		}
		close(out)
		return out, nil
	})
	r.relay.OnEventSaved = append(r.relay.OnEventSaved, func(_ context.Context, ev *gonostr.Event) {
		r.mu.Lock()
		r.saved[ev.ID]++
		r.mu.Unlock()
	})
	t.Cleanup(r.Down)
	return r
}

// Up starts listening on the relay's address.
func (r *Relay) Up() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != nil {
		return
	}
	var ln net.Listener
	var err error
	for range 50 { // the address was just released; it may take a moment to be free again
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatalf("relaytest: listening on %s again: %v", r.addr, err)
	}
	r.srv = httptest.NewUnstartedServer(r.relay)
	r.srv.Listener.Close()
	r.srv.Listener = ln
	r.srv.Start()
}

// Down stops the relay: connections are cut, and new ones are refused until Up.
func (r *Relay) Down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.CloseClientConnections()
		srv.Close()
	}
}

// Reject makes the relay call f with each event offered (n counts every offer since the
// relay started, from 1): it refuses the event (OK false) with the message when f says so. f
// may sleep to make the relay slow. nil accepts everything.
func (r *Relay) Reject(f func(n int, ev nostr.Event) (reject bool, msg string)) {
	r.mu.Lock()
	r.reject = f
	r.mu.Unlock()
}

// Offers returns how many events the relay was offered.
func (r *Relay) Offers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.offers
}

// Saved returns how many times the relay stored the event with this id (a relay keeps one
// copy of an event; a second EVENT with its id is a duplicate).
func (r *Relay) Saved(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.saved[id]
}

// Events reads back, over a WebSocket as any client would, the events by author (hex) of the
// given kinds that the relay holds.
func (r *Relay) Events(author string, kinds ...int) ([]nostr.Event, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := gonostr.RelayConnect(ctx, r.URL)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	got, err := c.QuerySync(ctx, gonostr.Filter{Authors: []string{author}, Kinds: kinds})
	if err != nil {
		return nil, err
	}
	out := make([]nostr.Event, len(got))
	for i, ev := range got {
		out[i] = fromGoNostr(ev)
	}
	return out, nil
}

// CheckGoNostr checks an event's id and signature with go-nostr, an implementation other than
// Satchel's own.
func CheckGoNostr(ev nostr.Event) (bool, error) {
	g := gonostr.Event{ID: ev.ID, PubKey: ev.PubKey, CreatedAt: gonostr.Timestamp(ev.CreatedAt), Kind: ev.Kind,
		Content: ev.Content, Sig: ev.Sig}
	for _, t := range ev.Tags {
		g.Tags = append(g.Tags, gonostr.Tag(t))
	}
	if !g.CheckID() {
		return false, nil
	}
	return g.CheckSignature()
}

func fromGoNostr(ev *gonostr.Event) nostr.Event {
	out := nostr.Event{ID: ev.ID, PubKey: ev.PubKey, CreatedAt: int64(ev.CreatedAt), Kind: ev.Kind, Content: ev.Content,
		Sig: ev.Sig, Tags: [][]string{}}
	for _, t := range ev.Tags {
		out.Tags = append(out.Tags, []string(t))
	}
	return out
}

// Wait polls cond every 20 ms until it holds or d passes, and reports whether it held.
func Wait(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
