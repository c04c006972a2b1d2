package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"satchel.dev/backend/builds"
	"satchel.dev/backend/market"
)

// BuildRepo implements builds.Repo.
type BuildRepo struct {
	db *DB
}

// NewBuildRepo returns the build repository on db.
func NewBuildRepo(db *DB) *BuildRepo { return &BuildRepo{db: db} }

var _ builds.Repo = (*BuildRepo)(nil)

// ReleaseWithGame implements builds.Repo.
func (s *BuildRepo) ReleaseWithGame(ctx context.Context, releaseID string) (market.Release, market.Game, error) {
	r, err := releaseByID(ctx, s.db.pool, releaseID)
	if err != nil {
		return market.Release{}, market.Game{}, err
	}
	g, err := s.GameByID(ctx, r.GameID)
	return r, g, err
}

// GameByID implements builds.Repo.
func (s *BuildRepo) GameByID(ctx context.Context, gameID string) (market.Game, error) {
	g, err := scanGame(s.db.pool.QueryRow(ctx, gameSelect+` WHERE g.id = $1`, gameID))
	return g, gameNotFound(err, gameID)
}

const uploadColumns = `id, release_id, developer_user_id, object_key, sha256, size_bytes, expires_at`

func scanUpload(row pgx.Row) (market.Upload, error) {
	var u market.Upload
	err := row.Scan(&u.ID, &u.ReleaseID, &u.DeveloperUserID, &u.ObjectKey, &u.SHA256, &u.SizeBytes, &u.ExpiresAt)
	return u, err
}

// CreateUpload implements builds.Repo.
func (s *BuildRepo) CreateUpload(ctx context.Context, u market.Upload) error {
	_, err := s.db.pool.Exec(ctx, `INSERT INTO uploads (`+uploadColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.ID, u.ReleaseID, u.DeveloperUserID, u.ObjectKey, u.SHA256, u.SizeBytes, u.ExpiresAt)
	return err
}

// Upload implements builds.Repo.
func (s *BuildRepo) Upload(ctx context.Context, uploadID string) (market.Upload, error) {
	u, err := scanUpload(s.db.pool.QueryRow(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = $1 AND status = 'OPEN'`, uploadID))
	return u, notFound(err, "no upload with id %s: it was finished, refused or has expired", uploadID)
}

// CloseUpload implements builds.Repo. The update waits for a concurrent AttachBuild and sees
// its outcome, so finished is never stale.
func (s *BuildRepo) CloseUpload(ctx context.Context, uploadID string) (bool, error) {
	var status string
	err := s.db.pool.QueryRow(ctx, `
		UPDATE uploads SET status = CASE status WHEN 'OPEN' THEN 'CLOSED' ELSE status END
		WHERE id = $1 RETURNING status`, uploadID).Scan(&status)
	return status == "FINISHED", notFound(err, "no upload with id %s", uploadID)
}

// DeleteUpload implements builds.Repo.
func (s *BuildRepo) DeleteUpload(ctx context.Context, uploadID string) error {
	_, err := s.db.pool.Exec(ctx, `DELETE FROM uploads WHERE id = $1`, uploadID)
	return err
}

// ExpiredUploads implements builds.Repo.
func (s *BuildRepo) ExpiredUploads(ctx context.Context, t time.Time) ([]market.Upload, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE expires_at < $1`, t)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.Upload, error) { return scanUpload(r) })
}

// AttachBuild implements builds.Repo.
func (s *BuildRepo) AttachBuild(ctx context.Context, uploadID string, b market.Build) (string, error) {
	var replaced string
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE uploads SET status = 'FINISHED' WHERE id = $1 AND status = 'OPEN'`, uploadID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return market.Errorf(market.CodeNotFound, "no upload with id %s: it was finished, refused or has expired", uploadID)
		}
		r, err := scanRelease(tx.QueryRow(ctx, releaseSelect+` WHERE r.id = $1 FOR UPDATE OF r`, b.ReleaseID))
		if err != nil {
			return notFound(err, "no release with id %s", b.ReleaseID)
		}
		if r.Published() {
			return market.Errorf(market.CodeFailedPrecondition,
				"release %s was published meanwhile and its build cannot change: create a new release; the upload was deleted", r.Version)
		}
		if r.Build != nil {
			replaced = r.Build.ObjectKey
			if _, err := tx.Exec(ctx, `DELETE FROM build_assets WHERE id = $1`, r.Build.ID); err != nil {
				return err
			}
		}
		var id string
		err = tx.QueryRow(ctx, `
			INSERT INTO build_assets (release_id, object_key, sha256, size_bytes, content_type, file_count, installed_bytes)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			b.ReleaseID, b.ObjectKey, b.SHA256, b.SizeBytes, b.ContentType, b.FileCount, b.InstalledBytes).Scan(&id)
		if err != nil {
			return err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"build_files"}, []string{"build_asset_id", "path", "size_bytes", "mode", "sha256",
			"header_offset", "data_offset", "compressed_bytes", "method", "crc32"},
			pgx.CopyFromSlice(len(b.Files), func(i int) ([]any, error) {
				f := b.Files[i]
				row := []any{id, f.Path, f.SizeBytes, int32(f.Mode), f.SHA256, nil, nil, nil, nil, nil}
				if f.Located() {
					row[5], row[6], row[7], row[8], row[9] = f.HeaderOffset, f.DataOffset, f.CompressedBytes, int16(f.Method), int64(f.CRC32)
				}
				return row, nil
			}))
		return err
	})
	return replaced, err
}

