package rpc_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"satchel.dev/backend/market"
)

const (
	createUpload = "satchel.developer.v1.DeveloperService/CreateUpload"
	finishUpload = "satchel.developer.v1.DeveloperService/FinishUpload"
	getDownload  = "satchel.library.v1.LibraryService/GetDownload"
	publish      = "satchel.developer.v1.DeveloperService/PublishRelease"
)

// objects lists the files in the local blob store.
func (b *bundle) objects() []string {
	b.t.Helper()
	var out []string
	_ = filepath.WalkDir(b.blobDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(b.blobDir, path)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// TestUploadPublishDownload is a developer's whole path with any HTTP client: open an upload,
// PUT the zip, finish, publish; then the download URL serves exactly those bytes, with Range,
// from either store.
func TestUploadPublishDownload(t *testing.T) {
	t.Run("local", func(t *testing.T) { uploadPublishDownload(t, setup(t), true) })
	t.Run("S3", func(t *testing.T) { uploadPublishDownload(t, setupS3(t), false) })
}

func uploadPublishDownload(t *testing.T, b *bundle, local bool) {
	zipBytes := makeZip(map[string]string{"satchel.toml": "x", "bin/game": strings.Repeat("play ", 1000), "data/level1.txt": "#####"})
	sum := sha256.Sum256(zipBytes)
	r := b.call(owner, createUpload, jsonBody(map[string]any{"releaseId": b.pending.ID, "sizeBytes": len(zipBytes), "sha256": hex.EncodeToString(sum[:])}))
	if r.code != "ok" {
		t.Fatalf("CreateUpload: %s %s", r.code, r.message)
	}
	req, _ := http.NewRequest(http.MethodPut, r.body["url"].(string), bytes.NewReader(zipBytes))
	headers, _ := r.body["headers"].(map[string]any) // none are needed by the local store
	for k, v := range headers {
		req.Header.Set(k, v.(string))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode/100 != 2 {
		t.Fatalf("PUT: %v %v", res, err)
	}
	fin := b.call(owner, finishUpload, jsonBody(map[string]any{"uploadId": r.body["uploadId"]}))
	if fin.code != "ok" {
		t.Fatalf("FinishUpload: %s %s", fin.code, fin.message)
	}
	build := fin.body["release"].(map[string]any)["build"].(map[string]any)
	if build["sha256"] != hex.EncodeToString(sum[:]) || build["fileCount"] != "3" || build["installedBytes"] != "5006" {
		t.Errorf("build = %v", build)
	}
	// The earlier upload for this release was replaced: its object is gone.
	if p := b.call(owner, publish, jsonBody(map[string]any{"releaseId": b.pending.ID})); p.code != "ok" {
		t.Fatalf("publish: %s %s", p.code, p.message)
	}
	if again := b.call(owner, createUpload, jsonBody(map[string]any{"releaseId": b.pending.ID, "sizeBytes": 10, "sha256": strings.Repeat("ab", 32)})); again.code != "failed_precondition" || !strings.Contains(again.message, "published") {
		t.Errorf("a second build for a published release: %s %q", again.code, again.message)
	}

	d := b.call(owner, getDownload, jsonBody(map[string]any{"gameId": b.game.ID}))
	if d.code != "ok" || d.body["version"] != "2.0.0" || d.body["sha256"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("GetDownload: %s %s %v", d.code, d.message, d.body)
	}
	files := d.body["files"].([]any)
	if len(files) != 3 || files[0].(map[string]any)["path"] != "bin/game" {
		t.Errorf("manifest = %v", files)
	}
	url := d.body["url"].(string)
	get := func(rangeHeader string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if rangeHeader != "" {
			req.Header.Set("Range", rangeHeader)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, body
	}
	if code, body := get(""); code != 200 || !bytes.Equal(body, zipBytes) {
		t.Errorf("full download: %d, %d bytes", code, len(body))
	}
	if code, body := get("bytes=100-"); code != 206 || !bytes.Equal(body, zipBytes[100:]) {
		t.Errorf("resumed download: %d, %d bytes", code, len(body))
	}
	if code, _ := get("bytes=999999-"); code != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("range past the end: %d, want 416", code)
	}
	if code, _ := get(""); code != 200 {
		t.Fatal(code)
	}
	flipped := url[:len(url)-1] + map[bool]string{true: "0", false: "1"}[url[len(url)-1] != '0'] // the signature ends both URLs
	for _, bad := range []string{flipped, strings.Replace(url, ".zip", "0.zip", 1)} {
		res, err := http.Get(bad)
		if err != nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("tampered URL %s: %v %v, want 403", bad, res.Status, err)
		}
	}
	// 1.0.0's build, 2.0.0's new build, and the fixture's open upload; 2.0.0's first build is gone.
	if got := len(b.objects()); local && got != 3 {
		t.Errorf("the store holds %d objects, want 3: %v", got, b.objects())
	}
}

// TestRefusedUploadsLeaveNothing sends uploads that fail each check; each is refused with
// FailedPrecondition naming the check, and leaves no object and no slot behind.
func TestRefusedUploadsLeaveNothing(t *testing.T) {
	b := setup(t)
	dev := b.actor(owner)
	release := b.mustR(b.games.CreateRelease(context.Background(), dev, b.game.ID, "3.0.0", ""))
	before := b.objects()
	bomb := func() []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("zeros.bin")
		_, _ = w.Write(make([]byte, 64<<20))
		_ = zw.Close()
		return buf.Bytes()
	}
	tests := []struct {
		name     string
		body     []byte
		tamper   func(declared []byte) (sent []byte)
		mentions string
	}{
		{"wrong sha256", testZip, func(d []byte) []byte { x := bytes.Clone(d); x[len(x)-1] ^= 1; return x }, "sha256 check failed"},
		{"zip slip", makeZip(map[string]string{"../../evil.sh": "x"}), nil, "zip check failed"},
		{"absolute path", makeZip(map[string]string{"/etc/cron.d/evil": "x"}), nil, "zip check failed"},
		{"not a zip", []byte("this is not a zip file at all, just text with a .zip name"), nil, "zip check failed"},
		{"empty zip", makeZip(nil), nil, "zip check failed"},
		{"zip bomb", bomb(), nil, "ratio"},
		{"truncated zip", testZip[:len(testZip)/2], nil, "zip check failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum := sha256.Sum256(tt.body)
			slot, err := b.builds.CreateUpload(context.Background(), dev, release.ID, int64(len(tt.body)), hex.EncodeToString(sum[:]))
			if err != nil {
				t.Fatal(err)
			}
			sent := tt.body
			if tt.tamper != nil {
				sent = tt.tamper(tt.body)
			}
			if code := b.put(slot, sent); code/100 != 2 {
				t.Fatalf("PUT: %d", code)
			}
			got := b.call(owner, finishUpload, jsonBody(map[string]any{"uploadId": slot.Upload.ID}))
			if got.code != "failed_precondition" || !strings.Contains(got.message, tt.mentions) {
				t.Errorf("FinishUpload: %s %q, want failed_precondition mentioning %q", got.code, got.message, tt.mentions)
			}
			if again := b.call(owner, finishUpload, jsonBody(map[string]any{"uploadId": slot.Upload.ID})); again.code != "not_found" {
				t.Errorf("the refused upload slot is still there: %s %q", again.code, again.message)
			}
		})
	}
	if got := b.objects(); strings.Join(got, ",") != strings.Join(before, ",") {
		t.Errorf("objects after refused uploads = %v, want only %v", got, before)
	}
	// The release still has no build, so it cannot be published.
	if p := b.call(owner, publish, jsonBody(map[string]any{"releaseId": release.ID})); p.code != "failed_precondition" || !strings.Contains(p.message, "no build") {
		t.Errorf("publishing without a build: %s %q", p.code, p.message)
	}
}

