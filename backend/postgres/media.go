package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"satchel.dev/backend/builds"
	"satchel.dev/backend/market"
)

// MediaRepo implements builds.MediaRepo.
type MediaRepo struct {
	db *DB
}

// NewMediaRepo returns the game media repository on db.
func NewMediaRepo(db *DB) *MediaRepo { return &MediaRepo{db: db} }

var _ builds.MediaRepo = (*MediaRepo)(nil)

const mediaColumns = `m.id, m.game_id, m.kind, m.position, m.object_key, m.sha256, m.size_bytes, m.content_type,
	m.width, m.height, m.created_at`

func scanMedia(row pgx.Row) (market.Media, error) {
	var m market.Media
	err := row.Scan(&m.ID, &m.GameID, &m.Kind, &m.Position, &m.ObjectKey, &m.SHA256, &m.SizeBytes, &m.ContentType,
		&m.Width, &m.Height, &m.CreatedAt)
	return m, err
}

// withMedia loads the cover and screenshots of games, in one query.
func withMedia(ctx context.Context, q querier, games []market.Game) error {
	if len(games) == 0 {
		return nil
	}
	ids := make([]string, len(games))
	at := make(map[string]int, len(games))
	for i, g := range games {
		ids[i], at[g.ID] = g.ID, i
	}
	rows, err := q.Query(ctx, `SELECT `+mediaColumns+` FROM game_media m WHERE m.game_id = ANY($1::uuid[])
		ORDER BY m.game_id, m.kind, m.position`, ids)
	if err != nil {
		return err
	}
	media, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.Media, error) { return scanMedia(r) })
	if err != nil {
		return err
	}
	for _, m := range media {
		g := &games[at[m.GameID]]
		if m.Kind == market.MediaCover {
			g.Cover = &m
		} else {
			g.Screenshots = append(g.Screenshots, m)
		}
	}
	return nil
}

// withMediaOne is withMedia for one game g (none when err is not nil).
func withMediaOne(ctx context.Context, q querier, g market.Game, err error) (market.Game, error) {
	if err != nil {
		return g, err
	}
	games := []market.Game{g}
	err = withMedia(ctx, q, games)
	return games[0], err
}

// gameWithMedia loads a game in any status, with its media.
func gameWithMedia(ctx context.Context, q querier, gameID string) (market.Game, error) {
	g, err := scanGame(q.QueryRow(ctx, gameSelect+` WHERE g.id = $1`, gameID))
	return withMediaOne(ctx, q, g, gameNotFound(err, gameID))
}

// GameByID implements builds.MediaRepo.
func (s *MediaRepo) GameByID(ctx context.Context, gameID string) (market.Game, error) {
	return gameWithMedia(ctx, s.db.pool, gameID)
}

const mediaUploadColumns = `id, game_id, developer_user_id, kind, object_key, sha256, size_bytes, content_type, expires_at`

func scanMediaUpload(row pgx.Row) (market.MediaUpload, error) {
	var u market.MediaUpload
	err := row.Scan(&u.ID, &u.GameID, &u.DeveloperUserID, &u.Kind, &u.ObjectKey, &u.SHA256, &u.SizeBytes, &u.ContentType, &u.ExpiresAt)
	return u, err
}

// CreateMediaUpload implements builds.MediaRepo.
func (s *MediaRepo) CreateMediaUpload(ctx context.Context, u market.MediaUpload) error {
	_, err := s.db.pool.Exec(ctx, `INSERT INTO media_uploads (`+mediaUploadColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		u.ID, u.GameID, u.DeveloperUserID, u.Kind, u.ObjectKey, u.SHA256, u.SizeBytes, u.ContentType, u.ExpiresAt)
	return err
}

// MediaUpload implements builds.MediaRepo.
func (s *MediaRepo) MediaUpload(ctx context.Context, uploadID string) (market.MediaUpload, error) {
	u, err := scanMediaUpload(s.db.pool.QueryRow(ctx, `SELECT `+mediaUploadColumns+` FROM media_uploads WHERE id = $1 AND status = 'OPEN'`, uploadID))
	return u, notFound(err, "no image upload with id %s: it was finished, refused or has expired", uploadID)
}

