package payouts

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"satchel.dev/backend/lightning/bolt11"
)

// DevLNURLHandler serves Lightning Addresses for local runs with test money: any name at the
// host it is served on answers a LUD-06 pay request, and its callback issues BOLT 11 invoices
// with the description hash LUD-06 requires (SHA-256 of the metadata). Mount it on
// /.well-known/lnurlp/ of a server that only test money reaches, and set the demo developer's
// payout address to demo@<host:port>; the payout worker then needs LNURLConfig.AllowHTTP and
// AllowPrivate.
//
// The invoices are signed by a key of the handler's own (a stand-in for the developer's
// wallet) on network (the dev provider's, bolt11.Regtest). The dev provider "pays" them as it
// pays any other node's invoice: it records the payment as succeeded and no money moves, so
// the payout goes SENT without a settlement of the provider's own. Nothing here takes or
// holds money; it must never be mounted on a server with a real invoice provider.
func DevLNURLHandler(network string) (http.Handler, error) {
	key, err := btcec.NewPrivateKey()
	if err != nil {
		return nil, err
	}
	h := &devLNURL{key: key, network: network}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/lnurlp/{name}", h.payRequest)
	mux.HandleFunc("GET /.well-known/lnurlp/{name}/callback", h.callback)
	return mux, nil
}

type devLNURL struct {
	key     *btcec.PrivateKey
	network string
}

// Sendable range of the dev addresses: 1 sat to 1 BTC.
const (
	devMinSendable = 1_000
	devMaxSendable = 100_000_000_000
)

func (h *devLNURL) metadata(r *http.Request, name string) string {
	addr := name + "@" + r.Host
	m, _ := json.Marshal([][2]string{
		{"text/plain", "Satchel test-money payouts to " + addr + ": nothing real is paid"},
		{"text/identifier", addr},
	})
	return string(m)
}

func (h *devLNURL) payRequest(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !lud16Name.MatchString(name) {
		writeJSON(w, http.StatusNotFound, lnurlError{Status: "ERROR", Reason: "no such address"})
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	cb := url.URL{Scheme: scheme, Host: r.Host, Path: "/.well-known/lnurlp/" + name + "/callback"}
	writeJSON(w, http.StatusOK, map[string]any{
		"tag": "payRequest", "callback": cb.String(), "minSendable": devMinSendable, "maxSendable": devMaxSendable,
		"metadata": h.metadata(r, name),
	})
}

func (h *devLNURL) callback(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	amount, err := strconv.ParseInt(r.URL.Query().Get("amount"), 10, 64)
	if !lud16Name.MatchString(name) || err != nil || amount < devMinSendable || amount > devMaxSendable {
		writeJSON(w, http.StatusOK, lnurlError{Status: "ERROR", Reason: fmt.Sprintf("amount must be %d to %d msat", devMinSendable, devMaxSendable)})
		return
	}
	var preimage, secret [32]byte
	_, _ = rand.Read(preimage[:])
	_, _ = rand.Read(secret[:])
	descHash := sha256.Sum256([]byte(h.metadata(r, name)))
	pr, err := bolt11.Encode(&bolt11.Invoice{
		Network: h.network, AmountMsat: amount, Timestamp: time.Now(), PaymentHash: sha256.Sum256(preimage[:]),
		PaymentSecret: secret, DescriptionHash: &descHash, Expiry: 10 * time.Minute,
	}, h.key)
	if err != nil {
		writeJSON(w, http.StatusOK, lnurlError{Status: "ERROR", Reason: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"pr": pr, "routes": []any{}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
