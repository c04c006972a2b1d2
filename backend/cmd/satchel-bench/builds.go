package main

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"satchel.dev/shared/nip98"
	"satchel.dev/shared/nostr"
)

// benchBuilds uploads and downloads a 1 GiB build through the server with curl, and moves the
// same file with curl to and from a plain static file server, and compares the throughputs.
// Each upload starts after a sync(2), so that none pays for the writeback of the one before,
// and each side uploads twice, in the order static, satchel, satchel, static, its better run
// counting: neither gains from going first. It prints every run too: on a virtual machine that
// gives free memory back to its host, a later run may write into page cache that costs more to
// touch (see the README's figures).
func benchBuilds(ctx context.Context, s *server, dir string) error {
	zipPath, size, sum, err := writeBigZip(dir, 1<<30)
	if err != nil {
		return err
	}
	defer os.Remove(zipPath)

	static, err := startStaticServer(filepath.Join(dir, "static"))
	if err != nil {
		return err
	}
	defer static.Close()
	staticURL := "http://" + static.Addr().String() + "/build.zip"
	staticFirst, err := upload(ctx, zipPath, staticURL)
	if err != nil {
		return err
	}
	baseDown, err := curlSpeed(ctx, "download", staticURL)
	if err != nil {
		return err
	}

	dev, err := newDeveloper(ctx, s.url)
	if err != nil {
		return err
	}
	releaseID, gameID, err := dev.release(ctx, "bench-build", "Bench build")
	if err != nil {
		return err
	}
	var slot struct {
		UploadID string `json:"uploadId"`
		URL      string `json:"url"`
	}
	before, _, err := rss(s.cmd.Process.Pid)
	if err != nil {
		return err
	}
	var ups []float64
	for range 2 { // two slots of the release: the second replaces the first
		if err := dev.call(ctx, "satchel.developer.v1.DeveloperService/CreateUpload",
			map[string]any{"releaseId": releaseID, "sizeBytes": size, "sha256": sum}, &slot); err != nil {
			return err
		}
		bps, err := upload(ctx, zipPath, slot.URL)
		if err != nil {
			return err
		}
		ups = append(ups, bps)
	}
	up := max(ups[0], ups[1])
	_, peak, err := rss(s.cmd.Process.Pid)
	if err != nil {
		return err
	}
	again, err := upload(ctx, zipPath, staticURL)
	if err != nil {
		return err
	}
	baseUp := max(staticFirst, again)
	start := time.Now()
	if err := dev.call(ctx, "satchel.developer.v1.DeveloperService/FinishUpload", map[string]any{"uploadId": slot.UploadID}, nil); err != nil {
		return err
	}
	finish := time.Since(start)
	_, peakFinish, err := rss(s.cmd.Process.Pid)
	if err != nil {
		return err
	}
	var d struct {
		URL string `json:"url"`
	}
	if err := dev.call(ctx, "satchel.library.v1.LibraryService/GetDownload", map[string]any{"gameId": gameID, "releaseId": releaseID}, &d); err != nil {
		return err
	}
	down, err := curlSpeed(ctx, "download", d.URL)
	if err != nil {
		return err
	}

	mib := func(bps float64) string { return fmt.Sprintf("%.0f MiB/s", bps/(1<<20)) }
	fmt.Printf("builds: a %d MiB zip over loopback with curl (goal: at least 0.8 of the static server)\n", size>>20)
	fmt.Printf("%-34s %14s %14s %8s\n", "", "satchel", "static server", "ratio")
	fmt.Printf("%-34s %14s %14s %8.2f\n", "upload (PUT the URL, best of 2)", mib(up), mib(baseUp), up/baseUp)
	fmt.Printf("%-34s %14s %14s %8.2f\n", "download (GET the signed URL)", mib(down), mib(baseDown), down/baseDown)
	fmt.Printf("uploads in the order run: static %s, satchel %s, satchel %s, static %s\n", mib(staticFirst), mib(ups[0]), mib(ups[1]), mib(again))
	fmt.Printf("FinishUpload (size, sha256, zip checks, manifest) took %v: %s\n", finish.Round(time.Millisecond), mib(float64(size)/finish.Seconds()))
	fmt.Printf("server RSS: %d MiB before the upload, peak %d MiB after it, %d MiB after the checks\n", before>>20, peak>>20, peakFinish>>20)
	return nil
}

