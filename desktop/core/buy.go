package core

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	catalogv1 "satchel.dev/shared/api/satchel/catalog/v1"
	purchasev1 "satchel.dev/shared/api/satchel/purchase/v1"
	testmoneyv1 "satchel.dev/shared/api/satchel/testmoney/v1"

	"satchel.dev/desktop/client"
)

// PurchaseStatus is where a purchase is in its life: PENDING, then PAID, EXPIRED or FAILED;
// a PAID purchase may later be REFUNDED. Its text is the API's status name without its
// PURCHASE_STATUS_ prefix.
type PurchaseStatus string

// The statuses of a purchase.
const (
	PurchasePending  PurchaseStatus = "PENDING"
	PurchasePaid     PurchaseStatus = "PAID"
	PurchaseExpired  PurchaseStatus = "EXPIRED"
	PurchaseFailed   PurchaseStatus = "FAILED"
	PurchaseRefunded PurchaseStatus = "REFUNDED"
)

// Purchase is a purchase as the launcher shows it.
type Purchase struct {
	ID            string         `json:"id"`
	GameID        string         `json:"game_id"`
	Slug          string         `json:"slug"`
	Title         string         `json:"title"`
	Status        PurchaseStatus `json:"status"`
	AmountMsat    int64          `json:"amount_msat"`
	Invoice       string         `json:"invoice,omitempty"`
	ExpiresAt     time.Time      `json:"expires_at,omitzero"`
	TestMoney     bool           `json:"test_money"`
	Guest         bool           `json:"guest,omitempty"`
	ReceiptCode   string         `json:"receipt_code,omitempty"`
	FailureReason string         `json:"failure_reason,omitempty"`
}

// Final reports whether the purchase will not change any more (but for a refund).
func (p Purchase) Final() bool { return p.Status != PurchasePending }

// purchaseFrom is the launcher's view of an API purchase.
func purchaseFrom(p *purchasev1.Purchase, slug, receipt string) Purchase {
	status := PurchaseStatus(strings.TrimPrefix(p.GetStatus().String(), "PURCHASE_STATUS_"))
	out := Purchase{ID: p.GetId(), GameID: p.GetGameId(), Slug: slug, Title: p.GetGameTitle(), Status: status,
		AmountMsat: p.GetAmountMsat(), Invoice: p.GetPaymentRequest(), TestMoney: p.GetTestMoney(), Guest: p.GetGuest(),
		ReceiptCode: receipt, FailureReason: p.GetFailureReason()}
	if p.GetExpiresAt() != nil {
		out.ExpiresAt = p.GetExpiresAt().AsTime()
	}
	return out
}

// Buy opens a purchase of slug at its current price: a free game is PAID at once; otherwise
// the purchase is PENDING with a Lightning invoice to pay. With guest (or without an identity)
// the purchase is anonymous and comes with a receipt code, shown only once. A retried call
// (network failure) returns the same purchase.
func (c *Core) Buy(ctx context.Context, slug string, guest bool) (Purchase, error) {
	cl := c.client
	if guest && cl.Signer() != nil {
		var err error
		if cl, err = client.New(client.Config{BaseURL: c.client.BaseURL, Transport: c.cfg.Transport}); err != nil {
			return Purchase{}, err
		}
	}
	if !guest && cl.Signer() == nil {
		return Purchase{}, errors.New("no identity to buy with: create one (`satchel identity new`) or buy as a guest (--guest)")
	}
	gg, err := cl.Catalog.GetGame(ctx, &catalogv1.GetGameRequest{Slug: slug})
	if errors.Is(err, client.ErrNotFound) {
		return Purchase{}, fmt.Errorf("%w: there is no game %q in the store", ErrUnknownGame, slug)
	}
	if err != nil {
		return Purchase{}, err
	}
	// The request id makes a retry return the same purchase; the secret proves a guest's retry
	// comes from this client (the server ignores it for a signed-in buyer).
	var rid, secret [16]byte
	rand.Read(rid[:])
	rand.Read(secret[:])
	res, err := cl.Purchase.CreatePurchase(ctx, &purchasev1.CreatePurchaseRequest{GameId: gg.GetGame().GetId(),
		RequestId: hex.EncodeToString(rid[:]), ClientSecret: hex.EncodeToString(secret[:])})
	if err != nil {
		return Purchase{}, err
	}
	return purchaseFrom(res.GetPurchase(), slug, res.GetReceiptCode()), nil
}

// PayTestMoney pays an invoice of a server running the dev invoice provider, with test money
// (nothing real is paid). Other servers refuse it.
func (c *Core) PayTestMoney(ctx context.Context, invoice string) error {
	_, err := c.client.TestMoney.PayInvoice(ctx, &testmoneyv1.PayInvoiceRequest{PaymentRequest: invoice})
	return err
}