// DownloadableRelease implements builds.Repo.
func (s *BuildRepo) DownloadableRelease(ctx context.Context, gameID, releaseID string, published bool) (market.Release, error) {
	r, err := scanRelease(s.db.pool.QueryRow(ctx, releaseSelect+`
		WHERE r.game_id = $1 AND ($2 = '' OR r.id::text = $2) AND b.id IS NOT NULL
		  AND (NOT $3 OR r.published_at IS NOT NULL)
		ORDER BY r.published_at DESC NULLS LAST, r.created_at DESC LIMIT 1`, gameID, releaseID, published))
	if err != nil {
		if releaseID == "" {
			return market.Release{}, notFound(err, "game %s has no published build yet", gameID)
		}
		return market.Release{}, notFound(err, "release %s of game %s has no build to download", releaseID, gameID)
	}
	rows, err := s.db.pool.Query(ctx, `
		SELECT path, size_bytes, mode, sha256, header_offset, data_offset, compressed_bytes, method, crc32
		FROM build_files WHERE build_asset_id = $1 ORDER BY path`, r.Build.ID)
	if err != nil {
		return market.Release{}, err
	}
	r.Build.Files, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (market.File, error) {
		var f market.File
		var mode int32
		var header, data, compressed, crc *int64
		var method *int16
		err := row.Scan(&f.Path, &f.SizeBytes, &mode, &f.SHA256, &header, &data, &compressed, &method, &crc)
		f.Mode = uint32(mode)
		if data != nil { // the constraint sets all five or none
			f.HeaderOffset, f.DataOffset, f.CompressedBytes, f.Method, f.CRC32 = *header, *data, *compressed, uint16(*method), uint32(*crc)
		}
		return f, err
	})
	return r, err
}

// BuildsWithoutEntries implements builds.Repo.
func (s *BuildRepo) BuildsWithoutEntries(ctx context.Context) ([]market.Build, error) {
	rows, err := s.db.pool.Query(ctx, `
		SELECT id, release_id, object_key, sha256, size_bytes FROM build_assets b
		WHERE EXISTS (SELECT 1 FROM build_files f WHERE f.build_asset_id = b.id AND f.data_offset IS NULL)
		ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (market.Build, error) {
		var b market.Build
		err := row.Scan(&b.ID, &b.ReleaseID, &b.ObjectKey, &b.SHA256, &b.SizeBytes)
		return b, err
	})
}

// SetBuildEntries implements builds.Repo.
func (s *BuildRepo) SetBuildEntries(ctx context.Context, buildID string, files []market.File) error {
	n := len(files)
	paths, shas := make([]string, n), make([]string, n)
	sizes, headers, datas, compressed, crcs := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	methods := make([]int16, n)
	for i, f := range files {
		paths[i], shas[i], sizes[i] = f.Path, f.SHA256, f.SizeBytes
		headers[i], datas[i], compressed[i], methods[i], crcs[i] = f.HeaderOffset, f.DataOffset, f.CompressedBytes, int16(f.Method), int64(f.CRC32)
	}
	return s.db.tx(ctx, func(tx pgx.Tx) error {
		var count int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM build_files WHERE build_asset_id = $1`, buildID).Scan(&count); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			UPDATE build_files f SET header_offset = u.header, data_offset = u.data, compressed_bytes = u.compressed,
			       method = u.method, crc32 = u.crc
			FROM unnest($2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::smallint[], $9::bigint[])
			     AS u(path, size, sha, header, data, compressed, method, crc)
			WHERE f.build_asset_id = $1 AND f.path = u.path AND f.size_bytes = u.size AND f.sha256 = u.sha`,
			buildID, paths, sizes, shas, headers, datas, compressed, methods, crcs)
		if err != nil {
			return err
		}
		if int(tag.RowsAffected()) != n || count != n {
			return market.Errorf(market.CodeFailedPrecondition,
				"build %s: its zip holds %d files, its manifest %d, and %d match by path, size and sha256: nothing was recorded", buildID, n, count, tag.RowsAffected())
		}
		return nil
	})
}

// Entitlement implements builds.Repo.
func (s *BuildRepo) Entitlement(ctx context.Context, userID, gameID string) (string, error) {
	var id string
	err := s.db.pool.QueryRow(ctx, `
		SELECT id FROM entitlements WHERE buyer_user_id = $1 AND game_id = $2 AND revoked_at IS NULL
		ORDER BY granted_at LIMIT 1`, userID, gameID).Scan(&id)
	return id, notFound(err, "no entitlement to game %s", gameID)
}

// RecordDownload implements builds.Repo.
func (s *BuildRepo) RecordDownload(ctx context.Context, entitlementID, releaseID, ipHash, userAgent string, since time.Time) error {
	_, err := s.db.pool.Exec(ctx, `
		INSERT INTO download_events (entitlement_id, release_id, ip_hash, user_agent)
		SELECT $1::uuid, $2::uuid, $3::text, $4::text
		WHERE NOT EXISTS (SELECT 1 FROM download_events
			WHERE entitlement_id = $1::uuid AND release_id = $2::uuid AND created_at > $5)`,
		entitlementID, releaseID, ipHash, userAgent, since)
	return err
}