// writeBigZip writes a zip holding one stored file of size pseudo-random bytes.
func writeBigZip(dir string, size int64) (path string, n int64, sum string, err error) {
	path = filepath.Join(dir, "build.zip")
	f, err := os.Create(path)
	if err != nil {
		return "", 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	zw := zip.NewWriter(bw)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "game.bin", Method: zip.Store})
	if err != nil {
		return "", 0, "", err
	}
	if _, err := io.CopyN(w, rand.NewChaCha8([32]byte{7}), size); err != nil {
		return "", 0, "", err
	}
	if err := zw.Close(); err != nil {
		return "", 0, "", err
	}
	if err := bw.Flush(); err != nil {
		return "", 0, "", err
	}
	st, err := f.Stat()
	if err != nil {
		return "", 0, "", err
	}
	return path, st.Size(), hex.EncodeToString(h.Sum(nil)), nil
}

// startStaticServer serves dir: PUT writes a file, GET serves it (with Range).
func startStaticServer(dir string) (net.Listener, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	files := http.FileServer(http.Dir(dir))
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut {
			files.ServeHTTP(w, r)
			return
		}
		f, err := os.Create(filepath.Join(dir, filepath.Base(r.URL.Path)))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer f.Close()
		if _, err := io.Copy(f, r.Body); err != nil {
			http.Error(w, err.Error(), 500)
		}
	}))
	return ln, nil
}

// upload PUTs the file at path to url with curl, after a sync(2), and returns its speed in
// bytes/s.
func upload(ctx context.Context, path, url string) (float64, error) {
	syscall.Sync()
	return curlSpeed(ctx, "upload", "-T", path, url)
}

// curlSpeed runs curl and returns its average speed in bytes/s (what: upload or download).
func curlSpeed(ctx context.Context, what string, args ...string) (float64, error) {
	args = append([]string{"-sS", "-f", "-o", "/dev/null", "-w", "%{speed_" + what + "}"}, args...)
	out, err := exec.CommandContext(ctx, "curl", args...).Output()
	if err != nil {
		return 0, fmt.Errorf("curl %s: %w", strings.Join(args, " "), err)
	}
	return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
}

// rss reads a process's resident set size and its peak so far, in bytes.
func rss(pid int) (now, peak int64, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, _ := strings.Cut(line, ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			now = kb << 10
		case "VmHWM":
			peak = kb << 10
		}
	}
	return now, peak, nil
}

// developer calls the API as a developer with a fresh key.
type developer struct {
	base string
	key  nostr.SecretKey
}

func newDeveloper(ctx context.Context, base string) (*developer, error) {
	key, err := nostr.GenerateKey()
	if err != nil {
		return nil, err
	}
	d := &developer{base: base, key: key}
	// The server checks the address: with test money it serves one itself (payouts.DevLNURLHandler).
	addr := "bench@" + strings.TrimPrefix(base, "http://")
	return d, d.call(ctx, "satchel.developer.v1.DeveloperService/SetPayoutAddress", map[string]any{"lnAddress": addr}, nil)
}

// release creates a game and its release 1.0.0, returning their ids.
func (d *developer) release(ctx context.Context, slug, title string) (releaseID, gameID string, err error) {
	var g struct {
		Game struct {
			ID string `json:"id"`
		} `json:"game"`
	}
	if err := d.call(ctx, "satchel.developer.v1.DeveloperService/CreateGame", map[string]any{"slug": slug, "title": title}, &g); err != nil {
		return "", "", err
	}
	var r struct {
		Release struct {
			ID string `json:"id"`
		} `json:"release"`
	}
	err = d.call(ctx, "satchel.developer.v1.DeveloperService/CreateRelease", map[string]any{"gameId": g.Game.ID, "version": "1.0.0"}, &r)
	return r.Release.ID, g.Game.ID, err
}

// call makes a signed Connect JSON call and decodes the answer into out (if not nil).
func (d *developer) call(ctx context.Context, procedure string, in, out any) error {
	return signedCall(ctx, d.key, d.base, procedure, in, out)
}

// signedCall makes a Connect JSON call, signed with key unless key is nil.
func signedCall(ctx context.Context, key nostr.Signer, base, procedure string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/"+procedure, strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != nil {
		h, err := nip98.Header(key, http.MethodPost, req.URL.String(), body, time.Now())
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", h)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", procedure, raw)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}
