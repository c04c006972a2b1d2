package rpc_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"satchel.dev/backend/market"
	"satchel.dev/backend/purchases"
	"satchel.dev/backend/server"
	catalogpb "satchel.dev/shared/api/satchel/catalog/v1"
	"satchel.dev/shared/api/satchel/catalog/v1/catalogv1connect"
)

// instance opens another server on the bundle's database, as a second instance behind the same
// public URL would be, with its notifier listening; it returns the server and a subscription to
// the catalog changes its notifier hears, the first of which (purchases.Resync) has arrived.
func (b *bundle) instance() (*server.Main, <-chan string) {
	b.t.Helper()
	cfg := b.cfg
	cfg.Listen = "127.0.0.1:0"
	m, err := server.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(m.Close)
	srv := &httptest.Server{Listener: m.Listener, Config: &http.Server{Handler: m.Handler}}
	srv.Start()
	b.t.Cleanup(srv.Close)
	m.URL = srv.URL
	changes, stop := m.Notifier.CatalogChanges()
	b.t.Cleanup(stop)
	ctx, cancel := context.WithCancel(context.Background())
	b.t.Cleanup(cancel)
	go m.Notifier.Run(ctx)
	b.waitChange(changes, purchases.Resync)
	return m, changes
}

// waitChange waits for the next catalog change on changes, which must be want if want is not
// "*".
func (b *bundle) waitChange(changes <-chan string, want string) {
	b.t.Helper()
	select {
	case got := <-changes:
		if want != "*" && got != want {
			b.t.Fatalf("catalog change %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		b.t.Fatal("no catalog change notification within 10s")
	}
}

// TestCatalogCacheAcrossInstances: instance B serves the catalog from its cache, and a change
// made on instance A is what B answers as soon as B has heard of it (one notification), for
// GetGame and ListGames, again and again.
func TestCatalogCacheAcrossInstances(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	other, changes := b.instance()
	catalog := catalogv1connect.NewCatalogServiceClient(http.DefaultClient, other.URL)
	get := func() *catalogpb.Game {
		t.Helper()
		res, err := catalog.GetGame(ctx, &catalogpb.GetGameRequest{Slug: b.game.Slug})
		if err != nil {
			t.Fatal(err)
		}
		return res.GetGame()
	}
	listed := func() *catalogpb.Game {
		t.Helper()
		res, err := catalog.ListGames(ctx, &catalogpb.ListGamesRequest{})
		if err != nil || len(res.GetGames()) != 1 {
			t.Fatalf("ListGames: %v %v", res, err)
		}
		return res.GetGames()[0]
	}
	if g := get(); g.GetTitle() != b.game.Title || g.GetLatestRelease().GetVersion() != "1.0.0" {
		t.Fatalf("GetGame from B: %v", g)
	}
	listed()

	// A change the database does not announce (triggers off) is not seen: B answers from its cache.
	tx, err := b.db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`SET LOCAL session_replication_role = replica`, `UPDATE games SET title = 'Unannounced' WHERE slug = 'fixture-game'`} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if g, l := get(), listed(); g.GetTitle() != b.game.Title || l.GetTitle() != b.game.Title {
		t.Errorf("B answered %q and %q after an unannounced change, want its cached %q", g.GetTitle(), l.GetTitle(), b.game.Title)
	}

	// Publishing on A: B answers with the new release once it has heard of it.
	b.finish(b.upload)
	b.waitChange(changes, "*") // the build
	if _, err := b.games.PublishRelease(ctx, b.actor(owner), b.pending.ID); err != nil {
		t.Fatal(err)
	}
	b.waitChange(changes, "*")
	if g, l := get(), listed(); g.GetLatestRelease().GetVersion() != "2.0.0" || l.GetLatestRelease().GetVersion() != "2.0.0" {
		t.Errorf("B's latest release after the publish: %q and %q, want 2.0.0", g.GetLatestRelease().GetVersion(), l.GetLatestRelease().GetVersion())
	}
	for i := range 50 {
		title := "Title " + string(rune('A'+i%26)) + string(rune('a'+i/26))
		if _, err := b.games.UpdateGame(ctx, b.actor(owner), b.game.ID, market.GameUpdate{Title: &title}); err != nil {
			t.Fatal(err)
		}
		b.waitChange(changes, "*")
		if g, l := get(), listed(); g.GetTitle() != title || l.GetTitle() != title {
			t.Fatalf("change %d: B answered %q and %q, want %q", i, g.GetTitle(), l.GetTitle(), title)
		}
	}
}

// TestCatalogRevalidation: a Connect GET of the catalog carries an ETag and Cache-Control; the
// same GET with If-None-Match gets 304 with no body until the game changes, then 200 with a
// new ETag.
func TestCatalogRevalidation(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	other, changes := b.instance()
	u := other.URL + "/satchel.catalog.v1.CatalogService/GetGame?" + url.Values{
		"connect": {"v1"}, "encoding": {"json"}, "message": {`{"slug":"` + b.game.Slug + `"}`}}.Encode()
	get := func(etag string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, string(body)
	}
	res, body := get("")
	etag := res.Header.Get("ETag")
	if res.StatusCode != http.StatusOK || etag == "" || res.Header.Get("Cache-Control") != "public, no-cache" {
		t.Fatalf("GET: %d, ETag %q, Cache-Control %q: %s", res.StatusCode, etag, res.Header.Get("Cache-Control"), body)
	}
	if res, body := get(etag); res.StatusCode != http.StatusNotModified || body != "" || res.Header.Get("ETag") != etag {
		t.Errorf("GET with If-None-Match: %d, ETag %q, body %q, want 304 with the same ETag and no body", res.StatusCode, res.Header.Get("ETag"), body)
	}
	if res, _ := get(`"other", ` + etag); res.StatusCode != http.StatusNotModified {
		t.Errorf("GET with the ETag in a list: %d, want 304", res.StatusCode)
	}
	summary := "new summary"
	if _, err := b.games.UpdateGame(ctx, b.actor(owner), b.game.ID, market.GameUpdate{Summary: &summary}); err != nil {
		t.Fatal(err)
	}
	b.waitChange(changes, "*")
	if res, _ := get(etag); res.StatusCode != http.StatusOK || res.Header.Get("ETag") == etag || res.Header.Get("ETag") == "" {
		t.Errorf("GET with the old ETag after a change: %d, ETag %q, want 200 with a new ETag", res.StatusCode, res.Header.Get("ETag"))
	}
}

// TestCatalogAnswersReplayed: an anonymous catalog call answered from the kept bytes of an
// earlier answer gets what the Connect handler answered it: the same status, headers and body,
// for both RPCs, POST and GET, JSON and binary protobuf.
func TestCatalogAnswersReplayed(t *testing.T) {
	b := setup(t)
	slug := &catalogpb.GetGameRequest{Slug: b.game.Slug}
	list := &catalogpb.ListGamesRequest{PageSize: 10}
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}} // the bytes as sent
	for _, c := range []struct {
		name, procedure string
		msg             proto.Message
		header          http.Header
	}{
		{"GetGame", catalogv1connect.CatalogServiceGetGameProcedure, slug, nil},
		{"ListGames", catalogv1connect.CatalogServiceListGamesProcedure, list, nil},
		{"ListGames, first page", catalogv1connect.CatalogServiceListGamesProcedure, &catalogpb.ListGamesRequest{}, nil},
		{"ListGames, no match", catalogv1connect.CatalogServiceListGamesProcedure, &catalogpb.ListGamesRequest{Query: "no such game"}, nil}, // empty in proto
		{"GetGame, gzip accepted", catalogv1connect.CatalogServiceGetGameProcedure, slug,
			http.Header{"Accept-Encoding": {"gzip"}, "Connect-Protocol-Version": {"1"}, "Connect-Timeout-Ms": {"5000"}}},
	} {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			for _, encoding := range []string{"json", "proto"} {
				t.Run(c.name+" "+method+" "+encoding, func(t *testing.T) {
					var body []byte
					if encoding == "json" {
						body, _ = protojson.Marshal(c.msg)
					} else {
						body, _ = proto.Marshal(c.msg)
					}
					do := func() (*http.Response, []byte) {
						t.Helper()
						var req *http.Request
						if method == http.MethodPost {
							req, _ = http.NewRequest(method, b.srv.URL+c.procedure, bytes.NewReader(body))
							req.Header.Set("Content-Type", "application/"+encoding)
						} else {
							q := url.Values{"connect": {"v1"}, "encoding": {encoding}, "message": {string(body)}}
							if encoding == "proto" {
								q.Set("base64", "1")
								q.Set("message", base64.RawURLEncoding.EncodeToString(body))
							}
							req, _ = http.NewRequest(method, b.srv.URL+c.procedure+"?"+q.Encode(), nil)
						}
						for k, v := range c.header {
							req.Header[k] = v
						}
						res, err := hc.Do(req)
						if err != nil {
							t.Fatal(err)
						}
						defer res.Body.Close()
						got, err := io.ReadAll(res.Body)
						if err != nil {
							t.Fatal(err)
						}
						// What differs between any two answers.
						res.Header.Del("Date")
						res.Header.Del("X-Request-Id")
						return res, got
					}
					first, firstBody := do()
					if first.StatusCode != http.StatusOK || first.Header.Get("ETag") == "" {
						t.Fatalf("first call: %d, ETag %q: %s", first.StatusCode, first.Header.Get("ETag"), firstBody)
					}
					for range 2 {
						again, againBody := do()
						if again.StatusCode != first.StatusCode || !bytes.Equal(againBody, firstBody) {
							t.Errorf("again: %d %q, first %d %q", again.StatusCode, againBody, first.StatusCode, firstBody)
						}
						if diff := cmp.Diff(first.Header, again.Header); diff != "" {
							t.Errorf("headers (-first +again):\n%s", diff)
						}
						if again.ContentLength != first.ContentLength || !slices.Equal(again.TransferEncoding, first.TransferEncoding) {
							t.Errorf("framing: length %d %v, first %d %v", again.ContentLength, again.TransferEncoding, first.ContentLength, first.TransferEncoding)
						}
					}
				})
			}
		}
	}
}

