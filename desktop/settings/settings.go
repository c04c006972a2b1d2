// Package settings holds where the launcher keeps its files and the player's preferences:
// the server, auto-update (global and per game), the download speed limit, how many
// downloads run at once and whether downloaded builds are kept. Preferences live in one small JSON file in the config folder,
// replaced atomically; nothing secret is ever written there.
package settings

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"satchel.dev/desktop/internal/fsutil"
)

// Dirs are the launcher's folders.
type Dirs struct {
	// Data holds the build manifests, locks, open purchases and (by default) the library.
	Data string `json:"data"`
	// Config holds settings.json and identities.json (public keys only).
	Config string `json:"config"`
	// State holds the local state (state.json and its lock): what is installed where. Empty
	// means Data, as in a Dirs written by hand.
	State string `json:"state"`
}

// WithDefaults returns d with an empty State set to Data.
func (d Dirs) WithDefaults() Dirs {
	if d.State == "" {
		d.State = d.Data
	}
	return d
}

// DefaultDirs returns the folders of the operating system this runs on: DirsFor(runtime.GOOS,
// getenv).
func DefaultDirs(getenv func(string) string) (Dirs, error) { return DirsFor(runtime.GOOS, getenv) }

// DirsFor returns the launcher's folders on goos, as absolute paths, reading the environment
// through getenv. $SATCHEL_DATA_DIR, $SATCHEL_CONFIG_DIR and $SATCHEL_STATE_DIR win
// everywhere; without $SATCHEL_STATE_DIR, a $SATCHEL_DATA_DIR holds the state too, so one
// variable keeps all of a launcher's files apart (as tests and `make run` do). Otherwise:
//
//   - windows: Data is %LOCALAPPDATA%\Satchel (this machine's: the library is large), Config
//     is %APPDATA%\Satchel (roams with the user's profile); both fall back to
//     %USERPROFILE%\AppData\...; State is Data, as Windows has no folder of its own for state;
//   - darwin: all three are ~/Library/Application Support/Satchel (their files never share a
//     name), as macOS has no folder of its own for state either;
//   - any other: $XDG_DATA_HOME/satchel (else ~/.local/share/satchel), $XDG_CONFIG_HOME/satchel
//     (else ~/.config/satchel) and $XDG_STATE_HOME/satchel (else ~/.local/state/satchel).
//
// It creates nothing, and fails only when the environment names no home at all.
func DirsFor(goos string, getenv func(string) string) (Dirs, error) {
	pick := func(own, base, fallbackHome, fallback, name string) (string, error) {
		switch {
		case getenv(own) != "":
			return filepath.Abs(getenv(own))
		case base != "" && getenv(base) != "":
			return filepath.Join(getenv(base), name), nil
		case getenv(fallbackHome) != "":
			return filepath.Join(getenv(fallbackHome), fallback, name), nil
		}
		return "", fmt.Errorf("cannot find a folder for Satchel's files: set $%s or $%s", own, cmp.Or(base, fallbackHome))
	}
	var d Dirs
	var err error
	switch goos {
	case "windows":
		if d.Data, err = pick("SATCHEL_DATA_DIR", "LOCALAPPDATA", "USERPROFILE", filepath.Join("AppData", "Local"), "Satchel"); err != nil {
			return Dirs{}, err
		}
		d.Config, err = pick("SATCHEL_CONFIG_DIR", "APPDATA", "USERPROFILE", filepath.Join("AppData", "Roaming"), "Satchel")
	case "darwin":
		support := filepath.Join("Library", "Application Support")
		if d.Data, err = pick("SATCHEL_DATA_DIR", "", "HOME", support, "Satchel"); err != nil {
			return Dirs{}, err
		}
		d.Config, err = pick("SATCHEL_CONFIG_DIR", "", "HOME", support, "Satchel")
	default:
		if d.Data, err = pick("SATCHEL_DATA_DIR", "XDG_DATA_HOME", "HOME", filepath.Join(".local", "share"), "satchel"); err != nil {
			return Dirs{}, err
		}
		d.Config, err = pick("SATCHEL_CONFIG_DIR", "XDG_CONFIG_HOME", "HOME", ".config", "satchel")
	}
	if err != nil {
		return Dirs{}, err
	}
	switch {
	case getenv("SATCHEL_STATE_DIR") != "":
		d.State, err = filepath.Abs(getenv("SATCHEL_STATE_DIR"))
	case goos == "windows" || goos == "darwin" || getenv("SATCHEL_DATA_DIR") != "":
		d.State = d.Data
	default:
		d.State, err = pick("SATCHEL_STATE_DIR", "XDG_STATE_HOME", "HOME", filepath.Join(".local", "state"), "satchel")
	}
	if err != nil {
		return Dirs{}, err
	}
	return d, nil
}

