package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	catalogv1 "satchel.dev/shared/api/satchel/catalog/v1"

	"satchel.dev/desktop/client"
)

// GameCard is a game as the store lists it.
type GameCard struct {
	ID        string `json:"id"`
	Slug      string `json:"slug"`
	Title     string `json:"title"`
	Summary   string `json:"summary"`
	PriceMsat int64  `json:"price_msat"`
	Featured  bool   `json:"featured"`
	// Developer is who the game is "by": the developer's studio, else their name.
	Developer string `json:"developer,omitempty"`
	// Latest is the newest published release's version and its build's size ("" and 0
	// before the first release).
	Latest     string `json:"latest,omitempty"`
	LatestSize int64  `json:"latest_size,omitempty"`
	// Cover is the card's image, nil when the developer has not uploaded one.
	Cover *Image `json:"cover,omitempty"`
	// Owned is true when the identity owns the game (it is in its library, not as a guest's).
	Owned bool `json:"owned"`
}

// Image is a game's cover or screenshot: where to GET it (anyone may, while the game is in
// the store; the URL never changes its content), and its size in pixels.
type Image struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Width  int32  `json:"width"`
	Height int32  `json:"height"`
}

// GamePage is one page of the store: featured games first, then the newest.
type GamePage struct {
	Games []GameCard `json:"games"`
	// Next fetches the next page; "" on the last one.
	Next string `json:"next,omitempty"`
}

// StoreRelease is a published release as the store shows it.
type StoreRelease struct {
	Version     string    `json:"version"`
	NotesMD     string    `json:"notes_md,omitempty"`
	PublishedAt time.Time `json:"published_at,omitzero"`
	Size        int64     `json:"size,omitempty"`
	// InstalledBytes is the size of its files once installed.
	InstalledBytes int64 `json:"installed_bytes,omitempty"`
}

// StoreGame is a game's store page.
type StoreGame struct {
	GameCard
	DescriptionMD string `json:"description_md"`
	// Screenshots, in the developer's order.
	Screenshots []Image `json:"screenshots"`
	// Releases are every published release, newest first, each with its notes.
	Releases []StoreRelease `json:"releases"`
}

// cardFrom is the card of g; owned is the identity's library, by slug.
func (c *Core) cardFrom(g *catalogv1.Game, owned map[string]bool) GameCard {
	card := GameCard{ID: g.GetId(), Slug: g.GetSlug(), Title: g.GetTitle(), Summary: g.GetSummary(), PriceMsat: g.GetPriceMsat(),
		Featured: g.GetStatus() == catalogv1.GameStatus_GAME_STATUS_FEATURED, Developer: g.GetDeveloperStudioName(),
		Cover: c.image(g.GetCover()), Owned: owned[g.GetSlug()]}
	if card.Developer == "" {
		card.Developer = g.GetDeveloperDisplayName()
	}
	if r := g.GetLatestRelease(); r != nil {
		card.Latest = r.GetVersion()
		card.LatestSize = r.GetBuild().GetSizeBytes()
	}
	return card
}

// image is m with its URL on the server; nil for nil.
func (c *Core) image(m *catalogv1.Media) *Image {
	if m == nil {
		return nil
	}
	return &Image{ID: m.GetId(), URL: c.client.BaseURL + m.GetPath(), Width: m.GetWidth(), Height: m.GetHeight()}
}

// owned returns the slugs of the games the identity owns, from the local library; none when
// it cannot be read (the store still shows).
func (c *Core) owned() map[string]bool {
	out := map[string]bool{}
	entries, err := c.Library()
	if err != nil {
		c.cfg.Logger.Warn("reading the library for the store", "err", err)
	}
	for _, e := range entries {
		if e.Owned {
			out[e.Slug] = true
		}
	}
	return out
}

// Games returns a page of the store, filtered by a title search when query is not empty,
// each game marked Owned when the identity owns it. It needs no identity.
func (c *Core) Games(ctx context.Context, query, pageToken string) (GamePage, error) {
	res, err := c.client.Catalog.ListGames(ctx, &catalogv1.ListGamesRequest{Query: query, PageToken: pageToken, PageSize: 50})
	if err != nil {
		return GamePage{}, err
	}
	out := GamePage{Games: []GameCard{}, Next: res.GetNextPageToken()}
	owned := c.owned()
	for _, g := range res.GetGames() {
		out.Games = append(out.Games, c.cardFrom(g, owned))
	}
	return out, nil
}

// StorePage returns the store page of slug with its published releases, newest first. When
// the server cannot be reached (client.Offline) and the game is in the identity's library, it
// returns the page the local state can give (its title, the latest version known) with the
// error, so an installed game's page still plays offline; otherwise it returns only the error.
func (c *Core) StorePage(ctx context.Context, slug string) (StoreGame, error) {
	res, err := c.client.Catalog.GetGame(ctx, &catalogv1.GetGameRequest{Slug: slug})
	if errors.Is(err, client.ErrNotFound) {
		return StoreGame{}, fmt.Errorf("%w: there is no game %q in the store", ErrUnknownGame, slug)
	}
	if client.Offline(err) {
		if e, lerr := c.Game(slug); lerr == nil {
			return StoreGame{GameCard: GameCard{ID: e.GameID, Slug: slug, Title: e.Title, Latest: e.Latest, Owned: e.Owned},
				Screenshots: []Image{}, Releases: []StoreRelease{}}, err
		}
	}
	if err != nil {
		return StoreGame{}, err
	}
	g := res.GetGame()
	out := StoreGame{GameCard: c.cardFrom(g, c.owned()), DescriptionMD: g.GetDescriptionMd(), Screenshots: []Image{}, Releases: []StoreRelease{}}
	for _, m := range g.GetScreenshots() {
		out.Screenshots = append(out.Screenshots, *c.image(m))
	}
	for _, r := range res.GetReleases() {
		if r.GetPublishedAt() == nil {
			continue // the developer's drafts
		}
		out.Releases = append(out.Releases, StoreRelease{Version: r.GetVersion(), NotesMD: r.GetReleaseNotesMd(),
			PublishedAt: r.GetPublishedAt().AsTime(), Size: r.GetBuild().GetSizeBytes(), InstalledBytes: r.GetBuild().GetInstalledBytes()})
	}
	slices.SortStableFunc(out.Releases, func(a, b StoreRelease) int { return b.PublishedAt.Compare(a.PublishedAt) })
	return out, nil
}
