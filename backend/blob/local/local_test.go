package local_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"satchel.dev/backend/blob"
	"satchel.dev/backend/blob/blobtest"
	"satchel.dev/backend/blob/local"
)

var secret = bytes.Repeat([]byte("s"), local.MinSecretLen)

type testBundle struct {
	store *local.Store
	dir   string
	url   string // the server's base URL
}

// setup starts a store in a fresh directory, served as the server mounts it.
func setup(t *testing.T) *testBundle {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "blobs")
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s, err := local.New(dir, secret, srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	mux.Handle(local.PathPrefix, s.Handler())
	return &testBundle{store: s, dir: dir, url: srv.URL}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	blobtest.Run(t, func(t *testing.T) blob.Store { return setup(t).store }, blobtest.Behaviour{
		ShortBodyStatus: http.StatusBadRequest,
		LongBodyStatus:  http.StatusRequestEntityTooLarge,
		ExistsStatus:    http.StatusConflict,
		MultipleRanges:  true,
		SignatureParam:  "sig",
	})
}

// listDir returns every path below dir, with its mode.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		paths = append(paths, fmt.Sprintf("%s %v", rel, info.Mode()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

func TestFilesArePrivate(t *testing.T) {
	b := setup(t)
	blobtest.Upload(t, b.store, "builds/r/u.zip", strings.NewReader("zip"), 3)
	want := []string{
		". drwx------",
		"builds drwx------",
		"builds/r drwx------",
		"builds/r/u.zip -rw-------",
	}
	if got := listDir(t, b.dir); !slices.Equal(got, want) {
		t.Errorf("directory holds %q, want %q", got, want)
	}
}

// A body sent chunked, without Content-Length, is counted as it streams.
func TestChunkedBodyOfWrongSize(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		bodySize   int64
		wantStatus int
	}{
		{99, http.StatusBadRequest},
		{101, http.StatusRequestEntityTooLarge},
		{10 << 20, http.StatusRequestEntityTooLarge},
		{100, http.StatusOK},
	} {
		u, h, err := b.store.UploadURL(t.Context(), "builds/r/u.zip", 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		// io.MultiReader hides the size from net/http, which then sends the body chunked.
		body := io.MultiReader(blobtest.Reader(1, tc.bodySize))
		if status, msg := blobtest.Put(t, u, h, body, -1); status != tc.wantStatus {
			t.Errorf("chunked PUT of %d bytes to a URL for 100: status %d (%s), want %d", tc.bodySize, status, msg, tc.wantStatus)
		}
		if tc.wantStatus != http.StatusOK {
			if got := listDir(t, b.dir); !slices.Equal(got, []string{". drwx------"}) {
				t.Errorf("after a refused chunked PUT of %d bytes the directory holds %q", tc.bodySize, got)
			}
		}
	}
}

