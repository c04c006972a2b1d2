// Package blobtest is the behaviour every blob.Store shares, as a test suite each adapter runs
// against a real instance of itself, plus helpers for tests that need objects in a store.
//
// Every request goes through plain net/http, as a client outside the server would send it.
package blobtest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"satchel.dev/backend/blob"
)

// Behaviour is what Run expects where stores are allowed to differ.
type Behaviour struct {
	// ShortBodyStatus and LongBodyStatus are the statuses of a PUT whose body (and
	// Content-Length) is one byte shorter or longer than the size its URL was made for.
	ShortBodyStatus, LongBodyStatus int
	// ExistsStatus is the status of a PUT to a key that holds an object.
	ExistsStatus int
	// MultipleRanges is true if a GET of several ranges answers 206 multipart/byteranges, false
	// if it answers 200 with the whole object (which HTTP allows, and S3 does).
	MultipleRanges bool
	// SignatureParam is the query parameter that holds a URL's signature, to tamper with it.
	SignatureParam string
}

// LargeSize is the size of the object Run streams through a store: 200 MiB.
const LargeSize = 200 << 20

// Run runs the shared behaviour against stores made by newStore, one per subtest (subtests run
// in parallel). newStore registers its own cleanup on t.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store, want Behaviour) {
	tests := []struct {
		name string
		run  func(t *testing.T, s blob.Store, want Behaviour)
	}{
		{"UploadThenOpen", testUploadThenOpen},
		{"UploadOnlyCreates", testUploadOnlyCreates},
		{"Copy", testCopy},
		{"WrongSizeRefused", testWrongSizeRefused},
		{"ExpiredRefused", testExpiredRefused},
		{"TamperedRefused", testTamperedRefused},
		{"Download", testDownload},
		{"Delete", testDelete},
		{"NotFound", testNotFound},
		{"InvalidKeys", testInvalidKeys},
		{"Large", testLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newStore(t), want)
		})
	}
}

func testUploadThenOpen(t *testing.T, s blob.Store, _ Behaviour) {
	for _, size := range []int64{0, 1, 1<<20 + 7} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			key := fmt.Sprintf("builds/release/size-%d.zip", size)
			data := Bytes(uint64(size), size)
			Upload(t, s, key, bytes.NewReader(data), size)

			obj := open(t, s, key)
			defer obj.Close()
			if obj.Size() != size {
				t.Fatalf("Size() = %d, want %d", obj.Size(), size)
			}
			// ReadAt anywhere, including across the end, before and without moving Read.
			for _, off := range []int64{0, size / 2, size - 10, size - 1} {
				if off < 0 {
					continue
				}
				buf := make([]byte, 10)
				n, err := obj.ReadAt(buf, off)
				wantN := min(int64(len(buf)), size-off)
				if int64(n) != wantN || (int64(n) < int64(len(buf)) && err == nil) || (err != nil && err != io.EOF) {
					t.Fatalf("ReadAt(10 bytes, %d) = %d, %v; want %d (io.EOF if short)", off, n, err, wantN)
				}
				if !bytes.Equal(buf[:n], data[off:off+int64(n)]) {
					t.Fatalf("ReadAt(10 bytes, %d) read other bytes than were uploaded", off)
				}
			}
			if n, err := obj.ReadAt(make([]byte, 1), size); n != 0 || err != io.EOF {
				t.Fatalf("ReadAt at the end = %d, %v; want 0, io.EOF", n, err)
			}
			got, err := io.ReadAll(obj)
			if err != nil {
				t.Fatalf("reading: %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("read %d bytes that differ from the %d uploaded", len(got), len(data))
			}
		})
	}
}

