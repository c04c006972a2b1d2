package demo

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"satchel.dev/backend/market"
)

// The demo's images are images the server takes, and the same every load (so that a second
// load would upload the same bytes).
func TestArt(t *testing.T) {
	for _, g := range Catalog {
		for variant := range Screenshots + 1 {
			var a, b bytes.Buffer
			if err := png.Encode(&a, art(g.Slug, g.Title, variant)); err != nil {
				t.Fatal(err)
			}
			_ = png.Encode(&b, art(g.Slug, g.Title, variant))
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("%s %d: drawn twice, differs", g.Slug, variant)
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(a.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if err := market.CheckMediaImage("image/png", "png", cfg.Width, cfg.Height); err != nil || a.Len() > market.MaxMediaBytes {
				t.Errorf("%s %d: %v (%d bytes)", g.Slug, variant, err, a.Len())
			}
			if dir := os.Getenv("SATCHEL_DEMO_ART_DIR"); dir != "" {
				_ = os.WriteFile(filepath.Join(dir, g.Slug+"-"+string(rune('0'+variant))+".png"), a.Bytes(), 0o644)
			}
		}
	}
}
