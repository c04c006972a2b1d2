package lnd_test

import (
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/lightning/lnd"
)

// TestBare404IsNotNotFound: a proxy in front of the node (or a node still starting) that
// answers HTTP 404 with a page of its own is an error, never "the node does not know this
// invoice or payment", which would close a buyer's purchase or make a second payout invoice.
func TestBare404IsNotNotFound(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/getinfo" {
			w.Write([]byte(`{"identity_pubkey":"02","chains":[{"chain":"bitcoin","network":"regtest"}]}`))
			return
		}
		http.Error(w, "<html>404 Not Found</html>", http.StatusNotFound)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cert := filepath.Join(dir, "tls.cert")
	mac := filepath.Join(dir, "admin.macaroon")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mac, []byte{0}, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := lnd.New(lnd.Config{URL: srv.URL, TLSCertPath: cert, MacaroonPath: mac, Network: "bcrt"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	hash := strings.Repeat("ab", 32)
	if _, err := p.LookupInvoice(t.Context(), hash); err == nil || errors.Is(err, lightning.ErrNotFound) {
		t.Errorf("LookupInvoice behind a 404 = %v, want an error that is not ErrNotFound", err)
	}
	if _, err := p.TrackPayment(t.Context(), hash); err == nil || errors.Is(err, lightning.ErrNotFound) {
		t.Errorf("TrackPayment behind a 404 = %v, want an error that is not ErrNotFound", err)
	}
}
