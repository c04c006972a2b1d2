package market

import (
	"context"
	"regexp"
	"time"
)

// UserService keeps users and their profiles. The postgres package implements it.
type UserService interface {
	// SignIn records a verified NIP-98 event id as used and returns the signer's user id,
	// creating the user on first sight. An event id seen before (here or on any other server
	// sharing the database) is refused with CodeUnauthenticated.
	SignIn(ctx context.Context, pubkey, eventID string, signedAt time.Time) (userID string, err error)
	// EnsureUser returns the id of the user with pubkey, creating the user if missing.
	EnsureUser(ctx context.Context, pubkey string) (userID string, err error)
	// Me returns the caller's own user.
	Me(ctx context.Context, a Actor) (User, error)
	// UpdateProfile changes the caller's display name or avatar.
	UpdateProfile(ctx context.Context, a Actor, u ProfileUpdate) (User, error)
	// SetPayoutAddress makes the caller a developer, or changes their Lightning Address.
	SetPayoutAddress(ctx context.Context, a Actor, lnAddress string) (DeveloperProfile, error)
}

// GameService keeps games and releases. The postgres package implements it.
type GameService interface {
	// ListGames lists the store: LISTED and FEATURED games, featured first, then newest.
	ListGames(ctx context.Context, a Actor, f GameFilter) (GamePage, error)
	// GameBySlug returns a game the caller may see (CanView) with its published releases,
	// newest first; the game's developer also gets unpublished ones. NotFound otherwise.
	GameBySlug(ctx context.Context, a Actor, slug string) (Game, []Release, error)
	// CreateGame creates a DRAFT game for a developer. AlreadyExists when the slug is taken.
	CreateGame(ctx context.Context, a Actor, g NewGame) (Game, error)
	// UpdateGame changes the details of the caller's game.
	UpdateGame(ctx context.Context, a Actor, gameID string, u GameUpdate) (Game, error)
	// SetGameStatus moves the caller's game under CheckDeveloperStatus.
	SetGameStatus(ctx context.Context, a Actor, gameID string, to GameStatus) (Game, error)
	// AdminSetGameStatus moves any game under CheckAdminStatus.
	AdminSetGameStatus(ctx context.Context, a Actor, gameID string, to GameStatus) (Game, error)
	// CreateRelease creates an unpublished release of the caller's game. AlreadyExists when
	// the game has that version.
	CreateRelease(ctx context.Context, a Actor, gameID, version, notesMD string) (Release, error)
	// UpdateRelease changes a release of the caller's game under ReleaseUpdate.Check.
	UpdateRelease(ctx context.Context, a Actor, releaseID string, u ReleaseUpdate) (Release, error)
	// PublishRelease publishes a release of the caller's game; publishing twice is a no-op.
	PublishRelease(ctx context.Context, a Actor, releaseID string) (Release, error)
	// ListMyGames lists the caller's games in every status with all their releases.
	ListMyGames(ctx context.Context, a Actor) ([]GameReleases, error)
}

// GameFilter selects a page of the store.
type GameFilter struct {
	Query     string // case-insensitive substring of the title
	PageSize  int    // 0 means DefaultPageSize
	PageToken string // from the previous page; empty for the first
}

// GamePage is one page of the store.
type GamePage struct {
	Games         []Game
	NextPageToken string // empty on the last page
}

// GameReleases is a game with its releases, newest first.
type GameReleases struct {
	Game     Game
	Releases []Release
}

// Page sizes of the store.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	maxQuery        = 100
)

// Limit validates the filter and returns the page size to use.
func (f GameFilter) Limit() (int, error) {
	if err := checkText("query", f.Query, 0, maxQuery, false); err != nil {
		return 0, err
	}
	switch {
	case f.PageSize < 0:
		return 0, Errorf(CodeInvalid, "page_size must not be negative")
	case f.PageSize == 0:
		return DefaultPageSize, nil
	case f.PageSize > MaxPageSize:
		return MaxPageSize, nil
	}
	return f.PageSize, nil
}

var idPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// ValidateID checks that id, the value of the named field, looks like an id Satchel issued.
func ValidateID(field, id string) error {
	if id == "" {
		return Errorf(CodeInvalid, "%s is required", field)
	}
	if !idPattern.MatchString(id) {
		return Errorf(CodeInvalid, "%s %q is not a valid id", field, Clip(id))
	}
	return nil
}
