package rpc

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"satchel.dev/shared/api/satchel/catalog/v1/catalogv1connect"
)

// TestReplay: which calls replay answers from a kept answer, and which reach the handler.
func TestReplay(t *testing.T) {
	var version atomic.Uint64
	var known atomic.Bool
	known.Store(true)
	cache := newCatalogCache(func() (uint64, bool) { return version.Load(), known.Load() })
	var calls atomic.Int64
	status := http.StatusOK
	// The handler answers each call with a new body, so a replayed answer shows.
	h := cache.replay(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n := calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("ETag", `W/"`+strconv.FormatInt(n, 10)+`"`)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(strconv.FormatInt(n, 10) + " " + string(body)))
	}), nil)
	const get = catalogv1connect.CatalogServiceGetGameProcedure
	type call struct {
		method, procedure, body string
		header                  map[string]string
	}
	do := func(c call) (int64, string) {
		t.Helper()
		method := c.method
		if method == "" {
			method = http.MethodPost
		}
		r := httptest.NewRequest(method, c.procedure, strings.NewReader(c.body))
		if method == http.MethodPost {
			r.Header.Set("Content-Type", "application/json")
		}
		for k, v := range c.header {
			r.Header.Set(k, v)
		}
		before := calls.Load()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Header().Get("ETag") == "" {
			t.Errorf("%v: no ETag in the answer", c)
		}
		return calls.Load() - before, w.Body.String()
	}
	slug := call{procedure: get, body: `{"slug":"a"}`}
	expect := func(name string, c call, wantCalls int64) string {
		t.Helper()
		n, body := do(c)
		if n != wantCalls {
			t.Errorf("%s: the handler was called %d times, want %d", name, n, wantCalls)
		}
		return body
	}

	first := expect("first call", slug, 1)
	if again := expect("same call", slug, 0); again != first {
		t.Errorf("same call: %q, want the kept %q", again, first)
	}
	expect("another body", call{procedure: get, body: `{"slug":"b"}`}, 1)
	expect("another procedure", call{procedure: catalogv1connect.CatalogServiceListGamesProcedure, body: `{"slug":"a"}`}, 1)
	expect("another Accept-Encoding", call{procedure: get, body: slug.body, header: map[string]string{"Accept-Encoding": "gzip"}}, 1)
	expect("a GET", call{method: http.MethodGet, procedure: get + "?encoding=json&message=%7B%7D"}, 1)
	expect("the same GET", call{method: http.MethodGet, procedure: get + "?encoding=json&message=%7B%7D"}, 0)
	expect("a valid timeout", call{procedure: get, body: slug.body, header: map[string]string{"Connect-Timeout-Ms": "100"}}, 0)

	signed := call{procedure: get, body: slug.body, header: map[string]string{"Authorization": "Nostr x"}}
	expect("signed", signed, 1)
	expect("signed again", signed, 1)
	if again := expect("anonymous after signed calls", slug, 0); again != first {
		t.Errorf("anonymous after signed calls: %q, want the kept %q", again, first)
	}
	for name, c := range map[string]call{
		"a timeout Connect refuses": {procedure: get, body: slug.body, header: map[string]string{"Connect-Timeout-Ms": "0"}},
		"another content type":      {procedure: get, body: slug.body, header: map[string]string{"Content-Type": "application/grpc"}},
		"a body over the limit":     {procedure: get, body: strings.Repeat(" ", maxAnswerRequestBytes) + slug.body},
	} {
		expect(name, c, 1)
		expect(name+" again", c, 1)
	}
	if _, body := do(call{procedure: get, body: strings.Repeat(" ", 3*maxAnswerRequestBytes) + "end"}); !strings.HasSuffix(body, strings.Repeat(" ", 3*maxAnswerRequestBytes)+"end") {
		t.Errorf("a body over the limit did not reach the handler whole: %q", body)
	}

	version.Add(1)
	moved := expect("after the catalog moved on", slug, 1)
	if moved == first {
		t.Errorf("after the catalog moved on: the old answer %q", moved)
	}
	expect("then", slug, 0)
	known.Store(false)
	expect("while changes could go unheard", slug, 1)
	expect("and again", slug, 1)
	known.Store(true)
	version.Add(1)
	status = http.StatusNotFound
	expect("a 404", slug, 1)
	expect("a 404 again", slug, 1)
}
