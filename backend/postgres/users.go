package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"satchel.dev/backend/market"
)

// UserService implements market.UserService.
type UserService struct {
	db *DB
}

// NewUserService returns the user service on db.
func NewUserService(db *DB) *UserService { return &UserService{db: db} }

var _ market.UserService = (*UserService)(nil)

// SignIn implements market.UserService.
func (s *UserService) SignIn(ctx context.Context, pubkey, eventID string, signedAt time.Time) (string, error) {
	tag, err := s.db.pool.Exec(ctx,
		`INSERT INTO nip98_events (event_id, pubkey, signed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		eventID, pubkey, signedAt)
	if err != nil {
		return "", err
	}
	if tag.RowsAffected() == 0 {
		return "", market.Errorf(market.CodeUnauthenticated,
			`NIP-98 "replay" check failed: event %s was already used; sign each request anew`, eventID)
	}
	return s.EnsureUser(ctx, pubkey)
}

// EnsureUser implements market.UserService.
func (s *UserService) EnsureUser(ctx context.Context, pubkey string) (string, error) {
	var id string
	var err error
	// When another call creates the same user at the same moment, the insert does nothing and
	// the select, reading the snapshot from before that commit, finds nothing: the second try,
	// with a new snapshot, finds the user.
	for try := 0; try < 2; try++ {
		err = s.db.pool.QueryRow(ctx, `
			WITH created AS (
				INSERT INTO users (pubkey) VALUES ($1) ON CONFLICT (pubkey) DO NOTHING RETURNING id
			)
			SELECT id FROM created UNION ALL SELECT id FROM users WHERE pubkey = $1`, pubkey).Scan(&id)
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
	}
	return id, err
}

// PurgeNIP98Events deletes the used event ids signed before cutoff: events that old fail the
// created_at check anyway, so forgetting them keeps replay refusal intact.
func (s *UserService) PurgeNIP98Events(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := s.db.pool.Exec(ctx, `DELETE FROM nip98_events WHERE signed_at < $1`, cutoff)
	return tag.RowsAffected(), err
}

// Me implements market.UserService.
func (s *UserService) Me(ctx context.Context, a market.Actor) (market.User, error) {
	if err := market.RequireUser(a); err != nil {
		return market.User{}, err
	}
	return s.user(ctx, s.db.pool, a.UserID)
}

// UpdateProfile implements market.UserService.
func (s *UserService) UpdateProfile(ctx context.Context, a market.Actor, u market.ProfileUpdate) (market.User, error) {
	if err := market.RequireUser(a); err != nil {
		return market.User{}, err
	}
	me, err := s.user(ctx, s.db.pool, a.UserID)
	if err != nil {
		return market.User{}, err
	}
	if err := u.Validate(me.Developer != nil); err != nil {
		return market.User{}, err
	}
	err = s.db.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			UPDATE users SET
				display_name = CASE WHEN $2::boolean THEN nullif($3, '') ELSE display_name END,
				avatar_url   = CASE WHEN $4::boolean THEN nullif($5, '') ELSE avatar_url END,
				updated_at   = now()
			WHERE id = $1`,
			a.UserID, u.DisplayName != nil, deref(u.DisplayName), u.AvatarURL != nil, deref(u.AvatarURL))
		if err != nil || u.StudioName == nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE developer_profiles SET studio_name = nullif($2, ''), updated_at = now() WHERE user_id = $1`,
			a.UserID, *u.StudioName)
		return err
	})
	if err != nil {
		return market.User{}, err
	}
	return s.user(ctx, s.db.pool, a.UserID)
}

// SetPayoutAddress implements market.UserService.
func (s *UserService) SetPayoutAddress(ctx context.Context, a market.Actor, lnAddress string) (market.DeveloperProfile, error) {
	if err := market.RequireUser(a); err != nil {
		return market.DeveloperProfile{}, err
	}
	addr, err := market.NormalizeLNAddress(lnAddress)
	if err != nil {
		return market.DeveloperProfile{}, err
	}
	var studio *string
	err = s.db.pool.QueryRow(ctx, `
		INSERT INTO developer_profiles (user_id, payout_ln_address) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET payout_ln_address = EXCLUDED.payout_ln_address, updated_at = now()
		RETURNING studio_name`,
		a.UserID, addr).Scan(&studio)
	if err != nil {
		return market.DeveloperProfile{}, err
	}
	return market.DeveloperProfile{PayoutLNAddress: addr, StudioName: deref(studio)}, nil
}

// user loads one user with their developer profile.
func (s *UserService) user(ctx context.Context, q querier, id string) (market.User, error) {
	var u market.User
	var name, avatar, payout, studio *string
	err := q.QueryRow(ctx, `
		SELECT u.id, u.pubkey, u.display_name, u.avatar_url, u.created_at, d.payout_ln_address, d.studio_name
		FROM users u LEFT JOIN developer_profiles d ON d.user_id = u.id
		WHERE u.id = $1`, id).Scan(&u.ID, &u.Pubkey, &name, &avatar, &u.CreatedAt, &payout, &studio)
	if err != nil {
		return market.User{}, notFound(err, "no user with id %s", id)
	}
	u.DisplayName, u.AvatarURL = deref(name), deref(avatar)
	if payout != nil {
		u.Developer = &market.DeveloperProfile{PayoutLNAddress: *payout, StudioName: deref(studio)}
	}
	return u, nil
}

// querier is what a pool and a transaction have in common.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
