package postgres_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"satchel.dev/backend/market"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m, postgres.Migrate) }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// columns returns table -> sorted column names of the public schema, without schema_migrations
// and the job queue's own tables.
func columns(t *testing.T, conn *pgx.Conn) map[string][]string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `
		SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name <> 'schema_migrations' AND table_name NOT LIKE 'river\_%'`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		out[table] = append(out[table], col)
	}
	for _, cols := range out {
		sort.Strings(cols)
	}
	return out
}

// TestSchemaMapsTheSeed compares the migrated schema with the DB schema seed, column by column,
// plus the columns DESIGN.md and the issue add beyond it.
func TestSchemaMapsTheSeed(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	ts := []string{"created_at", "updated_at"}
	with := func(cols ...string) []string { s := append([]string{}, cols...); sort.Strings(s); return s }
	want := map[string][]string{
		"users":              with(append([]string{"id", "pubkey", "display_name", "avatar_url"}, ts...)...),
		"developer_profiles": with(append([]string{"user_id", "payout_ln_address", "studio_name"}, ts...)...), // studio_name: beyond the seeds
		"games": with(append([]string{"id", "developer_user_id", "slug", "title", "summary", "description_md", "status",
			"price_msat"}, ts...)...), // price_msat: beyond the seeds
		"releases": with(append([]string{"id", "game_id", "version", "release_notes_md", "published_at"}, ts...)...),
		"build_assets": with("id", "release_id", "object_key", "sha256", "size_bytes", "content_type", "created_at",
			"file_count", "installed_bytes"), // file_count, installed_bytes: beyond the seeds
		"purchases": with(append([]string{"id", "buyer_user_id", "guest_receipt_code", "game_id", "invoice_provider",
			"invoice_id", "status", "amount_msat", "paid_at",
			"request_key", "payment_request", "expires_at", "failure_reason", "guest_receipt_sealed"}, ts...)...), // the last five: beyond the seeds
		"entitlements":    with("id", "purchase_id", "buyer_user_id", "guest_receipt_code", "game_id", "granted_at", "revoked_at"),
		"download_events": with("id", "entitlement_id", "release_id", "ip_hash", "user_agent", "created_at"),
		"ledger_entries":  with("id", "purchase_id", "type", "amount_msat", "meta_json", "created_at", "currency"), // currency: beyond the seeds
		"payouts": with(append([]string{"id", "purchase_id", "developer_user_id", "destination_ln_address", "amount_msat",
			"status", "attempt_count", "last_error", "idempotency_key",
			"payment_request", "payment_hash", "invoice_expires_at", "fee_msat", "preimage", "sent_at", "next_attempt_at",
			"lease_id", "lease_until", "payment_state", "payment_state_since"}, ts...)...), // the last eleven: beyond the seeds
		// Beyond the seeds: tables of their own.
		"payout_invoices": with("payment_hash", "payout_id", "payment_request", "ln_address", "amount_msat", "expires_at", "created_at"),
		"nip98_events":    with("event_id", "pubkey", "signed_at"),
		"game_media":      with("id", "game_id", "kind", "position", "object_key", "sha256", "size_bytes", "content_type", "width", "height", "created_at"),
		"media_uploads": with("id", "game_id", "developer_user_id", "kind", "object_key", "sha256", "size_bytes", "content_type", "status",
			"expires_at", "created_at"),
		"uploads":           with("id", "release_id", "developer_user_id", "object_key", "sha256", "size_bytes", "expires_at", "created_at", "status"),
		"build_files":       with("build_asset_id", "path", "size_bytes", "mode", "sha256", "header_offset", "data_offset", "compressed_bytes", "method", "crc32"),
		"lightning_cursors": with("provider", "settle_index"),
		"library_changes":   with("id", "kind", "game_id", "user_id", "guest_receipt_code", "entitlement_id", "release_id", "created_at"),
		"dev_node":          with("id", "private_key", "created_at"),
		"dev_invoices": with("payment_hash", "preimage", "payment_request", "amount_msat", "memo", "created_at", "expires_at",
			"state", "settle_index", "settled_at", "amount_paid_msat"),
		"dev_payments": with("payment_hash", "payment_request", "status", "amount_msat", "fee_msat", "preimage",
			"failure_reason", "created_at", "updated_at"),
		"admin_actions": with("id", "admin_pubkey", "action", "target_kind", "target_id", "reason", "details", "created_at"),
		"announcements": with("id", "kind", "game_id", "release_id", "events", "signed_at", "skipped", "created_at"),
		"announcement_deliveries": with("id", "announcement_id", "relay", "status", "attempt_count", "last_error",
			"next_attempt_at", "sent_at", "created_at", "updated_at"),
		"announcement_attempts": with("id", "delivery_id", "attempt", "ok", "result", "started_at", "finished_at"),
	}
	if diff := cmp.Diff(want, columns(t, conn)); diff != "" {
		t.Errorf("schema columns differ from the seed (-want +got):\n%s", diff)
	}

	// The seed's must-have unique constraints.
	for _, u := range []string{"users(pubkey)", "games(slug)", "purchases(invoice_id)", "entitlements(purchase_id)",
		"payouts(purchase_id)", "payouts(idempotency_key)", "build_assets(release_id)", "developer_profiles(user_id)"} {
		table, col, _ := strings.Cut(strings.TrimSuffix(u, ")"), "(")
		var n int
		err := conn.QueryRow(context.Background(), `
			SELECT count(*) FROM pg_index i
			JOIN pg_class c ON c.oid = i.indrelid
			JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
			WHERE i.indisunique AND i.indnatts = 1 AND c.relname = $1 AND a.attname = $2`, table, col).Scan(&n)
		if err != nil || n == 0 {
			t.Errorf("no unique index on %s (err %v)", u, err)
		}
	}
}

