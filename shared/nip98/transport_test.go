package nip98_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"satchel.dev/shared/nip98"
	"satchel.dev/shared/nostr"
)

// seen is what the test server recorded about one request.
type seen struct {
	method, url, pubkey string
	body                []byte
	err                 error
}

// newVerifyingServer starts a server that checks every request with
// nip98.Verify against the URL it was reached at (its base URL plus the
// request URI) and the exact body bytes it received.
func newVerifyingServer(t *testing.T) (*httptest.Server, func() []seen) {
	t.Helper()
	var mu sync.Mutex
	var log []seen
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("server reading body: %v", err)
		}
		want := nip98.Request{
			Method:        r.Method,
			URL:           srv.URL + r.URL.RequestURI(),
			PayloadSHA256: nip98.PayloadHash(body),
			Now:           time.Now(),
		}
		e, verr := nip98.Verify(r.Header.Get("Authorization"), want)
		s := seen{method: r.Method, url: want.URL, body: body, err: verr}
		if e != nil {
			s.pubkey = e.PubKey
		}
		mu.Lock()
		log = append(log, s)
		mu.Unlock()
		if verr != nil {
			http.Error(w, verr.Error(), http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/target?from=redirect", http.StatusTemporaryRedirect)
			return
		}
		_, _ = w.Write(body) // echo
	}))
	t.Cleanup(srv.Close)
	return srv, func() []seen {
		mu.Lock()
		defer mu.Unlock()
		return append([]seen(nil), log...)
	}
}

func newClient(t *testing.T) (*http.Client, nostr.SecretKey) {
	t.Helper()
	k, err := nostr.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: &nip98.Transport{Signer: k}}, k
}

func do(t *testing.T, c *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestTransportPostJSON(t *testing.T) {
	srv, log := newVerifyingServer(t)
	c, k := newClient(t)
	body := `{"gameId":"g_123","note":"<b>&\u2028","n":1}`
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/satchel.v1.StoreService/Buy?ref=a%2Fb&x=1", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	code, echo := do(t, c, req)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, echo)
	}
	if echo != body {
		t.Errorf("server received %q, want %q", echo, body)
	}
	got := log()
	if len(got) != 1 || got[0].err != nil || got[0].pubkey != k.PublicKey().Hex() || got[0].method != "POST" {
		t.Fatalf("server saw %+v", got)
	}
	// The caller's request is untouched.
	if req.Header.Get("Authorization") != "" {
		t.Error("Transport set Authorization on the caller's request")
	}
	if req.Header.Get("Content-Type") != "application/json" {
		t.Error("Transport changed the caller's headers")
	}
}

func TestTransportNoBody(t *testing.T) {
	srv, log := newVerifyingServer(t)
	c, _ := newClient(t)
	for _, method := range []string{http.MethodGet, http.MethodDelete, ""} {
		req, err := http.NewRequest(method, srv.URL+"/games?q=satchel", nil)
		if err != nil {
			t.Fatal(err)
		}
		if code, msg := do(t, c, req); code != http.StatusOK {
			t.Errorf("%q: status %d: %s", method, code, msg)
		}
	}
	// A POST with an explicitly empty body.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/empty", bytes.NewReader(nil))
	if code, msg := do(t, c, req); code != http.StatusOK {
		t.Errorf("empty POST: status %d: %s", code, msg)
	}
	for _, s := range log() {
		if s.err != nil || len(s.body) != 0 {
			t.Errorf("server saw %+v", s)
		}
	}
}

// A body without GetBody (a plain io.Reader of unknown length) is read,
// signed and sent in full.
func TestTransportStreamingBody(t *testing.T) {
	srv, log := newVerifyingServer(t)
	c, _ := newClient(t)
	payload := strings.Repeat("0123456789", 10_000)
	req, err := http.NewRequest(http.MethodPut, srv.URL+"/upload", io.MultiReader(strings.NewReader(payload[:5]), strings.NewReader(payload[5:])))
	if err != nil {
		t.Fatal(err)
	}
	if req.GetBody != nil || req.ContentLength != 0 {
		t.Fatalf("test setup: GetBody %v, ContentLength %d", req.GetBody != nil, req.ContentLength)
	}
	code, echo := do(t, c, req)
	if code != http.StatusOK || echo != payload {
		t.Fatalf("status %d, echoed %d bytes", code, len(echo))
	}
	if s := log(); len(s) != 1 || s[0].err != nil {
		t.Fatalf("server saw %+v", s)
	}
}

