// Package payouttest sets up what payouts need in a test database: a developer with a game, and
// sales of it settled as the buying service settles them (payout row and job included).
package payouttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/market"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/purchases"
)

// FeeBps is the platform fee of a Shop's sales unless it says otherwise: 10%.
const FeeBps = 1000

// Shop is a developer selling one game; Buyer is a user who buys nothing (the tests' admin).
type Shop struct {
	DB        *postgres.DB
	Users     *postgres.UserService
	Games     *postgres.GameService
	Purchases *postgres.PurchaseRepo
	Developer market.Actor
	Buyer     market.Actor
	Game      market.Game
	FeeBps    int // the platform's fee of the sales settled from now on (FeeBps from Open)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Open creates a developer whose payout address is address (stored as given: test addresses
// such as dev@127.0.0.1:port are not what NormalizeLNAddress accepts), a game at priceMsat
// (any price: the shop has no minimum) and a buyer. The payout jobs of sales go to db's queue
// (postgres.DB.SetQueue).
func Open(ctx context.Context, db *postgres.DB, address string, priceMsat int64) (*Shop, error) {
	// Payouts of any size are tested here: the shop's operator allows any price.
	s := &Shop{DB: db, Users: postgres.NewUserService(db), Games: postgres.NewGameService(db).WithMinPrice(1),
		Purchases: postgres.NewPurchaseRepo(db), FeeBps: FeeBps}
	for _, a := range []*market.Actor{&s.Developer, &s.Buyer} {
		a.Pubkey = randomHex(32)
		id, err := s.Users.EnsureUser(ctx, a.Pubkey)
		if err != nil {
			return nil, err
		}
		a.UserID = id
	}
	if _, err := s.Users.SetPayoutAddress(ctx, s.Developer, "placeholder@example.com"); err != nil {
		return nil, err
	}
	if err := s.SetAddress(ctx, address); err != nil {
		return nil, err
	}
	var err error
	s.Game, err = s.Games.CreateGame(ctx, s.Developer, market.NewGame{Slug: "game-" + randomHex(6), Title: "Test Game", PriceMsat: priceMsat})
	return s, err
}

// SetAddress changes the developer's payout address, as given.
func (s *Shop) SetAddress(ctx context.Context, address string) error {
	_, err := s.DB.Pool().Exec(ctx, `UPDATE developer_profiles SET payout_ln_address = $2 WHERE user_id = $1`, s.Developer.UserID, address)
	return err
}

// Sell opens a purchase of the game by the buyer and settles it as the settlement loop does
// (purchases.Store.Settle, on postgres): PAID, ledger, entitlement, payout SCHEDULED and its job.
func (s *Shop) Sell(ctx context.Context) (market.Purchase, error) { return s.SellGame(ctx, s.Game) }

// SellGame is Sell for another game of the developer. Each sale has a buyer of its own (a
// player owns a game once).
func (s *Shop) SellGame(ctx context.Context, g market.Game) (market.Purchase, error) {
	buyer, err := s.Users.EnsureUser(ctx, randomHex(32))
	if err != nil {
		return market.Purchase{}, err
	}
	invoiceID := randomHex(32)
	exp := time.Now().Add(time.Hour)
	p, err := s.Purchases.CreatePending(ctx, market.Purchase{
		GameID: g.ID, BuyerUserID: buyer, Provider: "test", InvoiceID: invoiceID,
		PaymentRequest: "lnbcrt-test-" + invoiceID, Status: market.PurchasePending, AmountMsat: g.PriceMsat, ExpiresAt: &exp,
	}, "")
	if err != nil {
		return market.Purchase{}, err
	}
	p, outcome, err := s.Purchases.Settle(ctx, "test", lightning.Invoice{ID: invoiceID, AmountMsat: p.AmountMsat,
		AmountPaidMsat: p.AmountMsat, State: lightning.InvoiceSettled, SettledAt: time.Now()}, s.FeeBps)
	if err != nil {
		return market.Purchase{}, err
	}
	if outcome != purchases.SettledPaid {
		return market.Purchase{}, fmt.Errorf("payouttest: settlement of %s: %s, want paid", p.ID, outcome)
	}
	return p, nil
}
