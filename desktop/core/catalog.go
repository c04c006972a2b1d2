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
	Developer string `json:"developer,omitempty"`
	// Latest is the newest published release's version and its build's size ("" and 0
	// before the first release).
	Latest     string `json:"latest,omitempty"`
	LatestSize int64  `json:"latest_size,omitempty"`
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
	DescriptionMD string         `json:"description_md"`
	Releases      []StoreRelease `json:"releases"`
}

func cardFrom(g *catalogv1.Game) GameCard {
	c := GameCard{ID: g.GetId(), Slug: g.GetSlug(), Title: g.GetTitle(), Summary: g.GetSummary(), PriceMsat: g.GetPriceMsat(),
		Featured: g.GetStatus() == catalogv1.GameStatus_GAME_STATUS_FEATURED, Developer: g.GetDeveloperDisplayName()}
	if r := g.GetLatestRelease(); r != nil {
		c.Latest = r.GetVersion()
		c.LatestSize = r.GetBuild().GetSizeBytes()
	}
	return c
}

// Games returns a page of the store, filtered by a title search when query is not empty.
// It needs no identity.
func (c *Core) Games(ctx context.Context, query, pageToken string) (GamePage, error) {
	res, err := c.client.Catalog.ListGames(ctx, &catalogv1.ListGamesRequest{Query: query, PageToken: pageToken, PageSize: 50})
	if err != nil {
		return GamePage{}, err
	}
	out := GamePage{Games: []GameCard{}, Next: res.GetNextPageToken()}
	for _, g := range res.GetGames() {
		out.Games = append(out.Games, cardFrom(g))
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
			return StoreGame{GameCard: GameCard{ID: e.GameID, Slug: slug, Title: e.Title, Latest: e.Latest}, Releases: []StoreRelease{}}, err
		}
	}
	if err != nil {
		return StoreGame{}, err
	}
	g := res.GetGame()
	out := StoreGame{GameCard: cardFrom(g), DescriptionMD: g.GetDescriptionMd(), Releases: []StoreRelease{}}
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
