package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"satchel.dev/backend/market"
)

const releaseColumns = `r.id, r.game_id, r.version, r.release_notes_md, r.published_at, r.created_at`

func scanRelease(row pgx.Row) (market.Release, error) {
	var r market.Release
	err := row.Scan(&r.ID, &r.GameID, &r.Version, &r.NotesMD, &r.PublishedAt, &r.CreatedAt)
	return r, err
}

// releases returns the releases of the given games by game id, newest first; unpublished ones
// only when withUnpublished.
func (s *GameService) releases(ctx context.Context, q querier, gameIDs []string, withUnpublished bool) (map[string][]market.Release, error) {
	rows, err := q.Query(ctx, `
		SELECT `+releaseColumns+` FROM releases r
		WHERE r.game_id = ANY($1::uuid[]) AND ($2 OR r.published_at IS NOT NULL)
		ORDER BY r.published_at DESC NULLS FIRST, r.created_at DESC`, gameIDs, withUnpublished)
	if err != nil {
		return nil, err
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.Release, error) { return scanRelease(r) })
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
		out, err = scanRelease(tx.QueryRow(ctx, `
			INSERT INTO releases AS r (game_id, version, release_notes_md) VALUES ($1, $2, $3)
			RETURNING `+releaseColumns, g.ID, version, notesMD))
		if uniqueViolation(err, "releases_game_id_version_key") {
			return market.Errorf(market.CodeAlreadyExists, "game %q already has a release %s: choose a new version", g.Slug, version)
		}
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
	r, err := scanRelease(tx.QueryRow(ctx, `SELECT `+releaseColumns+` FROM releases r WHERE r.id = $1 FOR UPDATE`, releaseID))
	if err != nil {
		return market.Release{}, market.Game{}, notFound(err, "no release with id %s", releaseID)
	}
	g, err := scanGame(tx.QueryRow(ctx, gameSelect+` WHERE g.id = $1`, r.GameID))
	if err != nil {
		return market.Release{}, market.Game{}, err
	}
	return r, g, market.CheckOwner(a, g)
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
		out, err = scanRelease(tx.QueryRow(ctx, `
			UPDATE releases AS r SET version = coalesce($2, version), release_notes_md = coalesce($3, release_notes_md),
			       updated_at = now()
			WHERE id = $1 RETURNING `+releaseColumns, r.ID, u.Version, u.NotesMD))
		if uniqueViolation(err, "releases_game_id_version_key") {
			return market.Errorf(market.CodeAlreadyExists, "game %q already has a release %s: choose a new version", g.Slug, *u.Version)
		}
		return err
	})
	return out, err
}

// PublishRelease implements market.GameService.
func (s *GameService) PublishRelease(ctx context.Context, a market.Actor, releaseID string) (market.Release, error) {
	var out market.Release
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		r, _, err := lockRelease(ctx, tx, a, releaseID)
		if err != nil || r.Published() {
			out = r
			return err
		}
		out, err = scanRelease(tx.QueryRow(ctx, `
			UPDATE releases AS r SET published_at = now(), updated_at = now()
			WHERE id = $1 RETURNING `+releaseColumns, r.ID))
		return err
	})
	return out, err
}
