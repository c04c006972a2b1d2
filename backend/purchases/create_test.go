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

// createStore is a Store for Create: the buyer owns nothing and has no purchase by request
// id; open, if set, is their open purchase; a free game is granted by another request first.
type createStore struct {
	purchases.Store
	game market.Game
	open *market.Purchase
}

func (s *createStore) PurchaseByRequestKey(context.Context, string) (market.Purchase, error) {
	return market.Purchase{}, market.Errorf(market.CodeNotFound, "no purchase for that request id")
}

func (s *createStore) Entitlement(context.Context, string, string) (string, error) {
	return "", market.Errorf(market.CodeNotFound, "no entitlement")
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