// A 307 redirect replays the body (through GetBody) to another URL; the
// Transport signs the second request for its own URL.
func TestTransportRedirect(t *testing.T) {
	srv, log := newVerifyingServer(t)
	c, _ := newClient(t)
	body := `{"a":1}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/redirect", strings.NewReader(body))
	code, echo := do(t, c, req)
	if code != http.StatusOK || echo != body {
		t.Fatalf("status %d: %q", code, echo)
	}
	s := log()
	if len(s) != 2 || s[0].err != nil || s[1].err != nil || s[1].url != srv.URL+"/target?from=redirect" || string(s[1].body) != body {
		t.Fatalf("server saw %+v", s)
	}
}

// GetBody, when set, supplies the bytes to sign even if req.Body was
// already consumed, and the caller's request can be sent again.
func TestTransportReusesGetBody(t *testing.T) {
	srv, log := newVerifyingServer(t)
	c, _ := newClient(t)
	body := `{"again":true}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/twice", strings.NewReader(body))
	for i := 0; i < 2; i++ {
		if i == 1 {
			// What a caller retrying the request does: a fresh body from GetBody.
			rc, err := req.GetBody()
			if err != nil {
				t.Fatal(err)
			}
			req.Body = rc
		}
		if code, echo := do(t, c, req); code != http.StatusOK || echo != body {
			t.Fatalf("attempt %d: status %d, %q", i, code, echo)
		}
	}
	s := log()
	if len(s) != 2 || s[0].err != nil || s[1].err != nil {
		t.Fatalf("server saw %+v", s)
	}
}

func TestTransportClockSkewIsReported(t *testing.T) {
	srv, _ := newVerifyingServer(t)
	k, _ := nostr.GenerateKey()
	c := &http.Client{Transport: &nip98.Transport{Signer: k, Now: func() time.Time { return time.Now().Add(10 * time.Minute) }}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/x", strings.NewReader("{}"))
	code, msg := do(t, c, req)
	if code != http.StatusUnauthorized || !strings.Contains(msg, `NIP-98 "created_at" check failed`) || !strings.Contains(msg, "ahead of the server") {
		t.Errorf("status %d: %s", code, msg)
	}
}

// recordingTransport stands in for the network.
type recordingTransport struct {
	req  *http.Request
	body []byte
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.req = req
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	r.body = b
	return &http.Response{StatusCode: 204, Body: http.NoBody, Request: req}, nil
}

type trackingBody struct {
	io.Reader
	closed bool
}

func (b *trackingBody) Close() error { b.closed = true; return nil }

func TestTransportBaseAndNow(t *testing.T) {
	k, _ := nostr.GenerateKey()
	rec := &recordingTransport{}
	fixed := time.Unix(1_800_000_000, 0)
	tr := &nip98.Transport{Signer: k, Base: rec, Now: func() time.Time { return fixed }}

	tb := &trackingBody{Reader: strings.NewReader("hello")}
	req, _ := http.NewRequest(http.MethodPatch, "https://api.example/x?y=z", tb)
	if _, err := tr.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if !tb.closed {
		t.Error("the caller's body was not closed")
	}
	if rec.req == req {
		t.Error("the caller's request was sent instead of a clone")
	}
	if string(rec.body) != "hello" || rec.req.ContentLength != 5 {
		t.Errorf("sent body %q, ContentLength %d", rec.body, rec.req.ContentLength)
	}
	if rec.req.GetBody == nil {
		t.Fatal("sent request has no GetBody")
	}
	if rc, _ := rec.req.GetBody(); rc == nil {
		t.Error("GetBody returned nil")
	} else if b, _ := io.ReadAll(rc); string(b) != "hello" {
		t.Errorf("GetBody replays %q", b)
	}
	e, err := nip98.Verify(rec.req.Header.Get("Authorization"), nip98.Request{
		Method: "PATCH", URL: "https://api.example/x?y=z", PayloadSHA256: nip98.PayloadHash([]byte("hello")), Now: fixed,
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.CreatedAt != fixed.Unix() {
		t.Errorf("created_at = %d, want %d", e.CreatedAt, fixed.Unix())
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestTransportErrors(t *testing.T) {
	k, _ := nostr.GenerateKey()
	rec := &recordingTransport{}

	tb := &trackingBody{Reader: strings.NewReader("x")}
	req, _ := http.NewRequest(http.MethodPost, "https://api.example/x", tb)
	if _, err := (&nip98.Transport{Base: rec}).RoundTrip(req); err == nil {
		t.Error("no Signer: no error")
	}
	if !tb.closed {
		t.Error("body not closed on error")
	}

	req, _ = http.NewRequest(http.MethodPost, "https://api.example/x", errReader{})
	if _, err := (&nip98.Transport{Signer: k, Base: rec}).RoundTrip(req); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("failing body: err = %v", err)
	}

	req, _ = http.NewRequest(http.MethodPost, "https://api.example/x", strings.NewReader("x"))
	if _, err := (&nip98.Transport{Signer: failingSigner{k}, Base: rec}).RoundTrip(req); err == nil {
		t.Error("failing signer: no error")
	}
	if rec.req != nil {
		t.Error("a request was sent despite the errors")
	}
}
