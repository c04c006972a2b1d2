package rpc_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"satchel.dev/backend/market"
)

const developerAPI = "satchel.developer.v1.DeveloperService/"

// pngOf is a w by h PNG whose pixels depend on seed, so that two seeds make two images.
func pngOf(t *testing.T, w, h int, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x) + seed, uint8(y), seed, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// image uploads body as an image of kind for the game as the owner, declared as contentType,
// and returns FinishMediaUpload's reply (or CreateMediaUpload's when it refuses).
func (b *bundle) image(gameID, kind, contentType string, body []byte) reply {
	b.t.Helper()
	r := b.sendImage(gameID, kind, contentType, body)
	if r.code != "ok" {
		return r
	}
	return b.call(owner, developerAPI+"FinishMediaUpload", fmt.Sprintf(`{"uploadId":%q}`, r.body["uploadId"]))
}

// sendImage opens an image upload for the game as the owner and PUTs body to it; it returns
// CreateMediaUpload's reply.
func (b *bundle) sendImage(gameID, kind, contentType string, body []byte) reply {
	b.t.Helper()
	sum := sha256.Sum256(body)
	r := b.call(owner, developerAPI+"CreateMediaUpload", fmt.Sprintf(`{"gameId":%q,"kind":%q,"sizeBytes":%d,"sha256":%q,"contentType":%q}`,
		gameID, kind, len(body), hex.EncodeToString(sum[:]), contentType))
	if r.code != "ok" {
		return r
	}
	req, _ := http.NewRequest(http.MethodPut, r.body["url"].(string), bytes.NewReader(body))
	headers, _ := r.body["headers"].(map[string]any) // none with the local store
	for k, v := range headers {
		req.Header.Set(k, v.(string))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		b.t.Fatalf("PUT to the image upload URL: HTTP %d", res.StatusCode)
	}
	return r
}

