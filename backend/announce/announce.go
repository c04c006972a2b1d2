// Package announce tells Nostr about the store: when a game enters the store (LISTED), is
// featured, or has a release published, background jobs sign, with the platform's key, a kind 1
// note (title, summary, version, link) and a NIP-94 file-metadata event (kind 1063: url, m, x,
// size, summary, the game's link) for the game's latest build, and deliver both to every
// configured relay.
//
// The change that announces writes an announcement row and enqueues its sign job (Args) in its
// own transaction, so announcing never blocks, slows or fails a publish or a purchase. The sign
// job signs the events once and stores them, so every relay and every retry gets the same event
// ids, then adds one delivery per relay with its own job (DeliverArgs). A delivery is retried
// with exponential backoff until its relay accepts both events or the attempts run out; relays
// never wait for one another. Every attempt and the relay's answer is recorded for operators.
//
// Postgres keeps the state (package postgres implements Store); River runs the jobs.
package announce

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"satchel.dev/backend/market"
	"satchel.dev/shared/nostr"
)

// Queue is the job queue announcements are worked on, apart from payouts so that a slow relay
// never delays paying developers.
const Queue = "announce"

// Args is the job that signs an announcement's events and adds its deliveries. The change that
// announces enqueues it in its own transaction.
type Args struct {
	AnnouncementID string `json:"announcement_id"`
}

// Kind names the job in the queue.
func (Args) Kind() string { return "announce" }

// InsertOpts puts the job on the announcements' queue, once per announcement.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// DeliverArgs is the job that delivers an announcement's events to one relay.
type DeliverArgs struct {
	DeliveryID string `json:"delivery_id"`
}

// Kind names the job in the queue.
func (DeliverArgs) Kind() string { return "announce_deliver" }

// InsertOpts puts the job on the announcements' queue, once per delivery. Its failed attempts
// are counted on the delivery (the job snoozes between them); River's own attempts count only
// unexpected errors.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Status is where a delivery is: PENDING (being tried) -> SENT | FAILED (every attempt failed)
// | SKIPPED (the game left the store before the relay took it).
type Status string

const (
	StatusPending Status = "PENDING"
	StatusSent    Status = "SENT"
	StatusFailed  Status = "FAILED"
	StatusSkipped Status = "SKIPPED"
)

// Final reports whether nothing more is tried for a delivery in this status.
func (s Status) Final() bool { return s != StatusPending }

// Delivery is one announcement's delivery to one relay, as its job reads it.
type Delivery struct {
	ID             string
	AnnouncementID string
	Relay          string
	Status         Status
	AttemptCount   int
	LastError      string
	NextAttemptAt  *time.Time
	SentAt         *time.Time
	Events         []nostr.Event // the signed note and file event
	GameSlug       string
	GameStatus     market.GameStatus // now
}

// Attempt is one try at delivering to a relay, and how it went.
type Attempt struct {
	N         int
	OK        bool
	Result    string // the relay's answer, or why it failed
	StartedAt time.Time
	At        time.Time // when it ended
}

// View is an announcement as operators see it: what, the events' ids, and each relay's
// delivery with its attempts.
type View struct {
	ID         string
	Kind       market.AnnouncementKind
	GameID     string
	GameSlug   string
	GameTitle  string
	Version    string
	EventIDs   []string // the note's id, then the file event's; empty until signed
	Skipped    string   // why nothing was sent, if so
	CreatedAt  time.Time
	SignedAt   *time.Time
	Deliveries []DeliveryView
}

// DeliveryView is one relay's delivery as operators see it.
type DeliveryView struct {
	Relay         string
	Status        Status
	AttemptCount  int
	LastError     string
	NextAttemptAt *time.Time
	SentAt        *time.Time
	Attempts      []Attempt
}

// Store keeps announcements. Package postgres implements it.
type Store interface {
	// Announcement returns an announcement with its game (as it is now) and release (with its
	// build), and its signed events (nil until signed).
	Announcement(ctx context.Context, id string) (market.Announcement, []nostr.Event, error)
	// SaveEvents stores the signed events of an announcement that has none yet, and returns
	// the events stored: these, or those another job stored first.
	SaveEvents(ctx context.Context, id string, events []nostr.Event) ([]nostr.Event, error)
	// Skip records why an announcement is not sent.
	Skip(ctx context.Context, id, reason string) error
	// AddDeliveries adds a delivery per relay the announcement has none for yet, each with
	// its job (DeliverArgs) enqueued in the same transaction.
	AddDeliveries(ctx context.Context, id string, relays []string) error
	// Delivery returns a delivery with its announcement's events and its game's status now.
	Delivery(ctx context.Context, id string) (Delivery, error)
	// RecordAttempt records an attempt on a PENDING delivery: SENT when it succeeded, else
	// FAILED when final, else still PENDING until next. It returns the delivery after.
	RecordAttempt(ctx context.Context, id string, a Attempt, final bool, next time.Time) (Delivery, error)
	// SkipDelivery marks a PENDING delivery SKIPPED with the reason.
	SkipDelivery(ctx context.Context, id, reason string) error
	// ListAnnouncements lists announcements newest first (of one game when gameID is set),
	// at most limit, with their deliveries and attempts.
	ListAnnouncements(ctx context.Context, gameID string, limit int) ([]View, error)
}