// An upload URL only creates: once a body is stored at its key, every PUT to the key is refused,
// through that URL or another, and the object stays as it was. The URL works again once the key
// is free: whoever must keep a URL from storing twice keeps its object in place until it expires.
func testUploadOnlyCreates(t *testing.T, s blob.Store, want Behaviour) {
	const key = "builds/release/upload.zip"
	first := Bytes(1, 300)
	u, h := uploadURL(t, s, key, 300, time.Minute)
	if status, msg := Put(t, u, h, bytes.NewReader(first), 300); status != http.StatusOK {
		t.Fatalf("first PUT: status %d (%s), want 200", status, msg)
	}
	second := Bytes(2, 300)
	other, otherHeader := uploadURL(t, s, key, 300, time.Minute)
	for name, put := range map[string]func() (int, string){
		"through the same URL": func() (int, string) { return Put(t, u, h, bytes.NewReader(second), 300) },
		"through a new URL":    func() (int, string) { return Put(t, other, otherHeader, bytes.NewReader(second), 300) },
	} {
		if status, msg := put(); status != want.ExistsStatus {
			t.Errorf("second PUT %s: status %d (%s), want %d", name, status, msg, want.ExistsStatus)
		}
	}
	if got := ReadAll(t, s, key); !bytes.Equal(got, first) {
		t.Fatalf("after refused PUTs the object has %d bytes that are not the first body's", len(got))
	}

	if err := s.Delete(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	if status, msg := Put(t, u, h, bytes.NewReader(second), 300); status != http.StatusOK {
		t.Errorf("PUT once the key is free again: status %d (%s), want 200", status, msg)
	}
	if got := ReadAll(t, s, key); !bytes.Equal(got, second) {
		t.Errorf("after Delete and a PUT the object has %d bytes that are not the new body's", len(got))
	}
}

// Copy makes a second object that no upload URL reaches: not the URL of the source, which still
// refuses (its object is there), nor, once the source is deleted, the one that could store there
// again. Copy replaces the destination; an Object opened before reads the version it opened or
// fails (S3 pins reads to an ETag), never a mix.
func testCopy(t *testing.T, s blob.Store, want Behaviour) {
	ctx := t.Context()
	const src, dst = "builds/release/upload.zip", "builds/release/final.zip"
	data := Bytes(16, 1000)
	u, h := uploadURL(t, s, src, 1000, time.Minute)
	if status, msg := Put(t, u, h, bytes.NewReader(data), 1000); status != http.StatusOK {
		t.Fatalf("PUT: status %d (%s), want 200", status, msg)
	}
	if err := s.Copy(ctx, src, dst); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if got := ReadAll(t, s, dst); !bytes.Equal(got, data) {
		t.Fatalf("the copy has %d bytes that differ from the %d uploaded", len(got), len(data))
	}
	if status, msg := Put(t, u, h, bytes.NewReader(Bytes(17, 1000)), 1000); status != want.ExistsStatus {
		t.Errorf("PUT to the source after Copy: status %d (%s), want %d", status, msg, want.ExistsStatus)
	}
	if status, msg := Put(t, withKey(t, u, src, dst), h, bytes.NewReader(Bytes(17, 1000)), 1000); status != http.StatusForbidden {
		t.Errorf("PUT to the copy through the source's URL: status %d (%s), want 403", status, msg)
	}
	if err := s.Delete(ctx, src); err != nil {
		t.Fatal(err)
	}
	if status, msg := Put(t, u, h, bytes.NewReader(Bytes(18, 1000)), 1000); status != http.StatusOK {
		t.Errorf("PUT to the deleted source: status %d (%s), want 200", status, msg)
	}
	old := open(t, s, dst)
	defer old.Close()
	if got := ReadAll(t, s, dst); !bytes.Equal(got, data) {
		t.Fatalf("deleting and storing the source again changed the copy")
	}

	if err := s.Copy(ctx, src, dst); err != nil {
		t.Fatalf("Copy over an object: %v", err)
	}
	if got := ReadAll(t, s, dst); !bytes.Equal(got, Bytes(18, 1000)) {
		t.Errorf("Copy over an object: the copy does not hold the new source")
	}
	if got, err := io.ReadAll(old); err == nil && !bytes.Equal(got, data) {
		t.Errorf("an Object opened before Copy replaced it read other bytes than the version opened")
	}

	if err := s.Copy(ctx, "builds/release/missing.zip", "builds/release/x.zip"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Copy of a missing key: %v, want blob.ErrNotFound", err)
	}
	assertNotFound(t, s, "builds/release/x.zip")
}

func testWrongSizeRefused(t *testing.T, s blob.Store, want Behaviour) {
	const size = 1000
	existing := Bytes(3, 500)
	Upload(t, s, "builds/release/existing.zip", bytes.NewReader(existing), 500)
	for _, tc := range []struct {
		name       string
		bodySize   int64
		wantStatus int
	}{
		{"Shorter", size - 1, want.ShortBodyStatus},
		{"Longer", size + 1, want.LongBodyStatus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			newKey := "builds/release/new-" + strings.ToLower(tc.name) + ".zip"
			for _, key := range []string{newKey, "builds/release/existing.zip"} {
				u, h := uploadURL(t, s, key, size, time.Minute)
				status, msg := Put(t, u, h, bytes.NewReader(Bytes(4, tc.bodySize)), tc.bodySize)
				if status != tc.wantStatus {
					t.Errorf("PUT of %d bytes to a URL for %d to %s: status %d (%s), want %d", tc.bodySize, size, key, status, msg, tc.wantStatus)
				}
			}
			assertNotFound(t, s, newKey)
			if got := ReadAll(t, s, "builds/release/existing.zip"); !bytes.Equal(got, existing) {
				t.Errorf("a refused upload changed the object it was to replace")
			}
		})
	}
}

