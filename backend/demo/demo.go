// Package demo loads a small demo catalog through the market's services, so that a fresh
// `make run` has a store to browse. Loading is idempotent: games that exist are left alone.
package demo

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"satchel.dev/backend/builds"
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

// Deps are what Load works through: the same services and upload path a developer uses.
type Deps struct {
	Users  market.UserService
	Games  market.GameService
	Builds *builds.Service
	// Media takes the games' covers and screenshots, drawn here (art).
	Media *builds.Media
	// HTTP sends the build zips and images to their upload URLs.
	HTTP *http.Client
	// GameBinary is the satchel-demo-game program every demo build carries.
	GameBinary string
	// WorkDir holds the zips while they are uploaded.
	WorkDir string
	// PayoutAddress is the demo developer's Lightning Address: one the server itself answers
	// with test money, or a placeholder.
	PayoutAddress string
}

// Load creates the demo developer and whatever of the demo catalog is missing: games, releases,
// their build zips (uploaded through CreateUpload, an HTTP PUT and FinishUpload), a cover and
// screenshots (drawn here, uploaded the same way), publication and listing. It acts as the operator to feature the featured game. Running it again changes
// nothing.
func Load(ctx context.Context, d Deps) error {
	pk := DeveloperKey().PublicKey().Hex()
	devID, err := d.Users.EnsureUser(ctx, pk)
	if err != nil {
		return fmt.Errorf("demo developer: %w", err)
	}
	dev := market.Actor{UserID: devID, Pubkey: pk}
	name := "Satchel Demo Studio"
	if _, err := d.Users.SetPayoutAddress(ctx, dev, d.PayoutAddress); err != nil {
		return fmt.Errorf("demo developer: %w", err)
	}
	if _, err := d.Users.UpdateProfile(ctx, dev, market.ProfileUpdate{DisplayName: &name, StudioName: &name}); err != nil {
		return fmt.Errorf("demo developer: %w", err)
	}
	for _, dg := range Catalog {
		if err := d.loadGame(ctx, dev, dg); err != nil {
			return fmt.Errorf("demo game %s: %w", dg.Slug, err)
		}
	}
	return nil
}

func (d Deps) loadGame(ctx context.Context, dev market.Actor, dg Game) error {
	g, existing, err := d.Games.GameBySlug(ctx, dev, dg.Slug)
	if market.ErrorCode(err) == market.CodeNotFound {
		g, err = d.Games.CreateGame(ctx, dev, dg.NewGame)
	}
	if err != nil {
		return err
	}
	for _, dr := range dg.Releases {
		r, found := findRelease(existing, dr.Version)
		if !found {
			if r, err = d.Games.CreateRelease(ctx, dev, g.ID, dr.Version, dr.Notes); err != nil {
				return err
			}
		}
		if r.Build == nil {
			if err := d.upload(ctx, dev, dg, r); err != nil {
				return fmt.Errorf("release %s: %w", dr.Version, err)
			}
		}
		if !r.Published() {
			if _, err := d.Games.PublishRelease(ctx, dev, r.ID); err != nil {
				return err
			}
		}
	}
	if g.Cover == nil && len(g.Screenshots) == 0 {
		for variant := range Screenshots + 1 {
			if err := d.uploadImage(ctx, dev, g, variant); err != nil {
				return fmt.Errorf("image %d: %w", variant, err)
			}
		}
	}
	want := market.StatusListed
	if dg.Featured {
		want = market.StatusFeatured
	}
	if g.Status == want {
		return nil
	}
	if _, err := d.Games.SetGameStatus(ctx, dev, g.ID, market.StatusListed); err != nil {
		return err
	}
	if dg.Featured {
		operator := market.Actor{UserID: dev.UserID, Pubkey: dev.Pubkey, Admin: true}
		_, err = d.Games.AdminSetGameStatus(ctx, operator, g.ID, market.StatusFeatured)
	}
	return err
}

func findRelease(rs []market.Release, version string) (market.Release, bool) {
	for _, r := range rs {
		if r.Version == version {
			return r, true
		}
	}
	return market.Release{}, false
}

// upload builds the release's zip and sends it through the developer's upload path.
func (d Deps) upload(ctx context.Context, dev market.Actor, dg Game, r market.Release) error {
	path := filepath.Join(d.WorkDir, dg.Slug+"-"+r.Version+".zip")
	if err := writeZip(path, d.GameBinary, dg, r.Version); err != nil {
		return err
	}
	defer os.Remove(path)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	slot, err := d.Builds.CreateUpload(ctx, dev, r.ID, size, hex.EncodeToString(h.Sum(nil)))
	if err != nil {
		return err
	}
	if err := d.put(ctx, slot.URL, slot.Header, f, size); err != nil {
		return err
	}
	_, err = d.Builds.FinishUpload(ctx, dev, slot.Upload.ID)
	return err
}

// uploadImage draws the game's image variant (0 the cover, then its screenshots) and sends
// it through the developer's image upload path.
func (d Deps) uploadImage(ctx context.Context, dev market.Actor, g market.Game, variant int) error {
	path := filepath.Join(d.WorkDir, fmt.Sprintf("%s-%d.png", g.Slug, variant))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	defer f.Close()
	h := sha256.New()
	if err := png.Encode(io.MultiWriter(f, h), art(g.Slug, g.Title, variant)); err != nil {
		return err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	kind := market.MediaScreenshot
	if variant == 0 {
		kind = market.MediaCover
	}
	slot, err := d.Media.CreateUpload(ctx, dev, g.ID, kind, size, hex.EncodeToString(h.Sum(nil)), "image/png")
	if err != nil {
		return err
	}
	if err := d.put(ctx, slot.URL, slot.Header, f, size); err != nil {
		return err
	}
	_, _, err = d.Media.FinishUpload(ctx, dev, slot.Upload.ID)
	return err
}

// put sends the size bytes of f, from its start, to an upload URL.
func (d Deps) put(ctx context.Context, url string, header http.Header, f *os.File, size int64) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, io.NopCloser(f))
	if err != nil {
		return err
	}
	req.ContentLength = size
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := d.HTTP.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("upload: %s: %s", res.Status, body)
	}
	return nil
}

// writeZip writes a demo build: the game program, a satchel.toml naming it as the launch
// target (a terminal program), and a README that differs by version.
func writeZip(path, binary string, dg Game, version string) error {
	bin, err := os.Open(binary)
	if err != nil {
		return fmt.Errorf("the demo game program: %w (make build builds it)", err)
	}
	defer bin.Close()
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	exe := "bin/" + dg.Slug
	files := []struct {
		name string
		mode os.FileMode
		body io.Reader
	}{
		{"satchel.toml", 0o644, strings.NewReader(fmt.Sprintf(
			"# How the Satchel launcher starts this game: it draws in a terminal.\n[launch.linux-amd64]\nexec = %q\nargs = [\"-title\", %q]\nterminal = true\n",
			exe, dg.Title))},
		{"README.txt", 0o644, strings.NewReader(fmt.Sprintf("%s %s\n\n%s\n", dg.Title, version, dg.Summary))},
		{exe, 0o755, bin},
	}
	for _, f := range files {
		hdr := &zip.FileHeader{Name: f.name, Method: zip.Deflate}
		hdr.SetMode(f.mode)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, f.body); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return out.Close()
}
