package purchases_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/market"
	"satchel.dev/backend/purchases"
)

// TestSettlementsResumeAtTheFirstUnapplied: settlements are applied side by side, and one of
// them fails once. Following resumes from the saved cursor, which never passed a settlement
// not yet applied, so the failed one is applied on the second delivery and every other one is
// applied too; the cursor ends at the last.
func TestSettlementsResumeAtTheFirstUnapplied(t *testing.T) {
	const n, failing = 40, 7
	store := &cursorStore{t: t, last: n, applied: map[uint64]int{}, fail: map[uint64]bool{failing: true}, done: make(chan struct{})}
	runSettlements(t, store, &stream{n: n}, 8)
	store.mu.Lock()
	defer store.mu.Unlock()
	for i := uint64(1); i <= n; i++ {
		if store.applied[i] == 0 {
			t.Errorf("settlement %d never applied", i)
		}
	}
	if store.failed != 1 {
		t.Errorf("settlement %d failed %d times, want once", failing, store.failed)
	}
}

// TestNodeWhoseIndexesStartedAgain: the saved cursor is far above the node's settle indexes
// (a new node, or one restored from an older backup): following starts again from the node's
// first settlement and applies every one, instead of waiting for its indexes to pass the
// cursor.
func TestNodeWhoseIndexesStartedAgain(t *testing.T) {
	const n = 5
	store := &cursorStore{t: t, last: n, applied: map[uint64]int{}, fail: map[uint64]bool{}, done: make(chan struct{}), cursor: 1000}
	runSettlements(t, store, &stream{n: n, behind: true}, 2)
	store.mu.Lock()
	defer store.mu.Unlock()
	for i := uint64(1); i <= n; i++ {
		if store.applied[i] != 1 {
			t.Errorf("settlement %d applied %d times, want once", i, store.applied[i])
		}
	}
}

// runSettlements runs the settlement loop of a service on store and provider, with settlers
// at once, until store's cursor reaches its last settlement (failing the test after 30 s).
func runSettlements(t *testing.T, store *cursorStore, provider lightning.Provider, settlers int) {
	t.Helper()
	svc, err := purchases.New(store, nil, nil, provider, purchases.Config{ReceiptSecret: make([]byte, 16), Settlers: settlers},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		svc.RunSettlements(ctx)
	}()
	defer func() {
		cancel()
		<-stopped
	}()
	select {
	case <-store.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the cursor did not reach settlement %d within 30 s", store.last)
	}
}

// stream is a provider whose settlements are 1 to n, delivered from any index onwards, each
// time SubscribeSettlements is called; then it waits for ctx. With behind, a subscription
// after an index above n ends with lightning.ErrIndexBehind, as a node whose indexes started
// again would end it at its next settlement.
type stream struct {
	lightning.Provider
	n      uint64
	behind bool
}

func (s *stream) Name() string { return "test" }

func (s *stream) SubscribeSettlements(ctx context.Context, after uint64, fn func(lightning.Invoice) error) error {
	if s.behind && after > s.n {
		return fmt.Errorf("%w: settled at %d, after %d", lightning.ErrIndexBehind, s.n, after)
	}
	for i := after + 1; i <= s.n; i++ {
		if err := fn(lightning.Invoice{ID: fmt.Sprint(i), SettleIndex: i, State: lightning.InvoiceSettled}); err != nil {
			return err
		}
	}
	<-ctx.Done()
	return ctx.Err()
}

// cursorStore applies settlements by counting them, fails those in fail once, and checks that
// every cursor saved has every settlement up to it applied.
type cursorStore struct {
	purchases.Store
	t       *testing.T
	last    uint64 // the stream's last settle index
	mu      sync.Mutex
	applied map[uint64]int
	fail    map[uint64]bool
	failed  int
	cursor  uint64
	done    chan struct{} // closed when the cursor reaches last
}

func (s *cursorStore) Settle(ctx context.Context, provider string, inv lightning.Invoice, feeBps int) (market.Purchase, purchases.SettleOutcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail[inv.SettleIndex] {
		delete(s.fail, inv.SettleIndex)
		s.failed++
		return market.Purchase{}, "", errors.New("the database went away")
	}
	s.applied[inv.SettleIndex]++
	return market.Purchase{}, purchases.SettledIgnored, nil
}

func (s *cursorStore) SaveCursor(ctx context.Context, provider string, index uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := uint64(1); i <= index; i++ {
		if s.applied[i] == 0 {
			s.t.Errorf("cursor saved at %d before settlement %d was applied", index, i)
		}
	}
	if index > s.cursor {
		s.cursor = index
		if index == s.last {
			close(s.done)
		}
	}
	return nil
}

func (s *cursorStore) Cursor(ctx context.Context, provider string) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor, nil
}

func (s *cursorStore) ResetCursor(ctx context.Context, provider string, from uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cursor == from {
		s.cursor = 0
	}
	return nil
}
