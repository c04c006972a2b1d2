package rpc_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"satchel.dev/backend/blob/s3"
	"satchel.dev/backend/blob/s3/s3test"
	"satchel.dev/backend/builds"
	"satchel.dev/backend/lightning/dev"
	"satchel.dev/backend/market"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/postgres/pgtest"
	"satchel.dev/backend/purchases"
	"satchel.dev/backend/server"
	"satchel.dev/shared/nip98"
	"satchel.dev/shared/nostr"
)

func TestMain(m *testing.M) { pgtest.Main(m, postgres.Migrate) }

type role string

const (
	anonymous role = "anonymous"
	player    role = "player"
	owner     role = "owning developer"
	other     role = "other developer"
	admin     role = "admin"
)

var roles = []role{anonymous, player, owner, other, admin}

// bundle is a real server (server.Main) on a fresh database, with a key per role and a fixture: the owner's
// LISTED game with a published release 1.0.0 and an unpublished 2.0.0, and the owner's DRAFT game.
type bundle struct {
	t         *testing.T
	cfg       server.Config // the server's, to open another instance on the same database
	srv       *httptest.Server
	keys      map[role]nostr.SecretKey
	users     *postgres.UserService
	games     *postgres.GameService
	builds    *builds.Service
	blobDir   string
	game      market.Game
	draft     market.Game
	published market.Release
	pending   market.Release
	upload    builds.UploadSlot // the owner's open upload replacing pending's build, its zip already sent
	purchases *purchases.Service
	db        *postgres.DB
	notifier  *postgres.Notifier
	// stopSettling stops following the provider's settlements, as if the server were down,
	// and returns once nothing follows them any more.
	stopSettling func()
	dev          *dev.Provider
	bought       market.Purchase // the player's PENDING purchase of game
	guest        market.Purchase // a guest's PENDING purchase of game
	receipt      string          // guest's receipt code
}

// testZip is a small valid build.
var testZip = makeZip(map[string]string{"satchel.toml": "[launch.linux-amd64]\nexec = \"game\"\n", "game": "#!/bin/sh\necho hi\n"})

// makeZip returns a zip of the given files.
func makeZip(files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, _ := zw.Create(name)
		_, _ = io.WriteString(w, body)
	}
	_ = zw.Close()
	return buf.Bytes()
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return setupWith(t, s3.Config{})
}

// setupS3 is setup with builds in a real S3-compatible server instead of a local directory.
func setupS3(t *testing.T) *bundle {
	t.Helper()
	return setupWith(t, s3test.Start(t))
}

// guestSecret is the fixture guest's client secret, sent with its request id.
const guestSecret = "0123456789abcdef0123456789abcdef"

