package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"satchel.dev/backend/market"
)

// releaseSelect reads a release with its build (without the manifest); nullRelease scans it.
// Callers add WHERE, ORDER BY and locking clauses.
const releaseSelect = `
	SELECT r.id AS release_id, r.game_id, r.version, r.release_notes_md, r.published_at,
	       r.created_at AS release_created_at, b.id AS build_id, b.object_key, b.sha256, b.size_bytes,
	       b.content_type, b.file_count, b.installed_bytes, b.created_at AS build_created_at
	FROM releases r LEFT JOIN build_assets b ON b.release_id = r.id`

// nullRelease scans releaseSelect's columns, all of which are NULL when an outer join found no
// release.
type nullRelease struct {
	id, gameID, version, notes     *string
	published, created             *time.Time
	buildID, key, sha, contentType *string
	size, fileCount, installed     *int64
	buildCreated                   *time.Time
}

func (n *nullRelease) dest() []any {
	return []any{&n.id, &n.gameID, &n.version, &n.notes, &n.published, &n.created,
		&n.buildID, &n.key, &n.sha, &n.size, &n.contentType, &n.fileCount, &n.installed, &n.buildCreated}
}

// release returns the scanned release, or nil when there was none.
func (n *nullRelease) release() *market.Release {
	if n.id == nil {
		return nil
	}
	r := &market.Release{ID: *n.id, GameID: *n.gameID, Version: *n.version, NotesMD: *n.notes,
		PublishedAt: n.published, CreatedAt: *n.created}
	if n.buildID != nil {
		r.Build = &market.Build{ID: *n.buildID, ReleaseID: r.ID, ObjectKey: *n.key, SHA256: *n.sha,
			SizeBytes: *n.size, ContentType: *n.contentType, FileCount: *n.fileCount,
			InstalledBytes: *n.installed, CreatedAt: *n.buildCreated}
	}
	return r
}

func scanRelease(row pgx.Row) (market.Release, error) {
	var n nullRelease
	if err := row.Scan(n.dest()...); err != nil {
		return market.Release{}, err
	}
	return *n.release(), nil
}

func collectReleases(rows pgx.Rows) ([]market.Release, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.Release, error) { return scanRelease(r) })
}

// releaseByID reads one release with its build.
func releaseByID(ctx context.Context, q querier, id string) (market.Release, error) {
	r, err := scanRelease(q.QueryRow(ctx, releaseSelect+` WHERE r.id = $1`, id))
	return r, releaseNotFound(err, id)
}

// releases returns the releases of the given games by game id, newest first; unpublished ones
// only when withUnpublished.
func (s *GameService) releases(ctx context.Context, q querier, gameIDs []string, withUnpublished bool) (map[string][]market.Release, error) {
	rows, err := q.Query(ctx, releaseSelect+`
		WHERE r.game_id = ANY($1::uuid[]) AND ($2 OR r.published_at IS NOT NULL)
		ORDER BY r.published_at DESC NULLS FIRST, r.created_at DESC`, gameIDs, withUnpublished)
	if err != nil {
		return nil, err
	}
	all, err := collectReleases(rows)
	if err != nil {
		return nil, err
	}
	byGame := map[string][]market.Release{}
	for _, r := range all {
		byGame[r.GameID] = append(byGame[r.GameID], r)
	}
	return byGame, nil
}

// CreateRelease implements market.GameService.
func (s *GameService) CreateRelease(ctx context.Context, a market.Actor, gameID, version, notesMD string) (market.Release, error) {
	if err := market.RequireUser(a); err != nil {
		return market.Release{}, err
	}
	var out market.Release
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		g, err := lockGame(ctx, tx, gameID)
		if err != nil {
			return err
		}
		if err := market.CheckOwner(a, g); err != nil {
			return err
		}
		if err := market.ValidateVersion(version); err != nil {
			return err
		}
		if err := market.ValidateNotes(notesMD); err != nil {
			return err
		}
		var id string
		err = tx.QueryRow(ctx, `INSERT INTO releases (game_id, version, release_notes_md) VALUES ($1, $2, $3) RETURNING id`,
			g.ID, version, notesMD).Scan(&id)
		if uniqueViolation(err, "releases_game_id_version_key") {
			return market.Errorf(market.CodeAlreadyExists, "game %q already has a release %s: choose a new version", g.Slug, version)
		}
		if err != nil {
			return err
		}
		out, err = releaseByID(ctx, tx, id)
		return err
	})
	return out, err
}

// lockRelease loads a release and its game inside tx, locks the release, and checks that a
// is the game's developer.
func lockRelease(ctx context.Context, tx pgx.Tx, a market.Actor, releaseID string) (market.Release, market.Game, error) {
	if err := market.RequireUser(a); err != nil {
		return market.Release{}, market.Game{}, err
	}
	if err := market.ValidateID("release_id", releaseID); err != nil {
		return market.Release{}, market.Game{}, err
	}
	r, err := scanRelease(tx.QueryRow(ctx, releaseSelect+` WHERE r.id = $1 FOR UPDATE OF r`, releaseID))
	if err != nil {
		return market.Release{}, market.Game{}, releaseNotFound(err, releaseID)
	}
	g, err := scanGame(tx.QueryRow(ctx, gameSelect+` WHERE g.id = $1`, r.GameID))
	if err != nil {
		return market.Release{}, market.Game{}, err
	}
	return r, g, market.CheckReleaseOwner(a, g, releaseID)
}

// UpdateRelease implements market.GameService.
func (s *GameService) UpdateRelease(ctx context.Context, a market.Actor, releaseID string, u market.ReleaseUpdate) (market.Release, error) {
	var out market.Release
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		r, g, err := lockRelease(ctx, tx, a, releaseID)
		if err != nil {
			return err
		}
		if err := u.Check(r); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE releases SET version = coalesce($2, version), release_notes_md = coalesce($3, release_notes_md),
			       updated_at = now()
			WHERE id = $1`, r.ID, u.Version, u.NotesMD)
		if uniqueViolation(err, "releases_game_id_version_key") {
			return market.Errorf(market.CodeAlreadyExists, "game %q already has a release %s: choose a new version", g.Slug, *u.Version)
		}
		if err != nil {
			return err
		}
		out, err = releaseByID(ctx, tx, r.ID)
		return err
	})
	return out, err
}

// PublishRelease implements market.GameService.
func (s *GameService) PublishRelease(ctx context.Context, a market.Actor, releaseID string) (market.Release, error) {
	var out market.Release
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		r, g, err := lockRelease(ctx, tx, a, releaseID)
		if err != nil || r.Published() {
			out = r
			return err
		}
		if err := market.CheckPublish(r); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE releases SET published_at = now(), updated_at = now() WHERE id = $1`, r.ID); err != nil {
			return err
		}
		if err := libraryChange(ctx, tx, string(market.ChangePublished), r.GameID, nil, nil, nil, &r.ID); err != nil {
			return err
		}
		if market.PublishAnnounced(g) {
			if err := s.announceTx(ctx, tx, market.AnnouncePublished, g.ID, r.ID); err != nil {
				return err
			}
		}
		out, err = releaseByID(ctx, tx, r.ID)
		return err
	})
	return out, err
}