// CloseMediaUpload implements builds.MediaRepo.
func (s *MediaRepo) CloseMediaUpload(ctx context.Context, uploadID string) (bool, error) {
	var status string
	err := s.db.pool.QueryRow(ctx, `
		UPDATE media_uploads SET status = CASE status WHEN 'OPEN' THEN 'CLOSED' ELSE status END
		WHERE id = $1 RETURNING status`, uploadID).Scan(&status)
	return status == "FINISHED", notFound(err, "no image upload with id %s", uploadID)
}

// DeleteMediaUpload implements builds.MediaRepo.
func (s *MediaRepo) DeleteMediaUpload(ctx context.Context, uploadID string) error {
	_, err := s.db.pool.Exec(ctx, `DELETE FROM media_uploads WHERE id = $1`, uploadID)
	return err
}

// ExpiredMediaUploads implements builds.MediaRepo.
func (s *MediaRepo) ExpiredMediaUploads(ctx context.Context, t time.Time) ([]market.MediaUpload, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT `+mediaUploadColumns+` FROM media_uploads WHERE expires_at < $1`, t)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.MediaUpload, error) { return scanMediaUpload(r) })
}

// AttachMedia implements builds.MediaRepo.
func (s *MediaRepo) AttachMedia(ctx context.Context, uploadID string, m market.Media) (market.Media, string, error) {
	var replaced string
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE media_uploads SET status = 'FINISHED' WHERE id = $1 AND status = 'OPEN'`, uploadID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return market.Errorf(market.CodeNotFound, "no image upload with id %s: it was finished, refused or has expired", uploadID)
		}
		g, err := lockGame(ctx, tx, m.GameID)
		if err != nil {
			return err
		}
		var dup string
		err = tx.QueryRow(ctx, `SELECT kind FROM game_media WHERE game_id = $1 AND sha256 = $2`, g.ID, m.SHA256).Scan(&dup)
		if err == nil {
			return market.Errorf(market.CodeAlreadyExists, "game %q already has this image (as its %s): upload another", g.Slug, lower(dup))
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if m.Kind == market.MediaCover {
			err := tx.QueryRow(ctx, `DELETE FROM game_media WHERE game_id = $1 AND kind = 'COVER' RETURNING object_key`, g.ID).Scan(&replaced)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			m.Position = 0
		} else {
			var count, next int
			if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(max(position) + 1, 0) FROM game_media WHERE game_id = $1 AND kind = 'SCREENSHOT'`,
				g.ID).Scan(&count, &next); err != nil {
				return err
			}
			if err := market.CheckScreenshotRoom(g, count); err != nil {
				return err
			}
			m.Position = next
		}
		m, err = scanMedia(tx.QueryRow(ctx, `
			INSERT INTO game_media AS m (game_id, kind, position, object_key, sha256, size_bytes, content_type, width, height)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+mediaColumns,
			m.GameID, m.Kind, m.Position, m.ObjectKey, m.SHA256, m.SizeBytes, m.ContentType, m.Width, m.Height))
		return err
	})
	return m, replaced, err
}

func lower(kind string) string {
	if kind == string(market.MediaCover) {
		return "cover"
	}
	return "screenshot"
}

// MediaByID implements builds.MediaRepo.
func (s *MediaRepo) MediaByID(ctx context.Context, mediaID string) (market.Media, error) {
	m, err := scanMedia(s.db.pool.QueryRow(ctx, `SELECT `+mediaColumns+` FROM game_media m WHERE m.id = $1`, mediaID))
	return m, notFound(err, "no image with id %s", mediaID)
}

// DeleteMedia implements builds.MediaRepo.
func (s *MediaRepo) DeleteMedia(ctx context.Context, mediaID string) error {
	tag, err := s.db.pool.Exec(ctx, `DELETE FROM game_media WHERE id = $1`, mediaID)
	if err == nil && tag.RowsAffected() == 0 {
		err = market.Errorf(market.CodeNotFound, "no image with id %s", mediaID)
	}
	return err
}

// MediaBySHA256 implements builds.MediaRepo.
func (s *MediaRepo) MediaBySHA256(ctx context.Context, gameID, sha256 string) (market.Media, market.Game, error) {
	m, err := scanMedia(s.db.pool.QueryRow(ctx, `SELECT `+mediaColumns+` FROM game_media m WHERE m.game_id = $1 AND m.sha256 = $2`, gameID, sha256))
	if err != nil {
		return market.Media{}, market.Game{}, notFound(err, "no such image")
	}
	g, err := scanGame(s.db.pool.QueryRow(ctx, gameSelect+` WHERE g.id = $1`, gameID))
	return m, g, gameNotFound(err, gameID)
}