// TestCheckConstraints shows the database itself refuses values outside the domain's enums and
// negative amounts, whatever the code above it does.
func TestCheckConstraints(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	ctx := context.Background()
	var uid, gid, pid string
	must := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	pk := strings.Repeat("a", 64)
	if err := conn.QueryRow(ctx, `INSERT INTO users (pubkey) VALUES ($1) RETURNING id`, pk).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `INSERT INTO games (developer_user_id, slug, title) VALUES ($1, 'g-1', 'G') RETURNING id`, uid).Scan(&gid); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `INSERT INTO purchases (game_id, amount_msat) VALUES ($1, 1000) RETURNING id`, gid).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	must(`INSERT INTO ledger_entries (purchase_id, type, amount_msat) VALUES ($1, 'INVOICE_CREATED', 1000)`, pid)
	bad := []struct {
		name string
		sql  string
		args []any
	}{
		{"game status", `UPDATE games SET status = 'HIDDEN' WHERE id = $1`, []any{gid}},
		{"negative price", `UPDATE games SET price_msat = -1 WHERE id = $1`, []any{gid}},
		{"bad slug", `UPDATE games SET slug = 'Bad Slug' WHERE id = $1`, []any{gid}},
		{"purchase status", `UPDATE purchases SET status = 'SETTLED' WHERE id = $1`, []any{pid}},
		{"negative purchase amount", `UPDATE purchases SET amount_msat = -5 WHERE id = $1`, []any{pid}},
		{"ledger type", `INSERT INTO ledger_entries (purchase_id, type, amount_msat) VALUES ($1, 'BONUS', 1)`, []any{pid}},
		{"refund reversing nothing", `INSERT INTO ledger_entries (purchase_id, type, amount_msat) VALUES ($1, 'REFUND', 1)`, []any{pid}},
		{"admin action", `INSERT INTO admin_actions (admin_pubkey, action, target_kind, target_id) VALUES ($1, 'DELETE_EVERYTHING', 'game', $2)`, []any{pk, gid}},
		{"negative ledger amount", `INSERT INTO ledger_entries (purchase_id, type, amount_msat) VALUES ($1, 'INVOICE_PAID', -1)`, []any{pid}},
		{"ledger currency", `INSERT INTO ledger_entries (purchase_id, type, amount_msat, currency) VALUES ($1, 'INVOICE_PAID', 1, 'usd')`, []any{pid}},
		{"payout status", `INSERT INTO payouts (purchase_id, developer_user_id, destination_ln_address, amount_msat, status, idempotency_key) VALUES ($1, $2, 'a@b.c', 1, 'PAID', 'k')`, []any{pid, uid}},
		{"pubkey format", `INSERT INTO users (pubkey) VALUES ('npub1xyz')`, nil},
		{"duplicate pubkey", `INSERT INTO users (pubkey) VALUES ($1)`, []any{pk}},
		{"release of no game", `INSERT INTO releases (game_id, version) VALUES (gen_random_uuid(), '1.0.0')`, nil},
	}
	for _, b := range bad {
		if _, err := conn.Exec(ctx, b.sql, b.args...); err == nil {
			t.Errorf("%s: the database accepted it", b.name)
		}
	}
}

