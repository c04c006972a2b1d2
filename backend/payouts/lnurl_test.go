package payouts_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"satchel.dev/backend/lightning/bolt11"
	"satchel.dev/backend/payouts"
)

// lnurlServer serves a fixed pay request (with {cb} replaced by its callback URL) and answers
// the callback with invoice(amount, metadata).
func lnurlServer(t *testing.T, useTLS bool, payRequest string, invoice func(amount, metadata string) string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/lnurlp/{name}", func(w http.ResponseWriter, r *http.Request) {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		_, _ = w.Write([]byte(strings.ReplaceAll(payRequest, "{cb}", scheme+"://"+r.Host+"/cb")))
	})
	mux.HandleFunc("GET /cb", func(w http.ResponseWriter, r *http.Request) {
		var pr struct {
			Metadata string `json:"metadata"`
		}
		_ = json.Unmarshal([]byte(payRequest), &pr)
		_ = json.NewEncoder(w).Encode(map[string]string{"pr": invoice(r.URL.Query().Get("amount"), pr.Metadata)})
	})
	srv = httptest.NewUnstartedServer(mux)
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

const goodMetadata = `[[\"text/plain\",\"Pay dev\"],[\"text/identifier\",\"dev@example.com\"]]`

func payRequestJSON(min, max, metadata string) string {
	return `{"tag":"payRequest","callback":"{cb}","minSendable":` + min + `,"maxSendable":` + max + `,"metadata":"` + metadata + `"}`
}

// signedInvoice is an invoice for amount msat (a decimal string) whose h is sha256(metadata).
func signedInvoice(t *testing.T, network string) func(amount, metadata string) string {
	key, _ := btcec.NewPrivateKey()
	return func(amount, metadata string) string {
		var msat int64
		_ = json.Unmarshal([]byte(amount), &msat)
		h := sha256.Sum256([]byte(metadata))
		pr, err := bolt11.Encode(&bolt11.Invoice{Network: network, AmountMsat: msat, Timestamp: time.Now(),
			PaymentHash: sha256.Sum256([]byte(amount + metadata + time.Now().String())), PaymentSecret: [32]byte{1},
			DescriptionHash: &h}, key)
		if err != nil {
			t.Error(err)
		}
		return pr
	}
}

func address(srv *httptest.Server) string {
	return "dev@" + strings.TrimPrefix(strings.TrimPrefix(srv.URL, "http://"), "https://")
}