// A client that goes away mid-upload leaves nothing behind.
func TestInterruptedUpload(t *testing.T) {
	t.Parallel()
	b := setup(t)
	u, _, err := b.store.UploadURL(t.Context(), "builds/r/u.zip", 1<<20, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	conn, err := net.Dial("tcp", pu.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", pu.RequestURI(), pu.Host, 1<<20)
	conn.Write(blobtest.Bytes(1, 1<<19))
	// Wait until the temporary file exists, so the upload really is under way.
	waitFor(t, "a temporary file", func() bool { return len(listDir(t, b.dir)) == 2 })
	conn.Close()

	waitFor(t, "the temporary file to go", func() bool { return len(listDir(t, b.dir)) == 1 })
	if _, err := b.store.Open(t.Context(), "builds/r/u.zip"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open after an interrupted upload: %v, want blob.ErrNotFound", err)
	}
}

// A client that half-closes with its body short is refused 400, not stored.
func TestTruncatedBody(t *testing.T) {
	b := setup(t)
	u, _, err := b.store.UploadURL(t.Context(), "builds/r/u.zip", 1000, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	conn, err := net.Dial("tcp", pu.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n\r\n", pu.RequestURI(), pu.Host)
	conn.Write(blobtest.Bytes(1, 500))
	conn.(*net.TCPConn).CloseWrite()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("PUT of 500 of 1000 bytes, then EOF: status %d, want 400", resp.StatusCode)
	}
	if got := listDir(t, b.dir); !slices.Equal(got, []string{". drwx------"}) {
		t.Errorf("after a truncated upload the directory holds %q", got)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
	}
}

// Refused uploads create nothing, not even a folder or a temporary file; refusals come with
// a short plain-text reason.
func TestRefusalsTouchNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	up, _, err := b.store.UploadURL(ctx, "builds/r/u.zip", 3, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	expired, _, err := b.store.UploadURL(ctx, "builds/r/u.zip", 3, time.Nanosecond)
	if err != nil {
		t.Fatal(err)
	}
	other, err := local.New(t.TempDir(), bytes.Repeat([]byte("o"), local.MinSecretLen), b.url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	foreign, _, err := other.UploadURL(ctx, "builds/r/u.zip", 3, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Links expire in whole seconds of the real clock (no clock to inject): sleep past the
	// nanosecond link's whole second.
	time.Sleep(1100 * time.Millisecond)
	for _, tc := range []struct {
		name, url  string
		wantStatus int
		wantBody   string
	}{
		{"expired", expired, http.StatusForbidden, "blob: link expired\n"},
		{"signed by another secret", foreign, http.StatusForbidden, "blob: invalid signature\n"},
		{"with another size", strings.Replace(up, "size=3", "size=4", 1), http.StatusForbidden, "blob: invalid signature\n"},
		{"without signature", strings.Split(up, "?")[0] + "?size=3", http.StatusForbidden, "blob: missing or malformed signature\n"},
		{"without size", strings.Replace(up, "size=3", "", 1), http.StatusForbidden, "blob: missing or malformed size\n"},
		{"with an invalid key", strings.Replace(up, "u.zip", "U.zip", 1), http.StatusBadRequest, "blob: invalid key\n"},
	} {
		size := int64(3)
		if strings.Contains(tc.url, "size=4") {
			size = 4
		}
		req, _ := http.NewRequest(http.MethodPut, tc.url, strings.NewReader(strings.Repeat("z", int(size))))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.wantStatus || string(body) != tc.wantBody || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("PUT %s: %d %q (%s), want %d %q in plain text", tc.name, resp.StatusCode, body, resp.Header.Get("Content-Type"), tc.wantStatus, tc.wantBody)
		}
	}
	if got := listDir(t, b.dir); !slices.Equal(got, []string{". drwx------"}) {
		t.Errorf("after refused uploads the directory holds %q", got)
	}
}

func TestPathsOutsideTheStore(t *testing.T) {
	b := setup(t)
	handler := b.store.Handler()
	for _, p := range []string{
		"/blob/../secret", "/blob/builds/../../secret", "/blob//etc/passwd", "/blob/./x.zip",
		"/blob/builds\\..\\x.zip", "/blob/", "/blob/builds/x.zip/",
	} {
		for _, method := range []string{http.MethodGet, http.MethodPut} {
			req := httptest.NewRequest(method, "/blob/x?exp=1&sig=00", strings.NewReader("x"))
			req.URL.Path = p // as a server without path cleaning would pass it
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("%s %q: status %d, want 400", method, p, rec.Code)
			}
		}
	}
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/other/x.zip", http.StatusNotFound},
		{http.MethodPost, "/blob/x.zip", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/blob/x.zip", http.StatusMethodNotAllowed},
	} {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.want {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, rec.Code, tc.want)
		}
	}
}

// A symbolic link planted in the directory does not lead out of it.
func TestSymlinkOutOfTheStore(t *testing.T) {
	b := setup(t)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.zip"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(b.dir, "builds")); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if obj, err := b.store.Open(ctx, "builds/secret.zip"); err == nil {
		obj.Close()
		t.Errorf("Open through a symlink out of the store succeeded")
	}
	u, err := b.store.DownloadURL(ctx, "builds/secret.zip", time.Minute, "x.zip")
	if err != nil {
		t.Fatal(err)
	}
	if resp := blobtest.Get(t, u, ""); resp.StatusCode == http.StatusOK || bytes.Contains(resp.Body, []byte("secret")) {
		t.Errorf("GET through a symlink out of the store: %d %q", resp.StatusCode, resp.Body)
	}
	up, h, err := b.store.UploadURL(ctx, "builds/new.zip", 3, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := blobtest.Put(t, up, h, strings.NewReader("new"), 3); status == http.StatusOK {
		t.Errorf("PUT through a symlink out of the store succeeded")
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Errorf("the folder outside the store holds %d files, want 1", len(entries))
	}
	if err := b.store.Delete(ctx, "builds/secret.zip"); err == nil {
		if _, err := os.Stat(filepath.Join(outside, "secret.zip")); err != nil {
			t.Errorf("Delete through a symlink removed a file outside the store")
		}
	}
}

func TestHeadAndFilename(t *testing.T) {
	b := setup(t)
	blobtest.Upload(t, b.store, "builds/r/u.zip", strings.NewReader("0123456789"), 10)
	for _, filename := range []string{"game.zip", "a\r\nSet-Cookie: x=y.zip", "ünï \"quoted\".zip", ""} {
		u, err := b.store.DownloadURL(t.Context(), "builds/r/u.zip", time.Minute, filename)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Head(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.ContentLength != 10 {
			t.Errorf("HEAD: %d, Content-Length %d; want 200, 10", resp.StatusCode, resp.ContentLength)
		}
		if _, ok := resp.Header["Set-Cookie"]; ok {
			t.Errorf("the filename %q injected a header", filename)
		}
		cd := resp.Header.Get("Content-Disposition")
		if filename == "" {
			if cd != "attachment" {
				t.Errorf("Content-Disposition without filename: %q, want attachment", cd)
			}
			continue
		}
		if got := blobtest.Get(t, u, "").Header.Get("Content-Disposition"); got != cd || cd != blob.ContentDisposition(filename) {
			t.Errorf("Content-Disposition for %q: HEAD %q, GET %q, want %q", filename, cd, got, blob.ContentDisposition(filename))
		}
	}
}

func TestNewRemovesStaleTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	stale, fresh := filepath.Join(dir, ".upload-stale"), filepath.Join(dir, ".upload-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-25 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	s, err := local.New(dir, secret, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a temporary file from 25 hours ago is still there (%v)", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh temporary file, maybe of an upload under way, was removed: %v", err)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		secret  []byte
		baseURL string
	}{
		{"short secret", []byte("short"), "http://localhost"},
		{"relative base URL", secret, "/satchel"},
		{"base URL with query", secret, "http://localhost/?a=b"},
		{"ftp base URL", secret, "ftp://localhost"},
	} {
		if s, err := local.New(t.TempDir(), tc.secret, tc.baseURL); err == nil {
			s.Close()
			t.Errorf("New with %s: no error", tc.name)
		}
	}
}

func TestUploadURLRefuses(t *testing.T) {
	b := setup(t)
	if _, _, err := b.store.UploadURL(t.Context(), "builds/x.zip", -1, time.Minute); err == nil {
		t.Errorf("UploadURL of -1 bytes: no error")
	}
	if _, _, err := b.store.UploadURL(t.Context(), "builds/x.zip", 1, 0); err == nil {
		t.Errorf("UploadURL with zero expiry: no error")
	}
	// Local takes objects larger than one S3 PUT.
	if _, _, err := b.store.UploadURL(t.Context(), "builds/x.zip", blob.MaxSingleUploadSize+1, time.Minute); err != nil {
		t.Errorf("UploadURL of more than 5 GiB: %v", err)
	}
}

// PUTs racing to one key store exactly one body: the others answer 409, whichever finishes
// first, and leave no temporary file behind.
func TestConcurrentPutsStoreOne(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Bodies under 256 KiB: the server reads them whole even when it answers before reading.
	const key, n, size = "builds/r/u.zip", 8, 64 << 10
	u, _, err := b.store.UploadURL(t.Context(), key, size, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	start := make(chan struct{})
	type result struct {
		status int
		err    error
	}
	results := make(chan result, n)
	for i := range n {
		go func() {
			<-start
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, u, bytes.NewReader(blobtest.Bytes(uint64(i), size)))
			if err != nil {
				results <- result{err: err}
				return
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				results <- result{err: err}
				return
			}
			resp.Body.Close()
			results <- result{status: resp.StatusCode}
		}()
	}
	close(start)
	count := map[int]int{}
	for range n {
		r := <-results
		if r.err != nil {
			t.Fatalf("PUT: %v", r.err)
		}
		count[r.status]++
	}
	if count[http.StatusOK] != 1 || count[http.StatusConflict] != n-1 {
		t.Errorf("%d racing PUTs answered %v, want one 200 and %d 409", n, count, n-1)
	}
	got := blobtest.ReadAll(t, b.store, key)
	stored := -1
	for i := range n {
		if bytes.Equal(got, blobtest.Bytes(uint64(i), size)) {
			stored = i
		}
	}
	if stored < 0 {
		t.Errorf("the stored object is none of the bodies sent")
	}
	if got := listDir(t, b.dir); !slices.Equal(got, []string{". drwx------", "builds drwx------", "builds/r drwx------", "builds/r/u.zip -rw-------"}) {
		t.Errorf("after racing PUTs the directory holds %q", got)
	}
}

// TestStrongETag: a download carries a strong ETag; a GET with it in If-None-Match answers 304,
// and a resumed GET with it in If-Range gets the range asked for.
func TestStrongETag(t *testing.T) {
	b := setup(t)
	blobtest.Upload(t, b.store, "builds/r/e.zip", strings.NewReader("0123456789"), 10)
	u, err := b.store.DownloadURL(t.Context(), "builds/r/e.zip", time.Minute, "game.zip")
	if err != nil {
		t.Fatal(err)
	}
	etag := blobtest.Get(t, u, "").Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || len(etag) < 3 {
		t.Fatalf("ETag %q, want a strong one", etag)
	}
	for _, h := range []struct {
		name, value string
		status      int
	}{
		{"If-None-Match", etag, http.StatusNotModified},
		{"If-Range", etag, http.StatusPartialContent},
	} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set(h.name, h.value)
		req.Header.Set("Range", "bytes=5-")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != h.status {
			t.Errorf("GET with %s: %d, want %d", h.name, resp.StatusCode, h.status)
		}
	}
}
