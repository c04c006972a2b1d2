package state_test

import (
	"errors"
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
