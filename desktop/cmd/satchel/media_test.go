package main_test

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"satchel.dev/desktop/internal/testenv"
)

// writePNG writes a w by h PNG into the test's folder.
func writePNG(t *testing.T, name string, w, h int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for _, c := range name { // images differ by name
		img.Pix[0] += byte(c)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return p
}

// `satchel media` sets a game's cover and screenshots, lists them, removes one; a file that is
// not an image is refused before anything is sent.
func TestMediaCommand(t *testing.T) {
	d := newDeveloper(t)
	d.game("media-game", "Media Game")
	var out []map[string]any
	d.p.ok(&out, "media", "media-game", "--cover", writePNG(t, "cover.png", 64, 48),
		"--screenshot", writePNG(t, "one.png", 320, 180), "--screenshot", writePNG(t, "two.png", 320, 180))
	if len(out) != 3 || out[0]["kind"] != "cover" || out[0]["width"] != float64(64) || out[2]["kind"] != "screenshot" ||
		!strings.Contains(out[1]["url"].(string), "/media/") {
		t.Fatalf("media: %v", out)
	}
	d.p.ok(&out, "media", "media-game", "--remove", out[1]["id"].(string))
	if len(out) != 2 {
		t.Errorf("after --remove: %v", out)
	}
	text := filepath.Join(t.TempDir(), "notes.png")
	_ = os.WriteFile(text, []byte("not a picture"), 0o644)
	if r := d.p.run(nil, "media", "media-game", "--cover", text); r.code == 0 || !strings.Contains(r.stderr, "is not a PNG, JPEG or WebP image") {
		t.Errorf("a text file as the cover: exit %d, %s", r.code, r.stderr)
	}
}

// `satchel push` warns of the platforms a build has no launch entry for.
func TestPushWarnsOfGaps(t *testing.T) {
	d := newDeveloper(t)
	d.game("linux-only", "Linux Only")
	zip := d.zip([]testenv.File{
		{Name: "satchel.toml", Body: []byte("[launch.linux]\nexec = \"game\"\n")},
		{Name: "game", Mode: 0o755, Body: []byte("#!/bin/sh\n")},
	})
	r := d.p.run(nil, "push", "linux-only", "1.0.0", zip)
	if r.code != 0 || !strings.Contains(r.stdout, "warning: no launch entry for windows-amd64:") || strings.Contains(r.stdout, "for linux-amd64") {
		t.Errorf("push: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// `satchel developer` changes the payout address, which the server checks live, and the studio.
func TestDeveloperCommand(t *testing.T) {
	d := newDeveloper(t)
	if r := d.p.run(nil, "developer", "--address", "nobody@127.0.0.1:1"); r.code == 0 || !strings.Contains(r.stderr, "could not be reached") {
		t.Errorf("an address nothing answers: %v", r)
	}
	good := "me@" + strings.TrimPrefix(env.server.URL, "http://") // the test-money server answers it
	var acct map[string]any
	d.p.ok(&acct, "developer", "--address", good, "--studio", "Lantern Works")
	if acct["payout_address"] != good || acct["studio"] != "Lantern Works" {
		t.Errorf("developer: %v", acct)
	}
	var cleared map[string]any
	d.p.ok(&cleared, "developer", "--studio", "-")
	if cleared["studio"] != nil || cleared["payout_address"] != good {
		t.Errorf("after clearing the studio: %v", cleared)
	}
}