// TestUploadThatNeverArrives covers a PUT that sends fewer bytes than declared, and finishing
// before anything was sent.
func TestUploadThatNeverArrives(t *testing.T) {
	b := setup(t)
	sum := sha256.Sum256(testZip)
	slot, err := b.builds.CreateUpload(context.Background(), b.actor(owner), b.pending.ID, int64(len(testZip)), hex.EncodeToString(sum[:]))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, slot.URL, io.MultiReader(bytes.NewReader(testZip[:10]), errReader{}))
	req.ContentLength = int64(len(testZip))
	if res, err := http.DefaultClient.Do(req); err == nil && res.StatusCode/100 == 2 {
		t.Fatalf("a truncated PUT was accepted: %v", res.Status)
	}
	got := b.call(owner, finishUpload, jsonBody(map[string]any{"uploadId": slot.Upload.ID}))
	if got.code != "failed_precondition" || !strings.Contains(got.message, "nothing was uploaded") {
		t.Errorf("FinishUpload after a truncated PUT: %s %q", got.code, got.message)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestExpiredUpload shows an upload URL stops working when it expires, and the slot with it.
func TestExpiredUpload(t *testing.T) {
	b := setup(t) // upload URLs last one second in this test
	sum := sha256.Sum256(testZip)
	slot, err := b.builds.CreateUpload(context.Background(), b.actor(owner), b.pending.ID, int64(len(testZip)), hex.EncodeToString(sum[:]))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	if code := b.put(slot, testZip); code != http.StatusForbidden {
		t.Errorf("PUT to an expired URL: %d, want 403", code)
	}
	got := b.call(owner, finishUpload, jsonBody(map[string]any{"uploadId": slot.Upload.ID}))
	if got.code != "failed_precondition" || !strings.Contains(got.message, "expired") {
		t.Errorf("FinishUpload of an expired upload: %s %q", got.code, got.message)
	}
	if err := b.builds.PurgeExpiredUploads(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := b.call(owner, finishUpload, jsonBody(map[string]any{"uploadId": slot.Upload.ID})); got.code != "not_found" {
		t.Errorf("after the purge: %s %q, want not_found", got.code, got.message)
	}
}

// TestBannedGameStopsDownloads shows that a ban stops the developer's downloads too, not the
// admins'.
func TestBannedGameStopsDownloads(t *testing.T) {
	b := setup(t)
	if _, err := b.games.AdminSetGameStatus(context.Background(), b.actor(admin), b.game.ID, market.StatusBanned); err != nil {
		t.Fatal(err)
	}
	if got := b.call(owner, getDownload, jsonBody(map[string]any{"gameId": b.game.ID})); got.code != "permission_denied" || !strings.Contains(got.message, "banned") {
		t.Errorf("developer's download of a banned game: %s %q", got.code, got.message)
	}
	if got := b.call(admin, getDownload, jsonBody(map[string]any{"gameId": b.game.ID})); got.code != "ok" {
		t.Errorf("admin's download of a banned game: %s %q", got.code, got.message)
	}
}
