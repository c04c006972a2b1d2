package settings_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"satchel.dev/desktop/settings"
)

// TestDirsFor checks every operating system's folders through the same function, on any OS.
// Paths are joined with filepath.Join, as DirsFor joins them: with "\\" on Windows.
func TestDirsFor(t *testing.T) {
	j := filepath.Join
	local, roaming := `C:\Users\p\AppData\Local`, `C:\Users\p\AppData\Roaming`
	tests := []struct {
		name string
		goos string
		env  map[string]string
		want settings.Dirs
	}{
		{"XDG", "linux", map[string]string{"HOME": "/home/p", "XDG_DATA_HOME": "/x/data", "XDG_CONFIG_HOME": "/x/conf", "XDG_STATE_HOME": "/x/state"},
			settings.Dirs{Data: "/x/data/satchel", Config: "/x/conf/satchel", State: "/x/state/satchel"}},
		{"home", "linux", map[string]string{"HOME": "/home/p"},
			settings.Dirs{Data: "/home/p/.local/share/satchel", Config: "/home/p/.config/satchel", State: "/home/p/.local/state/satchel"}},
		{"own variables win", "linux", map[string]string{"HOME": "/home/p", "XDG_DATA_HOME": "/x", "XDG_STATE_HOME": "/y",
			"SATCHEL_DATA_DIR": "/d", "SATCHEL_CONFIG_DIR": "/c", "SATCHEL_STATE_DIR": "/s"},
			settings.Dirs{Data: "/d", Config: "/c", State: "/s"}},
		{"the state follows an own data folder", "linux", map[string]string{"HOME": "/home/p", "XDG_STATE_HOME": "/y", "SATCHEL_DATA_DIR": "/d"},
			settings.Dirs{Data: "/d", Config: "/home/p/.config/satchel", State: "/d"}},
		{"an own state folder alone", "linux", map[string]string{"HOME": "/home/p", "SATCHEL_STATE_DIR": "/s"},
			settings.Dirs{Data: "/home/p/.local/share/satchel", Config: "/home/p/.config/satchel", State: "/s"}},
		{"BSD is XDG too", "freebsd", map[string]string{"HOME": "/home/p"},
			settings.Dirs{Data: "/home/p/.local/share/satchel", Config: "/home/p/.config/satchel", State: "/home/p/.local/state/satchel"}},
		{"macOS", "darwin", map[string]string{"HOME": "/Users/p", "XDG_DATA_HOME": "/ignored", "XDG_STATE_HOME": "/ignored"},
			settings.Dirs{Data: "/Users/p/Library/Application Support/Satchel", Config: "/Users/p/Library/Application Support/Satchel",
				State: "/Users/p/Library/Application Support/Satchel"}},
		{"macOS, own variables win", "darwin", map[string]string{"HOME": "/Users/p", "SATCHEL_DATA_DIR": "/d", "SATCHEL_CONFIG_DIR": "/c", "SATCHEL_STATE_DIR": "/s"},
			settings.Dirs{Data: "/d", Config: "/c", State: "/s"}},
		{"Windows", "windows", map[string]string{"LOCALAPPDATA": local, "APPDATA": roaming, "USERPROFILE": `C:\elsewhere`, "HOME": "/ignored", "XDG_STATE_HOME": "/ignored"},
			settings.Dirs{Data: j(local, "Satchel"), Config: j(roaming, "Satchel"), State: j(local, "Satchel")}},
		{"Windows, from the profile", "windows", map[string]string{"USERPROFILE": `C:\Users\p`},
			settings.Dirs{Data: j(`C:\Users\p`, "AppData", "Local", "Satchel"), Config: j(`C:\Users\p`, "AppData", "Roaming", "Satchel"),
				State: j(`C:\Users\p`, "AppData", "Local", "Satchel")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := settings.DirsFor(tt.goos, func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for goos, want := range map[string]string{"linux": "set $SATCHEL_DATA_DIR or $XDG_DATA_HOME", "darwin": "set $SATCHEL_DATA_DIR or $HOME",
		"windows": "set $SATCHEL_DATA_DIR or $LOCALAPPDATA"} {
		if _, err := settings.DirsFor(goos, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s with no home: %v, want %q", goos, err, want)
		}
	}
	xdg := map[string]string{"XDG_DATA_HOME": "/x/data", "XDG_CONFIG_HOME": "/x/conf"}
	if _, err := settings.DirsFor("linux", func(k string) string { return xdg[k] }); err == nil || !strings.Contains(err.Error(), "set $SATCHEL_STATE_DIR or $XDG_STATE_HOME") {
		t.Errorf("linux with no state home: %v", err)
	}
}

func TestStore(t *testing.T) {
	dir := t.TempDir()
	st := settings.NewStore(dir)
	got, err := st.Load()
	if err != nil || got.Server != settings.DefaultServer || !*got.AutoUpdate || got.MaxDownloads != 1 || got.KeepDownloads {
		t.Fatalf("defaults = %+v, %v", got, err)
	}
	if _, err := st.Update(func(s *settings.Settings) error {
		off := false
		s.AutoUpdate, s.SpeedLimit, s.Server, s.KeepDownloads = &off, 1000, "https://satchel.example/", true
		s.GameAutoUpdate = map[string]bool{"a": true}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, _ = settings.NewStore(dir).Load()
	if *got.AutoUpdate || got.SpeedLimit != 1000 || got.Server != "https://satchel.example" || !got.AutoUpdateFor("a") || got.AutoUpdateFor("b") || !got.KeepDownloads {
		t.Errorf("reloaded = %+v", got)
	}
	if b, _ := os.ReadFile(st.Path()); !strings.Contains(string(b), `"keep_downloads": true`) {
		t.Errorf("settings.json does not say keep_downloads:\n%s", b)
	}
	for _, bad := range []func(*settings.Settings){
		func(s *settings.Settings) { s.Server = "satchel.example" },
		func(s *settings.Settings) { s.SpeedLimit = -1 },
		func(s *settings.Settings) { s.MaxDownloads = 99 },
	} {
		if _, err := st.Update(func(s *settings.Settings) error { bad(s); return nil }); err == nil {
			t.Error("an invalid setting was saved")
		}
	}
	os.WriteFile(filepath.Join(dir, "settings.json"), []byte("{"), 0o600)
	if _, err := st.Load(); err == nil || !strings.Contains(err.Error(), "fix or delete it") {
		t.Errorf("a damaged file: %v", err)
	}
}
