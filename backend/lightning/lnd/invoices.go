package lnd

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"satchel.dev/backend/lightning"
)

// invoiceJSON is the part of LND's lnrpc.Invoice the provider reads.
type invoiceJSON struct {
	Memo           string `json:"memo"`
	RHash          []byte `json:"r_hash"` // standard base64 in JSON
	ValueMsat      int64  `json:"value_msat,string"`
	CreationDate   int64  `json:"creation_date,string"`
	SettleDate     int64  `json:"settle_date,string"`
	PaymentRequest string `json:"payment_request"`
	Expiry         int64  `json:"expiry,string"`
	AddIndex       uint64 `json:"add_index,string"`
	SettleIndex    uint64 `json:"settle_index,string"`
	AmtPaidMsat    int64  `json:"amt_paid_msat,string"`
	State          string `json:"state"` // OPEN, SETTLED, CANCELED, ACCEPTED
}

func (j invoiceJSON) settled() bool { return j.State == "SETTLED" && j.SettleIndex > 0 }

func (j invoiceJSON) invoice() lightning.Invoice {
	inv := lightning.Invoice{
		ID:             hex.EncodeToString(j.RHash),
		PaymentRequest: j.PaymentRequest,
		AmountMsat:     j.ValueMsat,
		Memo:           j.Memo,
		CreatedAt:      time.Unix(j.CreationDate, 0).UTC(),
		ExpiresAt:      time.Unix(j.CreationDate+j.Expiry, 0).UTC(),
	}
	switch j.State {
	case "SETTLED":
		inv.State = lightning.InvoiceSettled
		inv.AmountPaidMsat = j.AmtPaidMsat
		inv.SettledAt = time.Unix(j.SettleDate, 0).UTC()
		inv.SettleIndex = j.SettleIndex
	case "CANCELED":
		inv.State = lightning.InvoiceCanceled
	default:
		// OPEN, and ACCEPTED: a hold invoice's HTLCs are held but it is not settled yet (this
		// provider creates no hold invoices).
		inv.State = lightning.InvoiceOpen
	}
	return inv
}

// CreateInvoice adds an invoice to the node. The expiry is rounded up to whole seconds.
func (p *Provider) CreateInvoice(ctx context.Context, amountMsat int64, memo string, expiry time.Duration) (lightning.Invoice, error) {
	if amountMsat <= 0 {
		return lightning.Invoice{}, fmt.Errorf("lnd: create invoice: amount %d msat is not positive", amountMsat)
	}
	if expiry <= 0 {
		return lightning.Invoice{}, fmt.Errorf("lnd: create invoice: expiry %v is not positive", expiry)
	}
	req := struct {
		ValueMsat int64  `json:"value_msat,string"`
		Memo      string `json:"memo"`
		Expiry    int64  `json:"expiry,string"`
	}{amountMsat, memo, int64((expiry + time.Second - 1) / time.Second)}
	var resp struct {
		RHash []byte `json:"r_hash"`
	}
	if err := p.client.Do(ctx, "POST", "/v1/invoices", req, &resp); err != nil {
		return lightning.Invoice{}, wrap("create invoice", err)
	}
	if len(resp.RHash) != 32 {
		return lightning.Invoice{}, fmt.Errorf("lnd: create invoice: node answered a %d-byte payment hash", len(resp.RHash))
	}
	// Read back rather than rebuild, so the invoice is exactly what the node stored.
	return p.LookupInvoice(ctx, hex.EncodeToString(resp.RHash))
}

// LookupInvoice returns the invoice whose payment hash is id (hex), or an error wrapping
// lightning.ErrNotFound.
func (p *Provider) LookupInvoice(ctx context.Context, id string) (lightning.Invoice, error) {
	hash, err := parseHash("invoice id", id)
	if err != nil {
		return lightning.Invoice{}, err
	}
	var j invoiceJSON
	if err := p.client.Do(ctx, "GET", "/v1/invoice/"+hex.EncodeToString(hash), nil, &j); err != nil {
		return lightning.Invoice{}, wrap("look up invoice "+id, err)
	}
	return j.invoice(), nil
}

// CancelInvoice cancels an open invoice. Canceling a canceled invoice does nothing; a
// settled one is an error; an unknown one wraps lightning.ErrNotFound.
func (p *Provider) CancelInvoice(ctx context.Context, id string) error {
	hash, err := parseHash("invoice id", id)
	if err != nil {
		return err
	}
	req := struct {
		PaymentHash []byte `json:"payment_hash"` // standard base64 in JSON
	}{hash}
	if err := p.client.Do(ctx, "POST", "/v2/invoices/cancel", req, nil); err != nil {
		return wrap("cancel invoice "+id, err)
	}
	return nil
}

// recheckDelay is how long SubscribeSettlements(0) waits before listing the node's
// settlements once more, for one that raced the subscription (see there).
const recheckDelay = 2 * time.Second

