package core

import (
	"context"
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
	// Reconnecting is set while the line to the server is down and WaitPurchase is
	// reconnecting: the status is the last one heard, and the invoice can still be paid.
	Reconnecting bool `json:"reconnecting,omitempty"`
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
// the purchase is anonymous and comes with a receipt code. While a purchase of the game by the
// same buyer (the identity, or this launcher's guest) is open and its invoice unexpired, Buy
// returns that purchase, with a guest's receipt code, instead of opening another: across
// retries, closed checkouts and restarts of the launcher (see requests) or the server.
func (c *Core) Buy(ctx context.Context, slug string, guest bool) (Purchase, error) {
	cl, buyer, err := c.buyer(guest)
	if err != nil {
		return Purchase{}, err
	}
	gg, err := cl.Catalog.GetGame(ctx, &catalogv1.GetGameRequest{Slug: slug})
	if errors.Is(err, client.ErrNotFound) {
		return Purchase{}, fmt.Errorf("%w: there is no game %q in the store", ErrUnknownGame, slug)
	}
	if err != nil {
		return Purchase{}, err
	}
	gameID := gg.GetGame().GetId()
	for {
		req, err := c.requests.next(buyer, gameID, time.Now())
		if err != nil {
			return Purchase{}, err
		}
		// The request id makes the server return the purchase it made; the secret proves a
		// guest's request comes from this launcher (the server ignores it for an identity).
		res, err := cl.Purchase.CreatePurchase(ctx, &purchasev1.CreatePurchaseRequest{GameId: gameID,
			RequestId: req.RequestID, ClientSecret: req.ClientSecret})
		if err != nil {
			return Purchase{}, err
		}
		p := purchaseFrom(res.GetPurchase(), slug, res.GetReceiptCode())
		if err := c.requests.opened(buyer, p); err != nil {
			return Purchase{}, err
		}
		if req.PurchaseID == "" || p.Status == PurchasePending || p.Status == PurchasePaid {
			return p, nil
		}
		// The purchase this launcher had open has expired or failed meanwhile: open a new one.
	}
}

// buyer returns the client that buys as guest says (unsigned for a guest, or without an
// identity) and the buyer requests knows it by.
func (c *Core) buyer(guest bool) (*client.Client, string, error) {
	sg := c.client.Signer()
	switch {
	case !guest && sg == nil:
		return nil, "", errors.New("no identity to buy with: create one (`satchel identity new`) or buy as a guest (--guest)")
	case !guest:
		return c.client, sg.PublicKey().Hex(), nil
	case sg == nil:
		return c.client, guestBuyer, nil
	}
	cl, err := client.New(client.Config{BaseURL: c.client.BaseURL, Transport: c.cfg.Transport})
	return cl, guestBuyer, err
}

// PayTestMoney pays an invoice of a server running the dev invoice provider, with test money
// (nothing real is paid). Other servers refuse it.
func (c *Core) PayTestMoney(ctx context.Context, invoice string) error {
	_, err := c.client.TestMoney.PayInvoice(ctx, &testmoneyv1.PayInvoiceRequest{PaymentRequest: invoice})
	return err
}

// TestMoney asks the server whether it runs the dev invoice provider, whose invoices are paid
// with test money only: its TestMoneyService answers an empty payment as invalid, where a server
// that takes real money refuses every payment (ErrFailedPrecondition). Nothing is paid.
func (c *Core) TestMoney(ctx context.Context) (bool, error) {
	err := c.PayTestMoney(ctx, "")
	switch {
	case errors.Is(err, client.ErrInvalid):
		return true, nil
	case errors.Is(err, client.ErrFailedPrecondition):
		return false, nil
	case err == nil:
		return false, errors.New("the server took an empty test payment: it is not a Satchel server this launcher knows")
	}
	return false, err
}

// The waits before following a purchase again after its line dropped: the first, doubled after
// each failure up to the last.
const (
	minReconnectBackoff = 500 * time.Millisecond
	maxReconnectBackoff = 5 * time.Second
)

// WaitPurchase follows a purchase until it is final (PAID, EXPIRED, FAILED, REFUNDED) or ctx
// ends, calling onUpdate with each status. A line that drops (the server restarts, the network
// fails) does not end it: onUpdate hears the purchase with Reconnecting set, and the same
// purchase is followed again, with backoff, until the server answers; only a refusal (see
// client's sentinels) ends it with an error. When it is PAID, the library is refreshed.
func (c *Core) WaitPurchase(ctx context.Context, p Purchase, onUpdate func(Purchase)) (Purchase, error) {
	cl, _, err := c.buyer(p.Guest)
	if err != nil {
		return p, err
	}
	update := func(u Purchase) {
		if onUpdate != nil {
			onUpdate(u)
		}
	}
	wait := minReconnectBackoff
	for !p.Final() {
		stream, err := cl.Purchase.WatchPurchase(ctx, &purchasev1.WatchPurchaseRequest{PurchaseId: p.ID, ReceiptCode: p.ReceiptCode})
		if err == nil {
			for stream.Receive() {
				p = purchaseFrom(stream.Msg().GetPurchase(), p.Slug, p.ReceiptCode)
				wait = minReconnectBackoff
				update(p)
				if p.Final() {
					break
				}
			}
			err = stream.Err()
			stream.Close()
		}
		switch {
		case p.Final():
		case ctx.Err() != nil:
			return p, ctx.Err()
		case err != nil && !client.Offline(err):
			return p, err
		default: // the line dropped: say so, and follow the same purchase again
			if !p.Reconnecting {
				p.Reconnecting = true
				update(p)
			}
			select {
			case <-ctx.Done():
				return p, ctx.Err()
			case <-time.After(wait):
			}
			wait = min(2*wait, maxReconnectBackoff)
		}
	}
	if err := c.requests.closed(p.ID); err != nil {
		c.cfg.Logger.Warn("forgetting a closed purchase", "purchase", p.ID, "err", err)
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
// the background (see WaitPurchase: through dropped lines) until it is final, ctx ends, or
// CloseCheckout stops it; a second Checkout of the same open purchase takes over from the
// first. update hears each status (and Reconnecting); failed hears the purchase, its
// FailureReason saying why, when the server refused to let it be followed (the invoice stays
// payable); either may be nil. Once the purchase is PAID the game installs, a signed-in
// player's through the queue (see Enqueue), a guest's with its receipt code; an install that
// cannot start is published as an EventInstallFailed event.
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
	f := &follower{cancel: cancel}
	c.mu.Lock()
	previous := c.checkouts[p.ID]
	c.checkouts[p.ID] = f
	c.mu.Unlock()
	if previous != nil {
		previous.cancel()
	}
	go func() {
		defer func() {
			cancel()
			c.mu.Lock()
			if c.checkouts[p.ID] == f {
				delete(c.checkouts, p.ID)
			}
			c.mu.Unlock()
		}()
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

// follower is a purchase Checkout follows.
type follower struct{ cancel context.CancelFunc }

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
	f := c.checkouts[purchaseID]
	delete(c.checkouts, purchaseID)
	c.mu.Unlock()
	if f != nil {
		f.cancel()
	}
}

// ClaimReceipt moves a guest purchase to the Core's identity: the game leaves the other
// identities' libraries.
func (c *Core) ClaimReceipt(ctx context.Context, code string) (Purchase, error) {
	res, err := c.client.Purchase.ClaimReceipt(ctx, &purchasev1.ClaimReceiptRequest{ReceiptCode: code})
	if err != nil {
		return Purchase{}, err
	}
	p := purchaseFrom(res.GetPurchase(), "", "")
	if err := c.markGuest(p.GameID, false); err != nil {
		return p, err
	}
	if _, err := c.syncer.Refresh(ctx); err != nil {
		c.cfg.Logger.Info("refreshing the library after a claim", "err", err)
	}
	return p, nil
}
