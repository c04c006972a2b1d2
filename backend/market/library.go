package market

import "time"

// LibraryGame is a game a player owns, with its latest published release that has a build.
type LibraryGame struct {
	EntitlementID string
	GameID        string
	Slug          string
	Title         string
	GrantedAt     time.Time
	Latest        *Release // with its Build; nil when nothing is published yet
}

// LibraryChangeKind is what changed in a library.
type LibraryChangeKind string

const (
	ChangeGranted   LibraryChangeKind = "ENTITLEMENT_GRANTED"
	ChangeRevoked   LibraryChangeKind = "ENTITLEMENT_REVOKED"
	ChangePublished LibraryChangeKind = "RELEASE_PUBLISHED"
)

// LibraryChange is one change to a player's library. ID orders changes and resumes a stream.
type LibraryChange struct {
	ID     int64
	Kind   LibraryChangeKind
	GameID string
	Slug   string
	At     time.Time
	Game   *LibraryGame // the game as it is now; nil for ChangeRevoked
}