// SubscribeSettlements streams the node's settlements after settle index after, in settle
// index order: LND replays those already made, then sends live ones.
//
// LND replays nothing for settle index 0, so a subscription from 0 first lists the node's
// invoices (GET /v1/invoices, all of them, once) for those already settled. If none is, a
// settlement made between that listing and the stream's start would not be replayed either:
// it is found by listing again when a later settlement arrives with a gap before it, or
// recheckDelay after the start, whichever comes first.
//
// LND never sends a settlement at or below the index a subscription starts from, so a node
// whose indexes started again (a new node, or one restored from its seed) would have its
// settlements skipped until its index passed after. A subscription after an index above the
// node's newest invoice's add index (settlements never outnumber invoices) returns
// lightning.ErrIndexBehind at once. A node restored from an older backup that still has more
// invoices than after is not told apart: its settlements below after are applied when their
// purchases expire (purchases.Service.ExpireDue looks each one up). On a node whose AMP
// invoices (each payment of one a settlement of its own) outnumber its other invoices, every
// subscription starts again from the first settlement: slower, never wrong.
func (p *Provider) SubscribeSettlements(ctx context.Context, after uint64, fn func(lightning.Invoice) error) error {
	last := after
	// deliver hands fn the settlements of list above last, in order.
	deliver := func(list []invoiceJSON) error {
		for _, j := range list {
			if j.SettleIndex <= last {
				continue
			}
			if err := fn(j.invoice()); err != nil {
				return err
			}
			last = j.SettleIndex
		}
		return nil
	}
	// catchUp delivers the settlements the node lists between last and below (0: no bound).
	catchUp := func(below uint64) error {
		list, err := p.settledSince(ctx, last, below)
		if err != nil {
			return err
		}
		return deliver(list)
	}

	if after == 0 {
		if err := catchUp(0); err != nil {
			return err
		}
	} else if err := p.checkIndex(ctx, after); err != nil {
		return err
	}

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan invoiceJSON)
	broke := make(chan error, 1)
	go func() { broke <- p.readSettlements(sctx, last, events) }()

	var recheck <-chan time.Time
	if last == 0 {
		t := time.NewTimer(recheckDelay)
		defer t.Stop()
		recheck = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-broke:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				err = errors.New("the node closed the stream")
			}
			return wrap(fmt.Sprintf("invoice subscription broke after settle index %d", last), err)
		case <-recheck:
			recheck = nil
			if last == 0 {
				if err := catchUp(0); err != nil {
					return err
				}
			}
		case j := <-events:
			if j.SettleIndex <= last {
				continue
			}
			if j.SettleIndex > last+1 {
				// Settle indexes have no holes: fetch the ones this stream did not send.
				if err := catchUp(j.SettleIndex); err != nil {
					return err
				}
			}
			if err := deliver([]invoiceJSON{j}); err != nil {
				return err
			}
		}
	}
}

// checkIndex returns lightning.ErrIndexBehind when the node has fewer invoices than after, a
// settle index: it cannot have made that many settlements.
func (p *Provider) checkIndex(ctx context.Context, after uint64) error {
	var newest struct {
		LastIndexOffset uint64 `json:"last_index_offset,string"`
	}
	if err := p.client.Do(ctx, "GET", "/v1/invoices?reversed=true&num_max_invoices=1", nil, &newest); err != nil {
		return wrap("list invoices", err)
	}
	if newest.LastIndexOffset < after {
		return fmt.Errorf("%w: the node has %d invoices, the subscription starts after settlement %d", lightning.ErrIndexBehind, newest.LastIndexOffset, after)
	}
	return nil
}

// readSettlements sends the settled invoices of a subscription from settle index after to
// events until the stream ends or ctx is done.
func (p *Provider) readSettlements(ctx context.Context, after uint64, events chan<- invoiceJSON) error {
	// add_index is left out: LND then sends live adds only, which are skipped here.
	stream, err := p.client.Stream(ctx, "GET", "/v1/invoices/subscribe?settle_index="+strconv.FormatUint(after, 10), nil)
	if err != nil {
		return err
	}
	defer stream.Close()
	for {
		var j invoiceJSON
		if err := stream.Next(&j); err != nil {
			return err
		}
		if !j.settled() {
			continue
		}
		select {
		case events <- j:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// listPage is how many invoices settledSince asks for at a time.
const listPage = 500

// settledSince lists the node's settled invoices with a settle index above after and below
// below (0: no bound), in settle index order. It reads every invoice the node has.
func (p *Provider) settledSince(ctx context.Context, after, below uint64) ([]invoiceJSON, error) {
	var settled []invoiceJSON
	var offset uint64
	for {
		var page struct {
			Invoices        []invoiceJSON `json:"invoices"`
			LastIndexOffset uint64        `json:"last_index_offset,string"`
		}
		path := "/v1/invoices?num_max_invoices=" + strconv.Itoa(listPage) + "&index_offset=" + strconv.FormatUint(offset, 10)
		if err := p.client.Do(ctx, "GET", path, nil, &page); err != nil {
			return nil, wrap("list invoices", err)
		}
		for _, j := range page.Invoices {
			if j.settled() && j.SettleIndex > after && (below == 0 || j.SettleIndex < below) {
				settled = append(settled, j)
			}
		}
		if len(page.Invoices) == 0 || page.LastIndexOffset <= offset {
			break
		}
		offset = page.LastIndexOffset
	}
	slices.SortFunc(settled, func(a, b invoiceJSON) int { return cmp.Compare(a.SettleIndex, b.SettleIndex) })
	return settled, nil
}
