package lnurltest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"satchel.dev/backend/lightning/bolt11"
)

// Mode is how a Server behaves.
type Mode string

const (
	// Honest serves LUD-06 correctly with invoices of the node.
	Honest Mode = "honest"
	// Hold is Honest with hold invoices: a payment stays in flight, held by the node, until
	// Release settles it.
	Hold Mode = "hold"

	WrongAmount          Mode = "wrong-amount"           // invoices for 1000 msat more than asked
	WrongDescriptionHash Mode = "wrong-description-hash" // h is not sha256(metadata)
	Expired              Mode = "expired"                // invoices that expired an hour ago
	WrongNetwork         Mode = "wrong-network"          // mainnet invoices (lnbc)
	ReusedInvoice        Mode = "reused-invoice"         // the first invoice it issued, every time
	GarbageJSON          Mode = "garbage-json"           // the pay request is not JSON
	BadMetadata          Mode = "bad-metadata"           // metadata that is not a JSON array
	Huge                 Mode = "huge"                   // a 100 MB pay request
	Hang                 Mode = "hang"                   // never answers
	RedirectLoop         Mode = "redirect-loop"          // redirects to itself forever
	RedirectOffHost      Mode = "redirect-off-host"      // redirects to another host name
	StatusError          Mode = "status-error"           // {"status":"ERROR"} to the pay request
	CallbackError        Mode = "callback-error"         // {"status":"ERROR"} to the callback
	MinAbove             Mode = "min-above"              // minSendable of 1 BTC: above any payout
	MaxBelow             Mode = "max-below"              // maxSendable of 1 sat: below any payout
)

// Issued is an invoice the server handed out.
type Issued struct {
	PaymentRequest string
	Hash           []byte
	AmountMsat     int64
	Preimage       []byte // hold invoices only
}

// Server is a Lightning Address server on loopback: any name@<its host:port> resolves.
type Server struct {
	node *Node
	srv  *httptest.Server
	quit chan struct{}
	key  *btcec.PrivateKey // signs the invoices LND would not make (expired, mainnet)

	mu     sync.Mutex
	mode   Mode
	issued []Issued
}

// Start starts a server in mode whose invoices come from node (the developer's wallet), over
// HTTPS (with a certificate of its own: see CertPool) or plain HTTP.
func Start(node *Node, mode Mode, useTLS bool) *Server {
	key, _ := btcec.NewPrivateKey()
	s := &Server{node: node, mode: mode, quit: make(chan struct{}), key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/lnurlp/{name}", s.payRequest)
	mux.HandleFunc("GET /cb/{name}", s.callback)
	s.srv = httptest.NewUnstartedServer(mux)
	if useTLS {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	return s
}

// Address is name's Lightning Address on this server.
func (s *Server) Address(name string) string { return name + "@" + s.srv.Listener.Addr().String() }

// CertPool trusts the server's certificate (HTTPS servers).
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.srv.Certificate())
	return pool
}

// SetMode changes how the server behaves from now on.
func (s *Server) SetMode(m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

func (s *Server) currentMode() Mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode
}

// Issued returns the invoices handed out so far.
func (s *Server) Issued() []Issued {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Issued(nil), s.issued...)
}

// Release settles the held payment of a hold invoice issued by the server.
func (s *Server) Release(ctx context.Context, hash []byte) error {
	for _, inv := range s.Issued() {
		if string(inv.Hash) == string(hash) && inv.Preimage != nil {
			return s.node.SettleHold(ctx, inv.Preimage)
		}
	}
	return nil
}

// Close stops the server, ending requests it holds.
func (s *Server) Close() {
	close(s.quit)
	s.srv.Close()
}

func (s *Server) metadata(r *http.Request, name string) string {
	addr := name + "@" + r.Host
	m, _ := json.Marshal([][2]string{{"text/plain", "Payouts to " + addr}, {"text/identifier", addr}})
	return string(m)
}

func (s *Server) scheme() string {
	if s.srv.TLS != nil {
		return "https"
	}
	return "http"
}

