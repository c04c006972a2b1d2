// Package demo loads a small demo catalog through the market's services, so that a fresh
// `make run` has a store to browse. Loading is idempotent: games that exist are left alone.
package demo

import (
	"context"
	"crypto/sha256"
	"fmt"

	"satchel.dev/backend/market"
	"satchel.dev/shared/nostr"
)

// DeveloperKey is the demo developer's secret key, derived from a fixed phrase so every demo
// database has the same developer. It guards nothing of value: never use it for real money.
func DeveloperKey() nostr.SecretKey {
	return nostr.SecretKey(sha256.Sum256([]byte("satchel demo developer")))
}

// Game is one game of the demo catalog with its published releases, oldest first.
type Game struct {
	market.NewGame
	Featured bool
	Releases []Release
}

// Release is a published release of a demo game.
type Release struct {
	Version, Notes string
}

// Catalog is the demo catalog.
var Catalog = []Game{
	{
		NewGame: market.NewGame{
			Slug:      "lantern-drift",
			Title:     "Lantern Drift",
			Summary:   "Guide a paper lantern down a night river, dodging rocks and lighting the shore.",
			PriceMsat: 2_100_000,
			DescriptionMD: "# Lantern Drift\n\nA calm little arcade game for the terminal. Steer your lantern " +
				"with the arrow keys, light every shrine on the bank, and do not let the current win.\n\n" +
				"- three rivers, each longer than the last\n- a lantern that dims as you go\n- no timers, no ads\n",
		},
		Featured: true,
		Releases: []Release{
			{"0.9.0", "First public build."},
			{"1.0.0", "The third river, a dimming lantern, and smoother steering."},
		},
	},
	{
		NewGame: market.NewGame{
			Slug:      "pocket-orbits",
			Title:     "Pocket Orbits",
			Summary:   "Fling moons around tiny planets and keep them from colliding.",
			PriceMsat: 5_000_000,
			DescriptionMD: "# Pocket Orbits\n\nA physics toy about **gravity**: place a moon, give it a push, " +
				"and watch it settle into orbit, or crash.\n\nTwenty hand-made systems and a sandbox.\n",
		},
		Releases: []Release{{"1.0.0", "Launch."}},
	},
	{
		NewGame: market.NewGame{
			Slug:      "moss-and-mortar",
			Title:     "Moss & Mortar",
			Summary:   "A free puzzle about rebuilding a garden wall, one stone at a time.",
			PriceMsat: 0,
			DescriptionMD: "# Moss & Mortar\n\nFit the stones, grow the moss, and mend the wall before " +
				"winter. Free to play: a thank-you to everyone testing Satchel.\n",
		},
		Releases: []Release{{"1.2.0", "New winter levels."}},
	},
	{
		NewGame: market.NewGame{
			Slug:      "signal-garden",
			Title:     "Signal Garden",
			Summary:   "Tune radio towers until the whole valley hums in harmony.",
			PriceMsat: 1_000_000,
			DescriptionMD: "# Signal Garden\n\nA relaxing frequency puzzle. Each tower hums a note; " +
				"connect them so every house hears a chord.\n",
		},
		Releases: []Release{{"0.3.1-beta.1", "Early access: the first valley."}},
	},
}

// Load creates the demo developer and every demo game that does not exist yet, publishes their
// releases and lists them. It acts as the operator to feature the featured game.
func Load(ctx context.Context, users market.UserService, games market.GameService) error {
	pk := DeveloperKey().PublicKey().Hex()
	devID, err := users.EnsureUser(ctx, pk)
	if err != nil {
		return fmt.Errorf("demo developer: %w", err)
	}
	dev := market.Actor{UserID: devID, Pubkey: pk}
	name := "Satchel Demo Studio"
	if _, err := users.UpdateProfile(ctx, dev, market.ProfileUpdate{DisplayName: &name}); err != nil {
		return fmt.Errorf("demo developer: %w", err)
	}
	if _, err := users.SetPayoutAddress(ctx, dev, "demo@example.com"); err != nil {
		return fmt.Errorf("demo developer: %w", err)
	}
	for _, dg := range Catalog {
		if err := loadGame(ctx, games, dev, dg); err != nil {
			return fmt.Errorf("demo game %s: %w", dg.Slug, err)
		}
	}
	return nil
}

func loadGame(ctx context.Context, games market.GameService, dev market.Actor, dg Game) error {
	if _, _, err := games.GameBySlug(ctx, dev, dg.Slug); market.ErrorCode(err) != market.CodeNotFound {
		return err // nil when the game is already there
	}
	g, err := games.CreateGame(ctx, dev, dg.NewGame)
	if err != nil {
		return err
	}
	for _, dr := range dg.Releases {
		r, err := games.CreateRelease(ctx, dev, g.ID, dr.Version, dr.Notes)
		if err != nil {
			return err
		}
		if _, err := games.PublishRelease(ctx, dev, r.ID); err != nil {
			return err
		}
	}
	if _, err := games.SetGameStatus(ctx, dev, g.ID, market.StatusListed); err != nil {
		return err
	}
	if dg.Featured {
		operator := market.Actor{UserID: dev.UserID, Pubkey: dev.Pubkey, Admin: true}
		_, err = games.AdminSetGameStatus(ctx, operator, g.ID, market.StatusFeatured)
	}
	return err
}