func testExpiredRefused(t *testing.T, s blob.Store, _ Behaviour) {
	const existingKey, newKey = "builds/release/existing.zip", "builds/release/new.zip"
	existing := Bytes(5, 100)
	Upload(t, s, existingKey, bytes.NewReader(existing), 100)
	newURL, newHeader := uploadURL(t, s, newKey, 100, time.Second)
	replaceURL, replaceHeader := uploadURL(t, s, existingKey, 100, time.Second)
	getURL := downloadURL(t, s, existingKey, time.Second, "game.zip")

	// 1 s is the shortest expiry S3 signs; signed times are whole seconds, so wait two.
	time.Sleep(2200 * time.Millisecond)

	if status, msg := Put(t, newURL, newHeader, bytes.NewReader(Bytes(6, 100)), 100); status != http.StatusForbidden {
		t.Errorf("PUT to an expired URL: status %d (%s), want 403", status, msg)
	}
	assertNotFound(t, s, newKey)
	if status, msg := Put(t, replaceURL, replaceHeader, bytes.NewReader(Bytes(6, 100)), 100); status != http.StatusForbidden {
		t.Errorf("PUT replacing an object through an expired URL: status %d (%s), want 403", status, msg)
	}
	if got := ReadAll(t, s, existingKey); !bytes.Equal(got, existing) {
		t.Errorf("an expired upload URL replaced the object")
	}
	if resp := Get(t, getURL, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET of an expired URL: status %d, want 403", resp.StatusCode)
	}
}

func testTamperedRefused(t *testing.T, s blob.Store, want Behaviour) {
	const keyA, keyB, newKey = "builds/release/a.zip", "builds/release/b.zip", "builds/release/new.zip"
	dataA, dataB, dataNew := Bytes(7, 100), Bytes(8, 100), Bytes(9, 100)
	Upload(t, s, keyA, bytes.NewReader(dataA), 100)
	Upload(t, s, keyB, bytes.NewReader(dataB), 100)

	up, h := uploadURL(t, s, newKey, 100, time.Minute)
	put := func(name, u string) {
		t.Helper()
		if status, msg := Put(t, u, h, bytes.NewReader(dataNew), 100); status != http.StatusForbidden {
			t.Errorf("PUT %s: status %d (%s), want 403", name, status, msg)
		}
	}
	put("to another new key", withKey(t, up, newKey, "builds/release/other.zip"))
	put("over an existing key", withKey(t, up, newKey, keyA))
	put("with a changed signature", withSignature(t, up, want.SignatureParam))
	assertNotFound(t, s, newKey)
	assertNotFound(t, s, "builds/release/other.zip")

	down := downloadURL(t, s, keyA, time.Minute, "satchel-game.zip")
	get := func(name, u string) {
		t.Helper()
		if resp := Get(t, u, ""); resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s: status %d, want 403", name, resp.StatusCode)
		}
	}
	get("of another key", withKey(t, down, keyA, keyB))
	get("with a changed signature", withSignature(t, down, want.SignatureParam))
	if !strings.Contains(down, "satchel-game") {
		t.Fatalf("the download URL %s does not hold its filename", down)
	}
	get("with a changed filename", strings.Replace(down, "satchel-game", "satchel-gamf", 1))
	// Neither URL works for the other method.
	get("of an upload URL", up)
	put("to a download URL", down)

	if got := ReadAll(t, s, keyA); !bytes.Equal(got, dataA) {
		t.Errorf("a tampered URL changed %s", keyA)
	}
	// The untampered URLs still work.
	if status, msg := Put(t, up, h, bytes.NewReader(dataNew), 100); status != http.StatusOK {
		t.Errorf("PUT of the untampered URL: status %d (%s), want 200", status, msg)
	}
	if resp := Get(t, down, ""); resp.StatusCode != http.StatusOK || !bytes.Equal(resp.Body, dataA) {
		t.Errorf("GET of the untampered URL: status %d, %d bytes; want 200 and the object", resp.StatusCode, len(resp.Body))
	}
}

