package state_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"satchel.dev/desktop/internal/fsutil"
	"satchel.dev/desktop/state"
)

func TestUpdateIsAtomicAndSerialized(t *testing.T) {
	dir := t.TempDir()
	s, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Load()
	if err != nil || st.Library != filepath.Join(dir, "library") || len(st.Games) != 0 {
		t.Fatalf("empty state = %+v, %v", st, err)
	}
	// Two stores over one folder are two processes: concurrent updates must not be lost.
	other, _ := state.Open(dir)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			store := s
			if i%2 == 1 {
				store = other
			}
			_, err := store.Update(func(st *state.State) error {
				g := st.Game("g")
				g.Title += "x"
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	st, _ = s.Load()
	if st.Games["g"].Title != strings.Repeat("x", 20) {
		t.Errorf("title = %q: updates were lost", st.Games["g"].Title)
	}
	// A failed update saves nothing.
	if _, err := s.Update(func(st *state.State) error { st.Game("h"); return errors.New("no") }); err == nil {
		t.Fatal("no error")
	}
	if st, _ := s.Load(); st.Games["h"] != nil {
		t.Error("a failed update was saved")
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"manifests", "state.json", "state.lock"}, names); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

// TestOpenInMovesTheOldState: a state.json an older launcher left in the data folder moves to
// the state folder on the first start, once, even when several processes start together.
func TestOpenInMovesTheOldState(t *testing.T) {
	data, stateDir := t.TempDir(), filepath.Join(t.TempDir(), "state")
	old, err := state.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Update(func(st *state.State) error { st.Game("g").Title = "G"; return nil }); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := state.OpenIn(data, stateDir)
			if err != nil {
				t.Error(err)
				return
			}
			if st, err := s.Load(); err != nil || st.Games["g"] == nil || st.Games["g"].Title != "G" || st.Library != filepath.Join(data, "library") {
				t.Errorf("state after the move = %+v, %v", st, err)
			}
		})
	}
	wg.Wait()
	if _, err := os.Stat(filepath.Join(data, "state.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the old state.json is still in the data folder: %v", err)
	}
	// Once moved, the state folder's file wins over one that shows up in the old place again.
	os.WriteFile(filepath.Join(data, "state.json"), []byte(`{"games":{"stale":{}}}`), 0o600)
	s, err := state.OpenIn(data, stateDir)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Load(); st.Games["stale"] != nil || st.Games["g"] == nil {
		t.Errorf("a stale state.json replaced the moved one: %+v", st.Games)
	}
	// A new launcher has nothing to move: its state starts empty, its library in the data folder.
	fresh, err := state.OpenIn(t.TempDir(), filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := fresh.Load(); err != nil || len(st.Games) != 0 || st.Library != filepath.Join(fresh.Dir(), "library") {
		t.Errorf("a new launcher's state = %+v, %v", st, err)
	}
}

func TestManifests(t *testing.T) {
	s, _ := state.Open(t.TempDir())
	files := []state.File{{Path: "a", Size: 1, Mode: 0o644, SHA256: "x"}}
	if err := s.SaveManifest("rel-1", files); err != nil {
		t.Fatal(err)
	}
	got, err := s.Manifest("rel-1")
	if err != nil || !cmp.Equal(files, got) {
		t.Errorf("Manifest = %v, %v", got, err)
	}
	if err := s.SaveManifest("../../etc/passwd", files); err == nil {
		t.Error("a release id with a path was accepted")
	}
	if ids, _ := s.Manifests(); !cmp.Equal([]string{"rel-1"}, ids) {
		t.Errorf("Manifests = %v", ids)
	}
	s.RemoveManifest("rel-1")
	if _, err := s.Manifest("rel-1"); err == nil {
		t.Error("removed manifest still there")
	}
}

func TestLibraryOfDuringMove(t *testing.T) {
	st := &state.State{Library: "/old", Move: &state.Move{From: "/old", To: "/new", Done: []string{"a"}}}
	if got := []string{st.Path("a", "a/1.0"), st.Path("b", "b/1.0")}; !cmp.Equal([]string{"/new/a/1.0", "/old/b/1.0"}, got) {
		t.Errorf("paths mid-move = %v", got)
	}
}

func TestTryLock(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.lock")
	l, err := fsutil.TryLock(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsutil.TryLock(p); !errors.Is(err, fsutil.ErrLocked) || !strings.Contains(err.Error(), "pid") {
		t.Errorf("second lock = %v, want ErrLocked naming the holder", err)
	}
	l.Unlock()
	l2, err := fsutil.TryLock(p)
	if err != nil {
		t.Errorf("after unlock: %v", err)
	}
	l2.Unlock()
}
