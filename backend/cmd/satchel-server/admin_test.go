package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"satchel.dev/backend/announce"
	"satchel.dev/backend/announce/relaytest"
	"satchel.dev/backend/demo"
	"satchel.dev/backend/postgres/pgtest"
	"satchel.dev/shared/nip98"
	"satchel.dev/shared/nostr"
)

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// cli runs satchel-server with args and exactly env (plus PATH and HOME), and returns what it
// printed and its exit error.
func cli(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(serverBinary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// signedPost makes a Connect JSON call signed by key and fails the test unless it succeeds.
func signedPost(t *testing.T, key nostr.SecretKey, base, procedure, body string) map[string]any {
	t.Helper()
	h, err := nip98.Header(key, "POST", base+"/"+procedure, []byte(body), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	code, res := post(t, base, procedure, body, h)
	if code != 200 {
		t.Fatalf("%s: %d %v", procedure, code, res)
	}
	return res
}

func eventTags(ev nostr.Event) map[string]string {
	m := map[string]string{}
	for _, tg := range ev.Tags {
		if len(tg) > 1 {
			m[tg[0]] = tg[1]
		}
	}
	return m
}

// TestOperators runs the server as an operator would, with the demo catalog, a local relay,
// an admin key and metrics: the demo's games are announced on the relay, a release a developer
// publishes produces its note and NIP-94 event, every admin action runs from the command line
// against the running server, check-ledger passes after a refund, and /metrics answers on its
// own listener only.
func TestOperators(t *testing.T) {
	relay := relaytest.Start(t)
	dir := t.TempDir()
	platform, _ := nostr.GenerateKey()
	keyFile := filepath.Join(dir, "platform.nsec")
	if err := os.WriteFile(keyFile, []byte(platform.Nsec()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	adminKey, _ := nostr.GenerateKey()
	dsn := pgtest.NewDatabase(t)
	metricsAddr := freeAddr(t)
	s := startServer(t, []string{"DATABASE_URL=" + dsn, "SATCHEL_DATA_DIR=" + dir, "SATCHEL_ADMINS=" + adminKey.PublicKey().Npub()},
		"--demo", "--listen", "127.0.0.1:0", "--nostr-relays", relay.URL, "--nostr-key-file", keyFile,
		"--metrics-listen", metricsAddr)
	pub := platform.PublicKey().Hex()

	// The demo's games were listed (and one featured): each announced with a note and a file
	// event of its latest build.
	_, list := post(t, s.url, "satchel.catalog.v1.CatalogService/ListGames", "{}", "")
	lantern := list["games"].([]any)[0].(map[string]any)
	latest := lantern["latestRelease"].(map[string]any)
	var events []nostr.Event
	ok := relaytest.Wait(20*time.Second, func() bool {
		events, _ = relay.Events(pub, announce.KindNote, announce.KindFileMetadata)
		return len(events) >= 9
	})
	if !ok {
		t.Fatalf("the relay holds %d events of the demo's announcements, want at least 9\n%s", len(events), s.log())
	}
	found := false
	for _, ev := range events {
		if err := ev.Verify(); err != nil {
			t.Error(err)
		}
		tg := eventTags(ev)
		if ev.Kind == announce.KindFileMetadata && tg["x"] == latest["build"].(map[string]any)["sha256"] {
			found = true
			wantURL := s.url + "/games/lantern-drift/releases/" + latest["version"].(string) + "/build.zip"
			if tg["url"] != wantURL || tg["m"] != "application/zip" || tg["size"] != latest["build"].(map[string]any)["sizeBytes"] ||
				tg["r"] != s.url+"/games/lantern-drift" {
				t.Errorf("lantern-drift's file event: %v, want url %s", ev.Tags, wantURL)
			}
		}
	}
	if !found {
		t.Errorf("no NIP-94 event of lantern-drift's build among %d events", len(events))
	}

	// The demo developer publishes a release: a note and a NIP-94 event follow.
	devKey := demo.DeveloperKey()
	const dev = "satchel.developer.v1.DeveloperService/"
	release := signedPost(t, devKey, s.url, dev+"CreateRelease", `{"gameId":"`+lantern["id"].(string)+`","version":"9.9.9","releaseNotesMd":"Night mode."}`)["release"].(map[string]any)
	var zipBuf bytes.Buffer
	zw := zip.NewWriter(&zipBuf)
	w, _ := zw.Create("README.txt")
	_, _ = io.WriteString(w, "Lantern Drift 9.9.9\n")
	_ = zw.Close()
	sum := sha256.Sum256(zipBuf.Bytes())
	sha := hex.EncodeToString(sum[:])
	slot := signedPost(t, devKey, s.url, dev+"CreateUpload", fmt.Sprintf(`{"releaseId":%q,"sizeBytes":%d,"sha256":%q}`, release["id"], zipBuf.Len(), sha))
	req, _ := http.NewRequest(http.MethodPut, slot["url"].(string), bytes.NewReader(zipBuf.Bytes()))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode/100 != 2 {
		t.Fatalf("PUT: %v %v", res, err)
	}
	signedPost(t, devKey, s.url, dev+"FinishUpload", `{"uploadId":"`+slot["uploadId"].(string)+`"}`)
	signedPost(t, devKey, s.url, dev+"PublishRelease", `{"releaseId":"`+release["id"].(string)+`"}`)
	var note, file *nostr.Event
	ok = relaytest.Wait(10*time.Second, func() bool {
		events, _ = relay.Events(pub, announce.KindNote, announce.KindFileMetadata)
		for i, ev := range events {
			switch {
			case ev.Kind == announce.KindNote && strings.Contains(ev.Content, "Lantern Drift 9.9.9 is out"):
				note = &events[i]
			case ev.Kind == announce.KindFileMetadata && eventTags(ev)["x"] == sha:
				file = &events[i]
			}
		}
		return note != nil && file != nil
	})
	if !ok {
		t.Fatalf("the published release's note (%v) and file event (%v) did not reach the relay\n%s", note, file, s.log())
	}
	if tg := eventTags(*file); tg["size"] != fmt.Sprint(zipBuf.Len()) || tg["url"] != s.url+"/games/lantern-drift/releases/9.9.9/build.zip" {
		t.Errorf("the release's NIP-94 tags: %v", file.Tags)
	}

	// Every admin action from the command line.
	env := []string{"SATCHEL_ADMIN_NSEC=" + adminKey.Nsec()}
	admin := func(args ...string) string {
		t.Helper()
		out, err := cli(t, env, append([]string{"admin", "--server", s.url}, args...)...)
		if err != nil {
			t.Fatalf("satchel-server admin %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	refused := func(want string, args ...string) {
		t.Helper()
		out, err := cli(t, env, append([]string{"admin", "--server", s.url}, args...)...)
		if err == nil || !strings.Contains(out, want) {
			t.Errorf("satchel-server admin %s: %v %q, want a failure saying %q", strings.Join(args, " "), err, out, want)
		}
	}
	for _, step := range []struct {
		args []string
		want string
	}{
		{[]string{"feature", "pocket-orbits"}, "is FEATURED"},
		{[]string{"unfeature", "pocket-orbits", "--reason", "rotation"}, "is LISTED"},
		{[]string{"ban", "pocket-orbits", "--reason", "copyright claim"}, "is BANNED"},
		{[]string{"set-status", "signal-garden", "unlisted", "--reason", "beta closed"}, "is UNLISTED"},
	} {
		if out := admin(step.args...); !strings.Contains(out, step.want) {
			t.Errorf("admin %v: %q, want %q", step.args, out, step.want)
		}
	}
	_, list = post(t, s.url, "satchel.catalog.v1.CatalogService/ListGames", "{}", "")
	if strings.Contains(strings.Join(slugs(list), ","), "pocket-orbits") {
		t.Errorf("the store lists a banned game: %v", slugs(list))
	}
	refused("reason is required", "unban", "pocket-orbits")
	if out := admin("unban", "pocket-orbits", "--reason", "claim withdrawn"); !strings.Contains(out, "is LISTED") {
		t.Errorf("unban: %q", out)
	}

	// Two guests buy Lantern Drift; the payouts are SENT to the demo's test-money address.
	type bought struct{ id, receipt string }
	var sales []bought
	for range 2 {
		_, res := post(t, s.url, "satchel.purchase.v1.PurchaseService/CreatePurchase", `{"gameId":"`+lantern["id"].(string)+`"}`, "")
		p := res["purchase"].(map[string]any)
		if out, err := cli(t, nil, "dev", "pay", "--server", s.url, p["paymentRequest"].(string)); err != nil {
			t.Fatalf("dev pay: %v %s", err, out)
		}
		sales = append(sales, bought{p["id"].(string), res["receiptCode"].(string)})
	}
	var sent string
	ok = relaytest.Wait(10*time.Second, func() bool {
		sent = admin("payouts", "--status", "SENT")
		return strings.Contains(sent, sales[0].id) && strings.Contains(sent, sales[1].id)
	})
	if !ok {
		t.Fatalf("the sales' payouts are not SENT: %s", sent)
	}
	payoutOf := regexp.MustCompile(`payout (\S+) .* purchase ` + sales[1].id)
	m := payoutOf.FindStringSubmatch(sent)
	if m == nil {
		t.Fatalf("no payout of purchase %s in %q", sales[1].id, sent)
	}
	if out := admin("refund", sales[0].id, "--reason", "charged twice", "--reference", "ln:abc"); !strings.Contains(out, "is REFUNDED") {
		t.Errorf("refund: %q", out)
	}
	if out := admin("revoke", "--purchase", sales[1].id, "--reason", "receipt code leaked"); !strings.Contains(out, "revoked") {
		t.Errorf("revoke: %q", out)
	}
	for _, sale := range sales {
		code, res := post(t, s.url, "satchel.library.v1.LibraryService/GetDownload",
			`{"gameId":"`+lantern["id"].(string)+`","receiptCode":"`+sale.receipt+`"}`, "")
		if code == 200 {
			t.Errorf("purchase %s still downloads: %v", sale.id, res)
		}
	}
	if out := admin("payouts"); !strings.Contains(out, "no FAILED payouts") {
		t.Errorf("failed payouts: %q", out)
	}
	if out := admin("stuck-payouts"); !strings.Contains(out, "no payout has had a payment in flight or unknown for more than 1h0m0s") {
		t.Errorf("stuck payouts: %q", out)
	}
	refused("older_than -1m0s is negative", "stuck-payouts", "--older-than", "-1m")
	refused("only a FAILED payout can be retried", "retry-payout", m[1], "--reason", "try again")
	refused("was SENT: it cannot be canceled", "cancel-payout", m[1], "--reason", "stop it")
	if out := admin("announcements", "--game", "lantern-drift"); !strings.Contains(out, "RELEASE_PUBLISHED  lantern-drift 9.9.9") ||
		!strings.Contains(out, relay.URL+"  SENT after 1 attempts") || !strings.Contains(out, "#1 ") {
		t.Errorf("announcements: %q", out)
	}
	audit := admin("audit")
	for _, want := range []string{"REFUND_PURCHASE by " + adminKey.PublicKey().Hex(), `reason: "charged twice"`, "REVOKE_ENTITLEMENT",
		"UNBAN_GAME", "SET_GAME_STATUS"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit log does not show %q:\n%s", want, audit)
		}
	}
	if out, err := cli(t, []string{"DATABASE_URL=" + dsn}, "check-ledger"); err != nil || !strings.Contains(out, "ledger OK") {
		t.Errorf("check-ledger after a refund: %v\n%s", err, out)
	}

	// Without an admin key, or with someone else's, nothing happens.
	if out, err := cli(t, nil, "admin", "--server", s.url, "payouts"); err == nil || !strings.Contains(out, "SATCHEL_ADMIN_NSEC") {
		t.Errorf("admin without a key: %v %q", err, out)
	}
	stranger, _ := nostr.GenerateKey()
	if out, err := cli(t, []string{"SATCHEL_ADMIN_NSEC=" + stranger.Nsec()}, "admin", "--server", s.url, "ban", "pocket-orbits", "--reason", "x"); err == nil || !strings.Contains(out, "permission_denied") {
		t.Errorf("admin with a key that is not an admin's: %v %q", err, out)
	}

	// Metrics: on their own listener, never on the public one.
	res, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	text := string(raw)
	for _, want := range []string{
		`satchel_rpc_requests_total{code="ok",procedure="/satchel.catalog.v1.CatalogService/ListGames"}`,
		`satchel_rpc_requests_total{code="permission_denied",procedure="/satchel.admin.v1.AdminService/SetGameStatus"} 1`,
		`satchel_rpc_duration_seconds_bucket{code="ok",procedure="/satchel.admin.v1.AdminService/RefundPurchase"`,
		`satchel_purchases{status="REFUNDED"} 1`, `satchel_purchases{status="PAID"} 1`,
		`satchel_payouts{status="SENT"}`, `satchel_payouts_msat{status="SENT"}`,
		`satchel_settlement_lag_seconds_count 2`,
		`satchel_jobs{kind="announce_deliver",queue="announce",state="completed"}`,
		`satchel_jobs{kind="payout",queue="default",state="completed"}`,
		`satchel_announcement_deliveries{status="SENT"}`,
		`satchel_announcement_attempts_total{relay="` + relay.URL + `",result="ok"}`,
		`satchel_job_failures_total{kind="payout"} 0`, `satchel_database_stats_up 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !regexp.MustCompile(`satchel_blob_bytes_total\{direction="upload"\} [1-9]`).MatchString(text) ||
		!regexp.MustCompile(`satchel_blob_bytes_total\{direction="download"\} [0-9]`).MatchString(text) {
		t.Errorf("/metrics lacks the build store's bytes:\n%s", grep(text, "satchel_blob"))
	}
	if res, err := http.Get(s.url + "/metrics"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the public listener: %v %v, want 404", res.Status, err)
	}
}

func grep(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestRefusesAnnouncingWithoutAKey: relays without the platform's key stop the server at
// start, saying what to give.
func TestRefusesAnnouncingWithoutAKey(t *testing.T) {
	out, err := cli(t, []string{"SATCHEL_NOSTR_RELAYS=ws://127.0.0.1:1"}, "serve", "--listen", "127.0.0.1:0")
	if err == nil || !strings.Contains(out, "--nostr-key-file") || !strings.Contains(out, "SATCHEL_NOSTR_KEY") {
		t.Errorf("serve with relays and no key: %v %q", err, out)
	}
	bad := filepath.Join(t.TempDir(), "key")
	_ = os.WriteFile(bad, []byte("not a key"), 0o600)
	out, err = cli(t, []string{"SATCHEL_NOSTR_RELAYS=ws://127.0.0.1:1", "SATCHEL_NOSTR_KEY_FILE=" + bad}, "serve", "--listen", "127.0.0.1:0")
	if err == nil || !strings.Contains(out, "does not hold a Nostr secret key") {
		t.Errorf("serve with a bad key file: %v %q", err, out)
	}
}
