package metrics_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"satchel.dev/backend/metrics"
	"satchel.dev/backend/postgres"
)

// TestBlobBytesAndRPCs counts the bytes a store handler sends and receives, ranges included,
// and RPCs by procedure and code; a nil *Metrics records nothing and does not fail.
func TestBlobBytesAndRPCs(t *testing.T) {
	var nilMetrics *metrics.Metrics
	nilMetrics.ObserveRPC("/x", "ok", time.Second)
	nilMetrics.AnnouncementAttempt("ws://r", true)

	m := metrics.New(nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	content := bytes.Repeat([]byte("z"), 10_000)
	srv := httptest.NewServer(m.CountBlobBytes(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			_, _ = io.Copy(io.Discard, r.Body)
			return
		}
		http.ServeContent(w, r, "build.zip", time.Time{}, bytes.NewReader(content))
	})))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPut, srv.URL, bytes.NewReader(make([]byte, 1234)))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatal(res, err)
	}
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	req, _ = http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Range", "bytes=9000-")
	if res, err = http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusPartialContent {
		t.Fatal(res, err)
	}
	res.Body.Close()
	srv.Close() // waits for the handlers to return: every byte is counted
	m.ObserveRPC("/satchel.catalog.v1.CatalogService/ListGames", "ok", 3*time.Millisecond)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`satchel_blob_bytes_total{direction="download"} 11000`,
		`satchel_blob_bytes_total{direction="upload"} 1234`,
		`satchel_rpc_requests_total{code="ok",procedure="/satchel.catalog.v1.CatalogService/ListGames"} 1`,
		`satchel_rpc_duration_seconds_count{code="ok",procedure="/satchel.catalog.v1.CatalogService/ListGames"} 1`,
		`satchel_build_info{commit="`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestStuckPayouts: payouts whose payment stays in flight or unknown past the bound are
// reported by state, at zero when there are none, so an alert can fire on them.
func TestStuckPayouts(t *testing.T) {
	stats := func(context.Context) (postgres.Stats, error) {
		return postgres.Stats{StuckPayouts: map[string]int64{"IN_FLIGHT": 2}}, nil
	}
	m := metrics.New(stats, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`satchel_payouts_stuck{state="IN_FLIGHT"} 2`,
		`satchel_payouts_stuck{state="UNKNOWN"} 0`,
		"# HELP satchel_payouts_stuck Payouts whose payment has been IN_FLIGHT or UNKNOWN for longer than 1h0m0s",
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
