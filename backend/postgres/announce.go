package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"satchel.dev/backend/announce"
	"satchel.dev/backend/market"
	"satchel.dev/shared/nostr"
)

// AnnounceRepo implements announce.Store.
type AnnounceRepo struct {
	db *DB
}

// NewAnnounceRepo returns the announcement store on db.
func NewAnnounceRepo(db *DB) *AnnounceRepo { return &AnnounceRepo{db: db} }

var _ announce.Store = (*AnnounceRepo)(nil)

// announceTx records an announcement of the game's latest published release (or of releaseID
// when set) and enqueues its sign job in tx, unless announcing is off or the game was announced
// that way already (a game is announced as listed once, a release once).
func (s *GameService) announceTx(ctx context.Context, tx pgx.Tx, kind market.AnnouncementKind, gameID, releaseID string) error {
	if !s.announce {
		return nil
	}
	var id string
	err := tx.QueryRow(ctx, `
		INSERT INTO announcements (kind, game_id, release_id)
		SELECT $1, g.id, coalesce(nullif($3, '')::uuid, (
			SELECT r.id FROM releases r WHERE r.game_id = g.id AND r.published_at IS NOT NULL
			ORDER BY r.published_at DESC, r.created_at DESC LIMIT 1))
		FROM games g WHERE g.id = $2
		ON CONFLICT DO NOTHING
		RETURNING id`, kind, gameID, releaseID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.db.enqueue(ctx, tx, announce.Args{AnnouncementID: id}, nil)
}

// Announcement implements announce.Store.
func (r *AnnounceRepo) Announcement(ctx context.Context, id string) (market.Announcement, []nostr.Event, error) {
	var a market.Announcement
	var gameID, releaseID string
	var raw []byte
	err := r.db.pool.QueryRow(ctx, `SELECT id, kind, game_id, release_id, events, created_at FROM announcements WHERE id = $1`, id).
		Scan(&a.ID, &a.Kind, &gameID, &releaseID, &raw, &a.CreatedAt)
	if err != nil {
		return market.Announcement{}, nil, notFound(err, "no announcement %s", id)
	}
	if a.Game, err = scanGame(r.db.pool.QueryRow(ctx, gameSelect+` WHERE g.id = $1`, gameID)); err != nil {
		return market.Announcement{}, nil, err
	}
	if a.Release, err = releaseByID(ctx, r.db.pool, releaseID); err != nil {
		return market.Announcement{}, nil, err
	}
	var events []nostr.Event
	if raw != nil {
		if err := json.Unmarshal(raw, &events); err != nil {
			return market.Announcement{}, nil, err
		}
	}
	return a, events, nil
}

// SaveEvents implements announce.Store.
func (r *AnnounceRepo) SaveEvents(ctx context.Context, id string, events []nostr.Event) ([]nostr.Event, error) {
	raw, err := json.Marshal(events)
	if err != nil {
		return nil, err
	}
	err = r.db.pool.QueryRow(ctx, `
		UPDATE announcements SET events = coalesce(events, $2), signed_at = coalesce(signed_at, now())
		WHERE id = $1 RETURNING events`, id, raw).Scan(&raw)
	if err != nil {
		return nil, notFound(err, "no announcement %s", id)
	}
	var stored []nostr.Event
	return stored, json.Unmarshal(raw, &stored)
}

// Skip implements announce.Store.
func (r *AnnounceRepo) Skip(ctx context.Context, id, reason string) error {
	_, err := r.db.pool.Exec(ctx, `UPDATE announcements SET skipped = $2 WHERE id = $1 AND events IS NULL`, id, reason)
	return err
}

// AddDeliveries implements announce.Store.
func (r *AnnounceRepo) AddDeliveries(ctx context.Context, id string, relays []string) error {
	return r.db.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			INSERT INTO announcement_deliveries (announcement_id, relay) SELECT $1, unnest($2::text[])
			ON CONFLICT DO NOTHING RETURNING id`, id, relays)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, d := range ids {
			if err := r.db.enqueue(ctx, tx, announce.DeliverArgs{DeliveryID: d}, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

const deliverySelect = `
	SELECT d.id, d.announcement_id, d.relay, d.status, d.attempt_count, coalesce(d.last_error, ''), d.next_attempt_at,
	       d.sent_at, a.events, g.slug, g.status
	FROM announcement_deliveries d
	JOIN announcements a ON a.id = d.announcement_id
	JOIN games g ON g.id = a.game_id`

func scanDelivery(row pgx.Row) (announce.Delivery, error) {
	var d announce.Delivery
	var raw []byte
	err := row.Scan(&d.ID, &d.AnnouncementID, &d.Relay, &d.Status, &d.AttemptCount, &d.LastError, &d.NextAttemptAt,
		&d.SentAt, &raw, &d.GameSlug, &d.GameStatus)
	if err == nil && raw != nil {
		err = json.Unmarshal(raw, &d.Events)
	}
	return d, err
}

// Delivery implements announce.Store.
func (r *AnnounceRepo) Delivery(ctx context.Context, id string) (announce.Delivery, error) {
	d, err := scanDelivery(r.db.pool.QueryRow(ctx, deliverySelect+` WHERE d.id = $1`, id))
	return d, notFound(err, "no announcement delivery %s", id)
}

// RecordAttempt implements announce.Store.
func (r *AnnounceRepo) RecordAttempt(ctx context.Context, id string, a announce.Attempt, final bool, next time.Time) (announce.Delivery, error) {
	err := r.db.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE announcement_deliveries SET attempt_count = attempt_count + 1, updated_at = now(),
			       status = CASE WHEN $2 THEN 'SENT' WHEN $3 THEN 'FAILED' ELSE 'PENDING' END,
			       sent_at = CASE WHEN $2 THEN now() END,
			       last_error = CASE WHEN $2 THEN last_error ELSE $4 END,
			       next_attempt_at = CASE WHEN $2 OR $3 THEN NULL ELSE $5::timestamptz END
			WHERE id = $1 AND status = 'PENDING'`, id, a.OK, final, a.Result, next)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO announcement_attempts (delivery_id, attempt, ok, result, started_at)
			SELECT id, attempt_count, $2, $3, $4 FROM announcement_deliveries WHERE id = $1`, id, a.OK, a.Result, a.StartedAt)
		return err
	})
	if err != nil {
		return announce.Delivery{}, err
	}
	return r.Delivery(ctx, id)
}

// SkipDelivery implements announce.Store.
func (r *AnnounceRepo) SkipDelivery(ctx context.Context, id, reason string) error {
	_, err := r.db.pool.Exec(ctx, `
		UPDATE announcement_deliveries SET status = 'SKIPPED', last_error = $2, next_attempt_at = NULL, updated_at = now()
		WHERE id = $1 AND status = 'PENDING'`, id, reason)
	return err
}

// ListAnnouncements implements announce.Store.
func (r *AnnounceRepo) ListAnnouncements(ctx context.Context, gameID string, limit int) ([]announce.View, error) {
	rows, err := r.db.pool.Query(ctx, `
		SELECT a.id, a.kind, g.id, g.slug, g.title, rel.version, coalesce(a.events, '[]'), coalesce(a.skipped, ''),
		       a.created_at, a.signed_at
		FROM announcements a JOIN games g ON g.id = a.game_id JOIN releases rel ON rel.id = a.release_id
		WHERE nullif($1, '')::uuid IS NULL OR a.game_id = nullif($1, '')::uuid
		ORDER BY a.created_at DESC, a.id DESC LIMIT $2`, gameID, limit)
	if err != nil {
		return nil, err
	}
	views, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (announce.View, error) {
		var v announce.View
		var raw []byte
		if err := row.Scan(&v.ID, &v.Kind, &v.GameID, &v.GameSlug, &v.GameTitle, &v.Version, &raw, &v.Skipped,
			&v.CreatedAt, &v.SignedAt); err != nil {
			return v, err
		}
		var events []nostr.Event
		if err := json.Unmarshal(raw, &events); err != nil {
			return v, err
		}
		for _, e := range events {
			v.EventIDs = append(v.EventIDs, e.ID)
		}
		return v, nil
	})
	if err != nil || len(views) == 0 {
		return views, err
	}
	ids := make([]string, len(views))
	byID := map[string]*announce.View{}
	for i := range views {
		ids[i] = views[i].ID
		byID[views[i].ID] = &views[i]
	}
	rows, err = r.db.pool.Query(ctx, `
		SELECT d.id, d.announcement_id, d.relay, d.status, d.attempt_count, coalesce(d.last_error, ''), d.next_attempt_at, d.sent_at
		FROM announcement_deliveries d WHERE d.announcement_id = ANY($1::uuid[]) ORDER BY d.relay`, ids)
	if err != nil {
		return nil, err
	}
	type delivery struct {
		id, announcement string
		view             announce.DeliveryView
	}
	deliveries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (delivery, error) {
		var d delivery
		err := row.Scan(&d.id, &d.announcement, &d.view.Relay, &d.view.Status, &d.view.AttemptCount, &d.view.LastError,
			&d.view.NextAttemptAt, &d.view.SentAt)
		return d, err
	})
	if err != nil {
		return nil, err
	}
	dids := make([]string, len(deliveries))
	for i, d := range deliveries {
		dids[i] = d.id
	}
	attempts := map[string][]announce.Attempt{}
	rows, err = r.db.pool.Query(ctx, `
		SELECT delivery_id, attempt, ok, result, started_at, finished_at
		FROM announcement_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY id`, dids)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var did string
		var a announce.Attempt
		if err := rows.Scan(&did, &a.N, &a.OK, &a.Result, &a.StartedAt, &a.At); err != nil {
			rows.Close()
			return nil, err
		}
		attempts[did] = append(attempts[did], a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, d := range deliveries {
		d.view.Attempts = attempts[d.id]
		v := byID[d.announcement]
		v.Deliveries = append(v.Deliveries, d.view)
	}
	return views, nil
}
