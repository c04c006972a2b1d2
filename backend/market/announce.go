package market

import "time"

// AnnouncementKind is why the store tells Nostr about a game (beyond the seeds: the domain
// model's "social outputs", as async jobs).
type AnnouncementKind string

const (
	AnnounceListed    AnnouncementKind = "GAME_LISTED"       // the game entered the store
	AnnounceFeatured  AnnouncementKind = "GAME_FEATURED"     // an admin featured the game
	AnnouncePublished AnnouncementKind = "RELEASE_PUBLISHED" // a release of a game in the store was published
)

// StatusAnnouncement returns what a move of a game from status from to status to announces:
// entering the store (to LISTED from outside it) or being featured (to FEATURED from any
// other status). ok is false when the move announces nothing.
func StatusAnnouncement(from, to GameStatus) (kind AnnouncementKind, ok bool) {
	switch {
	case to == StatusFeatured && from != StatusFeatured:
		return AnnounceFeatured, true
	case to == StatusListed && !from.InStore():
		return AnnounceListed, true
	}
	return "", false
}

// PublishAnnounced reports whether publishing a release of g is announced: only for a game in
// the store, so a draft or unlisted game is never made public by an announcement.
func PublishAnnounced(g Game) bool { return g.Status.InStore() }

// Announcement is a game or release to announce, as the job that signs it reads it.
type Announcement struct {
	ID        string
	Kind      AnnouncementKind
	Game      Game
	Release   Release // with its Build
	CreatedAt time.Time
}