func testDownload(t *testing.T, s blob.Store, want Behaviour) {
	const key, size = "builds/release/game.zip", 1000
	data := Bytes(10, size)
	Upload(t, s, key, bytes.NewReader(data), size)
	const filename = "Satchel \"Démo\" game; v1.zip"
	u := downloadURL(t, s, key, time.Minute, filename)

	resp := Get(t, u, "")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(resp.Body, data) {
		t.Fatalf("GET: status %d, %d bytes; want 200 and the %d uploaded", resp.StatusCode, len(resp.Body), size)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/zip" {
		t.Errorf("Content-Type %q, want application/zip", ct)
	}
	disposition, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if err != nil || disposition != "attachment" || params["filename"] != filename {
		t.Errorf("Content-Disposition %q: %q with filename %q (%v); want attachment with %q",
			resp.Header.Get("Content-Disposition"), disposition, params["filename"], err, filename)
	}

	for _, tc := range []struct {
		rangeHeader  string
		from, to     int // bytes [from, to) of data
		contentRange string
	}{
		{"bytes=-10", size - 10, size, "bytes 990-999/1000"},
		{"bytes=100-199", 100, 200, "bytes 100-199/1000"},
		{"bytes=0-0", 0, 1, "bytes 0-0/1000"}, // how a client learns the size
		{"bytes=995-2000", 995, size, "bytes 995-999/1000"},
	} {
		resp := Get(t, u, tc.rangeHeader)
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(resp.Body, data[tc.from:tc.to]) ||
			resp.Header.Get("Content-Range") != tc.contentRange {
			t.Errorf("GET Range %s: status %d, Content-Range %q, %d bytes; want 206, %q and bytes [%d, %d)",
				tc.rangeHeader, resp.StatusCode, resp.Header.Get("Content-Range"), len(resp.Body), tc.contentRange, tc.from, tc.to)
		}
	}
	if resp := Get(t, u, "bytes=1000-"); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("GET Range bytes=1000- of %d bytes: status %d, want 416", size, resp.StatusCode)
	}

	resp = Get(t, u, "bytes=0-9,20-29")
	if want.MultipleRanges {
		got := multipartRanges(t, resp)
		wantParts := []rangePart{{"bytes 0-9/1000", data[0:10]}, {"bytes 20-29/1000", data[20:30]}}
		if diff := cmp.Diff(wantParts, got); diff != "" {
			t.Errorf("GET of two ranges (-want +got):\n%s", diff)
		}
	} else if resp.StatusCode != http.StatusOK || !bytes.Equal(resp.Body, data) {
		t.Errorf("GET of two ranges: status %d, %d bytes; want 200 and the whole object", resp.StatusCode, len(resp.Body))
	}

	if resp := Get(t, downloadURL(t, s, "builds/release/missing.zip", time.Minute, "x.zip"), ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET of a missing key: status %d, want 404", resp.StatusCode)
	}
}

type rangePart struct {
	ContentRange string
	Body         []byte
}

