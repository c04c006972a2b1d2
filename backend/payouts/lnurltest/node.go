// Package lnurltest runs Lightning Address servers for tests and benchmarks of payouts: a real
// LUD-06/16 server whose invoices come from a real LND node (the developer's wallet), and
// malicious variants of it.
package lnurltest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

// Node is an LND node reached over its REST API with its admin macaroon.
type Node struct {
	base     string
	macaroon string
	http     *http.Client
}

// NewNode connects to the node at restURL (https://host:port) presenting the certificate in
// certPath.
func NewNode(restURL, certPath, macaroonPath string) (*Node, error) {
	pemData, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(pemData)
	if block == nil {
		return nil, fmt.Errorf("lnurltest: %s is not a PEM certificate", certPath)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, err
	}
	mac, err := os.ReadFile(macaroonPath)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, //nolint:gosec // pinned below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !cs.PeerCertificates[0].Equal(cert) {
				return errors.New("lnurltest: not the node's certificate")
			}
			return nil
		},
	}, MaxIdleConnsPerHost: 16}
	return &Node{base: restURL, macaroon: hex.EncodeToString(mac), http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}, nil
}

func (n *Node) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, n.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Grpc-Metadata-macaroon", n.macaroon)
	res, err := n.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("lnurltest: %s %s: HTTP %d: %s", method, path, res.StatusCode, raw)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// AddInvoice creates an invoice of amountMsat whose description hash is descHash.
func (n *Node) AddInvoice(ctx context.Context, amountMsat int64, descHash []byte, expiry time.Duration) (pr string, hash []byte, err error) {
	req := map[string]any{"value_msat": strconv.FormatInt(amountMsat, 10), "description_hash": descHash,
		"expiry": strconv.Itoa(int(expiry / time.Second))}
	var resp struct {
		RHash          []byte `json:"r_hash"`
		PaymentRequest string `json:"payment_request"`
	}
	err = n.call(ctx, "POST", "/v1/invoices", req, &resp)
	return resp.PaymentRequest, resp.RHash, err
}

// AddHoldInvoice creates a hold invoice for hash: a payment of it stays in flight, its HTLC
// held by the node, until SettleHold gives the preimage.
func (n *Node) AddHoldInvoice(ctx context.Context, hash []byte, amountMsat int64, descHash []byte, expiry time.Duration) (string, error) {
	req := map[string]any{"hash": hash, "value_msat": strconv.FormatInt(amountMsat, 10), "description_hash": descHash,
		"expiry": strconv.Itoa(int(expiry / time.Second))}
	var resp struct {
		PaymentRequest string `json:"payment_request"`
	}
	err := n.call(ctx, "POST", "/v2/invoices/hodl", req, &resp)
	return resp.PaymentRequest, err
}

// SettleHold settles the hold invoice of sha256(preimage).
func (n *Node) SettleHold(ctx context.Context, preimage []byte) error {
	return n.call(ctx, "POST", "/v2/invoices/settle", map[string]any{"preimage": preimage}, nil)
}

// InvoiceState is how the node sees one of its invoices.
type InvoiceState struct {
	State       string `json:"state"` // OPEN, ACCEPTED (a held payment), SETTLED, CANCELED
	AmtPaidMsat int64  `json:"amt_paid_msat,string"`
}

// Invoice returns the node's invoice of hash.
func (n *Node) Invoice(ctx context.Context, hash []byte) (InvoiceState, error) {
	var s InvoiceState
	err := n.call(ctx, "GET", "/v1/invoice/"+hex.EncodeToString(hash), nil, &s)
	return s, err
}

// Payment is one of the node's outgoing payments.
type Payment struct {
	PaymentHash string `json:"payment_hash"` // hex
	Status      string `json:"status"`       // IN_FLIGHT, SUCCEEDED, FAILED
	ValueMsat   int64  `json:"value_msat,string"`
}

// Payments lists every outgoing payment the node made or is making.
func (n *Node) Payments(ctx context.Context) ([]Payment, error) {
	var resp struct {
		Payments []Payment `json:"payments"`
	}
	err := n.call(ctx, "GET", "/v1/payments?include_incomplete=true&max_payments=100000", nil, &resp)
	return resp.Payments, err
}

// PaymentsTo counts the node's outgoing payments of hash that succeeded, and all of them.
func (n *Node) PaymentsTo(ctx context.Context, hash []byte) (succeeded, all int, err error) {
	payments, err := n.Payments(ctx)
	if err != nil {
		return 0, 0, err
	}
	want := hex.EncodeToString(hash)
	for _, p := range payments {
		if p.PaymentHash == want {
			all++
			if p.Status == "SUCCEEDED" {
				succeeded++
			}
		}
	}
	return succeeded, all, nil
}

// PayInvoice pays a BOLT 11 invoice with the node's synchronous send, spending at most
// maxFeeMsat in fees. Unlike lnd.Provider.PayInvoice it sends again an invoice whose earlier
// payments failed, as a wallet does when its user tries again. The error carries LND's reason.
func (n *Node) PayInvoice(ctx context.Context, paymentRequest string, maxFeeMsat int64) error {
	var resp struct {
		PaymentError string `json:"payment_error"`
	}
	req := map[string]any{"payment_request": paymentRequest, "fee_limit": map[string]string{"fixed_msat": strconv.FormatInt(maxFeeMsat, 10)}}
	if err := n.call(ctx, "POST", "/v1/channels/transactions", req, &resp); err != nil {
		return err
	}
	if resp.PaymentError != "" {
		return fmt.Errorf("lnurltest: payment failed: %s", resp.PaymentError)
	}
	return nil
}

// ChannelBalanceMsat is what the node can spend on its channels right now.
func (n *Node) ChannelBalanceMsat(ctx context.Context) (int64, error) {
	var resp struct {
		LocalBalance struct {
			Msat int64 `json:"msat,string"`
		} `json:"local_balance"`
	}
	err := n.call(ctx, "GET", "/v1/balance/channels", nil, &resp)
	return resp.LocalBalance.Msat, err
}

// CancelInvoice cancels an open or held invoice of hash: a payment held on it fails.
func (n *Node) CancelInvoice(ctx context.Context, hash []byte) error {
	return n.call(ctx, "POST", "/v2/invoices/cancel", map[string]any{"payment_hash": hash}, nil)
}