// DefaultServer is the server used when none is configured.
const DefaultServer = "http://127.0.0.1:8080"

// Settings are the player's preferences. The zero value plus WithDefaults is the default.
type Settings struct {
	// Server is the Satchel server's base URL.
	Server string `json:"server,omitempty"`
	// AutoUpdate installs new releases and new games without a click; nil means on.
	AutoUpdate *bool `json:"auto_update,omitempty"`
	// GameAutoUpdate overrides AutoUpdate per game slug.
	GameAutoUpdate map[string]bool `json:"game_auto_update,omitempty"`
	// SpeedLimit caps the download speed in bytes per second; 0 is unlimited.
	SpeedLimit int64 `json:"speed_limit_bytes_per_second,omitempty"`
	// MaxDownloads is how many downloads run at once; 0 means 1.
	MaxDownloads int `json:"max_downloads,omitempty"`
	// KeepDownloads keeps the zip of each installed version in the library's downloads
	// folder (install.Config.KeepDownloads); off, no zip stays after an install.
	KeepDownloads bool `json:"keep_downloads,omitempty"`
}

// WithDefaults returns s with unset fields given their defaults.
func (s Settings) WithDefaults() Settings {
	if s.Server == "" {
		s.Server = DefaultServer
	}
	if s.AutoUpdate == nil {
		on := true
		s.AutoUpdate = &on
	}
	if s.MaxDownloads == 0 {
		s.MaxDownloads = 1
	}
	return s
}

// Validate says what is wrong with s, in words meant for the player.
func (s Settings) Validate() error {
	if s.Server != "" {
		u, err := url.Parse(s.Server)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("server %q is not a URL like https://satchel.example", s.Server)
		}
	}
	if s.SpeedLimit < 0 {
		return errors.New("the speed limit cannot be negative (0 means unlimited)")
	}
	if s.MaxDownloads < 0 || s.MaxDownloads > 8 {
		return errors.New("max downloads must be between 1 and 8")
	}
	return nil
}

// AutoUpdateFor reports whether auto-update is on for the game slug.
func (s Settings) AutoUpdateFor(slug string) bool {
	if on, ok := s.GameAutoUpdate[slug]; ok {
		return on
	}
	return s.AutoUpdate == nil || *s.AutoUpdate
}

// Store reads and writes settings.json in a config folder.
type Store struct{ path string }

// NewStore returns the store of the config folder dir. It creates nothing until Save.
func NewStore(dir string) *Store { return &Store{path: filepath.Join(dir, "settings.json")} }

// Path is the settings file.
func (s *Store) Path() string { return s.path }

// Load returns the saved settings with defaults applied; a missing file is the defaults.
func (s *Store) Load() (Settings, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return Settings{}.WithDefaults(), nil
	}
	if err != nil {
		return Settings{}, err
	}
	var st Settings
	if err := json.Unmarshal(b, &st); err != nil {
		return Settings{}, fmt.Errorf("%s is not valid settings (%v): fix or delete it", s.path, err)
	}
	if err := st.Validate(); err != nil {
		return Settings{}, fmt.Errorf("%s: %w", s.path, err)
	}
	return st.WithDefaults(), nil
}

// Update loads the settings, applies fn and saves the result if fn succeeds and the result
// is valid.
func (s *Store) Update(fn func(*Settings) error) (Settings, error) {
	st, err := s.Load()
	if err != nil {
		return Settings{}, err
	}
	if err := fn(&st); err != nil {
		return Settings{}, err
	}
	st.Server = strings.TrimRight(st.Server, "/")
	if err := st.Validate(); err != nil {
		return Settings{}, err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return Settings{}, err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return Settings{}, err
	}
	return st, fsutil.WriteFile(s.path, append(b, '\n'), 0o600)
}