// TestMediaChecks uploads what a developer may send as a game's image and what the server
// refuses, each refusal saying which check failed.
func TestMediaChecks(t *testing.T) {
	b := setup(t)
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewGray(image.Rect(0, 0, 32, 32)), nil); err != nil {
		t.Fatal(err)
	}
	webp, err := os.ReadFile("testdata/gopher.webp") // from golang.org/x/image's test data
	if err != nil {
		t.Fatal(err)
	}
	huge := new(bytes.Buffer) // a PNG header claiming 5000 by 20 pixels: refused before decoding
	_ = png.Encode(huge, image.NewGray(image.Rect(0, 0, 5000, 20)))
	corrupt := pngOf(t, 64, 64, 9)
	corrupt = append(corrupt[:len(corrupt)/2:len(corrupt)/2], make([]byte, len(corrupt)/2)...)
	tests := []struct {
		name, kind, contentType string
		body                    []byte
		code, message           string
	}{
		{"a PNG cover", "MEDIA_KIND_COVER", "image/png", pngOf(t, 64, 48, 1), "ok", ""},
		{"a JPEG screenshot", "MEDIA_KIND_SCREENSHOT", "image/jpeg", jpg.Bytes(), "ok", ""},
		{"a WebP screenshot", "MEDIA_KIND_SCREENSHOT", "image/webp", webp, "ok", ""},
		{"not an image", "MEDIA_KIND_SCREENSHOT", "image/png", []byte("hello, not a picture at all"), "failed_precondition", "type check failed: the file is not a PNG, JPEG or WebP image"},
		{"a JPEG said to be a PNG", "MEDIA_KIND_SCREENSHOT", "image/png", jpg.Bytes(), "failed_precondition", "type check failed: the file is image/jpeg, not image/png"},
		{"a GIF", "MEDIA_KIND_SCREENSHOT", "image/gif", []byte("GIF89a"), "invalid_argument", "content_type \"image/gif\" is not accepted"},
		{"too small", "MEDIA_KIND_SCREENSHOT", "image/png", pngOf(t, 8, 8, 2), "failed_precondition", "dimension check failed: the image is 8 by 8 pixels"},
		{"too wide", "MEDIA_KIND_SCREENSHOT", "image/png", huge.Bytes(), "failed_precondition", "dimension check failed: the image is 5000 by 20 pixels"},
		{"cut short", "MEDIA_KIND_SCREENSHOT", "image/png", corrupt, "failed_precondition", "image check failed"},
		{"no kind", "MEDIA_KIND_UNSPECIFIED", "image/png", pngOf(t, 64, 48, 3), "invalid_argument", "kind is required"},
		{"the same image again", "MEDIA_KIND_SCREENSHOT", "image/png", pngOf(t, 64, 48, 1), "already_exists", "already has this image (as its cover)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := b.image(b.game.ID, tc.kind, tc.contentType, tc.body)
			if r.code != tc.code || !strings.Contains(r.message, tc.message) {
				t.Errorf("got %s %q, want %s %q", r.code, r.message, tc.code, tc.message)
			}
		})
	}

	// Too big: refused when the upload is opened, by its declared size.
	r := b.call(owner, developerAPI+"CreateMediaUpload", fmt.Sprintf(`{"gameId":%q,"kind":"MEDIA_KIND_COVER","sizeBytes":%d,"sha256":%q,"contentType":"image/png"}`,
		b.game.ID, market.MaxMediaBytes+1, strings.Repeat("a", 64)))
	if r.code != "invalid_argument" || !strings.Contains(r.message, "up to 10485760 bytes (10 MiB)") {
		t.Errorf("an 10 MiB + 1 image: %s %q", r.code, r.message)
	}
	// Another developer's game.
	r = b.call(other, developerAPI+"CreateMediaUpload", fmt.Sprintf(`{"gameId":%q,"kind":"MEDIA_KIND_COVER","sizeBytes":10,"sha256":%q,"contentType":"image/png"}`,
		b.game.ID, strings.Repeat("a", 64)))
	if r.code != "permission_denied" {
		t.Errorf("another developer's game: %s %q", r.code, r.message)
	}

	// Too many: two screenshots so far, eight at most.
	for i := range market.MaxScreenshots - 2 {
		if r := b.image(b.game.ID, "MEDIA_KIND_SCREENSHOT", "image/png", pngOf(t, 32, 32, uint8(100+i))); r.code != "ok" {
			t.Fatalf("screenshot %d: %s %s", i+3, r.code, r.message)
		}
	}
	r = b.image(b.game.ID, "MEDIA_KIND_SCREENSHOT", "image/png", pngOf(t, 32, 32, 200))
	if r.code != "failed_precondition" || !strings.Contains(r.message, "has 8 screenshots, the most it may have") {
		t.Errorf("a ninth screenshot: %s %q", r.code, r.message)
	}
	// A new cover replaces the old one.
	if r := b.image(b.game.ID, "MEDIA_KIND_COVER", "image/png", pngOf(t, 64, 48, 50)); r.code != "ok" {
		t.Fatalf("a second cover: %s %s", r.code, r.message)
	}
	g := b.call(anonymous, "satchel.catalog.v1.CatalogService/GetGame", `{"slug":"fixture-game"}`).body["game"].(map[string]any)
	shots := g["screenshots"].([]any)
	cover := g["cover"].(map[string]any)
	sum := sha256.Sum256(pngOf(t, 64, 48, 50))
	if len(shots) != 8 || cover["sha256"] != hex.EncodeToString(sum[:]) || cover["width"] != float64(64) {
		t.Errorf("GetGame: cover %v and %d screenshots, want the second cover and 8", cover, len(shots))
	}
	if shots[0].(map[string]any)["contentType"] != "image/jpeg" || shots[1].(map[string]any)["contentType"] != "image/webp" {
		t.Errorf("screenshots not in upload order: %v", shots[:2])
	}
	list := b.call(anonymous, "satchel.catalog.v1.CatalogService/ListGames", `{}`).body["games"].([]any)
	if c, _ := list[0].(map[string]any)["cover"].(map[string]any); c == nil || c["path"] != cover["path"] {
		t.Errorf("ListGames: the card has no cover: %v", list[0])
	}
}