// WaitPurchase follows a purchase until it is final (PAID, EXPIRED, FAILED, REFUNDED) or ctx
// ends, calling onUpdate with each status. When it is PAID, the library is refreshed.
func (c *Core) WaitPurchase(ctx context.Context, p Purchase, onUpdate func(Purchase)) (Purchase, error) {
	cl := c.client
	if p.Guest && cl.Signer() != nil {
		var err error
		if cl, err = client.New(client.Config{BaseURL: c.client.BaseURL, Transport: c.cfg.Transport}); err != nil {
			return p, err
		}
	}
	for !p.Final() {
		stream, err := cl.Purchase.WatchPurchase(ctx, &purchasev1.WatchPurchaseRequest{PurchaseId: p.ID, ReceiptCode: p.ReceiptCode})
		if err != nil {
			return p, err
		}
		for stream.Receive() {
			p = purchaseFrom(stream.Msg().GetPurchase(), p.Slug, p.ReceiptCode)
			if onUpdate != nil {
				onUpdate(p)
			}
			if p.Final() {
				break
			}
		}
		err = stream.Err()
		stream.Close()
		if p.Final() {
			break
		}
		if ctx.Err() != nil {
			return p, ctx.Err()
		}
		if err != nil && !client.Offline(err) {
			return p, err
		}
		select { // the stream dropped: follow it again
		case <-ctx.Done():
			return p, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	if p.Status == PurchasePaid && !p.Guest && c.client.Signer() != nil {
		if _, err := c.syncer.Refresh(ctx); err != nil {
			c.cfg.Logger.Info("refreshing the library after a purchase", "err", err)
		}
	}
	return p, nil
}

// Checkout is buying as the window does it: it opens a purchase of slug (see Buy; without an
// identity it is a guest's) and returns it at once. A purchase still PENDING is then followed in
// the background (see WaitPurchase) until it is final, ctx ends, or CloseCheckout stops it: update
// hears each status; failed hears the purchase, its FailureReason saying why, when following it
// failed (the invoice stays payable); either may be nil. Once the purchase is PAID the game
// installs, a signed-in player's through the queue (see Enqueue), a guest's with its receipt code;
// an install that cannot start is published as an EventInstallFailed event.
func (c *Core) Checkout(ctx context.Context, slug string, guest bool, update, failed func(Purchase)) (Purchase, error) {
	p, err := c.Buy(ctx, slug, guest || c.client.Signer() == nil)
	if err != nil {
		return Purchase{}, err
	}
	if p.Status == PurchasePaid {
		go c.installBought(ctx, p)
		return p, nil
	}
	wctx, cancel := context.WithCancel(ctx)
	c.mu.Lock()
	c.checkouts[p.ID] = cancel
	c.mu.Unlock()
	go func() {
		defer c.CloseCheckout(p.ID)
		final, err := c.WaitPurchase(wctx, p, update)
		if err != nil {
			if wctx.Err() == nil && failed != nil {
				final.FailureReason = "following the payment failed: " + err.Error()
				failed(final)
			}
			return
		}
		if final.Status == PurchasePaid {
			c.installBought(ctx, final)
		}
	}()
	return p, nil
}

// installBought installs a game just paid for; a failure to start is published as an event.
func (c *Core) installBought(ctx context.Context, p Purchase) {
	if p.Guest {
		_, err := c.Install(ctx, p.Slug, InstallOptions{ReceiptCode: p.ReceiptCode}, nil)
		if err != nil && ctx.Err() == nil {
			c.events.publish(Event{Kind: EventInstallFailed, Slug: p.Slug, Message: err.Error(), Problem: Problem(err)})
		}
		return
	}
	if _, err := c.Enqueue(ctx, p.Slug); err != nil {
		if _, rerr := c.Refresh(ctx); rerr == nil {
			_, err = c.Enqueue(ctx, p.Slug)
		}
		if err != nil {
			c.events.publish(Event{Kind: EventInstallFailed, Slug: p.Slug, Message: err.Error(), Problem: Problem(err)})
		}
	}
}

// CloseCheckout stops following a purchase that Checkout follows (the invoice stays payable
// until it expires). An unknown or finished purchase is no error.
func (c *Core) CloseCheckout(purchaseID string) {
	c.mu.Lock()
	cancel := c.checkouts[purchaseID]
	delete(c.checkouts, purchaseID)
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// ClaimReceipt moves a guest purchase to the Core's identity.
func (c *Core) ClaimReceipt(ctx context.Context, code string) (Purchase, error) {
	res, err := c.client.Purchase.ClaimReceipt(ctx, &purchasev1.ClaimReceiptRequest{ReceiptCode: code})
	if err != nil {
		return Purchase{}, err
	}
	if _, err := c.syncer.Refresh(ctx); err != nil {
		c.cfg.Logger.Info("refreshing the library after a claim", "err", err)
	}
	return purchaseFrom(res.GetPurchase(), "", ""), nil
}
