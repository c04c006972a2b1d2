package rpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"satchel.dev/backend/market"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/postgres/pgtest"
	"satchel.dev/backend/rpc"
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

// bundle is a real server on a fresh database, with a key per role and a fixture: the owner's
// LISTED game with a published release 1.0.0 and an unpublished 2.0.0, and the owner's DRAFT game.
type bundle struct {
	t         *testing.T
	srv       *httptest.Server
	keys      map[role]nostr.SecretKey
	users     *postgres.UserService
	games     *postgres.GameService
	game      market.Game
	draft     market.Game
	published market.Release
	pending   market.Release
}

func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	b := &bundle{t: t, keys: map[role]nostr.SecretKey{}, users: postgres.NewUserService(db), games: postgres.NewGameService(db)}
	for _, r := range roles[1:] {
		k, err := nostr.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		b.keys[r] = k
	}
	b.srv = httptest.NewUnstartedServer(nil)
	b.srv.Config.Handler = rpc.NewHandler(rpc.Config{
		PublicURL:    "http://" + b.srv.Listener.Addr().String(),
		MaxBodyBytes: 64 << 10,
		Admins:       []string{b.keys[admin].PublicKey().Hex()},
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, rpc.Services{Users: b.users, Games: b.games, Ready: db.Ping})
	b.srv.Start()
	t.Cleanup(b.srv.Close)

	dev := b.actor(owner)
	otherDev := b.actor(other)
	for _, a := range []market.Actor{dev, otherDev} {
		if _, err := b.users.SetPayoutAddress(ctx, a, "dev@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	b.game = b.must(b.games.CreateGame(ctx, dev, market.NewGame{Slug: "fixture-game", Title: "Fixture", PriceMsat: 1000}))
	b.published = b.mustR(b.games.CreateRelease(ctx, dev, b.game.ID, "1.0.0", "first"))
	b.published = b.mustR(b.games.PublishRelease(ctx, dev, b.published.ID))
	b.pending = b.mustR(b.games.CreateRelease(ctx, dev, b.game.ID, "2.0.0", "next"))
	b.game = b.must(b.games.SetGameStatus(ctx, dev, b.game.ID, market.StatusListed))
	b.draft = b.must(b.games.CreateGame(ctx, dev, market.NewGame{Slug: "fixture-draft", Title: "Draft"}))
	return b
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

func jsonBody(v map[string]any) string {
	if v == nil {
		return "{}"
	}
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(v)
	return buf.String()
}