// setupWith is setup with builds in S3 when store has an endpoint. The server is a
// server.Main, as satchel-server runs it, but for its background work: no job is worked (no
// worker pays a payout in these tests), and of the rest only notifications and the
// settlements run.
func setupWith(t *testing.T, store s3.Config) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{t: t, keys: map[role]nostr.SecretKey{}}
	for _, r := range roles[1:] {
		k, err := nostr.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		b.keys[r] = k
	}
	cfg := server.Config{Listen: "127.0.0.1:0", DatabaseURL: pgtest.NewDatabase(t), DataDir: t.TempDir(), S3: store,
		Admins: []string{b.keys[admin].PublicKey().Hex()}, MaxBodyBytes: 64 << 10, Secret: hex.EncodeToString(bytes.Repeat([]byte{7}, 32)),
		FeeBps: purchases.DefaultFeeBps, PurchaseRate: 60_000, UploadExpiry: uploadExpiry(t)}.WithDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m, err := server.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	b.cfg = cfg
	b.db, b.users, b.games, b.builds, b.purchases, b.notifier = m.DB, m.Users, m.Games, m.Builds, m.Purchases, m.Notifier
	b.dev, b.blobDir = m.Provider.(*dev.Provider), filepath.Join(cfg.DataDir, "builds")
	protocols := new(http.Protocols) // as Main.Run serves: HTTP/1 and HTTP/2 without TLS (gRPC tools)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	b.srv = &httptest.Server{Listener: m.Listener, Config: &http.Server{Handler: m.Handler, Protocols: protocols}}
	b.srv.Start()
	t.Cleanup(b.srv.Close)
	runCtx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	go b.notifier.Run(runCtx)
	settleCtx, stopSettling := context.WithCancel(runCtx)
	settling := make(chan struct{})
	b.stopSettling = func() { stopSettling(); <-settling }
	go func() {
		defer close(settling)
		b.purchases.RunSettlements(settleCtx)
	}()

	dev := b.actor(owner)
	otherDev := b.actor(other)
	for _, a := range []market.Actor{dev, otherDev} {
		if _, err := b.users.SetPayoutAddress(ctx, a, "dev@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	b.game = b.must(b.games.CreateGame(ctx, dev, market.NewGame{Slug: "fixture-game", Title: "Fixture", PriceMsat: 1_000_000}))
	b.published = b.mustR(b.games.CreateRelease(ctx, dev, b.game.ID, "1.0.0", "first"))
	b.finish(b.send(dev, b.published.ID, testZip))
	b.published = b.mustR(b.games.PublishRelease(ctx, dev, b.published.ID))
	b.pending = b.mustR(b.games.CreateRelease(ctx, dev, b.game.ID, "2.0.0", "next"))
	b.finish(b.send(dev, b.pending.ID, testZip))
	b.upload = b.send(dev, b.pending.ID, testZip)
	b.game = b.must(b.games.SetGameStatus(ctx, dev, b.game.ID, market.StatusListed))
	b.draft = b.must(b.games.CreateGame(ctx, dev, market.NewGame{Slug: "fixture-draft", Title: "Draft"}))
	if b.bought, _, err = b.purchases.Create(ctx, b.actor(player), b.game.ID, "", "", market.Client{IP: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	if b.guest, b.receipt, err = b.purchases.Create(ctx, market.Actor{}, b.game.ID, "guest-request-1", guestSecret, market.Client{IP: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	return b
}

// address is a Lightning Address the server itself answers with test money
// (payouts.DevLNURLHandler), so it passes SetPayoutAddress's live check.
func (b *bundle) address(name string) string {
	return name + "@" + strings.TrimPrefix(b.srv.URL, "http://")
}

func (b *bundle) must(g market.Game, err error) market.Game {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
	return g
}

func (b *bundle) mustR(r market.Release, err error) market.Release {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
	return r
}

// newPurchases returns a buying service on the bundle's database and dev provider, as another
// server instance would have: cfg's zero fields get the test's defaults.
func (b *bundle) newPurchases(cfg purchases.Config) *purchases.Service {
	b.t.Helper()
	if cfg.FeeBps == 0 {
		cfg.FeeBps = 1000
	}
	cfg.ReceiptSecret = bytes.Repeat([]byte{7}, 32)
	if cfg.CodeBurst == 0 {
		cfg.CodePer, cfg.CodeBurst = time.Millisecond, 1000
	}
	s, err := purchases.New(postgres.NewPurchaseRepo(b.db), postgres.NewLibraryRepo(b.db), b.notifier, b.dev, cfg,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// expiredUploadExpiry is how long upload URLs last in the test of expired uploads: long enough
// for a loaded machine to send one in time.
const expiredUploadExpiry = 3 * time.Second

// uploadExpiry is how long upload URLs last: short for the test of expired uploads.
func uploadExpiry(t *testing.T) time.Duration {
	if strings.Contains(t.Name(), "Expired") {
		return expiredUploadExpiry
	}
	return time.Hour
}

// send opens an upload for release as a and PUTs body to it, as a developer's client does.
func (b *bundle) send(a market.Actor, releaseID string, body []byte) builds.UploadSlot {
	b.t.Helper()
	sum := sha256.Sum256(body)
	slot, err := b.builds.CreateUpload(context.Background(), a, releaseID, int64(len(body)), hex.EncodeToString(sum[:]))
	if err != nil {
		b.t.Fatal(err)
	}
	if code := b.put(slot, body); code != http.StatusOK && code != http.StatusCreated && code != http.StatusNoContent {
		b.t.Fatalf("PUT to the upload URL: HTTP %d", code)
	}
	return slot
}

// put sends body to an upload slot's URL and returns the HTTP status.
func (b *bundle) put(slot builds.UploadSlot, body []byte) int {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPut, slot.URL, bytes.NewReader(body))
	for k, v := range slot.Header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// finish finishes an upload as the owner.
func (b *bundle) finish(slot builds.UploadSlot) market.Release {
	b.t.Helper()
	r, err := b.builds.FinishUpload(context.Background(), b.actor(owner), slot.Upload.ID)
	if err != nil {
		b.t.Fatal(err)
	}
	return r
}

// actor returns the market actor of a role, creating its user.
func (b *bundle) actor(r role) market.Actor {
	b.t.Helper()
	if r == anonymous {
		return market.Actor{}
	}
	pk := b.keys[r].PublicKey().Hex()
	id, err := b.users.EnsureUser(context.Background(), pk)
	if err != nil {
		b.t.Fatal(err)
	}
	return market.Actor{UserID: id, Pubkey: pk, Admin: r == admin}
}

// client returns an HTTP client that signs every request as r (anonymous: unsigned).
func (b *bundle) client(r role) *http.Client {
	if r == anonymous {
		return http.DefaultClient
	}
	return &http.Client{Transport: &nip98.Transport{Signer: b.keys[r]}}
}

// reply is a Connect JSON answer: the code ("ok" on success) and the decoded body.
type reply struct {
	code    string
	message string
	body    map[string]any
}

// call makes a Connect unary call over the JSON protocol, as any HTTP client could.
func (b *bundle) call(r role, procedure, body string) reply {
	b.t.Helper()
	return b.do(b.client(r), procedure, body, nil)
}

func (b *bundle) do(c *http.Client, procedure, body string, header http.Header) reply {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.srv.URL+"/"+procedure, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := reply{body: map[string]any{}}
	_ = json.Unmarshal(raw, &out.body)
	if res.StatusCode == http.StatusOK {
		out.code = "ok"
		return out
	}
	out.code, _ = out.body["code"].(string)
	out.message, _ = out.body["message"].(string)
	if out.code == "" {
		b.t.Fatalf("%s: HTTP %d without a Connect error: %s", procedure, res.StatusCode, raw)
	}
	return out
}

// stream opens a Connect server stream over the JSON protocol and returns the first thing that
// arrives: "ok" with the first message, or the error's code from the end of the stream. Every
// stream sends a first message or ends; nothing within wait fails the test.
func (b *bundle) stream(r role, procedure, body string, wait time.Duration) reply {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	frame := make([]byte, 5+len(body))
	binary.BigEndian.PutUint32(frame[1:5], uint32(len(body)))
	copy(frame[5:], body)
	req, _ := http.NewRequestWithContext(ctx, "POST", b.srv.URL+"/"+procedure, bytes.NewReader(frame))
	req.Header.Set("Content-Type", "application/connect+json")
	res, err := b.client(r).Do(req)
	if err != nil {
		b.t.Fatalf("%s: %v (nothing within %v)", procedure, err, wait)
	}
	defer res.Body.Close()
	var head [5]byte
	if _, err := io.ReadFull(res.Body, head[:]); err != nil {
		b.t.Fatalf("%s: reading the stream: %v (nothing within %v)", procedure, err, wait)
	}
	msg := make([]byte, binary.BigEndian.Uint32(head[1:]))
	if _, err := io.ReadFull(res.Body, msg); err != nil {
		b.t.Fatal(err)
	}
	out := reply{code: "ok", body: map[string]any{}}
	_ = json.Unmarshal(msg, &out.body)
	if head[0]&2 != 0 { // end of stream
		e, _ := out.body["error"].(map[string]any)
		if e == nil {
			return reply{code: "ok"}
		}
		out.code, _ = e["code"].(string)
		out.message, _ = e["message"].(string)
	}
	return out
}

func jsonBody(v map[string]any) string {
	if v == nil {
		return "{}"
	}
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(v)
	return buf.String()
}
