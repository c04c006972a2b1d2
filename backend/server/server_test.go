package server_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"satchel.dev/backend/postgres"
	"satchel.dev/backend/postgres/pgtest"
	"satchel.dev/backend/server"
	libraryv1 "satchel.dev/shared/api/satchel/library/v1"
	"satchel.dev/shared/api/satchel/library/v1/libraryv1connect"
	"satchel.dev/shared/nip98"
	"satchel.dev/shared/nostr"
)

func TestMain(m *testing.M) { pgtest.Main(m, postgres.Migrate) }

// ready is a writer that closes serving once Run says where it serves.
type ready struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	serving chan struct{}
}

func (r *ready) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf.Write(p)
	if strings.Contains(r.buf.String(), "is serving on") && r.serving != nil {
		close(r.serving)
		r.serving = nil
	}
	return len(p), nil
}

// Shutting a server down with a library stream open ends the stream at once, with Unavailable
// (the launcher reconnects), and Run returns nil promptly instead of waiting out its grace
// period for the stream.
func TestShutdownEndsStreams(t *testing.T) {
	cfg := server.Config{Listen: "127.0.0.1:0", DatabaseURL: pgtest.NewDatabase(t), DataDir: t.TempDir(),
		Secret: hex.EncodeToString(bytes.Repeat([]byte{7}, 32))}.WithDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m, err := server.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	out := &ready{serving: make(chan struct{})}
	serving := out.serving
	ran := make(chan error, 1)
	go func() { ran <- m.Run(ctx, out) }()
	select {
	case <-serving:
	case err := <-ran:
		t.Fatalf("Run returned before serving: %v", err)
	}

	key, err := nostr.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	library := libraryv1connect.NewLibraryServiceClient(&http.Client{Transport: &nip98.Transport{Signer: key}}, m.URL)
	stream, err := library.WatchLibrary(context.Background(), &libraryv1.WatchLibraryRequest{})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if !stream.Receive() { // the first message: the stream is open and waiting for changes
		t.Fatalf("WatchLibrary: %v", stream.Err())
	}

	start := time.Now()
	stop()
	if err := <-ran; err != nil {
		t.Errorf("Run returned %v, want nil", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutting down took %v with a stream open", d)
	}
	if stream.Receive() {
		t.Fatal("the stream sent a message after shutdown")
	}
	var ce *connect.Error
	if !errors.As(stream.Err(), &ce) || ce.Code() != connect.CodeUnavailable || !strings.Contains(ce.Message(), "shutting down") {
		t.Errorf("the stream ended with %v, want Unavailable saying the server is shutting down", stream.Err())
	}
}
