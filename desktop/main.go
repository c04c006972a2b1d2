// Command satchel-launcher is the Satchel launcher's window: the store, checkout, library,
// settings and developer tools over the launcher's engine (package core), drawn by a web view
// (Wails). Build it with `make launcher` (wails build -tags webkit2_41).
//
// Environment: SATCHEL_SERVER overrides the server of the settings; SATCHEL_DATA_DIR,
// SATCHEL_CONFIG_DIR and SATCHEL_STATE_DIR move the launcher's folders (settings.DirsFor, as
// for the satchel CLI);
// SATCHEL_LAUNCHER_ROUTE opens another screen first (game/SLUG, checkout/SLUG, library,
// developer, settings, account). When each screen has first shown its data, a line
// "satchel-launcher: ready SCREEN" goes to standard output.
package main

import (
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"satchel.dev/desktop/app"
	"satchel.dev/desktop/settings"
)

//go:embed all:frontend/dist
var assets embed.FS

func main() {
	dirs, err := settings.DefaultDirs(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "satchel-launcher:", err)
		os.Exit(1)
	}
	dist, err := fs.Sub(assets, "frontend/dist")
	if err != nil {
		fmt.Fprintln(os.Stderr, "satchel-launcher:", err)
		os.Exit(1)
	}
	level := slog.LevelWarn
	if os.Getenv("SATCHEL_DEBUG") != "" {
		level = slog.LevelDebug
	}
	err = app.Run(dist, app.Config{
		Dirs:   dirs,
		Server: os.Getenv("SATCHEL_SERVER"),
		Route:  os.Getenv("SATCHEL_LAUNCHER_ROUTE"),
		Ready:  os.Stdout,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "satchel-launcher:", err)
		os.Exit(1)
	}
}
