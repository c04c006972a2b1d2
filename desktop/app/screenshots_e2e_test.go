//go:build e2e

package app

import (
	"context"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"satchel.dev/desktop/core"
	"satchel.dev/desktop/internal/testenv"
	"satchel.dev/desktop/settings"
	"satchel.dev/desktop/signer"
)

// TestScreenshots starts the built launcher (not `wails dev`) on an X display, once per
// screen, and saves the screen as players see it: the store, a game page, the checkout with
// its QR code, the library in the middle of a download, and the Developer tab; each at the
// window's first size (1280×800) and again at 760×560 (a small window, near its minimum) in
// the folder 760x560/, for a person to look through. A screenshot that shows a blank or
// broken window fails the test. They go to .data/screenshots/ (ignored by git), or to
// SATCHEL_SCREENSHOTS_DIR (relative to the repository); the README's pictures are taken from
// a clean `make run` instead (see the README), not from this test's state.
func TestScreenshots(t *testing.T) {
	bin := buildLauncher(t)
	d := startDisplay(t)
	out := filepath.Join(repoDir(t), ".data", "screenshots")
	if dir := os.Getenv("SATCHEL_SCREENSHOTS_DIR"); dir != "" {
		out = dir
		if !filepath.IsAbs(dir) {
			out = filepath.Join(repoDir(t), dir)
		}
	}
	root := t.TempDir()

	// A player who buys Lantern Drift while the library is shown (auto-update installs a game
	// the identity just got), its download slowed down so that it is still under way.
	player := settings.Dirs{Data: filepath.Join(root, "player", "data"), Config: filepath.Join(root, "player", "config")}
	sg, err := identity(player, "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := core.Open(core.Config{Dirs: player, Signer: sg, Server: env.server.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Buy(ctx, "moss-and-mortar", false); err != nil { // free: installed beside the download
		t.Fatal(err)
	}
	if _, err := c.Install(ctx, "moss-and-mortar", core.InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	p, err := c.Buy(ctx, "lantern-drift", false)
	if err != nil {
		t.Fatal(err)
	}
	pay := func() {
		if err := c.PayTestMoney(ctx, p.Invoice); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SetSpeedLimit(24 << 10); err != nil {
		t.Fatal(err)
	}

	// The demo developer.
	developer := settings.Dirs{Data: filepath.Join(root, "dev", "data"), Config: filepath.Join(root, "dev", "config")}
	key := testenv.DemoDeveloperKey()
	if _, err := identity(developer, hex.EncodeToString(key[:])); err != nil {
		t.Fatal(err)
	}

	shots := []struct {
		name, route, screen string
		dirs                settings.Dirs
		before              func()
	}{
		{"store", "", "store", player, nil},
		{"game", "game/pocket-orbits", "game", player, nil},
		{"checkout", "checkout/pocket-orbits", "checkout", player, nil},
		{"library", "library", "library", player, func() { pay(); waitDownloading(t, player) }},
		{"developer", "developer/lantern-drift", "developer", developer, nil},
	}
	for _, s := range shots {
		app := spawn(t, root, windowEnv(d, s.dirs.Data, s.dirs.Config, "SATCHEL_LAUNCHER_ROUTE="+s.route), bin)
		app.waitLine(t, "satchel-launcher: ready "+s.screen, 60*time.Second)
		if s.before != nil {
			s.before()
		}
		d.settledScreenshot(t, "root", filepath.Join(out, s.name+".png"))
		window := d.resize(t, app.cmd.Process.Pid, 760, 560)
		d.settledScreenshot(t, window, filepath.Join(out, "760x560", s.name+".png"))
		app.stop()
		t.Logf("%s: %s, %s", s.name, filepath.Join(out, s.name+".png"), filepath.Join(out, "760x560", s.name+".png"))
	}
}

// identity creates (secret "") or imports the identity of the launcher folders dirs, in the
// test's keyring, and returns its signer.
func identity(dirs settings.Dirs, secret string) (*signer.Signer, error) {
	ids := signer.NewStore(dirs.Config, signer.OSKeyring{})
	var err error
	if secret == "" {
		_, err = ids.Create("")
	} else {
		_, err = ids.Import(secret, "")
	}
	if err != nil {
		return nil, err
	}
	return ids.Signer("")
}

// waitDownloading waits until the launcher of dirs has been downloading for a while (so its
// rate and time left are known): a zip downloaded whole (library/.downloads/), or a build
// streamed into its temporary folder (library/<slug>/.tmp-*).
func waitDownloading(t *testing.T, dirs settings.Dirs) {
	t.Helper()
	lib := filepath.Join(dirs.Data, "library")
	size := func() int64 {
		var n int64
		for _, pattern := range []string{filepath.Join(lib, ".downloads"), filepath.Join(lib, "*", ".tmp-*")} {
			dirs, _ := filepath.Glob(pattern)
			for _, d := range dirs {
				filepath.WalkDir(d, func(_ string, e fs.DirEntry, err error) error {
					if err == nil && e.Type().IsRegular() {
						if fi, err := e.Info(); err == nil {
							n += fi.Size()
						}
					}
					return nil
				})
			}
		}
		return n
	}
	first := int64(-1)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		n := size()
		if first < 0 && n > 0 {
			first = n
		}
		if first >= 0 && n-first > 56<<10 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the launcher did not download in 30s")
}