func resolver(t *testing.T, cfg payouts.LNURLConfig) *payouts.Resolver {
	t.Helper()
	r, err := payouts.NewResolver(cfg, bolt11.Regtest, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestResolverInvoice(t *testing.T) {
	srv := lnurlServer(t, true, payRequestJSON("1000", "1000000", goodMetadata), signedInvoice(t, bolt11.Regtest))
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	r := resolver(t, payouts.LNURLConfig{AllowPrivate: true, RootCAs: pool})
	inv, err := r.Invoice(context.Background(), address(srv), 5000)
	if err != nil {
		t.Fatal(err)
	}
	if inv.AmountMsat != 5000 || len(inv.PaymentHash) != 64 || !strings.HasPrefix(inv.PaymentRequest, "lnbcrt") || inv.Address != address(srv) {
		t.Errorf("invoice: %+v", inv)
	}
}

// TestResolverProduction: without the local-testing switches, loopback servers and plain HTTP
// are refused.
func TestResolverProduction(t *testing.T) {
	ctx := context.Background()
	plain := lnurlServer(t, false, payRequestJSON("1000", "1000000", goodMetadata), signedInvoice(t, bolt11.Regtest))
	secure := lnurlServer(t, true, payRequestJSON("1000", "1000000", goodMetadata), signedInvoice(t, bolt11.Regtest))
	pool := secure.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	_, port, _ := net.SplitHostPort(secure.Listener.Addr().String())
	for _, tc := range []struct {
		name    string
		cfg     payouts.LNURLConfig
		address string
		want    string
	}{
		{"loopback", payouts.LNURLConfig{RootCAs: pool}, address(secure),
			"a private, loopback or otherwise non-public address: refused"},
		{"localhost name", payouts.LNURLConfig{RootCAs: pool}, "dev@localhost:" + port,
			"a private, loopback or otherwise non-public address: refused"},
		{"plain http", payouts.LNURLConfig{AllowPrivate: true}, address(plain), "could not be reached"},
		{"bad address", payouts.LNURLConfig{}, "dev@", "is not a Lightning Address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := resolver(t, tc.cfg).Invoice(ctx, tc.address, 5000)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Invoice: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestPayRequestChecks: LUD-06 pay requests that must be refused, and oddities accepted.
func TestPayRequestChecks(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, payRequest string
		network          string
		want             string // "" when the invoice must be accepted
	}{
		{"float amounts", payRequestJSON("1000.0", "1e6", goodMetadata), bolt11.Regtest, ""},
		{"wrong tag", strings.Replace(payRequestJSON("1000", "1000000", goodMetadata), "payRequest", "withdrawRequest", 1), bolt11.Regtest,
			`its tag is "withdrawRequest"`},
		{"relative callback", strings.Replace(payRequestJSON("1000", "1000000", goodMetadata), "{cb}", "/cb", 1), bolt11.Regtest,
			"is not an absolute URL"},
		{"http callback", strings.Replace(payRequestJSON("1000", "1000000", goodMetadata), "{cb}", "http://example.com/cb", 1), bolt11.Regtest,
			"is not HTTPS"},
		{"min above max", payRequestJSON("2000", "1000", goodMetadata), bolt11.Regtest, "1 <= minSendable <= maxSendable"},
		{"amount too large", payRequestJSON("1000", "4000", goodMetadata), bolt11.Regtest, "accepts 1000 to 4000 msat, but the payout is 5000 msat"},
		{"no text/plain", payRequestJSON("1000", "1000000", `[[\"text/identifier\",\"dev@example.com\"]]`), bolt11.Regtest,
			"has no text/plain entry"},
		{"no metadata", `{"tag":"payRequest","callback":"{cb}","minSendable":1000,"maxSendable":100000}`, bolt11.Regtest, "has no metadata"},
		{"testnet invoice", payRequestJSON("1000", "1000000", goodMetadata), bolt11.Testnet, `it is for network "tb"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := lnurlServer(t, true, tc.payRequest, signedInvoice(t, tc.network))
			pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
			_, err := resolver(t, payouts.LNURLConfig{AllowPrivate: true, RootCAs: pool}).Invoice(ctx, address(srv), 5000)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Invoice: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestFeeLimitAndBackoff(t *testing.T) {
	c := payouts.Config{}.WithDefaults()
	for amount, want := range map[int64]int64{1_000: 10_000, 1_000_000: 10_000, 5_000_000: 50_000, 123_456_789: 1_234_567} {
		if got := c.FeeLimit(amount); got != want {
			t.Errorf("FeeLimit(%d) = %d, want %d", amount, got, want)
		}
	}
	for n, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 9: 2 * time.Hour, 60: 2 * time.Hour} {
		if got := c.Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
	if err := (payouts.Config{MaxAttempts: -1}).WithDefaults().Validate(); err == nil {
		t.Error("MaxAttempts -1 validated")
	}
}

func TestPublicAddr(t *testing.T) {
	for addr, public := range map[string]bool{
		"8.8.8.8": true, "1.1.1.1": true, "2606:4700:4700::1111": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "::1": false, "::": false, "fe80::1": false, "fd00::1": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "64:ff9b::a00:1": false, "224.0.0.1": false,
	} {
		if got := payouts.PublicAddr(netip.MustParseAddr(addr)); got != public {
			t.Errorf("PublicAddr(%s) = %v, want %v", addr, got, public)
		}
	}
}
