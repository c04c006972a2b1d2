package core_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"satchel.dev/desktop/core"
	"satchel.dev/desktop/settings"
	"satchel.dev/desktop/state"
)

// TestOpenMovesTheState: the state an older launcher kept in the data folder is in the state
// folder once Open returns, and the library stays in the data folder.
func TestOpenMovesTheState(t *testing.T) {
	root := t.TempDir()
	dirs := settings.Dirs{Data: filepath.Join(root, "data"), Config: filepath.Join(root, "config"), State: filepath.Join(root, "state")}
	old, err := state.Open(dirs.Data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Update(func(*state.State) error { return nil }); err != nil {
		t.Fatal(err)
	}
	c, err := core.Open(core.Config{Dirs: dirs, Server: env.server.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := os.Stat(filepath.Join(dirs.Data, "state.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("state.json is still in the data folder: %v", err)
	}
	st, err := state.OpenIn(dirs.Data, dirs.State)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := st.Load(); err != nil || s.Library != filepath.Join(dirs.Data, "library") {
		t.Errorf("state after Open = %+v, %v; want the library in the data folder", s, err)
	}
	if _, err := os.Stat(filepath.Join(dirs.State, "state.json")); err != nil {
		t.Errorf("no state.json in the state folder: %v", err)
	}
}
