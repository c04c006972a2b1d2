package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"satchel.dev/backend/market"
	"satchel.dev/backend/purchases"
)

// LibraryRepo implements purchases.LibraryStore: it reads players' libraries.
type LibraryRepo struct {
	db *DB
}

// NewLibraryRepo returns the library repository on db.
func NewLibraryRepo(db *DB) *LibraryRepo { return &LibraryRepo{db: db} }

var _ purchases.LibraryStore = (*LibraryRepo)(nil)

// librarySelect reads owned games: one row per unrevoked entitlement, with the game's latest
// published release that has a build. $1 is the user id.
const librarySelect = `
	SELECT e.id, g.id, g.slug, g.title, e.granted_at, r.*
	FROM entitlements e JOIN games g ON g.id = e.game_id
	LEFT JOIN LATERAL (` + releaseSelect + `
		WHERE r.game_id = g.id AND r.published_at IS NOT NULL AND b.id IS NOT NULL
		ORDER BY r.published_at DESC, r.created_at DESC LIMIT 1
	) r ON true
	WHERE e.buyer_user_id = $1 AND e.revoked_at IS NULL`

func scanLibraryGame(row pgx.Row) (market.LibraryGame, error) {
	var lg market.LibraryGame
	var r nullRelease
	err := row.Scan(append([]any{&lg.EntitlementID, &lg.GameID, &lg.Slug, &lg.Title, &lg.GrantedAt}, r.dest()...)...)
	lg.Latest = r.release()
	return lg, err
}

// Library returns the user's owned games, by title, and the id of the newest library change
// the user's stream can see so far (a stream resuming from it misses nothing after this list).
// Only those changes become visible in id order (see libraryChange), so the id is the newest of
// the user's own changes and of those every owner sees, never of all changes.
func (s *LibraryRepo) Library(ctx context.Context, userID string) ([]market.LibraryGame, int64, error) {
	var last int64
	if err := s.db.pool.QueryRow(ctx, `
		SELECT greatest(
			(SELECT coalesce(max(id), 0) FROM library_changes WHERE user_id = $1),
			(SELECT coalesce(max(id), 0) FROM library_changes WHERE user_id IS NULL AND guest_receipt_code IS NULL))`,
		userID).Scan(&last); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.pool.Query(ctx, librarySelect+` ORDER BY g.title, e.granted_at`, userID)
	if err != nil {
		return nil, 0, err
	}
	games, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.LibraryGame, error) { return scanLibraryGame(r) })
	return games, last, err
}

// Changes returns up to limit changes to the user's library after change id after, oldest
// first: the user's entitlements granted or revoked, and releases published for games the user
// owns.
func (s *LibraryRepo) Changes(ctx context.Context, userID string, after int64, limit int) ([]market.LibraryChange, error) {
	rows, err := s.db.pool.Query(ctx, `
		SELECT c.id, c.kind, c.game_id, g.slug, c.created_at
		FROM library_changes c JOIN games g ON g.id = c.game_id
		WHERE c.id > $2 AND (c.user_id = $1 OR (c.kind = 'RELEASE_PUBLISHED' AND EXISTS (
			SELECT 1 FROM entitlements e WHERE e.game_id = c.game_id AND e.buyer_user_id = $1 AND e.revoked_at IS NULL)))
		ORDER BY c.id LIMIT $3`, userID, after, limit)
	if err != nil {
		return nil, err
	}
	changes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.LibraryChange, error) {
		var c market.LibraryChange
		err := r.Scan(&c.ID, &c.Kind, &c.GameID, &c.Slug, &c.At)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	for i, c := range changes {
		if c.Kind == market.ChangeRevoked {
			continue
		}
		lg, err := scanLibraryGame(s.db.pool.QueryRow(ctx, librarySelect+` AND g.id = $2 LIMIT 1`, userID, c.GameID))
		if err == pgx.ErrNoRows {
			continue // revoked since: a later change says so
		}
		if err != nil {
			return nil, err
		}
		changes[i].Game = &lg
	}
	return changes, nil
}
