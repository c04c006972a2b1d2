// Package lnd is the lightning.Provider of a real LND node, over LND's REST API with plain
// net/http (importing lnd's lnrpc would pull the whole lnd module into the build).
//
// Endpoints used, with the node's admin macaroon (or one allowing the same calls):
//
//	GET  /v1/getinfo                    New: the node's chain, checked against Config.Network
//	POST /v1/invoices                   CreateInvoice
//	GET  /v1/invoice/{hash hex}         LookupInvoice
//	GET  /v1/invoices                   SubscribeSettlements from 0 (LND replays nothing then)
//	POST /v2/invoices/cancel            CancelInvoice (LND built with the invoicesrpc tag)
//	GET  /v1/invoices/subscribe         SubscribeSettlements (stream)
//	GET  /v1/payreq/{bolt11}            PayInvoice: the payment hash and amount
//	POST /v2/router/send                PayInvoice (stream; routerrpc tag)
//	GET  /v2/router/track/{hash}        TrackPayment, and PayInvoice before it pays
//
// Package regtest next to this one brings up a real regtest network (btcd and two LND
// nodes) for tests.
package lnd

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/lightning/lnd/internal/rest"
)

// Config says which node to use and how.
type Config struct {
	// URL is the node's REST address, for example https://127.0.0.1:8080 (LND's restlisten).
	URL string
	// TLSCertPath is the node's tls.cert. Only a node presenting exactly this certificate is
	// talked to.
	TLSCertPath string
	// MacaroonPath is the macaroon sent with every call, normally the node's admin.macaroon
	// (data/chain/bitcoin/<network>/admin.macaroon in its lnddir).
	MacaroonPath string
	// Network is the BOLT 11 prefix of the chain the node must be on: "bc" (mainnet), "tb"
	// (testnet) or "bcrt" (regtest). New refuses a node on another chain.
	Network string
	// Timeout bounds each call to the node, except streams (a settlement subscription, a
	// payment in flight), which last until their context ends. Default 30 s.
	Timeout time.Duration
}

// DefaultTimeout is Config.Timeout's default.
const DefaultTimeout = 30 * time.Second

// WithDefaults returns c with its zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// Validate reports the first thing wrong with c, saying which field to fix.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return errors.New("lnd: Config.URL is required (the node's REST address, such as https://127.0.0.1:8080)")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return fmt.Errorf("lnd: Config.URL %q is not an https://host:port address", c.URL)
	case c.TLSCertPath == "":
		return errors.New("lnd: Config.TLSCertPath is required (the node's tls.cert)")
	case c.MacaroonPath == "":
		return errors.New("lnd: Config.MacaroonPath is required (the node's admin.macaroon)")
	case c.Network != "bc" && c.Network != "tb" && c.Network != "bcrt":
		return fmt.Errorf("lnd: Config.Network %q is not one of bc, tb, bcrt", c.Network)
	case c.Timeout < 0:
		return fmt.Errorf("lnd: Config.Timeout %v is negative", c.Timeout)
	}
	return nil
}

// Provider is a lightning.Provider backed by one LND node. It is safe for concurrent use.
type Provider struct {
	cfg    Config
	client *rest.Client
	pubkey string
}

var _ lightning.Provider = (*Provider)(nil)

// New connects to the node described by cfg and checks, within cfg.Timeout, that it answers
// with the macaroon given and is on cfg.Network's chain.
func New(cfg Config) (*Provider, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	mac, err := os.ReadFile(cfg.MacaroonPath)
	if err != nil {
		return nil, fmt.Errorf("lnd: read Config.MacaroonPath: %w", err)
	}
	client, err := rest.New(cfg.URL, cfg.TLSCertPath, mac, cfg.Timeout)
	if err != nil {
		return nil, fmt.Errorf("lnd: Config.TLSCertPath: %w", err)
	}
	var info struct {
		IdentityPubkey string `json:"identity_pubkey"`
		Chains         []struct {
			Chain   string `json:"chain"`
			Network string `json:"network"`
		} `json:"chains"`
	}
	if err := client.Do(context.Background(), "GET", "/v1/getinfo", nil, &info); err != nil {
		hint := ""
		var refused *rest.Error
		if errors.As(err, &refused) && !strings.Contains(refused.Message, "starting up") {
			// LND answers a wrong macaroon with an unhelpful message ("verification failed:
			// signature mismatch...", "unmarshal v2: ...").
			hint = " (the node refused the call: check that Config.MacaroonPath is this node's admin.macaroon)"
		}
		return nil, fmt.Errorf("lnd: connect to %s: %w%s", cfg.URL, err, hint)
	}
	if len(info.Chains) != 1 || info.Chains[0].Chain != "bitcoin" {
		return nil, fmt.Errorf("lnd: node at %s reports chains %+v, want one bitcoin chain", cfg.URL, info.Chains)
	}
	if got := networkPrefix(info.Chains[0].Network); got != cfg.Network {
		return nil, fmt.Errorf("lnd: node at %s is on bitcoin %s (invoices ln%s...), but Config.Network is %q",
			cfg.URL, info.Chains[0].Network, got, cfg.Network)
	}
	return &Provider{cfg: cfg, client: client, pubkey: info.IdentityPubkey}, nil
}

// networkPrefix is the BOLT 11 prefix of an LND network name.
func networkPrefix(network string) string {
	switch network {
	case "mainnet":
		return "bc"
	case "testnet", "testnet4":
		return "tb"
	case "signet":
		return "tbs"
	case "regtest":
		return "bcrt"
	case "simnet":
		return "sb"
	}
	return "?" + network
}

// Name is "lnd".
func (p *Provider) Name() string { return "lnd" }

// Network is Config.Network, the chain New checked the node is on.
func (p *Provider) Network() string { return p.cfg.Network }

// Pubkey is the node's identity public key, hex.
func (p *Provider) Pubkey() string { return p.pubkey }

// Close releases idle connections. The provider must not be used afterwards.
func (p *Provider) Close() { p.client.CloseIdle() }

// parseHash decodes a payment hash given as 64 hex digits; anything else names nothing, so
// the error wraps lightning.ErrNotFound.
func parseHash(what, id string) ([]byte, error) {
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("lnd: %s %q is not a payment hash (64 hex digits): %w", what, id, lightning.ErrNotFound)
	}
	return b, nil
}

// urlHash is a payment hash as LND wants it in a URL path: URL-safe base64.
func urlHash(hash []byte) string { return base64.URLEncoding.EncodeToString(hash) }

// isNotFound reports whether err is LND saying it does not know the invoice or payment: a
// gRPC NotFound status, or one of its messages. A bare HTTP 404 is not: a proxy or a node
// still starting answers it for anything, and "not found" closes purchases and makes new
// payout invoices.
func isNotFound(err error) bool {
	var e *rest.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code == rest.CodeNotFound ||
		strings.Contains(e.Message, "unable to locate invoice") ||
		strings.Contains(e.Message, "no invoices") ||
		strings.Contains(e.Message, "payment isn't initiated")
}

// wrap wraps an error of a call for op, marking LND's "not found" answers with
// lightning.ErrNotFound.
func wrap(op string, err error) error {
	if isNotFound(err) {
		return fmt.Errorf("lnd: %s: %w: %w", op, lightning.ErrNotFound, err)
	}
	return fmt.Errorf("lnd: %s: %w", op, err)
}
