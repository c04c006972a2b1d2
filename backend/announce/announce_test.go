package announce_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"satchel.dev/backend/announce"
	"satchel.dev/backend/announce/relaytest"
	"satchel.dev/backend/market"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/postgres/pgtest"
	"satchel.dev/shared/nostr"
)

func TestMain(m *testing.M) { pgtest.Main(m, postgres.Migrate) }

const (
	gameLink = "https://satchel.test/games/{slug}"
	fileLink = "https://satchel.test/games/{slug}/releases/{version}/build.zip"
	summary  = "A lantern drifts over a quiet sea."
)

// bundle is a database whose game service announces on the given relays, with River working
// the announcement jobs, and a developer's LISTED game with a published release 1.0.0.
type bundle struct {
	t     *testing.T
	ctx   context.Context
	db    *postgres.DB
	games *postgres.GameService
	repo  *postgres.AnnounceRepo
	key   nostr.SecretKey
	dev   market.Actor
	admin market.Actor
	game  market.Game
	shas  map[string]string // version -> the build's sha256
}

func setup(t *testing.T, relays ...string) *bundle {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	key, err := nostr.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b := &bundle{t: t, ctx: ctx, db: db, repo: postgres.NewAnnounceRepo(db), key: key, shas: map[string]string{}}
	sign, deliver, err := announce.Workers(b.repo, announce.Config{
		Relays: relays, Key: key, Links: announce.Links{Game: gameLink, File: fileLink},
		Timeout: 2 * time.Second, BackoffBase: 100 * time.Millisecond, BackoffMax: 300 * time.Millisecond,
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, sign)
	river.AddWorker(workers, deliver)
	jobs, err := river.NewClient(riverpgxv5.New(db.Pool()), &river.Config{Logger: log, Workers: workers,
		Queues: map[string]river.QueueConfig{announce.Queue: {MaxWorkers: 6}}, FetchCooldown: 10 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = jobs.Stop(stopCtx)
	})
	db.SetQueue(jobs)
	b.games = postgres.NewGameService(db).WithAnnouncements()
	users := postgres.NewUserService(db)
	b.dev, b.admin = b.actor(users, false), b.actor(users, true)
	if _, err := users.SetPayoutAddress(ctx, b.dev, "dev@example.com"); err != nil {
		t.Fatal(err)
	}
	if b.game, err = b.games.CreateGame(ctx, b.dev, market.NewGame{Slug: "lantern-test", Title: "Lantern Test", Summary: summary, PriceMsat: 1_000_000}); err != nil {
		t.Fatal(err)
	}
	b.publish(b.game, "1.0.0")
	if b.game, err = b.games.SetGameStatus(ctx, b.dev, b.game.ID, market.StatusListed); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *bundle) actor(users *postgres.UserService, admin bool) market.Actor {
	b.t.Helper()
	k, _ := nostr.GenerateKey()
	id, err := users.EnsureUser(b.ctx, k.PublicKey().Hex())
	if err != nil {
		b.t.Fatal(err)
	}
	return market.Actor{UserID: id, Pubkey: k.PublicKey().Hex(), Admin: admin}
}

// publish creates a release of g with a build (recorded directly: the build pipeline has its
// own tests) and publishes it, returning how long PublishRelease took.
func (b *bundle) publish(g market.Game, version string) time.Duration {
	b.t.Helper()
	r, err := b.games.CreateRelease(b.ctx, b.dev, g.ID, version, "notes")
	if err != nil {
		b.t.Fatal(err)
	}
	var sum [32]byte
	_, _ = rand.Read(sum[:])
	b.shas[version] = hex.EncodeToString(sum[:])
	if _, err := b.db.Pool().Exec(b.ctx, `
		INSERT INTO build_assets (release_id, object_key, sha256, size_bytes, content_type, file_count, installed_bytes)
		VALUES ($1, $2, $3, 123456, 'application/zip', 3, 234567)`, r.ID, "builds/"+r.ID+"/x.zip", b.shas[version]); err != nil {
		b.t.Fatal(err)
	}
	start := time.Now()
	if _, err := b.games.PublishRelease(b.ctx, b.dev, r.ID); err != nil {
		b.t.Fatal(err)
	}
	return time.Since(start)
}

// events waits until the relay holds want events by the platform's key, and returns them.
func (b *bundle) events(r *relaytest.Relay, want int, within time.Duration) []nostr.Event {
	b.t.Helper()
	var got []nostr.Event
	var err error
	ok := relaytest.Wait(within, func() bool {
		got, err = r.Events(b.key.PublicKey().Hex(), announce.KindNote, announce.KindFileMetadata)
		return err == nil && len(got) >= want
	})
	if !ok {
		b.t.Fatalf("relay %s holds %d events by the platform after %v, want %d (err %v)\n%s", r.URL, len(got), within, want, err, b.deliveries())
	}
	return got
}

// deliveries describes every announcement's deliveries, for failure messages.
func (b *bundle) deliveries() string {
	views, err := b.repo.ListAnnouncements(b.ctx, "", 100)
	if err != nil {
		return err.Error()
	}
	var s strings.Builder
	for _, v := range views {
		s.WriteString(string(v.Kind) + " " + v.Version + " " + v.Skipped + "\n")
		for _, d := range v.Deliveries {
			s.WriteString("  " + d.Relay + " " + string(d.Status) + "\n")
			for _, a := range d.Attempts {
				s.WriteString("    " + a.Result + "\n")
			}
		}
	}
	return s.String()
}

func tags(ev nostr.Event) map[string]string {
	m := map[string]string{}
	for _, t := range ev.Tags {
		if len(t) > 1 {
			m[t[0]] = t[1]
		}
	}
	return m
}

// TestAnnouncesOnEveryRelay: listing a game, publishing a release and featuring the game each
// send a signed note and a NIP-94 file event to every relay; the events read back from the
// relays have valid ids and signatures (checked by Satchel's code and by go-nostr) and the
// tags NIP-94 asks for. Drafts are never announced.
func TestAnnouncesOnEveryRelay(t *testing.T) {
	t.Parallel()
	a, c := relaytest.Start(t), relaytest.Start(t)
	b := setup(t, a.URL, c.URL)
	b.publish(b.game, "1.1.0")
	if _, err := b.games.AdminSetGameStatus(b.ctx, b.admin, b.game.ID, market.StatusFeatured); err != nil {
		t.Fatal(err)
	}
	// A draft's release is not announced, nor is the game made unlisted.
	draft, err := b.games.CreateGame(b.ctx, b.dev, market.NewGame{Slug: "secret-draft", Title: "Secret"})
	if err != nil {
		t.Fatal(err)
	}
	b.publish(draft, "0.1.0")
	if _, err := b.games.SetGameStatus(b.ctx, b.dev, draft.ID, market.StatusUnlisted); err != nil {
		t.Fatal(err)
	}

	// Three announcements, each delivered to both relays.
	ok := relaytest.Wait(10*time.Second, func() bool {
		views, err := b.repo.ListAnnouncements(b.ctx, "", 10)
		if err != nil || len(views) != 3 {
			return false
		}
		for _, v := range views {
			for _, d := range v.Deliveries {
				if d.Status != announce.StatusSent {
					return false
				}
			}
			if len(v.Deliveries) != 2 {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("not every announcement was delivered:\n%s", b.deliveries())
	}
	views, err := b.repo.ListAnnouncements(b.ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	// The events signed once, which every relay must hold. The file events of the release
	// published and of the game featured with it in the same second are one event (the same
	// kind, content, tags and time), which a relay keeps once.
	signed := map[string]bool{}
	for _, v := range views {
		for _, id := range v.EventIDs {
			signed[id] = true
		}
	}
	pub := b.key.PublicKey().Hex()
	for _, r := range []*relaytest.Relay{a, c} {
		events := b.events(r, len(signed), 10*time.Second)
		held := map[string]bool{}
		notes := map[string]int{}
		files := map[string]int{}
		for _, ev := range events {
			held[ev.ID] = true
			if err := ev.Verify(); err != nil {
				t.Errorf("event %s: %v", ev.ID, err)
			}
			if ok, err := relaytest.CheckGoNostr(ev); !ok || err != nil {
				t.Errorf("event %s: go-nostr says the id or signature is wrong (%v)", ev.ID, err)
			}
			if ev.PubKey != pub {
				t.Errorf("event %s is signed by %s, want the platform's key %s", ev.ID, ev.PubKey, pub)
			}
			tg := tags(ev)
			link := "https://satchel.test/games/lantern-test"
			if tg["r"] != link {
				t.Errorf("event %s: r tag %q, want the game's link %q", ev.ID, tg["r"], link)
			}
			switch ev.Kind {
			case announce.KindNote:
				version := "1.1.0"
				if !strings.Contains(ev.Content, version) {
					version = "1.0.0"
				}
				for _, part := range []string{"Lantern Test", summary, link, version} {
					if !strings.Contains(ev.Content, part) {
						t.Errorf("note %q does not say %q", ev.Content, part)
					}
				}
				notes[version]++
			case announce.KindFileMetadata:
				version := strings.TrimSuffix(strings.TrimPrefix(tg["url"], link+"/releases/"), "/build.zip")
				wantTags := map[string]string{"url": link + "/releases/" + version + "/build.zip", "m": "application/zip",
					"x": b.shas[version], "size": "123456", "summary": summary, "r": link,
					"alt": "Build " + version + " of Lantern Test, a game in the Satchel store (a zip the Satchel launcher installs)"}
				if diff := cmp.Diff(wantTags, tg); diff != "" {
					t.Errorf("NIP-94 tags (-want +got):\n%s", diff)
				}
				files[version]++
			default:
				t.Errorf("event of kind %d", ev.Kind)
			}
		}
		if diff := cmp.Diff(signed, held); diff != "" {
			t.Errorf("relay %s holds other events than were signed (-signed +held):\n%s", r.URL, diff)
		}
		// Listed with 1.0.0, 1.1.0 published, featured with 1.1.0.
		if diff := cmp.Diff(map[string]int{"1.0.0": 1, "1.1.0": 2}, notes); diff != "" {
			t.Errorf("relay %s: notes by version (-want +got):\n%s", r.URL, diff)
		}
		if files["1.0.0"] != 1 || files["1.1.0"] < 1 {
			t.Errorf("relay %s: file events by version %v", r.URL, files)
		}
	}

	var kinds []market.AnnouncementKind
	for _, v := range views {
		kinds = append(kinds, v.Kind)
		if v.GameSlug != "lantern-test" || len(v.EventIDs) != 2 || len(v.Deliveries) != 2 {
			t.Errorf("announcement %+v", v)
		}
		for _, d := range v.Deliveries {
			if d.Status != announce.StatusSent || d.AttemptCount != 1 || len(d.Attempts) != 1 || !d.Attempts[0].OK {
				t.Errorf("delivery to %s: %+v", d.Relay, d)
			}
		}
	}
	if diff := cmp.Diff([]market.AnnouncementKind{market.AnnounceFeatured, market.AnnouncePublished, market.AnnounceListed}, kinds); diff != "" {
		t.Errorf("announcements, newest first (-want +got):\n%s", diff)
	}
}

// TestRelaysDownSlowOrRefusing: a relay that is down, one that is slow and then refuses
// (OK false), and one that works. Publishing returns at once; the working relay gets the events
// while the others are still failing; the one that was down gets them once it is back, and the
// slow one once it accepts, each event stored exactly once; every attempt is recorded with the
// relay's answer.
func TestRelaysDownSlowOrRefusing(t *testing.T) {
	t.Parallel()
	good, down, picky := relaytest.Start(t), relaytest.StartDown(t), relaytest.Start(t)
	// The picky relay answers each event's first offer too late (after the attempt's timeout,
	// though it keeps the event), refuses the second, and accepts from the third on.
	var mu sync.Mutex
	offers := map[string]int{}
	picky.Reject(func(_ int, ev nostr.Event) (bool, string) {
		mu.Lock()
		offers[ev.ID]++
		n := offers[ev.ID]
		mu.Unlock()
		switch n {
		case 1:
			time.Sleep(3 * time.Second) // past setup's 2 s attempt Timeout, on the worker's real clock
		case 2:
			return true, "rate-limited: slow down"
		}
		return false, ""
	})
	b := setup(t, good.URL, down.URL, picky.URL)
	// Announcing in line would take at least the picky relay's 2 s attempt.
	if took := b.publish(b.game, "2.0.0"); took > 2*time.Second {
		t.Errorf("publishing took %v with relays down: announcing must not block it", took)
	}

	// The working relay has both announcements (listed, published) while the one that is down
	// has had failed attempts.
	events := b.events(good, 4, 10*time.Second)
	ok := relaytest.Wait(10*time.Second, func() bool {
		views, err := b.repo.ListAnnouncements(b.ctx, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range views {
			for _, d := range v.Deliveries {
				if d.Relay == down.URL && (d.Status != announce.StatusPending || len(d.Attempts) < 2) {
					return false
				}
			}
		}
		return len(views) == 2
	})
	if !ok {
		t.Fatalf("no two failed attempts at the relay that is down:\n%s", b.deliveries())
	}
	down.Up()
	for _, r := range []*relaytest.Relay{down, picky} {
		got := b.events(r, 4, 15*time.Second)
		ids := map[string]bool{}
		for _, ev := range got {
			ids[ev.ID] = true
			if err := ev.Verify(); err != nil {
				t.Error(err)
			}
		}
		for _, ev := range events {
			if !ids[ev.ID] {
				t.Errorf("relay %s lacks event %s the working relay got (every relay gets the same events)", r.URL, ev.ID)
			}
			if n := r.Saved(ev.ID); n != 1 {
				t.Errorf("relay %s stored event %s %d times, want once", r.URL, ev.ID, n)
			}
		}
	}

	// Every attempt is recorded: connection failures at the relay that was down, a timeout and
	// a refusal at the picky one.
	ok = relaytest.Wait(5*time.Second, func() bool {
		views, _ := b.repo.ListAnnouncements(b.ctx, "", 10)
		for _, v := range views {
			for _, d := range v.Deliveries {
				if d.Status != announce.StatusSent {
					return false
				}
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("not every delivery is SENT:\n%s", b.deliveries())
	}
	views, err := b.repo.ListAnnouncements(b.ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range views {
		for _, d := range v.Deliveries {
			var results []string
			for i, a := range d.Attempts {
				if a.N != i+1 || a.OK != (i == len(d.Attempts)-1) {
					t.Errorf("%s attempt %d: %+v", d.Relay, i, a)
				}
				results = append(results, a.Result)
			}
			all := strings.Join(results, "\n")
			switch d.Relay {
			case good.URL:
				if len(d.Attempts) != 1 {
					t.Errorf("the working relay took %d attempts: %s", len(d.Attempts), all)
				}
			case down.URL:
				if len(d.Attempts) < 3 || !strings.Contains(d.Attempts[0].Result, "connecting") {
					t.Errorf("the relay that was down: %d attempts:\n%s", len(d.Attempts), all)
				}
			case picky.URL:
				if !strings.Contains(all, "no answer in time") || !strings.Contains(all, "rate-limited: slow down") {
					t.Errorf("the picky relay's attempts do not show the timeout and the refusal:\n%s", all)
				}
			}
		}
	}
}

// TestNotAnnouncedOnceBanned: deliveries still pending when the game is banned stop, and the
// relay that comes back gets nothing.
func TestNotAnnouncedOnceBanned(t *testing.T) {
	t.Parallel()
	down := relaytest.StartDown(t)
	b := setup(t, down.URL)
	ok := relaytest.Wait(10*time.Second, func() bool {
		var n int
		err := b.db.Pool().QueryRow(b.ctx, `SELECT count(*) FROM announcement_attempts`).Scan(&n)
		return err == nil && n >= 1
	})
	if !ok {
		t.Fatal("no attempt at the relay")
	}
	if _, err := b.games.AdminSetGameStatus(b.ctx, b.admin, b.game.ID, market.StatusBanned); err != nil {
		t.Fatal(err)
	}
	ok = relaytest.Wait(10*time.Second, func() bool {
		var status string
		err := b.db.Pool().QueryRow(b.ctx, `SELECT status FROM announcement_deliveries`).Scan(&status)
		return err == nil && status == string(announce.StatusSkipped)
	})
	if !ok {
		t.Fatalf("the delivery was not skipped after the ban:\n%s", b.deliveries())
	}
	// Once no announcement job is left to run, nothing can offer the relay anything again.
	ok = relaytest.Wait(10*time.Second, func() bool {
		var n int
		err := b.db.Pool().QueryRow(b.ctx, `SELECT count(*) FROM river_job
			WHERE queue = $1 AND state NOT IN ('completed', 'cancelled', 'discarded')`, announce.Queue).Scan(&n)
		return err == nil && n == 0
	})
	if !ok {
		t.Fatalf("announcement jobs still run after the delivery was skipped:\n%s", b.deliveries())
	}
	down.Up()
	if n := down.Offers(); n != 0 {
		t.Errorf("the relay was offered %d events of a banned game", n)
	}
}
