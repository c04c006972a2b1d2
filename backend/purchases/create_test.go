package purchases_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/market"
	"satchel.dev/backend/purchases"
)

const (
	gameID  = "00000000-0000-4000-8000-000000000001"
	buyerID = "00000000-0000-4000-8000-000000000002"
)

// TestFreeGameGrantedByAnotherRequest: two requests of one buyer (a double click, two
// devices) claim a free game at once with different request ids; the one that loses the race
// is told the buyer owns the game, not that its purchase does not exist.
func TestFreeGameGrantedByAnotherRequest(t *testing.T) {
	svc := newService(t, &createStore{game: market.Game{ID: gameID, Title: "Free", Status: market.StatusListed}}, nil)
	_, _, err := svc.Create(context.Background(), market.Actor{UserID: buyerID}, gameID, "request-2", "", market.Client{IP: "192.0.2.1"})
	if market.ErrorCode(err) != market.CodeAlreadyExists {
		t.Fatalf("Create = %v (%s), want %s", err, market.ErrorCode(err), market.CodeAlreadyExists)
	}
}

// TestExpiredPurchasePaidMeanwhile: a buyer's open purchase has expired, but its invoice was
// paid: buying again settles it, and the buyer, who owns the game now, is told so instead of
// being given a second invoice.
func TestExpiredPurchasePaidMeanwhile(t *testing.T) {
	past := time.Now().Add(-time.Minute)
	store := &createStore{game: market.Game{ID: gameID, Title: "Paid", Status: market.StatusListed, PriceMsat: 1_000_000},
		open: &market.Purchase{ID: "00000000-0000-4000-8000-000000000003", GameID: gameID, BuyerUserID: buyerID,
			Status: market.PurchasePending, InvoiceID: "inv", ExpiresAt: &past}}
	svc := newService(t, store, &paidNode{})
	_, _, err := svc.Create(context.Background(), market.Actor{UserID: buyerID}, gameID, "", "", market.Client{IP: "192.0.2.1"})
	if market.ErrorCode(err) != market.CodeAlreadyExists || !store.settled {
		t.Fatalf("Create = %v (%s), settled %v; want AlreadyExists after the settlement", err, market.ErrorCode(err), store.settled)
	}
}

// TestExpiredPurchaseWithNodeDown: a buyer's open purchase has expired and the Lightning node
// does not answer, so it cannot be closed: buying again is Unavailable (try again), not an
// internal error.
func TestExpiredPurchaseWithNodeDown(t *testing.T) {
	past := time.Now().Add(-time.Minute)
	store := &createStore{open: &market.Purchase{ID: "00000000-0000-4000-8000-000000000003", GameID: gameID,
		BuyerUserID: buyerID, Status: market.PurchasePending, InvoiceID: "inv", ExpiresAt: &past}}
	svc := newService(t, store, &downNode{})
	_, _, err := svc.Create(context.Background(), market.Actor{UserID: buyerID}, gameID, "", "", market.Client{IP: "192.0.2.1"})
	if market.ErrorCode(err) != market.CodeUnavailable {
		t.Fatalf("Create = %v (%s), want %s", err, market.ErrorCode(err), market.CodeUnavailable)
	}
}

func newService(t *testing.T, store purchases.Store, provider lightning.Provider) *purchases.Service {
	t.Helper()
	if provider == nil {
		provider = &downNode{}
	}
	svc, err := purchases.New(store, nil, nil, provider, purchases.Config{ReceiptSecret: make([]byte, 16)},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// createStore is a Store for Create: the buyer owns nothing (until the open purchase, if set,
// is settled) and has no purchase by request id; a free game is granted by another request
// first; a paid one's new purchase fails.
type createStore struct {
	purchases.Store
	game    market.Game
	open    *market.Purchase
	settled bool // the open purchase was settled
}

func (s *createStore) PurchaseByRequestKey(context.Context, string) (market.Purchase, error) {
	return market.Purchase{}, market.Errorf(market.CodeNotFound, "no purchase for that request id")
}

func (s *createStore) Entitlement(context.Context, string, string) (string, error) {
	if s.settled {
		return "00000000-0000-4000-8000-000000000004", nil
	}
	return "", market.Errorf(market.CodeNotFound, "no entitlement")
}

func (s *createStore) Settle(context.Context, string, lightning.Invoice, int) (market.Purchase, purchases.SettleOutcome, error) {
	s.settled = true
	return *s.open, purchases.SettledPaid, nil
}

func (s *createStore) CreatePending(context.Context, market.Purchase, string) (market.Purchase, error) {
	return market.Purchase{}, errors.New("a second invoice was made")
}

func (s *createStore) OpenPurchase(context.Context, string, string) (market.Purchase, error) {
	if s.open == nil {
		return market.Purchase{}, market.Errorf(market.CodeNotFound, "no open purchase")
	}
	return *s.open, nil
}

func (s *createStore) GameByID(context.Context, string) (market.Game, error) { return s.game, nil }

func (s *createStore) GrantFree(context.Context, market.Purchase, string) (market.Purchase, error) {
	return market.Purchase{}, market.Errorf(market.CodeAlreadyExists, "you own this game already")
}

// downNode is a Lightning node that does not answer.
type downNode struct{ lightning.Provider }

func (*downNode) Name() string { return "test" }

func (*downNode) LookupInvoice(context.Context, string) (lightning.Invoice, error) {
	return lightning.Invoice{}, errors.New("dial tcp 127.0.0.1:8080: connection refused")
}

// paidNode is a Lightning node on which every invoice was paid.
type paidNode struct{ lightning.Provider }

func (*paidNode) Name() string { return "test" }

func (*paidNode) LookupInvoice(_ context.Context, id string) (lightning.Invoice, error) {
	return lightning.Invoice{ID: id, State: lightning.InvoiceSettled, AmountMsat: 1_000_000, AmountPaidMsat: 1_000_000}, nil
}

func (*paidNode) CreateInvoice(context.Context, int64, string, time.Duration) (lightning.Invoice, error) {
	return lightning.Invoice{ID: "inv-2", PaymentRequest: "lnbcrt-second"}, nil
}

func (*paidNode) CancelInvoice(context.Context, string) error { return nil }
