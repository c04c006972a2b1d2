package announce

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"satchel.dev/backend/market"
	"satchel.dev/shared/nostr"
)

// Event kinds announcements use.
const (
	KindNote         = 1    // NIP-01 short text note
	KindFileMetadata = 1063 // NIP-94 file metadata
)

// Links makes the addresses announcements point at, from templates.
type Links struct {
	// Game is the link to a game's page; "{slug}" is replaced.
	Game string
	// File is where a release's build zip is downloaded from; "{slug}" and "{version}" are
	// replaced.
	File string
}

// GameLink returns the link to the game with this slug.
func (l Links) GameLink(slug string) string { return strings.ReplaceAll(l.Game, "{slug}", slug) }

// FileLink returns the download address of a release's build.
func (l Links) FileLink(slug, version string) string {
	return strings.NewReplacer("{slug}", slug, "{version}", version).Replace(l.File)
}

// Events returns the two unsigned events that announce a, created at now: a kind 1 note
// (title, summary, version, link) and a NIP-94 kind 1063 file-metadata event of the release's
// build (url, m = application/zip, x = its sha256, size, summary, alt, and the game's link as an
// r tag). The release must have a build.
func Events(a market.Announcement, links Links, now time.Time) ([]nostr.Event, error) {
	g, r := a.Game, a.Release
	if r.Build == nil {
		return nil, fmt.Errorf("announce: release %s of %q has no build", r.Version, g.Slug)
	}
	link := links.GameLink(g.Slug)
	var head string
	switch a.Kind {
	case market.AnnounceListed:
		head = fmt.Sprintf("%s is now in the Satchel store, version %s.", g.Title, r.Version)
	case market.AnnounceFeatured:
		head = fmt.Sprintf("Featured on Satchel: %s, version %s.", g.Title, r.Version)
	case market.AnnouncePublished:
		head = fmt.Sprintf("%s %s is out on Satchel.", g.Title, r.Version)
	default:
		return nil, fmt.Errorf("announce: unknown kind %q", a.Kind)
	}
	body := []string{head}
	if s := strings.TrimSpace(g.Summary); s != "" {
		body = append(body, s)
	}
	body = append(body, link)
	summary := strings.TrimSpace(g.Summary)
	if summary == "" {
		summary = g.Title
	}
	at := now.Unix()
	note := nostr.Event{
		CreatedAt: at,
		Kind:      KindNote,
		Tags:      [][]string{{"r", link}, {"t", "satchel"}},
		Content:   strings.Join(body, "\n\n"),
	}
	file := nostr.Event{
		CreatedAt: at,
		Kind:      KindFileMetadata,
		Tags: [][]string{
			{"url", links.FileLink(g.Slug, r.Version)},
			{"m", market.BuildContentType},
			{"x", r.Build.SHA256},
			{"size", strconv.FormatInt(r.Build.SizeBytes, 10)},
			{"summary", summary},
			{"alt", fmt.Sprintf("Build %s of %s, a game in the Satchel store (a zip the Satchel launcher installs)", r.Version, g.Title)},
			{"r", link},
		},
		Content: fmt.Sprintf("%s %s: %s", g.Title, r.Version, summary),
	}
	return []nostr.Event{note, file}, nil
}

// Sign signs each event with the platform's key, in place.
func Sign(key nostr.Signer, events []nostr.Event) error {
	for i := range events {
		if err := key.SignEvent(&events[i]); err != nil {
			return err
		}
	}
	return nil
}