func multipartRanges(t *testing.T, resp *Response) []rangePart {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusPartialContent || err != nil || mediaType != "multipart/byteranges" {
		t.Fatalf("GET of two ranges: status %d, Content-Type %q; want 206 multipart/byteranges", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var parts []rangePart
	r := multipart.NewReader(bytes.NewReader(resp.Body), params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Fatalf("reading multipart/byteranges: %v", err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("reading multipart/byteranges: %v", err)
		}
		parts = append(parts, rangePart{p.Header.Get("Content-Range"), body})
	}
}

func testDelete(t *testing.T, s blob.Store, _ Behaviour) {
	ctx := t.Context()
	const key, sibling = "builds/release/a.zip", "builds/release/b.zip"
	Upload(t, s, key, bytes.NewReader(Bytes(11, 100)), 100)
	Upload(t, s, sibling, bytes.NewReader(Bytes(12, 100)), 100)
	u := downloadURL(t, s, key, time.Minute, "a.zip")

	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	assertNotFound(t, s, key)
	if resp := Get(t, u, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET after Delete: status %d, want 404", resp.StatusCode)
	}
	if got := ReadAll(t, s, sibling); len(got) != 100 {
		t.Errorf("Delete changed another object in the same folder")
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("Delete of a deleted key: %v, want nil", err)
	}
	if err := s.Delete(ctx, "builds/never/x.zip"); err != nil {
		t.Errorf("Delete of a key never stored: %v, want nil", err)
	}
	// Deleting the last object of a folder, then storing there again.
	if err := s.Delete(ctx, sibling); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	again := Bytes(13, 50)
	Upload(t, s, key, bytes.NewReader(again), 50)
	if got := ReadAll(t, s, key); !bytes.Equal(got, again) {
		t.Errorf("upload after Delete: read %d bytes, not the %d uploaded", len(got), len(again))
	}
}

func testNotFound(t *testing.T, s blob.Store, _ Behaviour) {
	const key = "builds/release/upload.zip"
	data := Bytes(14, 100)
	Upload(t, s, key, bytes.NewReader(data), 100)
	// Prefixes of a key, and paths through it, are not objects.
	for _, k := range []string{"builds/release/missing.zip", "builds/release", "builds", "builds/release/upload.zip/x"} {
		assertNotFound(t, s, k)
		if err := s.Delete(t.Context(), k); err != nil {
			t.Errorf("Delete(%q): %v, want nil", k, err)
		}
	}
	if got := ReadAll(t, s, key); !bytes.Equal(got, data) {
		t.Errorf("deleting prefixes of %s changed it", key)
	}
}

// InvalidKeys are keys every Store refuses with blob.ErrInvalidKey.
var InvalidKeys = []string{
	"", ".", "..", "/builds/x.zip", "builds/x.zip/", "builds//x.zip", "./builds/x.zip",
	"builds/./x.zip", "../x.zip", "builds/../x.zip", "builds/..", "builds/.hidden", "Builds/x.zip",
	"builds/x y.zip", "builds/x\x00.zip", "builds\\x.zip", "builds/x%2f.zip", "builds/é.zip",
	"builds/" + strings.Repeat("x", 256), strings.Repeat("x/", 512) + "x",
}

func testInvalidKeys(t *testing.T, s blob.Store, _ Behaviour) {
	ctx := t.Context()
	for _, key := range InvalidKeys {
		_, _, err := s.UploadURL(ctx, key, 10, time.Minute)
		assertInvalid(t, "UploadURL", key, err)
		_, err = s.DownloadURL(ctx, key, time.Minute, "x.zip")
		assertInvalid(t, "DownloadURL", key, err)
		obj, err := s.Open(ctx, key)
		if err == nil {
			obj.Close()
		}
		assertInvalid(t, "Open", key, err)
		assertInvalid(t, "Delete", key, s.Delete(ctx, key))
		assertInvalid(t, "Copy from", key, s.Copy(ctx, key, "builds/x.zip"))
		assertInvalid(t, "Copy to", key, s.Copy(ctx, "builds/x.zip", key))
	}
}

func assertInvalid(t *testing.T, op, key string, err error) {
	t.Helper()
	if !errors.Is(err, blob.ErrInvalidKey) {
		t.Errorf("%s(%.40q): %v, want blob.ErrInvalidKey", op, key, err)
	}
}

// testLarge streams LargeSize bytes from a generator (never held in memory) through the
// upload URL, copies them, and reads the copy back through Open.
func testLarge(t *testing.T, s blob.Store, _ Behaviour) {
	const key, size = "builds/release/large.zip", LargeSize
	u, h := uploadURL(t, s, key, size, 5*time.Minute)
	sent := sha256.New()
	start := time.Now()
	if status, msg := Put(t, u, h, io.TeeReader(Reader(15, size), sent), size); status != http.StatusOK {
		t.Fatalf("PUT of %d MiB: status %d (%s), want 200", size>>20, status, msg)
	}
	uploaded := time.Since(start)

	start = time.Now()
	if err := s.Copy(t.Context(), key, "builds/release/large-copy.zip"); err != nil {
		t.Fatalf("Copy of %d MiB: %v", size>>20, err)
	}
	copied := time.Since(start)

	start = time.Now()
	obj := open(t, s, "builds/release/large-copy.zip")
	defer obj.Close()
	if obj.Size() != size {
		t.Fatalf("Size() = %d, want %d", obj.Size(), size)
	}
	read := sha256.New()
	if n, err := io.Copy(read, obj); err != nil || n != size {
		t.Fatalf("reading back: %d bytes, %v; want %d", n, err, size)
	}
	if !bytes.Equal(read.Sum(nil), sent.Sum(nil)) {
		t.Fatalf("the %d MiB read back differ from those uploaded", size>>20)
	}
	t.Logf("%d MiB: upload %v, copy %v, read back %v", size>>20, uploaded.Round(time.Millisecond),
		copied.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// Reader returns n pseudo-random bytes determined by seed, generated as they are read.
func Reader(seed uint64, n int64) io.Reader {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return io.LimitReader(rand.NewChaCha8(s), n)
}

// Bytes returns the n bytes Reader(seed, n) gives.
func Bytes(seed uint64, n int64) []byte {
	b, err := io.ReadAll(Reader(seed, n))
	if err != nil {
		panic(err)
	}
	return b
}

var client = &http.Client{Timeout: 5 * time.Minute}

// Upload stores size bytes from body at key through s's upload URL, failing t unless the PUT
// answers 200.
func Upload(t testing.TB, s blob.Store, key string, body io.Reader, size int64) {
	t.Helper()
	u, h := uploadURL(t, s, key, size, time.Minute)
	if status, msg := Put(t, u, h, body, size); status != http.StatusOK {
		t.Fatalf("PUT %s: status %d (%s), want 200", key, status, msg)
	}
}

// Put sends body to u with the header h, as Content-Length bytes (-1: chunked), and returns
// the status and the start of the answer's body.
func Put(t testing.TB, u string, h http.Header, body io.Reader, contentLength int64) (int, string) {
	t.Helper()
	if contentLength == 0 {
		body = http.NoBody
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, u, body)
	if err != nil {
		t.Fatalf("PUT %s: %v", u, err)
	}
	req.ContentLength = contentLength
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", u, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	return resp.StatusCode, string(msg)
}

// Response is an answer read whole.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Get sends a GET of u, with a Range header unless rangeHeader is empty.
func Get(t testing.TB, u, rangeHeader string) *Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	if rangeHeader != "" {
		req.Header.Set("Range", rangeHeader)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading: %v", u, err)
	}
	return &Response{resp.StatusCode, resp.Header, body}
}

// ReadAll returns the content of key, read through Open.
func ReadAll(t testing.TB, s blob.Store, key string) []byte {
	t.Helper()
	obj := open(t, s, key)
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	if int64(len(b)) != obj.Size() {
		t.Fatalf("read %d bytes of %s, whose Size() is %d", len(b), key, obj.Size())
	}
	return b
}

func open(t testing.TB, s blob.Store, key string) blob.Object {
	t.Helper()
	obj, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open(%s): %v", key, err)
	}
	return obj
}

func assertNotFound(t testing.TB, s blob.Store, key string) {
	t.Helper()
	obj, err := s.Open(t.Context(), key)
	if err == nil {
		obj.Close()
		t.Errorf("Open(%s) found an object (%d bytes), want blob.ErrNotFound", key, obj.Size())
	} else if !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open(%s): %v, want blob.ErrNotFound", key, err)
	}
}

func uploadURL(t testing.TB, s blob.Store, key string, size int64, expiry time.Duration) (string, http.Header) {
	t.Helper()
	u, h, err := s.UploadURL(t.Context(), key, size, expiry)
	if err != nil {
		t.Fatalf("UploadURL(%s, %d): %v", key, size, err)
	}
	return u, h
}

func downloadURL(t testing.TB, s blob.Store, key string, expiry time.Duration, filename string) string {
	t.Helper()
	u, err := s.DownloadURL(t.Context(), key, expiry, filename)
	if err != nil {
		t.Fatalf("DownloadURL(%s): %v", key, err)
	}
	return u
}

// withKey returns rawURL, whose path ends with key, with other in its place.
func withKey(t testing.TB, rawURL, key, other string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil || !strings.HasSuffix(u.Path, "/"+key) {
		t.Fatalf("URL %s: path does not end with /%s (%v)", rawURL, key, err)
	}
	u.Path = strings.TrimSuffix(u.Path, key) + other
	u.RawPath = ""
	return u.String()
}

// withSignature returns rawURL with the last hex digit of its signature parameter changed.
func withSignature(t testing.TB, rawURL, param string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	sig := u.Query().Get(param)
	if _, err := strconv.ParseUint(sig[max(len(sig)-8, 0):], 16, 64); sig == "" || err != nil {
		t.Fatalf("URL %s: no hex signature in %s", rawURL, param)
	}
	flipped := sig[:len(sig)-1] + map[bool]string{true: "1", false: "0"}[sig[len(sig)-1] == '0']
	return strings.Replace(rawURL, param+"="+sig, param+"="+flipped, 1)
}
