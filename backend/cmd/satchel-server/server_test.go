package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"satchel.dev/backend/demo"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/postgres/pgtest"
	"satchel.dev/shared/nip98"
	"satchel.dev/shared/nostr"
)

func TestMain(m *testing.M) { pgtest.Main(m, postgres.Migrate) }

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// serverBinary builds satchel-server, and beside it the demo game program, once per test run:
// these tests drive the real binaries.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "satchel-server-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "satchel-server")
		out, err := exec.Command("go", "build", "-o", dir+"/", ".", "../satchel-demo-game").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building satchel-server: %v\n%s", buildErr, binPath)
	}
	return binPath
}

type process struct {
	cmd  *exec.Cmd
	url  string
	done chan error
	logs *strings.Builder
	mu   *sync.Mutex
}

var servingLine = regexp.MustCompile(`serving on (\S+) `)

// startServer runs satchel-server with exactly env (nothing inherited but PATH and HOME) and
// waits until it prints its URL.
func startServer(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(serverBinary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &process{cmd: cmd, done: make(chan error, 1), logs: &strings.Builder{}, mu: &sync.Mutex{}}
	cmd.Stderr = lockedWriter{s}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			<-s.done
		}
	})
	select {
	case s.url = <-urls:
		return s
	case err := <-s.done:
		t.Fatalf("satchel-server exited before serving: %v\n%s", err, s.log())
	case <-time.After(90 * time.Second):
		t.Fatalf("satchel-server did not start in 90s\n%s", s.log())
	}
	return nil
}

type lockedWriter struct{ s *process }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.logs.Write(p)
}

func (s *process) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// stop sends SIGTERM and returns the exit error.
func (s *process) stop(t *testing.T) error {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("satchel-server did not stop in 60s\n%s", s.log())
	}
	return nil
}

