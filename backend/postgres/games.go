package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"satchel.dev/backend/market"
)

// GameService implements market.GameService.
type GameService struct {
	db *DB
	// announce is whether changes that announce record their announcement (see
	// WithAnnouncements); off when announcing on Nostr is.
	announce bool
	// minPriceMsat is the lowest price of a paid game.
	minPriceMsat int64
}

// NewGameService returns the game service on db, with market.DefaultMinPriceMsat as the lowest
// price of a paid game. It announces nothing; see WithAnnouncements.
func NewGameService(db *DB) *GameService {
	return &GameService{db: db, minPriceMsat: market.DefaultMinPriceMsat}
}

// WithMinPrice returns a game service that refuses paid games priced below msat.
func (s *GameService) WithMinPrice(msat int64) *GameService {
	c := *s
	c.minPriceMsat = msat
	return &c
}

// WithAnnouncements returns a game service that, in the transaction of each change that
// announces (market.StatusAnnouncement, market.PublishAnnounced), records the announcement and
// enqueues its job on db's queue (package announce works it: the queue must work
// announce.Args).
func (s *GameService) WithAnnouncements() *GameService {
	c := *s
	c.announce = true
	return &c
}

var _ market.GameService = (*GameService)(nil)

// gameColumns are a game's columns with its developer's, as scanGame reads them.
const gameColumns = `g.id, g.developer_user_id, u.pubkey, coalesce(u.display_name, ''), coalesce(dp.studio_name, ''),
	g.slug, g.title, g.summary, g.description_md, g.price_msat, g.status, g.created_at, g.updated_at`

// gameSelect reads a game with its developer and its newest published release; scanGame reads
// its row. Callers add WHERE, ORDER BY and locking clauses.
const gameSelect = `
	SELECT ` + gameColumns + `, r.*
	FROM games g
	JOIN users u ON u.id = g.developer_user_id
	LEFT JOIN developer_profiles dp ON dp.user_id = g.developer_user_id
	LEFT JOIN LATERAL (` + releaseSelect + `
		WHERE r.game_id = g.id AND r.published_at IS NOT NULL
		ORDER BY r.published_at DESC, r.created_at DESC LIMIT 1
	) r ON true`

func scanGame(row pgx.Row) (market.Game, error) {
	var g market.Game
	var r nullRelease
	err := row.Scan(append([]any{&g.ID, &g.DeveloperUserID, &g.DeveloperPubkey, &g.DeveloperName, &g.DeveloperStudio, &g.Slug, &g.Title,
		&g.Summary, &g.DescriptionMD, &g.PriceMsat, &g.Status, &g.CreatedAt, &g.UpdatedAt}, r.dest()...)...)
	if err != nil {
		return market.Game{}, err
	}
	g.LatestRelease = r.release()
	return g, nil
}

func collectGames(rows pgx.Rows) ([]market.Game, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.Game, error) { return scanGame(r) })
}

