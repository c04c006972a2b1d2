package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	libraryv1 "satchel.dev/shared/api/satchel/library/v1"
	"satchel.dev/shared/api/satchel/library/v1/libraryv1connect"
	purchasev1 "satchel.dev/shared/api/satchel/purchase/v1"
	"satchel.dev/shared/api/satchel/purchase/v1/purchasev1connect"
	"satchel.dev/shared/nip98"
	"satchel.dev/shared/nostr"

	"satchel.dev/desktop/client"
)

// fake is a server whose calls fail with failCode the first failures times, and which
// checks every request's NIP-98 signature.
type fake struct {
	libraryv1connect.UnimplementedLibraryServiceHandler
	purchasev1connect.UnimplementedPurchaseServiceHandler
	mu       sync.Mutex
	calls    map[string]int
	failures int
	failCode connect.Code
	signers  map[string]bool
	// hold, when set, keeps ListLibrary from answering until it is closed (at the end of the
	// test): a server that never answers in time, whatever deadline the request carries.
	hold chan struct{}
}

func (f *fake) fail(proc string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[proc]++
	if f.calls[proc] <= f.failures {
		return connect.NewError(f.failCode, errors.New("the database is restarting"))
	}
	return nil
}

func (f *fake) ListLibrary(_ context.Context, _ *libraryv1.ListLibraryRequest) (*libraryv1.ListLibraryResponse, error) {
	if f.hold != nil {
		<-f.hold
	}
	return &libraryv1.ListLibraryResponse{ResumeToken: "7"}, f.fail("ListLibrary")
}

func (f *fake) GetDownload(context.Context, *libraryv1.GetDownloadRequest) (*libraryv1.GetDownloadResponse, error) {
	return &libraryv1.GetDownloadResponse{}, f.fail("GetDownload")
}

func (f *fake) CreatePurchase(context.Context, *purchasev1.CreatePurchaseRequest) (*purchasev1.CreatePurchaseResponse, error) {
	return &purchasev1.CreatePurchaseResponse{}, f.fail("CreatePurchase")
}

