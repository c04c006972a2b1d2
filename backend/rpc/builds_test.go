package rpc_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"satchel.dev/backend/builds"
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
	// Once every slot has expired, the store holds 1.0.0's build and 2.0.0's new build; 2.0.0's
	// first build went when it was replaced, the uploads went with their slots.
	if err := b.builds.PurgeExpiredUploads(context.Background(), time.Now().Add(builds.DefaultFinishWithin+time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := b.objects(); local && (len(got) != 2 || !strings.HasSuffix(got[0], ".build.zip") || !strings.HasSuffix(got[1], ".build.zip")) {
		t.Errorf("after the purge the store holds %v, want the two builds", got)
	}
	if code, body := get(""); code != 200 || !bytes.Equal(body, zipBytes) {
		t.Errorf("download after the purge: %d, %d bytes", code, len(body))
	}
}

// TestFinishedBuildNeverChanges PUTs other bytes of the same size to an upload URL that is
// still within its lifetime, after FinishUpload and again after PublishRelease: each PUT is
// refused, and the download still serves the bytes that hash to the published sha256, on
// either store.
func TestFinishedBuildNeverChanges(t *testing.T) {
	t.Run("local", func(t *testing.T) { finishedBuildNeverChanges(t, setup(t)) })
	t.Run("S3", func(t *testing.T) { finishedBuildNeverChanges(t, setupS3(t)) })
}

func finishedBuildNeverChanges(t *testing.T, b *bundle) {
	ctx := context.Background()
	dev := b.actor(owner)
	release := b.mustR(b.games.CreateRelease(ctx, dev, b.game.ID, "3.0.0", ""))
	good := makeZip(map[string]string{"satchel.toml": "x", "bin/game": strings.Repeat("A", 100)})
	evil := makeZip(map[string]string{"satchel.toml": "x", "bin/game": strings.Repeat("B", 100)})
	if len(evil) != len(good) {
		t.Fatalf("the two zips differ in size (%d, %d): the URL is signed for one size", len(good), len(evil))
	}
	sum := sha256.Sum256(good)
	slot := b.send(dev, release.ID, good)
	b.finish(slot)
	if code := b.put(slot, evil); code/100 == 2 {
		t.Errorf("PUT to the upload URL after FinishUpload: %d, want a refusal", code)
	}
	b.mustR(b.games.PublishRelease(ctx, dev, release.ID))
	if code := b.put(slot, evil); code/100 == 2 {
		t.Errorf("PUT to the upload URL after PublishRelease: %d, want a refusal", code)
	}

	d := b.call(owner, getDownload, jsonBody(map[string]any{"gameId": b.game.ID, "releaseId": release.ID}))
	if d.code != "ok" || d.body["sha256"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("GetDownload: %s %s %v", d.code, d.message, d.body)
	}
	code, body := b.download(d.body["url"].(string))
	if code != http.StatusOK {
		t.Fatalf("download: %d", code)
	}
	served := sha256.Sum256(body)
	if got := hex.EncodeToString(served[:]); got != d.body["sha256"] {
		t.Errorf("the download hashes to %s, the published sha256 is %s", got, d.body["sha256"])
	}
}

// TestRefusedUploadsLeaveNothing sends uploads that fail each check; each is refused with
// FailedPrecondition naming the check, closes its slot and kills its URL, and leaves nothing
// once its slot has expired.
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
	var uploaded []string
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
			uploaded = append(uploaded, slot.Upload.ObjectKey)
			got := b.call(owner, finishUpload, jsonBody(map[string]any{"uploadId": slot.Upload.ID}))
			if got.code != "failed_precondition" || !strings.Contains(got.message, tt.mentions) {
				t.Errorf("FinishUpload: %s %q, want failed_precondition mentioning %q", got.code, got.message, tt.mentions)
			}
			if again := b.call(owner, finishUpload, jsonBody(map[string]any{"uploadId": slot.Upload.ID})); again.code != "not_found" {
				t.Errorf("the refused upload slot is still open: %s %q", again.code, again.message)
			}
			if code := b.put(slot, tt.body); code != http.StatusConflict {
				t.Errorf("PUT to the refused upload's URL: %d, want 409", code)
			}
		})
	}
	// Only the refused uploads are left, which keep their URLs dead, until their slots expire.
	want := append(slices.Clone(before), uploaded...)
	for i := range want {
		want[i] = filepath.FromSlash(want[i])
	}
	slices.Sort(want)
	if got := b.objects(); !slices.Equal(got, want) {
		t.Errorf("objects after refused uploads = %v, want %v", got, want)
	}
	if err := b.builds.PurgeExpiredUploads(context.Background(), time.Now().Add(builds.DefaultFinishWithin+time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, key := range uploaded {
		if slices.Contains(b.objects(), filepath.FromSlash(key)) {
			t.Errorf("the refused upload %s is still there after its slot expired", key)
		}
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

// TestExpiredUpload shows an upload URL stops taking a PUT when it expires, while its slot,
// whose PUT may still be streaming, can be finished for longer; and that the purge forgets
// slots once they expire.
func TestExpiredUpload(t *testing.T) {
	b := setup(t) // upload URLs last expiredUploadExpiry in this test
	dev := b.actor(owner)
	sum := sha256.Sum256(testZip)
	late, err := b.builds.CreateUpload(context.Background(), dev, b.pending.ID, int64(len(testZip)), hex.EncodeToString(sum[:]))
	if err != nil {
		t.Fatal(err)
	}
	inTime := b.send(dev, b.pending.ID, testZip)
	// The URL says when it expires (whole seconds); the store refuses it once the clock is past.
	u, err := url.Parse(late.URL)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := strconv.ParseInt(u.Query().Get("exp"), 10, 64)
	if err != nil {
		t.Fatalf("the upload URL %s names no expiry: %v", late.URL, err)
	}
	waitFor(t, func() bool { return time.Now().Unix() > exp })
	if code := b.put(late, testZip); code != http.StatusForbidden {
		t.Errorf("PUT to an expired URL: %d, want 403", code)
	}
	got := b.call(owner, finishUpload, jsonBody(map[string]any{"uploadId": late.Upload.ID}))
	if got.code != "failed_precondition" || !strings.Contains(got.message, "nothing was uploaded") {
		t.Errorf("FinishUpload of an upload whose URL expired unused: %s %q", got.code, got.message)
	}
	if got := b.call(owner, finishUpload, jsonBody(map[string]any{"uploadId": inTime.Upload.ID})); got.code != "ok" {
		t.Errorf("FinishUpload of an upload sent in time, after its URL expired: %s %q", got.code, got.message)
	}
	if err := b.builds.PurgeExpiredUploads(context.Background(), time.Now().Add(builds.DefaultFinishWithin+time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := b.call(owner, finishUpload, jsonBody(map[string]any{"uploadId": b.upload.Upload.ID})); got.code != "not_found" {
		t.Errorf("an open upload after its slot expired and was purged: %s %q, want not_found", got.code, got.message)
	}
	if d := b.call(owner, getDownload, jsonBody(map[string]any{"gameId": b.game.ID, "releaseId": b.pending.ID})); d.code != "ok" || d.body["sha256"] != hex.EncodeToString(sum[:]) {
		t.Errorf("the build finished before the purge: %s %q %v", d.code, d.message, d.body)
	}
}

// TestCrashBetweenCopyAndCommit stands for a server that died in FinishUpload after copying the
// upload to its build key, before attaching it: a retry replaces the copy and checks it again,
// and a slot never finished has its copy deleted with it when it expires.
func TestCrashBetweenCopyAndCommit(t *testing.T) {
	b := setup(t)
	dev := b.actor(owner)
	buildPath := func(slot builds.UploadSlot) string {
		return filepath.Join(b.blobDir, "builds", slot.Upload.ReleaseID, slot.Upload.ID+".build.zip")
	}
	// A copy left by the crash: other bytes than the upload, as if it were damaged.
	retried := b.send(dev, b.pending.ID, testZip)
	if err := os.WriteFile(buildPath(retried), []byte("a damaged copy"), 0o600); err != nil {
		t.Fatal(err)
	}
	b.finish(retried)
	d := b.call(owner, getDownload, jsonBody(map[string]any{"gameId": b.game.ID, "releaseId": b.pending.ID}))
	if d.code != "ok" {
		t.Fatalf("GetDownload: %s %q", d.code, d.message)
	}
	if code, body := b.download(d.body["url"].(string)); code != http.StatusOK || !bytes.Equal(body, testZip) {
		t.Errorf("download after a retried FinishUpload: %d, %d bytes; want the upload", code, len(body))
	}

	// The fixture's open upload, never finished, with the copy a crashed FinishUpload left.
	if err := os.Link(filepath.Join(b.blobDir, filepath.FromSlash(b.upload.Upload.ObjectKey)), buildPath(b.upload)); err != nil {
		t.Fatal(err)
	}
	if err := b.builds.PurgeExpiredUploads(context.Background(), time.Now().Add(builds.DefaultFinishWithin+time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{buildPath(b.upload), filepath.Join(b.blobDir, filepath.FromSlash(b.upload.Upload.ObjectKey))} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is still there after its slot expired (%v)", p, err)
		}
	}
	if code, body := b.download(d.body["url"].(string)); code != http.StatusOK || !bytes.Equal(body, testZip) {
		t.Errorf("download after the purge: %d, %d bytes; want the build", code, len(body))
	}
}

// download fetches the URL u, as a launcher would, and returns the status and body.
func (b *bundle) download(u string) (int, []byte) {
	b.t.Helper()
	res, err := http.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return res.StatusCode, body
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