// TestMigrateDownAndUpAgain runs every migration down to nothing and up again, and shows that
// servers starting together on a fresh database migrate it once without racing.
func TestMigrateDownAndUpAgain(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	before := columns(t, conn)
	if err := postgres.MigrateTo(ctx, dsn, 0); err != nil {
		t.Fatal("down:", err)
	}
	if got := columns(t, conn); len(got) != 0 {
		t.Fatalf("after migrating down, tables remain: %v", got)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = postgres.Migrate(ctx, dsn) }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent migrate %d: %v", i, err)
		}
	}
	if diff := cmp.Diff(before, columns(t, conn)); diff != "" {
		t.Errorf("schema after down and up differs (-before +after):\n%s", diff)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n == 0 {
		t.Errorf("schema_migrations has %d rows (err %v)", n, err)
	}
}

// openDB opens a new database of the test cluster, closed when the test ends.
func openDB(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// TestSignInRefusesReplay shows that an event id is accepted once per database, and that the
// user is created once however often they sign in.
func TestSignInRefusesReplay(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	users := postgres.NewUserService(db)
	pk := strings.Repeat("b", 64)
	now := time.Now()
	first, err := users.SignIn(ctx, pk, strings.Repeat("1", 64), now)
	if err != nil {
		t.Fatal(err)
	}
	second, err := users.SignIn(ctx, pk, strings.Repeat("2", 64), now)
	if err != nil || second != first {
		t.Fatalf("second sign-in = %q, %v; want the same user %q", second, err, first)
	}
	_, err = users.SignIn(ctx, pk, strings.Repeat("1", 64), now)
	if market.ErrorCode(err) != market.CodeUnauthenticated || !strings.Contains(err.Error(), "replay") {
		t.Fatalf("replayed event: err = %v, want unauthenticated naming the replay check", err)
	}
	n, err := users.PurgeNIP98Events(ctx, now.Add(time.Second))
	if err != nil || n != 2 {
		t.Fatalf("purge = %d, %v; want 2 rows", n, err)
	}
}

// attachBuild gives a release a build through the repository, as the build pipeline does once
// an upload passes its checks.
func attachBuild(t *testing.T, db *postgres.DB, dev market.Actor, releaseID string) {
	t.Helper()
	ctx := context.Background()
	repo := postgres.NewBuildRepo(db)
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", time.Now().UnixNano()%1e12)
	u := market.Upload{ID: id, ReleaseID: releaseID, DeveloperUserID: dev.UserID, ObjectKey: market.BuildObjectKey(releaseID, id),
		SHA256: strings.Repeat("a", 64), SizeBytes: 10, ExpiresAt: time.Now().Add(time.Hour)}
	if err := repo.CreateUpload(ctx, u); err != nil {
		t.Fatal(err)
	}
	b := market.Build{ReleaseID: releaseID, ObjectKey: u.ObjectKey, SHA256: u.SHA256, SizeBytes: 10, ContentType: market.BuildContentType,
		FileCount: 1, InstalledBytes: 3, Files: []market.File{{Path: "a", SizeBytes: 3, Mode: 0o644, SHA256: strings.Repeat("b", 64)}}}
	if _, err := repo.AttachBuild(ctx, id, b); err != nil {
		t.Fatal(err)
	}
}

// TestEnsureUserConcurrently creates one new user from many calls at once, as a launcher's
// first signed calls do: every call gets the same user, none fails.
func TestEnsureUserConcurrently(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	users := postgres.NewUserService(db)
	for round := range 20 {
		pk := fmt.Sprintf("%064x", round+1)
		ids := make([]string, 8)
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Add(1)
			go func() { defer wg.Done(); ids[i], errs[i] = users.EnsureUser(ctx, pk) }()
		}
		wg.Wait()
		for i := range ids {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Fatalf("round %d, call %d: %q, %v; want %q", round, i, ids[i], errs[i], ids[0])
			}
		}
	}
}