func (s *Server) payRequest(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	switch s.currentMode() {
	case Hang:
		select {
		case <-r.Context().Done():
		case <-s.quit:
		}
		return
	case Huge:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"tag":"payRequest","metadata":"`))
		chunk := []byte(strings.Repeat("a", 64<<10))
		for sent := 0; sent < 100<<20; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return // the client stopped reading
			}
		}
		_, _ = w.Write([]byte(`"}`))
		return
	case GarbageJSON:
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Welcome to nginx!</body></html>"))
		return
	case RedirectLoop:
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
		return
	case RedirectOffHost:
		_, port, _ := net.SplitHostPort(s.srv.Listener.Addr().String())
		http.Redirect(w, r, s.scheme()+"://localhost:"+port+r.URL.Path, http.StatusFound)
		return
	case StatusError:
		writeJSON(w, map[string]any{"status": "ERROR", "reason": "this account is suspended"})
		return
	}
	metadata := s.metadata(r, name)
	if s.currentMode() == BadMetadata {
		metadata = "not a JSON array"
	}
	lo, hi := 1000, 100_000_000_000
	switch s.currentMode() {
	case MinAbove:
		lo = hi
	case MaxBelow:
		hi = lo
	}
	writeJSON(w, map[string]any{
		"tag": "payRequest", "callback": s.scheme() + "://" + r.Host + "/cb/" + name,
		"minSendable": lo, "maxSendable": hi, "metadata": metadata,
	})
}

func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	amount, err := strconv.ParseInt(r.URL.Query().Get("amount"), 10, 64)
	if err != nil {
		writeJSON(w, map[string]any{"status": "ERROR", "reason": "amount is required"})
		return
	}
	descHash := sha256.Sum256([]byte(s.metadata(r, r.PathValue("name"))))
	issued := Issued{AmountMsat: amount}
	switch s.currentMode() {
	case CallbackError:
		writeJSON(w, map[string]any{"status": "ERROR", "reason": "cannot create invoices right now"})
		return
	case ReusedInvoice:
		if prev := s.Issued(); len(prev) > 0 {
			writeJSON(w, map[string]any{"pr": prev[0].PaymentRequest, "routes": []any{}})
			return
		}
		issued.PaymentRequest, issued.Hash, err = s.node.AddInvoice(ctx, amount, descHash[:], time.Hour)
	case WrongAmount:
		issued.AmountMsat = amount + 1000
		issued.PaymentRequest, issued.Hash, err = s.node.AddInvoice(ctx, amount+1000, descHash[:], time.Hour)
	case WrongDescriptionHash:
		other := sha256.Sum256([]byte("something else"))
		issued.PaymentRequest, issued.Hash, err = s.node.AddInvoice(ctx, amount, other[:], time.Hour)
	case Expired:
		issued.PaymentRequest, issued.Hash, err = s.ownInvoice(bolt11.Regtest, amount, descHash, time.Now().Add(-2*time.Hour))
	case WrongNetwork:
		issued.PaymentRequest, issued.Hash, err = s.ownInvoice(bolt11.Mainnet, amount, descHash, time.Now())
	case Hold:
		issued.Preimage = make([]byte, 32)
		_, _ = rand.Read(issued.Preimage)
		h := sha256.Sum256(issued.Preimage)
		issued.Hash = h[:]
		issued.PaymentRequest, err = s.node.AddHoldInvoice(ctx, issued.Hash, amount, descHash[:], time.Hour)
	default:
		issued.PaymentRequest, issued.Hash, err = s.node.AddInvoice(ctx, amount, descHash[:], time.Hour)
	}
	if err != nil {
		writeJSON(w, map[string]any{"status": "ERROR", "reason": err.Error()})
		return
	}
	s.mu.Lock()
	s.issued = append(s.issued, issued)
	s.mu.Unlock()
	writeJSON(w, map[string]any{"pr": issued.PaymentRequest, "routes": []any{}})
}

// ownInvoice signs an invoice LND would not make, valid for an hour from ts.
func (s *Server) ownInvoice(network string, amount int64, descHash [32]byte, ts time.Time) (string, []byte, error) {
	var preimage, secret [32]byte
	_, _ = rand.Read(preimage[:])
	_, _ = rand.Read(secret[:])
	hash := sha256.Sum256(preimage[:])
	pr, err := bolt11.Encode(&bolt11.Invoice{Network: network, AmountMsat: amount, Timestamp: ts, PaymentHash: hash,
		PaymentSecret: secret, DescriptionHash: &descHash, Expiry: time.Hour}, s.key)
	return pr, hash[:], err
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// HashHex is an issued invoice's payment hash in hex.
func (i Issued) HashHex() string { return hex.EncodeToString(i.Hash) }