// TestCatalogAnswersPerCaller: a kept public answer is never a signed caller's: the game's
// developer, asking exactly what an anonymous caller asked, sees their unpublished release and
// their draft; and a change made on this instance is what the next anonymous call gets.
func TestCatalogAnswersPerCaller(t *testing.T) {
	b := setup(t)
	get := func(r role, slug string) reply {
		t.Helper()
		return b.call(r, "satchel.catalog.v1.CatalogService/GetGame", jsonBody(map[string]any{"slug": slug}))
	}
	versions := func(got reply) []string {
		var out []string
		releases, _ := got.body["releases"].([]any)
		for _, r := range releases {
			v, _ := r.(map[string]any)["version"].(string)
			out = append(out, v)
		}
		return out
	}
	for range 2 {
		if got := get(anonymous, b.game.Slug); got.code != "ok" || !slices.Equal(versions(got), []string{"1.0.0"}) {
			t.Fatalf("anonymous GetGame: %s, releases %v, want ok with 1.0.0", got.code, versions(got))
		}
		if got := get(anonymous, b.draft.Slug); got.code != "not_found" {
			t.Fatalf("anonymous GetGame of the draft: %s, want not_found", got.code)
		}
	}
	if got := get(owner, b.game.Slug); got.code != "ok" || !slices.Equal(versions(got), []string{"2.0.0", "1.0.0"}) {
		t.Errorf("the developer's GetGame: %s, releases %v, want 2.0.0 and 1.0.0", got.code, versions(got))
	}
	if got := get(owner, b.draft.Slug); got.code != "ok" {
		t.Errorf("the developer's GetGame of their draft: %s %q", got.code, got.message)
	}
	if got := get(player, b.game.Slug); got.code != "ok" || !slices.Equal(versions(got), []string{"1.0.0"}) {
		t.Errorf("a player's GetGame: %s, releases %v, want 1.0.0", got.code, versions(got))
	}

	// Changed through this instance's API: the next anonymous call sees it, notified or not.
	if got := b.call(owner, "satchel.developer.v1.DeveloperService/UpdateGame", jsonBody(map[string]any{"gameId": b.game.ID, "title": "Renamed"})); got.code != "ok" {
		t.Fatalf("UpdateGame: %s %q", got.code, got.message)
	}
	if got := get(anonymous, b.game.Slug); got.body["game"].(map[string]any)["title"] != "Renamed" {
		t.Errorf("anonymous GetGame after the developer renamed the game: %v", got.body["game"])
	}
}