// TestMediaServed shows a game's images served to anyone while it is public, with the headers
// of an immutable URL, and nowhere once the game is a draft or the image removed.
func TestMediaServed(t *testing.T) {
	b := setup(t)
	body := pngOf(t, 40, 30, 7)
	r := b.image(b.game.ID, "MEDIA_KIND_SCREENSHOT", "image/png", body)
	if r.code != "ok" {
		t.Fatalf("upload: %s %s", r.code, r.message)
	}
	m := r.body["media"].(map[string]any)
	sum := sha256.Sum256(body)
	path := m["path"].(string)
	if want := "/media/" + b.game.ID + "/" + hex.EncodeToString(sum[:]) + ".png"; path != want {
		t.Fatalf("path %s, want %s", path, want)
	}
	get := func(path string, header http.Header) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		got, _ := io.ReadAll(res.Body)
		return res, got
	}
	res, got := get(path, nil)
	if res.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Fatalf("GET %s: %d, %d bytes", path, res.StatusCode, len(got))
	}
	for k, want := range map[string]string{"Content-Type": "image/png", "Cache-Control": "public, max-age=31536000, immutable",
		"ETag": `"` + hex.EncodeToString(sum[:]) + `"`, "X-Content-Type-Options": "nosniff"} {
		if res.Header.Get(k) != want {
			t.Errorf("%s: %q, want %q", k, res.Header.Get(k), want)
		}
	}
	if res, _ := get(path, http.Header{"If-None-Match": {res.Header.Get("ETag")}}); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", res.StatusCode)
	}
	if res, _ := get(path, http.Header{"Range": {"bytes=0-7"}}); res.StatusCode != http.StatusPartialContent {
		t.Errorf("Range: %d, want 206", res.StatusCode)
	}
	for name, p := range map[string]string{
		"another extension": strings.TrimSuffix(path, ".png") + ".jpg",
		"another game":      strings.Replace(path, b.game.ID, b.draft.ID, 1),
		"not an id":         "/media/x/" + hex.EncodeToString(sum[:]) + ".png",
	} {
		if res, _ := get(p, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", name, res.StatusCode)
		}
	}
	// UNLISTED still serves; DRAFT does not.
	for status, want := range map[string]int{"GAME_STATUS_UNLISTED": 200, "GAME_STATUS_DRAFT": 404} {
		if r := b.call(owner, developerAPI+"SetGameStatus", fmt.Sprintf(`{"gameId":%q,"status":%q}`, b.game.ID, status)); r.code != "ok" {
			t.Fatal(r.message)
		}
		if res, _ := get(path, nil); res.StatusCode != want {
			t.Errorf("%s: %d, want %d", status, res.StatusCode, want)
		}
	}
	b.call(owner, developerAPI+"SetGameStatus", fmt.Sprintf(`{"gameId":%q,"status":"GAME_STATUS_LISTED"}`, b.game.ID))
	// Only the developer removes it; then it is gone.
	if r := b.call(other, developerAPI+"DeleteMedia", fmt.Sprintf(`{"mediaId":%q}`, m["id"])); r.code != "permission_denied" {
		t.Errorf("DeleteMedia by another developer: %s", r.code)
	}
	r = b.call(owner, developerAPI+"DeleteMedia", fmt.Sprintf(`{"mediaId":%q}`, m["id"]))
	if r.code != "ok" || r.body["game"].(map[string]any)["screenshots"] != nil {
		t.Fatalf("DeleteMedia: %s %v", r.code, r.body)
	}
	if res, _ := get(path, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("a removed image: %d, want 404", res.StatusCode)
	}
}

// TestStudioName shows a developer's studio name on their games, set through UpdateProfile.
func TestStudioName(t *testing.T) {
	b := setup(t)
	if r := b.call(player, "satchel.account.v1.AccountService/UpdateProfile", `{"studioName":"Nobody"}`); r.code != "failed_precondition" {
		t.Errorf("a player's studio name: %s %q", r.code, r.message)
	}
	r := b.call(owner, "satchel.account.v1.AccountService/UpdateProfile", `{"studioName":"Lantern Works"}`)
	if r.code != "ok" || r.body["user"].(map[string]any)["developer"].(map[string]any)["studioName"] != "Lantern Works" {
		t.Fatalf("UpdateProfile: %s %v", r.code, r.body)
	}
	g := b.call(anonymous, "satchel.catalog.v1.CatalogService/GetGame", `{"slug":"fixture-game"}`).body["game"].(map[string]any)
	if g["developerStudioName"] != "Lantern Works" {
		t.Errorf("GetGame: studio %v", g["developerStudioName"])
	}
	res, err := http.Get(b.srv.URL + "/games/fixture-game")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(page), "By Lantern Works.") {
		t.Errorf("the game's web page does not say who it is by:\n%s", page)
	}
	r = b.call(owner, "satchel.account.v1.AccountService/UpdateProfile", `{"studioName":""}`)
	if r.code != "ok" || r.body["user"].(map[string]any)["developer"].(map[string]any)["studioName"] != nil {
		t.Errorf("clearing the studio name: %s %v", r.code, r.body)
	}
}
