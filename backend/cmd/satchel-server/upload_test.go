package main

import (
	"archive/zip"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"satchel.dev/backend/postgres/pgtest"
	"satchel.dev/shared/nip98"
	"satchel.dev/shared/nostr"
)

// rss reads a process's resident set size and its peak (VmHWM), in bytes.
func rss(t *testing.T, pid int) (now, peak int64) {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			now = kb << 10
		case "VmHWM":
			peak = kb << 10
		}
	}
	return now, peak
}

// bigZip writes a zip of one stored file of about size bytes of pseudo-random data, and
// returns its path, size and sha256.
func bigZip(t *testing.T, size int64) (string, int64, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	zw := zip.NewWriter(io.MultiWriter(f, h))
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "data.bin", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(w, rand.NewChaCha8([32]byte{1}), size); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return path, st.Size(), hex.EncodeToString(h.Sum(nil))
}

// TestUploadMemoryStaysFlat uploads and checks a 2 GiB build through the real server and reads
// the server's memory: builds stream from network to disk and are hashed and checked from disk,
// so its peak RSS grows by well under 64 MiB.
func TestUploadMemoryStaysFlat(t *testing.T) {
	s := startServer(t, []string{"DATABASE_URL=" + pgtest.NewDatabase(t), "SATCHEL_DATA_DIR=" + t.TempDir()}, "--listen", "127.0.0.1:0")
	key, _ := nostr.GenerateKey()
	call := func(procedure, body string) map[string]any {
		t.Helper()
		h, err := nip98.Header(key, "POST", s.url+"/"+procedure, []byte(body), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		code, res := post(t, s.url, procedure, body, h)
		if code != 200 {
			t.Fatalf("%s: %d %v", procedure, code, res)
		}
		return res
	}
	const dev = "satchel.developer.v1.DeveloperService/"
	call(dev+"SetPayoutAddress", `{"lnAddress":"big@`+strings.TrimPrefix(s.url, "http://")+`"}`) // answered by the server itself
	game := call(dev+"CreateGame", `{"slug":"big-game","title":"Big"}`)["game"].(map[string]any)
	release := call(dev+"CreateRelease", `{"gameId":"`+game["id"].(string)+`","version":"1.0.0"}`)["release"].(map[string]any)

	path, size, sum := bigZip(t, 2<<30)
	before, _ := rss(t, s.cmd.Process.Pid)
	slot := call(dev+"CreateUpload", fmt.Sprintf(`{"releaseId":%q,"sizeBytes":%d,"sha256":%q}`, release["id"], size, sum))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	req, _ := http.NewRequest(http.MethodPut, slot["url"].(string), f)
	req.ContentLength = size
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode/100 != 2 {
		t.Fatalf("PUT of 2 GiB: %v %v", res, err)
	}
	finished := call(dev+"FinishUpload", `{"uploadId":"`+slot["uploadId"].(string)+`"}`)
	if b := finished["release"].(map[string]any)["build"].(map[string]any); b["sha256"] != sum {
		t.Fatalf("build = %v", b)
	}
	_, peak := rss(t, s.cmd.Process.Pid)
	t.Logf("server RSS %d MiB before the upload, peak %d MiB", before>>20, peak>>20)
	if growth := peak - before; growth > 64<<20 {
		t.Errorf("the server's peak RSS grew by %d MiB during a 2 GiB upload and check, want under 64 MiB", growth>>20)
	}
}
