package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"

	catalogv1 "satchel.dev/shared/api/satchel/catalog/v1"
	developerv1 "satchel.dev/shared/api/satchel/developer/v1"

	"satchel.dev/desktop/client"
	"satchel.dev/desktop/publish"
)

// files is a flag given once per file.
type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

type mediaJSON struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"` // cover or screenshot
	URL    string `json:"url"`
	Width  int32  `json:"width"`
	Height int32  `json:"height"`
	Size   int64  `json:"size"`
}

func (a *app) mediaCmd(args []string) error {
	fs := flag.NewFlagSet("media", flag.ContinueOnError)
	cover := fs.String("cover", "", "an image to make the game's cover")
	var shots, remove files
	fs.Var(&shots, "screenshot", "an image to add as the last screenshot (repeat for several)")
	fs.Var(&remove, "remove", "the id of an image to remove (repeat for several)")
	pos, err := parse(fs, args, 1, 1, "media SLUG [--cover FILE] [--screenshot FILE]... [--remove ID]...")
	if err != nil {
		return err
	}
	c, err := a.openCore(true, true)
	if err != nil {
		return err
	}
	api := c.Client()
	gg, err := api.Catalog.GetGame(a.ctx, &catalogv1.GetGameRequest{Slug: pos[0]})
	if err != nil {
		return err
	}
	game := gg.GetGame()
	if api.Signer() == nil || game.GetDeveloperPubkey() != api.Signer().PublicKey().Hex() {
		return fmt.Errorf("you are not the developer of %q: use the developer's identity (SATCHEL_NSEC in CI)", pos[0])
	}
	for _, id := range remove {
		res, err := api.Developer.DeleteMedia(a.ctx, &developerv1.DeleteMediaRequest{MediaId: id})
		if err != nil {
			return err
		}
		game = res.GetGame()
	}
	hc := &http.Client{Transport: client.NewTransport()}
	if *cover != "" {
		if game, err = publish.UploadImage(a.ctx, api, hc, game.GetId(), true, *cover); err != nil {
			return err
		}
	}
	for _, path := range shots {
		if game, err = publish.UploadImage(a.ctx, api, hc, game.GetId(), false, path); err != nil {
			return err
		}
	}
	var out []mediaJSON
	for _, m := range append([]*catalogv1.Media{game.GetCover()}, game.GetScreenshots()...) {
		if m != nil {
			out = append(out, mediaJSON{ID: m.GetId(), Kind: strings.ToLower(strings.TrimPrefix(m.GetKind().String(), "MEDIA_KIND_")),
				URL: c.Server() + m.GetPath(), Width: m.GetWidth(), Height: m.GetHeight(), Size: m.GetSizeBytes()})
		}
	}
	a.out(out, func(w io.Writer) {
		if len(out) == 0 {
			fmt.Fprintf(w, "%s has no cover or screenshots\n", game.GetSlug())
		}
		for _, m := range out {
			fmt.Fprintf(w, "%-10s %4dx%-4d %s  %s\n", m.Kind, m.Width, m.Height, m.ID, m.URL)
		}
	})
	return nil
}