// storeCursor is the position after the last game of a store page.
type storeCursor struct {
	Featured  int       `json:"f"`
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"i"`
	Query     string    `json:"q"`
}

// ListGames implements market.GameService.
func (s *GameService) ListGames(ctx context.Context, a market.Actor, f market.GameFilter) (market.GamePage, error) {
	limit, err := f.Limit()
	if err != nil {
		return market.GamePage{}, err
	}
	after := storeCursor{Featured: 2, Query: f.Query} // before every row
	if f.PageToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(f.PageToken)
		if err != nil || json.Unmarshal(raw, &after) != nil || after.Query != f.Query {
			return market.GamePage{}, market.Errorf(market.CodeInvalid,
				"page_token is not one this server gave for this query: start again without it")
		}
	}
	rows, err := s.db.pool.Query(ctx, gameSelect+`
		WHERE g.status IN ('LISTED', 'FEATURED')
		  AND g.title ILIKE '%' || $1 || '%'
		  AND ((g.status = 'FEATURED')::int, g.created_at, g.id) < ($2, $3, $4::uuid)
		ORDER BY (g.status = 'FEATURED')::int DESC, g.created_at DESC, g.id DESC
		LIMIT $5`,
		likeEscape(f.Query), after.Featured, after.CreatedAt, nullUUID(after.ID), limit+1)
	if err != nil {
		return market.GamePage{}, err
	}
	games, err := collectGames(rows)
	if err != nil {
		return market.GamePage{}, err
	}
	page := market.GamePage{Games: games[:min(len(games), limit)]}
	if err := withMedia(ctx, s.db.pool, page.Games); err != nil {
		return market.GamePage{}, err
	}
	if len(games) > limit {
		last := page.Games[limit-1]
		c := storeCursor{CreatedAt: last.CreatedAt, ID: last.ID, Query: f.Query}
		if last.Status == market.StatusFeatured {
			c.Featured = 1
		}
		raw, _ := json.Marshal(c)
		page.NextPageToken = base64.RawURLEncoding.EncodeToString(raw)
	}
	return page, nil
}

// likeEscape escapes LIKE's wildcards so that q matches literally.
func likeEscape(q string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
}

// nullUUID keeps the first page's cursor comparable: the greatest uuid sorts after every id.
func nullUUID(id string) string {
	if id == "" {
		return "ffffffff-ffff-ffff-ffff-ffffffffffff"
	}
	return id
}

// GameBySlug implements market.GameService.
func (s *GameService) GameBySlug(ctx context.Context, a market.Actor, slug string) (market.Game, []market.Release, error) {
	if slug == "" {
		return market.Game{}, nil, market.Errorf(market.CodeInvalid, "slug is required")
	}
	// One query: the game once per release it shows the caller (its published ones, and to its
	// developer the others too), newest first, or once with no release.
	var developer *string
	if a.UserID != "" {
		developer = &a.UserID
	}
	rows, err := s.db.pool.Query(ctx, `
		SELECT `+gameColumns+`, r.*
		FROM games g
		JOIN users u ON u.id = g.developer_user_id
		LEFT JOIN developer_profiles dp ON dp.user_id = g.developer_user_id
		LEFT JOIN LATERAL (`+releaseSelect+`
			WHERE r.game_id = g.id AND (r.published_at IS NOT NULL OR g.developer_user_id = $2::uuid)
		) r ON true
		WHERE g.slug = $1
		ORDER BY r.published_at DESC NULLS FIRST, r.release_created_at DESC`, slug, developer)
	if err != nil {
		return market.Game{}, nil, err
	}
	defer rows.Close()
	var g market.Game
	var releases []market.Release
	found := false
	for rows.Next() {
		row, err := scanGame(rows) // the game, with this row's release as its latest
		if err != nil {
			return market.Game{}, nil, err
		}
		r := row.LatestRelease
		if !found {
			g, found = row, true
			g.LatestRelease = nil
		}
		if r != nil {
			releases = append(releases, *r)
			if g.LatestRelease == nil && r.Published() {
				g.LatestRelease = r
			}
		}
	}
	if err := rows.Err(); err != nil {
		return market.Game{}, nil, err
	}
	if !found || !market.CanView(a, g) {
		return market.Game{}, nil, market.Errorf(market.CodeNotFound, "no game with slug %q", market.Clip(slug))
	}
	g, err = withMediaOne(ctx, s.db.pool, g, nil)
	return g, releases, err
}

// CreateGame implements market.GameService.
func (s *GameService) CreateGame(ctx context.Context, a market.Actor, ng market.NewGame) (market.Game, error) {
	if err := market.RequireUser(a); err != nil {
		return market.Game{}, err
	}
	var isDeveloper bool
	err := s.db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM developer_profiles WHERE user_id = $1)`,
		a.UserID).Scan(&isDeveloper)
	if err != nil {
		return market.Game{}, err
	}
	if err := market.RequireDeveloper(a, isDeveloper); err != nil {
		return market.Game{}, err
	}
	if err := ng.Validate(s.minPriceMsat); err != nil {
		return market.Game{}, err
	}
	var id string
	err = s.db.pool.QueryRow(ctx, `
		INSERT INTO games (developer_user_id, slug, title, summary, description_md, price_msat)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		a.UserID, ng.Slug, ng.Title, ng.Summary, ng.DescriptionMD, ng.PriceMsat).Scan(&id)
	if uniqueViolation(err, "games_slug_key") {
		return market.Game{}, market.Errorf(market.CodeAlreadyExists, "slug %q is taken: choose another", ng.Slug)
	}
	if err != nil {
		return market.Game{}, err
	}
	return scanGame(s.db.pool.QueryRow(ctx, gameSelect+` WHERE g.id = $1`, id)) // a new game has no media
}

// gameNotFound turns pgx.ErrNoRows into market.GameNotFound(id), the one answer for a game id
// that names no game the caller may know of, and passes other errors on.
func gameNotFound(err error, id string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return market.GameNotFound(id)
	}
	return err
}

// releaseNotFound is gameNotFound for a release id: market.ReleaseNotFound.
func releaseNotFound(err error, id string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return market.ReleaseNotFound(id)
	}
	return err
}

// lockGame loads a game by id inside tx and locks its row until tx ends.
func lockGame(ctx context.Context, tx pgx.Tx, id string) (market.Game, error) {
	if err := market.ValidateID("game_id", id); err != nil {
		return market.Game{}, err
	}
	g, err := scanGame(tx.QueryRow(ctx, gameSelect+` WHERE g.id = $1 FOR UPDATE OF g`, id))
	return g, gameNotFound(err, id)
}

// UpdateGame implements market.GameService.
func (s *GameService) UpdateGame(ctx context.Context, a market.Actor, gameID string, u market.GameUpdate) (market.Game, error) {
	if err := market.RequireUser(a); err != nil {
		return market.Game{}, err
	}
	var out market.Game
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		g, err := lockGame(ctx, tx, gameID)
		if err != nil {
			return err
		}
		if err := market.CheckOwner(a, g); err != nil {
			return err
		}
		if err := u.Validate(s.minPriceMsat); err != nil {
			return err
		}
		g = u.Apply(g)
		_, err = tx.Exec(ctx, `
			UPDATE games SET title = $2, summary = $3, description_md = $4, price_msat = $5, updated_at = now()
			WHERE id = $1`, g.ID, g.Title, g.Summary, g.DescriptionMD, g.PriceMsat)
		if err != nil {
			return err
		}
		out, err = gameWithMedia(ctx, tx, g.ID)
		return err
	})
	return out, err
}

// SetGameStatus implements market.GameService.
func (s *GameService) SetGameStatus(ctx context.Context, a market.Actor, gameID string, to market.GameStatus) (market.Game, error) {
	return s.setStatus(ctx, a, gameID, to, market.CheckDeveloperStatus, nil)
}

// AdminSetGameStatus implements market.GameService. The change is audited, with no reason.
func (s *GameService) AdminSetGameStatus(ctx context.Context, a market.Actor, gameID string, to market.GameStatus) (market.Game, error) {
	audit, err := market.NewAudit(a, market.ActionSetGameStatus, market.TargetGame, gameID, "", false)
	if err != nil {
		return market.Game{}, err
	}
	return s.setStatus(ctx, a, gameID, to, market.CheckAdminStatus, &audit)
}

// setStatus moves a game to status to once check allows it, announces the move if it
// announces, and writes audit (when not nil) with the move's details, in one transaction.
func (s *GameService) setStatus(ctx context.Context, a market.Actor, gameID string, to market.GameStatus,
	check func(market.Actor, market.Game, market.GameStatus, bool) error, audit *market.AuditRecord) (market.Game, error) {
	if err := market.RequireUser(a); err != nil {
		return market.Game{}, err
	}
	var out market.Game
	err := s.db.tx(ctx, func(tx pgx.Tx) error {
		g, err := lockGame(ctx, tx, gameID)
		if err != nil {
			return err
		}
		if err := check(a, g, to, g.LatestRelease != nil); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE games SET status = $2, updated_at = now() WHERE id = $1`, g.ID, to); err != nil {
			return err
		}
		if kind, ok := market.StatusAnnouncement(g.Status, to); ok {
			if err := s.announceTx(ctx, tx, kind, g.ID, ""); err != nil {
				return err
			}
		}
		if audit != nil {
			audit.TargetID = g.ID
			audit.Details["slug"], audit.Details["from"], audit.Details["to"] = g.Slug, g.Status, to
			if err := writeAudit(ctx, tx, *audit); err != nil {
				return err
			}
		}
		out, err = gameWithMedia(ctx, tx, g.ID)
		return err
	})
	return out, err
}

// ListMyGames implements market.GameService.
func (s *GameService) ListMyGames(ctx context.Context, a market.Actor) ([]market.GameReleases, error) {
	if err := market.RequireUser(a); err != nil {
		return nil, err
	}
	rows, err := s.db.pool.Query(ctx, gameSelect+` WHERE g.developer_user_id = $1 ORDER BY g.created_at DESC, g.id`, a.UserID)
	if err != nil {
		return nil, err
	}
	games, err := collectGames(rows)
	if err == nil {
		err = withMedia(ctx, s.db.pool, games)
	}
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(games))
	for i, g := range games {
		ids[i] = g.ID
	}
	releases, err := s.releases(ctx, s.db.pool, ids, true)
	if err != nil {
		return nil, err
	}
	out := make([]market.GameReleases, len(games))
	for i, g := range games {
		out[i] = market.GameReleases{Game: g, Releases: releases[g.ID]}
	}
	return out, nil
}
