package postgres_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"satchel.dev/backend/blob/local"
	"satchel.dev/backend/builds"
	"satchel.dev/backend/market"
	"satchel.dev/backend/postgres"
	"satchel.dev/shared/zipsafe"
)

// TestBackfillEntries records builds as a server before migration 0010 did (no locations),
// backfills them from their zips, and checks that downloads then say where every file lies,
// exactly as a fresh upload records it; a build whose zip is not its manifest is left alone.
func TestBackfillEntries(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	users, games, repo := postgres.NewUserService(db), postgres.NewGameService(db), postgres.NewBuildRepo(db)
	pk := strings.Repeat("d", 64)
	uid, err := users.EnsureUser(ctx, pk)
	if err != nil {
		t.Fatal(err)
	}
	dev := market.Actor{UserID: uid, Pubkey: pk}
	if _, err := users.SetPayoutAddress(ctx, dev, "dev@example.com"); err != nil {
		t.Fatal(err)
	}
	storeDir := t.TempDir()
	store, err := local.New(storeDir, bytes.Repeat([]byte{7}, 32), "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	pipeline, err := builds.New(repo, store, builds.Config{IPHashSecret: bytes.Repeat([]byte{1}, 16)}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}

	// oldBuild stores a zip of files and attaches it with the manifest an old server recorded
	// (edited by edit), returning the game and the manifest a new server records.
	oldBuild := func(slug, idTail string, edit func([]market.File), files map[string]string) (string, []market.File) {
		t.Helper()
		g, err := games.CreateGame(ctx, dev, market.NewGame{Slug: slug, Title: slug})
		if err != nil {
			t.Fatal(err)
		}
		r, err := games.CreateRelease(ctx, dev, g.ID, "1.0.0", "")
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for name, body := range files {
			w, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
			w.Write([]byte(body))
		}
		zw.Close()
		z := buf.Bytes()
		sum := sha256.Sum256(z)
		id := "00000000-0000-4000-8000-" + strings.Repeat(idTail, 12)
		u := market.Upload{ID: id, ReleaseID: r.ID, DeveloperUserID: uid, ObjectKey: market.BuildObjectKey(r.ID, id),
			SHA256: hex.EncodeToString(sum[:]), SizeBytes: int64(len(z)), ExpiresAt: time.Now().Add(time.Hour)}
		key := "builds/" + r.ID + "/" + id + ".build.zip"
		if err := os.MkdirAll(filepath.Join(storeDir, filepath.Dir(key)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(storeDir, key), z, 0o600); err != nil {
			t.Fatal(err)
		}
		entries, err := zipsafe.Scan(bytes.NewReader(z), int64(len(z)), zipsafe.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		var located, old []market.File
		for _, e := range entries {
			f := market.File{Path: e.Path, SizeBytes: e.Size, Mode: uint32(e.Mode.Perm()), SHA256: e.SHA256}
			old = append(old, f)
			f.HeaderOffset, f.DataOffset, f.CompressedBytes, f.Method, f.CRC32 = e.HeaderOffset, e.DataOffset, e.CompressedSize, e.Method, e.CRC32
			located = append(located, f)
		}
		edit(old)
		if err := repo.CreateUpload(ctx, u); err != nil {
			t.Fatal(err)
		}
		b := market.Build{ReleaseID: r.ID, ObjectKey: key, SHA256: u.SHA256, SizeBytes: u.SizeBytes,
			ContentType: market.BuildContentType, FileCount: int64(len(old)), Files: old}
		if _, err := repo.AttachBuild(ctx, id, b); err != nil {
			t.Fatal(err)
		}
		return g.ID, located
	}
	files := map[string]string{"run.sh": "#!/bin/sh\n", "data/a.bin": strings.Repeat("a", 5000), "README": "hello"}
	good, want := oldBuild("good-game", "1", func([]market.File) {}, files)
	bad, _ := oldBuild("bad-game", "2", func(m []market.File) { m[0].SHA256 = strings.Repeat("0", 64) }, files)

	manifest := func(gameID string) []market.File {
		t.Helper()
		r, err := repo.DownloadableRelease(ctx, gameID, "", false)
		if err != nil {
			t.Fatal(err)
		}
		return r.Build.Files
	}
	for _, f := range manifest(good) {
		if f.Located() {
			t.Fatalf("%s is located before the backfill", f.Path)
		}
	}
	var failed []string
	n, err := pipeline.BackfillEntries(ctx, func(b market.Build, err error) {
		if err != nil {
			failed = append(failed, err.Error())
		}
	})
	if err != nil || n != 1 || len(failed) != 1 || !strings.Contains(failed[0], "nothing was recorded") {
		t.Fatalf("backfill = %d, %v; failures %q: want 1 build done, the bad one refused", n, err, failed)
	}
	if diff := cmp.Diff(want, manifest(good)); diff != "" {
		t.Errorf("backfilled manifest (-want +got):\n%s", diff)
	}
	for _, f := range manifest(bad) {
		if f.Located() {
			t.Errorf("%s of the mismatched build was located", f.Path)
		}
	}
	// A second run does only what is left: the bad build, refused again.
	if n, err := pipeline.BackfillEntries(ctx, func(market.Build, error) {}); err != nil || n != 0 {
		t.Errorf("second backfill = %d, %v; want nothing more done", n, err)
	}
}