func start(t *testing.T, f *fake) string {
	f.calls, f.signers = map[string]int{}, map[string]bool{}
	mux := http.NewServeMux()
	mux.Handle(libraryv1connect.NewLibraryServiceHandler(f))
	mux.Handle(purchasev1connect.NewPurchaseServiceHandler(f))
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		ev, err := nip98.Verify(r.Header.Get("Authorization"), nip98.Request{Method: r.Method, URL: srv.URL + r.URL.RequestURI(), PayloadSHA256: nip98.PayloadHash(body)})
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		f.signers[ev.PubKey] = true
		f.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func newClient(t *testing.T, url string, key nostr.SecretKey, timeout time.Duration) *client.Client {
	c, err := client.New(client.Config{BaseURL: url, Signer: key, Backoff: time.Millisecond, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetriesOnlySafeCalls(t *testing.T) {
	key, _ := nostr.GenerateKey()
	tests := []struct {
		name      string
		call      func(c *client.Client) error
		failures  int
		wantCalls int
		wantErr   bool
	}{
		{"idempotent call retried", func(c *client.Client) error {
			_, err := c.Library.ListLibrary(context.Background(), &libraryv1.ListLibraryRequest{})
			return err
		}, 2, 3, false},
		{"idempotent call gives up", func(c *client.Client) error {
			_, err := c.Library.ListLibrary(context.Background(), &libraryv1.ListLibraryRequest{})
			return err
		}, 5, 3, true},
		{"CreatePurchase retried (request_id makes it safe)", func(c *client.Client) error {
			_, err := c.Purchase.CreatePurchase(context.Background(), &purchasev1.CreatePurchaseRequest{})
			return err
		}, 1, 2, false},
		{"other calls not retried", func(c *client.Client) error {
			_, err := c.Library.GetDownload(context.Background(), &libraryv1.GetDownloadRequest{})
			return err
		}, 1, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fake{failures: tt.failures, failCode: connect.CodeUnavailable}
			c := newClient(t, start(t, f), key, 0)
			err := tt.call(c)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			total := 0
			for _, n := range f.calls {
				total += n
			}
			if total != tt.wantCalls {
				t.Errorf("%d calls reached the server, want %d", total, tt.wantCalls)
			}
			if !f.signers[key.PublicKey().Hex()] || len(f.signers) != 1 {
				t.Errorf("requests signed by %v, want only %s", f.signers, key.PublicKey().Hex())
			}
		})
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	key, _ := nostr.GenerateKey()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + closed.Addr().String()
	closed.Close()
	tests := []struct {
		name        string
		url         func(t *testing.T) string
		code        connect.Code
		timeout     time.Duration
		wantCode    connect.Code
		wantMessage string
		offline     bool
	}{
		{"server down", func(*testing.T) string { return deadURL }, 0, 0, connect.CodeUnavailable,
			"cannot reach the Satchel server at " + deadURL + ": check your network connection", true},
		{"server too slow", func(t *testing.T) string {
			f := &fake{hold: make(chan struct{})}
			url := start(t, f)
			t.Cleanup(func() { close(f.hold) }) // before the server's own cleanup waits for its handlers
			return url
		}, 0, 50 * time.Millisecond,
			connect.CodeDeadlineExceeded, "did not answer in time", true},
		{"refused signature", func(t *testing.T) string { return start(t, &fake{failures: 9, failCode: connect.CodeUnauthenticated}) }, 0, 0,
			connect.CodeUnauthenticated, "the database is restarting: the server did not accept your identity's signature", false},
		{"server bug", func(t *testing.T) string { return start(t, &fake{failures: 9, failCode: connect.CodeInternal}) }, 0, 0,
			connect.CodeInternal, "the Satchel server failed (the database is restarting): try again later", false},
		{"the server's own message", func(t *testing.T) string { return start(t, &fake{failures: 9, failCode: connect.CodePermissionDenied}) }, 0, 0,
			connect.CodePermissionDenied, "the database is restarting", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.url(t), key, tt.timeout)
			_, err := c.Library.ListLibrary(context.Background(), &libraryv1.ListLibraryRequest{})
			var ce *client.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %#v, want a *client.Error", err)
			}
			if connect.CodeOf(err) != tt.wantCode || !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("err = [%v] %q, want [%v] saying %q", connect.CodeOf(err), err, tt.wantCode, tt.wantMessage)
			}
			if client.Offline(err) != tt.offline {
				t.Errorf("Offline = %v, want %v", client.Offline(err), tt.offline)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, url := range []string{"", "127.0.0.1:8080", "ftp://x", "http://x/api"} {
		if _, err := client.New(client.Config{BaseURL: url}); err == nil {
			t.Errorf("New(%q) accepted", url)
		}
	}
	if c, err := client.New(client.Config{BaseURL: "https://satchel.example/"}); err != nil || c.BaseURL != "https://satchel.example" {
		t.Errorf("New = %v, %v", c, err)
	}
}

// TestRefusalsAreSentinels: each refusal of the server matches its sentinel error, and only
// that one.
func TestRefusalsAreSentinels(t *testing.T) {
	key, _ := nostr.GenerateKey()
	all := []error{client.ErrInvalid, client.ErrNotFound, client.ErrAlreadyExists, client.ErrPermissionDenied,
		client.ErrUnauthenticated, client.ErrFailedPrecondition, client.ErrResourceExhausted}
	for _, tt := range []struct {
		code connect.Code
		want error
	}{
		{connect.CodeInvalidArgument, client.ErrInvalid},
		{connect.CodeNotFound, client.ErrNotFound},
		{connect.CodeAlreadyExists, client.ErrAlreadyExists},
		{connect.CodePermissionDenied, client.ErrPermissionDenied},
		{connect.CodeUnauthenticated, client.ErrUnauthenticated},
		{connect.CodeFailedPrecondition, client.ErrFailedPrecondition},
		{connect.CodeResourceExhausted, client.ErrResourceExhausted},
		{connect.CodeInternal, nil},
	} {
		t.Run(tt.code.String(), func(t *testing.T) {
			c := newClient(t, start(t, &fake{failures: 9, failCode: tt.code}), key, 0)
			_, err := c.Library.ListLibrary(context.Background(), &libraryv1.ListLibraryRequest{})
			for _, s := range all {
				if got := errors.Is(err, s); got != (s == tt.want) {
					t.Errorf("errors.Is(%v, %q) = %v", err, s, got)
				}
			}
		})
	}
}

// cut is a purchase server whose stream sends the purchase once and then stays open, so a
// test can break its connection.
type cut struct {
	purchasev1connect.UnimplementedPurchaseServiceHandler
	sent chan struct{}
}

func (c *cut) WatchPurchase(ctx context.Context, _ *purchasev1.WatchPurchaseRequest, s *connect.ServerStream[purchasev1.WatchPurchaseResponse]) error {
	if err := s.Send(&purchasev1.WatchPurchaseResponse{Purchase: &purchasev1.Purchase{Id: "p1"}}); err != nil {
		return err
	}
	close(c.sent)
	<-ctx.Done()
	return ctx.Err()
}

// TestBrokenStreamIsOffline: a stream cut short by a server that went away (connect's
// "incomplete envelope") is Offline, so a caller reconnects instead of giving up (a failure
// the server sent is not: TestErrorsSayWhatToDo's "server bug").
func TestBrokenStreamIsOffline(t *testing.T) {
	h := &cut{sent: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle(purchasev1connect.NewPurchaseServiceHandler(h))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := client.New(client.Config{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	stream, err := c.Purchase.WatchPurchase(context.Background(), &purchasev1.WatchPurchaseRequest{PurchaseId: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if !stream.Receive() {
		t.Fatalf("no first message: %v", stream.Err())
	}
	<-h.sent
	srv.CloseClientConnections()
	if stream.Receive() {
		t.Fatal("a message after the connection broke")
	}
	err = stream.Err()
	if !client.Offline(err) || !strings.Contains(err.Error(), "broke") {
		t.Errorf("err = %v (offline %v), want a broken connection that is Offline", err, client.Offline(err))
	}
}