// TestStorePagination walks the store page by page: featured first, then newest, every listed
// game exactly once, drafts and unlisted games never, and the title search matching literally.
func TestStorePagination(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	users, games := postgres.NewUserService(db), postgres.NewGameService(db)
	pk := strings.Repeat("c", 64)
	uid, err := users.EnsureUser(ctx, pk)
	if err != nil {
		t.Fatal(err)
	}
	dev := market.Actor{UserID: uid, Pubkey: pk}
	admin := market.Actor{UserID: uid, Pubkey: pk, Admin: true}
	if _, err := users.SetPayoutAddress(ctx, dev, "dev@example.com"); err != nil {
		t.Fatal(err)
	}
	statuses := []market.GameStatus{market.StatusListed, market.StatusFeatured, market.StatusDraft, market.StatusListed,
		market.StatusUnlisted, market.StatusListed, market.StatusFeatured, market.StatusListed, market.StatusBanned, market.StatusListed}
	var wantOrder []string
	var featured, listed []string
	for i, s := range statuses {
		title := fmt.Sprintf("Game %02d", i)
		if i == 3 {
			title = "100% Fun_Game"
		}
		g, err := games.CreateGame(ctx, dev, market.NewGame{Slug: fmt.Sprintf("game-%02d", i), Title: title})
		if err != nil {
			t.Fatal(err)
		}
		r, err := games.CreateRelease(ctx, dev, g.ID, "1.0.0", "")
		if err != nil {
			t.Fatal(err)
		}
		attachBuild(t, db, dev, r.ID)
		if _, err := games.PublishRelease(ctx, dev, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := games.AdminSetGameStatus(ctx, admin, g.ID, s); err != nil {
			t.Fatal(err)
		}
		switch s {
		case market.StatusFeatured:
			featured = append([]string{g.Slug}, featured...)
		case market.StatusListed:
			listed = append([]string{g.Slug}, listed...)
		}
	}
	wantOrder = append(featured, listed...)

	var got []string
	token := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		page, err := games.ListGames(ctx, market.Actor{}, market.GameFilter{PageSize: 3, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range page.Games {
			got = append(got, g.Slug)
			if g.LatestRelease == nil || g.LatestRelease.Version != "1.0.0" {
				t.Errorf("%s: latest release = %+v, want 1.0.0", g.Slug, g.LatestRelease)
			}
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if diff := cmp.Diff(wantOrder, got); diff != "" {
		t.Errorf("store order (-want +got):\n%s", diff)
	}

	for q, want := range map[string][]string{"100%": {"game-03"}, "fun_": {"game-03"}, "_": {"game-03"}, "GAME 0": nil, "nothing": nil} {
		page, err := games.ListGames(ctx, market.Actor{}, market.GameFilter{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		var slugs []string
		for _, g := range page.Games {
			slugs = append(slugs, g.Slug)
		}
		if q == "GAME 0" {
			want = []string{"game-06", "game-01", "game-09", "game-07", "game-05", "game-00"}
		}
		if diff := cmp.Diff(want, slugs); diff != "" {
			t.Errorf("query %q (-want +got):\n%s", q, diff)
		}
	}

	if _, err := games.ListGames(ctx, market.Actor{}, market.GameFilter{PageToken: "garbage"}); market.ErrorCode(err) != market.CodeInvalid {
		t.Errorf("garbage page token: err = %v, want invalid", err)
	}
	first, _ := games.ListGames(ctx, market.Actor{}, market.GameFilter{PageSize: 1})
	if _, err := games.ListGames(ctx, market.Actor{}, market.GameFilter{PageSize: 1, PageToken: first.NextPageToken, Query: "x"}); market.ErrorCode(err) != market.CodeInvalid {
		t.Errorf("token of another query: err = %v, want invalid", err)
	}
}

// TestCursorResets: the settlement cursor only moves up as settlements are applied, and goes
// back to 0 only when reset from where it is (a node whose indexes started again; a reset
// from an older value, by an instance that read it before another reset it, changes
// nothing), then moves up from there.
func TestCursorResets(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	repo := postgres.NewPurchaseRepo(db)
	cursor := func() uint64 {
		t.Helper()
		n, err := repo.Cursor(ctx, "lnd")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, step := range []struct {
		save  uint64
		reset bool // from save
		want  uint64
	}{{save: 10, want: 10}, {save: 7, want: 10}, {reset: true, save: 9, want: 10}, {reset: true, save: 10, want: 0}, {save: 3, want: 3}} {
		var err error
		if step.reset {
			err = repo.ResetCursor(ctx, "lnd", step.save)
		} else {
			err = repo.SaveCursor(ctx, "lnd", step.save)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := cursor(); got != step.want {
			t.Errorf("after %+v the cursor is %d, want %d", step, got, step.want)
		}
	}
}
