package lnd

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/lightning/lnd/internal/rest"
)

// paymentJSON is the part of LND's lnrpc.Payment the provider reads.
type paymentJSON struct {
	PaymentHash     string `json:"payment_hash"` // hex
	ValueMsat       int64  `json:"value_msat,string"`
	FeeMsat         int64  `json:"fee_msat,string"`
	PaymentPreimage string `json:"payment_preimage"` // hex, all zeros until succeeded
	Status          string `json:"status"`           // INITIATED, IN_FLIGHT, SUCCEEDED, FAILED
	FailureReason   string `json:"failure_reason"`
}

func (j paymentJSON) final() bool { return j.Status == "SUCCEEDED" || j.Status == "FAILED" }

func (j paymentJSON) payment() lightning.Payment {
	pay := lightning.Payment{
		PaymentHash: strings.ToLower(j.PaymentHash),
		Status:      lightning.PaymentInFlight, // INITIATED, IN_FLIGHT (and the obsolete UNKNOWN)
		AmountMsat:  j.ValueMsat,
		FeeMsat:     j.FeeMsat,
	}
	switch j.Status {
	case "SUCCEEDED":
		pay.Status = lightning.PaymentSucceeded
		pay.Preimage = strings.ToLower(j.PaymentPreimage)
	case "FAILED":
		pay.Status = lightning.PaymentFailed
		pay.FailureReason = failureReason(j.FailureReason)
	}
	return pay
}

// failureReason says in words why LND gave up a payment.
func failureReason(reason string) string {
	switch reason {
	case "FAILURE_REASON_TIMEOUT":
		return "timeout: no route succeeded before the payment timeout"
	case "FAILURE_REASON_NO_ROUTE":
		return "no route: no path to the recipient with enough capacity within the fee limit"
	case "FAILURE_REASON_ERROR":
		return "error: the payment failed on an unexpected error (see the node's log)"
	case "FAILURE_REASON_INCORRECT_PAYMENT_DETAILS":
		return "incorrect payment details: the recipient refused it (unknown or expired invoice, wrong amount)"
	case "FAILURE_REASON_INSUFFICIENT_BALANCE":
		return "insufficient balance: the node's channels cannot send this much"
	case "FAILURE_REASON_CANCELED":
		return "canceled"
	case "", "FAILURE_REASON_NONE":
		return "failed (no reason given)"
	}
	return strings.ToLower(strings.TrimPrefix(reason, "FAILURE_REASON_"))
}

// PayInvoice pays a BOLT 11 invoice that names its amount, spending at most maxFeeMsat in
// routing fees, and waits up to timeout for the result; LND is told to stop trying new
// routes after timeout too (rounded up to whole seconds).
//
// It first asks the node for a payment of the invoice's hash: if there is one, in any
// state (failed included), that payment is returned and nothing is sent. LND itself also
// refuses a second payment of a hash in flight or paid; such a refusal (two PayInvoice calls
// racing) is answered with the existing payment too.
func (p *Provider) PayInvoice(ctx context.Context, paymentRequest string, maxFeeMsat int64, timeout time.Duration) (lightning.Payment, error) {
	if maxFeeMsat < 0 {
		return lightning.Payment{}, fmt.Errorf("lnd: pay invoice: fee limit %d msat is negative", maxFeeMsat)
	}
	if timeout <= 0 {
		return lightning.Payment{}, fmt.Errorf("lnd: pay invoice: timeout %v is not positive", timeout)
	}
	paymentRequest = strings.TrimSpace(paymentRequest)
	var pr struct {
		PaymentHash string `json:"payment_hash"`
		NumMsat     int64  `json:"num_msat,string"`
	}
	if err := p.client.Do(ctx, "GET", "/v1/payreq/"+url.PathEscape(paymentRequest), nil, &pr); err != nil {
		return lightning.Payment{}, wrap("pay invoice: decode it", err)
	}
	if pr.NumMsat <= 0 {
		return lightning.Payment{}, errors.New("lnd: pay invoice: the invoice names no amount; only invoices with an amount are paid")
	}
	hash := strings.ToLower(pr.PaymentHash)

	existing, err := p.TrackPayment(ctx, hash)
	if err == nil {
		return existing, nil
	}
	if !errors.Is(err, lightning.ErrNotFound) {
		return lightning.Payment{}, fmt.Errorf("lnd: pay invoice: look for an earlier payment: %w", err)
	}

	req := struct {
		PaymentRequest    string `json:"payment_request"`
		FeeLimitMsat      int64  `json:"fee_limit_msat,string"`
		TimeoutSeconds    int32  `json:"timeout_seconds"`
		NoInflightUpdates bool   `json:"no_inflight_updates"`
	}{paymentRequest, maxFeeMsat, int32(min((timeout+time.Second-1)/time.Second, 1<<30)), true}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pay, err := p.send(sctx, req)
	switch {
	case err == nil:
		return pay.payment(), nil
	case rest.IsCode(err, rest.CodeAlreadyExists):
		// Another call paid this hash between the lookup and now.
		return p.TrackPayment(ctx, hash)
	case ctx.Err() == nil && sctx.Err() != nil:
		// Out of time, the payment is not: it goes on in the node.
		if pay, err := p.TrackPayment(ctx, hash); err == nil {
			return pay, nil
		}
		return lightning.Payment{PaymentHash: hash, Status: lightning.PaymentInFlight, AmountMsat: pr.NumMsat}, nil
	default:
		return lightning.Payment{}, wrap("pay invoice "+hash, err)
	}
}

// send starts a payment and returns its final update (no_inflight_updates sends only
// that one).
func (p *Provider) send(ctx context.Context, req any) (paymentJSON, error) {
	stream, err := p.client.Stream(ctx, "POST", "/v2/router/send", req)
	if err != nil {
		return paymentJSON{}, err
	}
	defer stream.Close()
	for {
		var j paymentJSON
		if err := stream.Next(&j); err != nil {
			return paymentJSON{}, err
		}
		if j.final() {
			return j, nil
		}
	}
}

// TrackPayment returns the node's payment of paymentHash (hex) as it is now, or an error
// wrapping lightning.ErrNotFound if the node never started one.
func (p *Provider) TrackPayment(ctx context.Context, paymentHash string) (lightning.Payment, error) {
	hash, err := parseHash("payment hash", paymentHash)
	if err != nil {
		return lightning.Payment{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	// The first update is the payment's current state. no_inflight_updates=true would hold
	// it back until a payment in flight ends, so it is false here.
	stream, err := p.client.Stream(ctx, "GET", "/v2/router/track/"+urlHash(hash)+"?no_inflight_updates=false", nil)
	if err != nil {
		return lightning.Payment{}, wrap("track payment "+hex.EncodeToString(hash), err)
	}
	defer stream.Close()
	var j paymentJSON
	if err := stream.Next(&j); err != nil {
		return lightning.Payment{}, wrap("track payment "+hex.EncodeToString(hash), err)
	}
	return j.payment(), nil
}
