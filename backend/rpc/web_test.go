package rpc_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
)

// get fetches path from the server as r without following redirects.
func (b *bundle) get(r role, path string) (*http.Response, string) {
	b.t.Helper()
	c := *b.client(r)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Get(b.srv.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// TestGamePageAndBuildLink: the links announcements carry work. The game's page shows a public
// game and its latest build; the build link redirects owners (signed, or with a receipt code)
// to a download of that build, and tells everyone else where to buy it.
func TestGamePageAndBuildLink(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res, page := b.get(anonymous, "/games/fixture-game")
	if res.StatusCode != 200 || !strings.Contains(page, "<h1>Fixture</h1>") || !strings.Contains(page, "1.0.0") ||
		!strings.Contains(page, b.published.Build.SHA256) {
		t.Errorf("game page: %d\n%s", res.StatusCode, page)
	}
	if res, _ := b.get(anonymous, "/games/fixture-draft"); res.StatusCode != http.StatusNotFound {
		t.Errorf("a draft's page: %d", res.StatusCode)
	}

	link := "/games/fixture-game/releases/1.0.0/build.zip"
	if res, body := b.get(anonymous, link); res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "buy it") {
		t.Errorf("build link, anonymous: %d %q", res.StatusCode, body)
	}
	if res, body := b.get(player, link); res.StatusCode != http.StatusForbidden {
		t.Errorf("build link, a player who does not own it: %d %q", res.StatusCode, body)
	}
	if res, _ := b.get(owner, "/games/fixture-game/releases/2.0.0/build.zip"); res.StatusCode != http.StatusNotFound {
		t.Errorf("build link of an unpublished release: %d", res.StatusCode)
	}
	b.paid()
	b.settle(b.guest)
	for _, tc := range []struct {
		r    role
		path string
	}{{player, link}, {anonymous, link + "?receipt=" + b.receipt}} {
		res, body := b.get(tc.r, tc.path)
		if res.StatusCode != http.StatusFound {
			t.Fatalf("build link as %s: %d %q", tc.r, res.StatusCode, body)
		}
		dl, err := http.Get(res.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		zip, _ := io.ReadAll(dl.Body)
		dl.Body.Close()
		sum := sha256.Sum256(zip)
		if hex.EncodeToString(sum[:]) != b.published.Build.SHA256 {
			t.Errorf("as %s, the link led to %d bytes that are not the build", tc.r, len(zip))
		}
	}
}