// post makes a Connect JSON call to base, optionally with an Authorization header.
func post(t *testing.T, base, procedure, body, auth string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/"+procedure, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

func slugs(body map[string]any) []string {
	var out []string
	games, _ := body["games"].([]any)
	for _, g := range games {
		out = append(out, g.(map[string]any)["slug"].(string))
	}
	return out
}

// TestPrivateClusterDemoAndRestart runs the server as `make run` does: no DATABASE_URL, a data
// dir, the demo catalog. The store answers over Connect's JSON protocol; SIGTERM stops the server
// and its cluster cleanly; a second start reuses the data without loading the demo twice.
func TestPrivateClusterDemoAndRestart(t *testing.T) {
	dataDir := t.TempDir()
	args := []string{"serve", "--demo", "--listen", "127.0.0.1:0", "--data-dir", dataDir}
	var first []string
	for run := 1; run <= 2; run++ {
		s := startServer(t, nil, args...)
		code, body := post(t, s.url, "satchel.catalog.v1.CatalogService/ListGames", "{}", "")
		got := slugs(body)
		if code != 200 || len(got) < 3 || got[0] != "lantern-drift" {
			t.Fatalf("run %d: ListGames = %d %v, want the demo catalog with the featured game first", run, code, body)
		}
		if run == 1 {
			first = got
			checkDemoDownload(t, s.url, body)
			checkDemoPayout(t, s.url, body)
		} else if strings.Join(got, ",") != strings.Join(first, ",") {
			t.Errorf("second run lists %v, first listed %v", got, first)
		}
		for _, path := range []string{"/healthz", "/readyz"} {
			res, err := http.Get(s.url + path)
			if err != nil || res.StatusCode != 200 {
				t.Errorf("run %d: GET %s = %v %v", run, path, res, err)
			}
		}
		if err := s.stop(t); err != nil {
			t.Fatalf("run %d: exit after SIGTERM: %v\n%s", run, err, s.log())
		}
		if _, err := os.Stat(filepath.Join(dataDir, "postgres", "data", "postmaster.pid")); !os.IsNotExist(err) {
			t.Errorf("run %d: the cluster is still running after the server stopped (postmaster.pid: %v)\n%s", run, err, s.log())
		}
		if !strings.Contains(s.log(), "private PostgreSQL cluster stopped") {
			t.Errorf("run %d: no clean cluster stop in the log:\n%s", run, s.log())
		}
	}
}

// checkDemoDownload downloads the featured demo game's build as the demo developer and checks
// its size and sha256 against what GetDownload promised.
func checkDemoDownload(t *testing.T, base string, list map[string]any) {
	t.Helper()
	game := list["games"].([]any)[0].(map[string]any)
	build, _ := game["latestRelease"].(map[string]any)["build"].(map[string]any)
	if build == nil {
		t.Fatalf("the demo game's latest release has no build: %v", game)
	}
	const getDownload = "satchel.library.v1.LibraryService/GetDownload"
	body := `{"gameId":"` + game["id"].(string) + `"}`
	h, err := nip98.Header(demo.DeveloperKey(), "POST", base+"/"+getDownload, []byte(body), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	code, d := post(t, base, getDownload, body, h)
	if code != 200 {
		t.Fatalf("GetDownload as the demo developer: %d %v", code, d)
	}
	res, err := http.Get(d["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sum := sha256.New()
	n, err := io.Copy(sum, res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("downloading the build: %v %v", res.Status, err)
	}
	if fmt.Sprint(n) != d["sizeBytes"] || hex.EncodeToString(sum.Sum(nil)) != d["sha256"] || d["sha256"] != build["sha256"] {
		t.Errorf("downloaded %d bytes hashing to %x; GetDownload said %v bytes, %v; the catalog said %v", n, sum.Sum(nil), d["sizeBytes"], d["sha256"], build["sha256"])
	}
	if files, _ := d["files"].([]any); len(files) != 3 {
		t.Errorf("manifest = %v, want 3 files (satchel.toml, README.txt, the program)", d["files"])
	}
}

// checkDemoPayout buys the featured demo game as a guest, pays with test money, and waits for
// the demo developer's payout to go SENT to the server's own test-money Lightning Address.
func checkDemoPayout(t *testing.T, base string, list map[string]any) {
	t.Helper()
	game := list["games"].([]any)[0].(map[string]any)
	code, res := post(t, base, "satchel.purchase.v1.PurchaseService/CreatePurchase", `{"gameId":"`+game["id"].(string)+`"}`, "")
	if code != 200 {
		t.Fatalf("CreatePurchase: %d %v", code, res)
	}
	invoice := res["purchase"].(map[string]any)["paymentRequest"].(string)
	if code, res := post(t, base, "satchel.testmoney.v1.TestMoneyService/PayInvoice", `{"paymentRequest":"`+invoice+`"}`, ""); code != 200 {
		t.Fatalf("PayInvoice: %d %v", code, res)
	}
	const listPayouts = "satchel.developer.v1.DeveloperService/ListPayouts"
	deadline := time.Now().Add(time.Minute)
	for {
		h, err := nip98.Header(demo.DeveloperKey(), "POST", base+"/"+listPayouts, []byte("{}"), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, res := post(t, base, listPayouts, "{}", h)
		payouts, _ := res["payouts"].([]any)
		if len(payouts) == 1 && payouts[0].(map[string]any)["status"] == "PAYOUT_STATUS_SENT" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo developer's payouts 10 s after a sale: %v", res)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTwoServersShareOneDatabase runs two servers behind one public URL, as behind a load
// balancer: what one writes the other serves, and a NIP-98 header used on one is refused by
// the other.
func TestTwoServersShareOneDatabase(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	const public = "https://satchel.test"
	env := []string{"DATABASE_URL=" + dsn, "SATCHEL_PUBLIC_URL=" + public, "SATCHEL_DATA_DIR=" + t.TempDir()}
	a := startServer(t, env, "--listen", "127.0.0.1:0")
	b := startServer(t, env, "--listen", "127.0.0.1:0")

	k, _ := nostr.GenerateKey()
	sign := func(procedure, body string) string {
		h, err := nip98.Header(k, "POST", public+"/"+procedure, []byte(body), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	const setAddr, createGame = "satchel.developer.v1.DeveloperService/SetPayoutAddress", "satchel.developer.v1.DeveloperService/CreateGame"
	// The server checks the address live: with test money it answers its own.
	body := `{"lnAddress":"dev@` + strings.TrimPrefix(a.url, "http://") + `"}`
	if code, res := post(t, a.url, setAddr, body, sign(setAddr, body)); code != 200 {
		t.Fatalf("SetPayoutAddress on A: %d %v", code, res)
	}
	body = `{"slug":"shared-game","title":"Shared"}`
	h := sign(createGame, body)
	if code, res := post(t, a.url, createGame, body, h); code != 200 {
		t.Fatalf("CreateGame on A: %d %v", code, res)
	}
	code, res := post(t, b.url, createGame, body, h)
	if code != 401 || !strings.Contains(res["message"].(string), "replay") {
		t.Errorf("the same header on B: %d %v, want unauthenticated naming the replay check", code, res)
	}
	const getGame = "satchel.catalog.v1.CatalogService/GetGame"
	body = `{"slug":"shared-game"}`
	code, res = post(t, b.url, getGame, body, sign(getGame, body))
	if code != 200 || res["game"].(map[string]any)["title"] != "Shared" {
		t.Errorf("the developer's draft on B: %d %v", code, res)
	}
}
