package postgres

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"satchel.dev/backend/purchases"
)

// CatalogChannel is where every committed change to what the catalog shows is announced, by
// migration 0012's triggers: one notification per transaction, its id as the payload.
const CatalogChannel = "satchel_catalog"

// channels are the channels a Notifier listens to.
var channels = []string{PurchaseChannel, LibraryChannel, CatalogChannel}

// Notifier implements purchases.Notifier: it listens to PostgreSQL notifications
// (PurchaseChannel, LibraryChannel, CatalogChannel) on one connection and hands each payload to
// every subscriber of its channel, so a change committed by any server instance reaches the
// streams and the caches of every instance.
type Notifier struct {
	db   *DB
	log  *slog.Logger
	mu   sync.Mutex
	subs map[string]map[chan string]struct{}
	// catalog counts the catalog changes heard, and the times listening started (when some
	// may have been missed); listening is whether the connection listens now.
	catalog   atomic.Uint64
	listening atomic.Bool
}

// NewNotifier returns a notifier on db; Run makes it listen.
func NewNotifier(db *DB, log *slog.Logger) *Notifier {
	return &Notifier{db: db, log: log, subs: map[string]map[chan string]struct{}{}}
}

var _ purchases.Notifier = (*Notifier)(nil)

// PurchaseChanges implements purchases.Notifier: the payloads of PurchaseChannel.
func (n *Notifier) PurchaseChanges() (<-chan string, func()) { return n.subscribe(PurchaseChannel) }

// LibraryChanges implements purchases.Notifier: the payloads of LibraryChannel.
func (n *Notifier) LibraryChanges() (<-chan string, func()) { return n.subscribe(LibraryChannel) }

// CatalogChanges returns a channel of the payloads of CatalogChannel (one per transaction that
// changed the catalog), and purchases.Resync each time listening starts, the first time
// included: from then on no change goes unheard.
func (n *Notifier) CatalogChanges() (<-chan string, func()) { return n.subscribe(CatalogChannel) }

// CatalogVersion returns a number that changes whenever the catalog may have changed: it moves
// on with each catalog change heard, before any subscriber is told of it, and each time
// listening (re)starts. ok is false while the notifier is not listening, when a change could go
// unheard: then nothing read from the catalog may be kept.
func (n *Notifier) CatalogVersion() (version uint64, ok bool) {
	return n.catalog.Load(), n.listening.Load()
}

// subscribe returns a channel of the payloads notified on channel from now on (and
// purchases.Resync after a reconnect, when some may have been missed), and a function that ends
// the subscription. A subscriber that falls 64 payloads behind misses the newest ones.
func (n *Notifier) subscribe(channel string) (<-chan string, func()) {
	ch := make(chan string, 64)
	n.mu.Lock()
	if n.subs[channel] == nil {
		n.subs[channel] = map[chan string]struct{}{}
	}
	n.subs[channel][ch] = struct{}{}
	n.mu.Unlock()
	return ch, func() {
		n.mu.Lock()
		delete(n.subs[channel], ch)
		n.mu.Unlock()
	}
}

func (n *Notifier) publish(channel, payload string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.subs[channel] {
		select {
		case ch <- payload:
		default:
		}
	}
}

// Run listens until ctx is done, reconnecting with backoff when the connection drops.
func (n *Notifier) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for first := true; ctx.Err() == nil; first = false {
		err := n.listen(ctx, first)
		if ctx.Err() != nil {
			return
		}
		n.log.Warn("listening for notifications; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (n *Notifier) listen(ctx context.Context, first bool) error {
	pooled, err := n.db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection never goes back to the pool: it may still be listening.
	conn := pooled.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return err
		}
	}
	n.catalog.Add(1)
	n.listening.Store(true)
	defer n.listening.Store(false)
	for _, ch := range channels {
		if !first || ch == CatalogChannel {
			n.publish(ch, purchases.Resync)
		}
	}
	for {
		note, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if note.Channel == CatalogChannel {
			n.catalog.Add(1)
		}
		n.publish(note.Channel, note.Payload)
	}
}
