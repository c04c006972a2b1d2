package install

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"satchel.dev/desktop/internal/testenv"
	"satchel.dev/desktop/state"
	"satchel.dev/shared/zipsafe"
)

// manyFiles is a build of n files of size random bytes (every third stored, the others
// deflated), a launch script and a README.
func manyFiles(version string, n, size int) []testenv.File {
	files := gameFiles(version, 10)
	for i := range n {
		files = append(files, testenv.File{Name: fmt.Sprintf("assets/pack-%02d.bin", i), Body: randomBytes(size), Store: i%3 == 0})
	}
	return files
}

// installMany installs 1.0.0, a build of n files of 64 KiB (manyFiles), and returns the
// install and a copy of its files for a test to change into 1.1.0.
func (b *bundle) installMany(t *testing.T, n int) (Result, []testenv.File) {
	t.Helper()
	files := manyFiles("1.0.0", n, 64<<10)
	b.addBuild("1.0.0", files...)
	res, err := b.inst.Install(context.Background(), b.game, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return res, append([]testenv.File(nil), files...)
}

// updateOfOneFile installs 1.0.0 (installMany, 6 files) and adds 1.1.0, the same but for its
// last file; it returns 1.1.0 and that file's entry.
func (b *bundle) updateOfOneFile(t *testing.T) (*build, state.File) {
	t.Helper()
	_, files := b.installMany(t, 6)
	files[len(files)-1].Body = randomBytes(64 << 10)
	v2 := b.addBuild("1.1.0", files...)
	return v2, fileOf(t, v2, files[len(files)-1].Name)
}

// streamed returns a bundle whose builds stream.
func streamed(t *testing.T, tweak ...func(*Config)) *bundle {
	b := setup(t, tweak...)
	b.located = true
	return b
}

// fileOf returns the manifest entry of path in bd.
func fileOf(t *testing.T, bd *build, path string) state.File {
	t.Helper()
	for _, f := range bd.files {
		if f.Path == path {
			return f
		}
	}
	t.Fatalf("%s is not in the build", path)
	return state.File{}
}

// noTemp fails if a temporary folder is left in the game's folder.
func noTemp(t *testing.T, b *bundle) {
	t.Helper()
	for _, p := range tree(t, filepath.Join(b.load().Library, b.game.Slug)) {
		if strings.HasPrefix(p, ".tmp-") {
			t.Errorf("a temporary folder is left: %s", p)
		}
	}
}

func TestStreamedInstall(t *testing.T) {
	b := streamed(t)
	bd := b.addBuild("1.0.0", manyFiles("1.0.0", 9, 100<<10)...)
	var phases []Phase
	res, err := b.inst.Install(context.Background(), b.game, "", func(p Progress) {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Phase{PhaseDownloading, PhaseSwitching, PhaseDone}, phases); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	if res.Fetched != bd.size {
		t.Errorf("fetched %d bytes, want the zip's %d", res.Fetched, bd.size)
	}
	if diff := cmp.Diff([]string{fmt.Sprintf("bytes=0-%d", bd.size-1)}, b.srv.ranges()); diff != "" {
		t.Errorf("GETs (-want +got):\n%s", diff)
	}
	lib := b.load().Library
	if got := tree(t, filepath.Join(lib, ".downloads")); len(got) != 0 {
		t.Errorf("a zip was kept: %v", got)
	}
	if fi, err := os.Stat(filepath.Join(res.Dir, "run.sh")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("run.sh: %v %v, want mode 0755", fi, err)
	}
	rep, err := b.inst.Verify(context.Background(), b.game, false, nil)
	if err != nil || !rep.OK() || rep.Checked != len(bd.files) || len(rep.Extra) != 0 {
		t.Errorf("verify = %+v, %v", rep, err)
	}
	if g := b.load().Games["tiny-game"]; g.Pending != nil || g.Current.Version != "1.0.0" {
		t.Errorf("state: pending %+v current %+v", g.Pending, g.Current)
	}
}

// TestStreamedResumeAfterDroppedConnection drops the connection in the middle of a file: the
// download resumes where the file before it ended, not at byte zero nor at the byte it stopped.
func TestStreamedResumeAfterDroppedConnection(t *testing.T) {
	b := streamed(t)
	bd := b.addBuild("1.0.0", manyFiles("1.0.0", 6, 200<<10)...)
	prev, f := fileOf(t, bd, "assets/pack-02.bin"), fileOf(t, bd, "assets/pack-03.bin")
	cut := f.DataOffset + f.CompressedSize/2
	b.srv.cutAfter = cut
	res, err := b.inst.Install(context.Background(), b.game, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	from := prev.DataOffset + prev.CompressedSize
	want := []string{fmt.Sprintf("bytes=0-%d", bd.size-1), fmt.Sprintf("bytes=%d-%d", from, bd.size-1)}
	if diff := cmp.Diff(want, b.srv.ranges()); diff != "" {
		t.Errorf("GETs (-want +got):\n%s", diff)
	}
	if wantFetched := cut + bd.size - from; res.Fetched != wantFetched {
		t.Errorf("fetched %d bytes, want %d", res.Fetched, wantFetched)
	}
	if rep, err := b.inst.Verify(context.Background(), b.game, false, nil); err != nil || !rep.OK() {
		t.Errorf("verify = %+v, %v", rep, err)
	}
}

// TestStreamedResumeAtEntryEnd drops the connection right where a file's data ends, before
// what follows it (Go's zip writer puts a data descriptor there): the file is verified, and
// the download resumes from that point with the whole zip's hash carried over, so the build
// is accepted.
func TestStreamedResumeAtEntryEnd(t *testing.T) {
	b := streamed(t)
	bd := b.addBuild("1.0.0", manyFiles("1.0.0", 6, 200<<10)...)
	f := fileOf(t, bd, "assets/pack-03.bin")
	end := f.DataOffset + f.CompressedSize
	b.srv.cutAfter = end
	res, err := b.inst.Install(context.Background(), b.game, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprintf("bytes=0-%d", bd.size-1), fmt.Sprintf("bytes=%d-%d", end, bd.size-1)}
	if diff := cmp.Diff(want, b.srv.ranges()); diff != "" {
		t.Errorf("GETs (-want +got):\n%s", diff)
	}
	if res.Fetched != bd.size {
		t.Errorf("fetched %d bytes, want the build's %d once", res.Fetched, bd.size)
	}
	if rep, err := b.inst.Verify(context.Background(), b.game, false, nil); err != nil || !rep.OK() {
		t.Errorf("verify = %+v, %v", rep, err)
	}
}

// TestStreamedResumeAfterCrash stops the launcher as a crash would, mid-file, with only the
// checkpoint it had recorded: after Recover, the next install resumes at that checkpoint.
func TestStreamedResumeAfterCrash(t *testing.T) {
	b := streamed(t)
	bd := b.addBuild("1.0.0", manyFiles("1.0.0", 6, 200<<10)...)
	f := fileOf(t, bd, "assets/pack-04.bin")
	prev := fileOf(t, bd, "assets/pack-03.bin")
	from := prev.DataOffset + prev.CompressedSize // where the checkpoint before pack-04 resumes
	b.srv.stallAfter, b.srv.stall = f.DataOffset+10, make(chan struct{})
	defer close(b.srv.stall)
	ctx, cancel := context.WithCancel(context.Background())
	var crashState []byte
	var crash sync.Once // hooks are called from several goroutines
	statePath := filepath.Join(b.state.Dir(), "state.json")
	inst, err := New(Config{State: b.state, Source: b.src, ProgressEvery: b.inst.cfg.ProgressEvery, FreeSpace: b.inst.cfg.FreeSpace,
		Hook: func(step string, done, total int64) {
			// The stream stalls in pack-04; once a checkpoint past the files before it is
			// recorded, the process dies: what is on disk now is what a crash leaves.
			if step == "checkpoint" && done == from {
				crash.Do(func() {
					crashState, _ = os.ReadFile(statePath)
					cancel()
				})
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inst.Install(ctx, b.game, "", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Install = %v, want it stopped", err)
	}
	if err := os.WriteFile(statePath, crashState, 0o600); err != nil {
		t.Fatal(err)
	}
	rec, err := b.inst.Recover()
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Actions) != 1 || !strings.Contains(rec.Actions[0], "to resume after them") {
		t.Errorf("recovery = %q", rec.Actions)
	}
	res, err := b.inst.Install(context.Background(), b.game, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	rs := b.srv.ranges()
	if want := fmt.Sprintf("bytes=%d-%d", from, bd.size-1); rs[len(rs)-1] != want {
		t.Errorf("the resumed GET asked for %s, want %s", rs[len(rs)-1], want)
	}
	if res.Fetched != bd.size-from || res.Resumed != from {
		t.Errorf("resumed %d and fetched %d, want %d and %d", res.Resumed, res.Fetched, from, bd.size-from)
	}
	if rep, err := b.inst.Verify(context.Background(), b.game, false, nil); err != nil || !rep.OK() || len(rep.Extra) != 0 {
		t.Errorf("verify = %+v, %v", rep, err)
	}
}

// TestStreamedBadBuildsAreRefused serves zips that do not match their manifest, or manifests
// that break the zip rules: each install fails, removes its temporary folder and records why.
func TestStreamedBadBuildsAreRefused(t *testing.T) {
	tests := []struct {
		name    string
		mess    func(b *bundle, bd *build) []state.File
		noGET   bool // refused from the manifest alone, before any byte
		wantErr string
	}{
		{"wrong sha256 of a file", func(_ *bundle, bd *build) []state.File {
			fs := append([]state.File(nil), bd.files...)
			fs[2].SHA256 = strings.Repeat("0", 64)
			return fs
		}, false, "does not match the sha256 of the manifest"},
		{"a path that climbs out", func(_ *bundle, bd *build) []state.File {
			fs := append([]state.File(nil), bd.files...)
			fs[0].Path = "../../evil.sh"
			return fs
		}, true, `rule "path"`},
		{"overlapping entries", func(_ *bundle, bd *build) []state.File {
			fs := append([]state.File(nil), bd.files...)
			a, b := index(fs, "assets/pack-00.bin"), index(fs, "assets/pack-01.bin")
			fs[b].HeaderOffset = fs[a].DataOffset + 10
			fs[b].DataOffset = fs[b].HeaderOffset + 30 + int64(len(fs[b].Path))
			return fs
		}, true, `rule "overlap"`},
		{"files swapped in the manifest", func(_ *bundle, bd *build) []state.File {
			fs := append([]state.File(nil), bd.files...)
			a, b := index(fs, "assets/pack-00.bin"), index(fs, "assets/pack-01.bin")
			fs[a].Path, fs[b].Path = fs[b].Path, fs[a].Path
			return fs
		}, false, "the local header names"},
		{"a file the manifest leaves out", func(_ *bundle, bd *build) []state.File {
			return append([]state.File(nil), bd.files[1:]...)
		}, false, "central directory does not match"},
		{"a zip that is not the published one", func(b *bundle, bd *build) []state.File {
			other := filepath.Join(b.dir, "other.zip")
			body, _ := os.ReadFile(bd.path)
			body[len(body)-30] ^= 0xff // in the end record's comment-free tail: files stay intact
			os.WriteFile(other, body, 0o644)
			b.srv.swap[bd.id] = other
			return bd.files
		}, false, "sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := streamed(t)
			bd := b.addBuild("1.0.0", manyFiles("1.0.0", 3, 50<<10)...)
			b.src.files[bd.id] = tt.mess(b, bd)
			_, err := b.inst.Install(context.Background(), b.game, "", nil)
			if !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Install = %v, want ErrVerify saying %q", err, tt.wantErr)
			}
			if tt.noGET && len(b.srv.ranges()) != 0 {
				t.Errorf("GETs %v before the manifest was refused", b.srv.ranges())
			}
			noTemp(t, b)
			if _, err := os.Stat(filepath.Join(b.dir, "evil.sh")); err == nil {
				t.Error("a file was written outside the library")
			}
			g := b.load().Games["tiny-game"]
			if g.Pending != nil || g.Failed == nil || g.Current != nil {
				t.Errorf("state: pending %+v failed %+v current %+v", g.Pending, g.Failed, g.Current)
			}
		})
	}
}

// TestUpdateFetchesOnlyChanges updates a build of many files of which one changed, one was
// renamed and one is damaged in the installed version: the update copies the unchanged and
// renamed files, fetches the changed and the damaged ones (and the zip's directory) by Range,
// and nothing else.
func TestUpdateFetchesOnlyChanges(t *testing.T) {
	b := streamed(t)
	res1, v2files := b.installMany(t, 20)
	// 1.1.0: pack-05 changes, pack-07 is renamed, the rest is the same.
	for i := range v2files {
		switch v2files[i].Name {
		case "assets/pack-05.bin":
			v2files[i].Body = randomBytes(64 << 10)
		case "assets/pack-07.bin":
			v2files[i].Name = "assets/renamed.bin"
		}
	}
	v2 := b.addBuild("1.1.0", v2files...)
	// The installed pack-09 is damaged: it must be fetched, never copied forward.
	if err := os.WriteFile(filepath.Join(res1.Dir, "assets", "pack-09.bin"), []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := len(b.srv.ranges())
	res, err := b.inst.Install(context.Background(), b.game, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	changed, damaged := fileOf(t, v2, "assets/pack-05.bin"), fileOf(t, v2, "assets/pack-09.bin")
	tail := v2.size - lastDataEnd(v2.files)
	want := (changed.DataOffset + changed.CompressedSize - changed.HeaderOffset) +
		(damaged.DataOffset + damaged.CompressedSize - damaged.HeaderOffset) + tail
	if res.Fetched != want {
		t.Errorf("fetched %d bytes, want %d: the changed and damaged files (%d and %d compressed bytes) and the directory",
			res.Fetched, want, changed.CompressedSize, damaged.CompressedSize)
	}
	if changedBytes := changed.CompressedSize + damaged.CompressedSize; float64(res.Fetched) > 1.1*float64(changedBytes) {
		t.Errorf("fetched %d bytes for %d compressed bytes changed", res.Fetched, changedBytes)
	}
	var installed int64
	for _, f := range v2.files {
		installed += f.Size
	}
	if res.Reused != installed-changed.Size-damaged.Size {
		t.Errorf("reused %d bytes, want %d", res.Reused, installed-changed.Size-damaged.Size)
	}
	if got := b.srv.ranges()[before:]; len(got) != 3 {
		t.Errorf("GETs %v, want one per changed file and one for the directory", got)
	}
	rep, err := b.inst.Verify(context.Background(), b.game, false, nil)
	if err != nil || !rep.OK() || rep.Version != "1.1.0" || len(rep.Extra) != 0 {
		t.Errorf("verify = %+v, %v", rep, err)
	}
	if g := b.load().Games["tiny-game"]; g.Previous == nil || g.Previous.Version != "1.0.0" {
		t.Errorf("previous = %+v, want 1.0.0 kept until 1.1.0 has launched", g.Previous)
	}
	// Unchanged files are hard links to the installed ones where the file system allows.
	a, errA := os.Stat(filepath.Join(res1.Dir, "assets", "pack-01.bin"))
	c, errC := os.Stat(filepath.Join(res.Dir, "assets", "pack-01.bin"))
	if errA != nil || errC != nil || !os.SameFile(a, c) {
		t.Errorf("pack-01.bin was not linked: %v %v", errA, errC)
	}
}

// TestUpdateTrustsOnlyUnwrittenFiles: an install stamps its files with its FilesTime, and an
// update reuses a stamped file without reading it. A file written since (here damaged with its
// size kept) is read, found damaged and fetched. Damage that keeps the time too (a failing
// disk) is carried forward, and Verify finds and repairs it.
func TestUpdateTrustsOnlyUnwrittenFiles(t *testing.T) {
	b := streamed(t)
	res1, v2files := b.installMany(t, 8)
	stamp := b.load().Games["tiny-game"].Current.FilesTime
	if stamp.IsZero() {
		t.Fatal("the install has no FilesTime")
	}
	for _, f := range []string{"assets/pack-01.bin", "assets/pack-07.bin"} {
		if fi, err := os.Stat(filepath.Join(res1.Dir, filepath.FromSlash(f))); err != nil || !fi.ModTime().Equal(stamp) {
			t.Fatalf("%s: %v, modified %v, want the stamp %v", f, err, fi.ModTime(), stamp)
		}
	}
	overwrite := func(name string) {
		t.Helper()
		f, err := os.OpenFile(filepath.Join(res1.Dir, "assets", name), os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteAt([]byte("damage"), 100)
			f.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	overwrite("pack-03.bin") // a write: a newer time
	overwrite("pack-04.bin")
	if err := os.Chtimes(filepath.Join(res1.Dir, "assets", "pack-04.bin"), time.Time{}, stamp); err != nil {
		t.Fatal(err) // damage that keeps the time
	}
	v2files[0].Body = []byte("1.1.0")
	v2 := b.addBuild("1.1.0", v2files...)
	res, err := b.inst.Install(context.Background(), b.game, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	written, changed := fileOf(t, v2, "assets/pack-03.bin"), fileOf(t, v2, v2files[0].Name)
	var want int64
	for _, f := range v2.files {
		want += f.Size
	}
	if want -= written.Size + changed.Size; res.Reused != want || res.Fetched > v2.size/4 {
		t.Errorf("reused %d bytes, want %d; fetched %d: the written pack-03 (%d bytes) and %s", res.Reused, want, res.Fetched, written.Size, changed.Path)
	}
	rep, err := b.inst.Verify(context.Background(), b.game, false, nil)
	if err != nil || len(rep.Damaged) != 1 || rep.Damaged[0].Path != "assets/pack-04.bin" {
		t.Fatalf("verify after the update = %+v, %v; want pack-04.bin damaged, carried forward with its time", rep, err)
	}
	// Found damaged and left so, it is no longer trusted by the next update.
	if fi, err := os.Stat(filepath.Join(res.Dir, "assets", "pack-04.bin")); err != nil || fi.ModTime().Equal(b.load().Games["tiny-game"].Current.FilesTime) {
		t.Errorf("pack-04.bin, reported damaged, still has the install's stamp (%v)", err)
	}
	if rep, err = b.inst.Verify(context.Background(), b.game, true, nil); err != nil || !rep.OK() {
		t.Fatalf("repair = %+v, %v", rep, err)
	}
	// Verify stamps what it repaired: the next update trusts it.
	cur := b.load().Games["tiny-game"].Current
	fi, err := os.Stat(filepath.Join(res.Dir, "assets", "pack-04.bin"))
	if err != nil || cur.FilesTime.IsZero() || !fi.ModTime().Equal(cur.FilesTime) {
		t.Errorf("repaired pack-04.bin modified %v, install stamped %v (%v)", fi.ModTime(), cur.FilesTime, err)
	}
}

// TestWritesDuringUpdateStayVisible: the running game saves into its files, in place, while
// an update puts them in the new version (the two versions then share them): once a file is
// linked, or right after one was hashed and before it is stamped (the files were touched
// since their install, so their time does not vouch for them). Each file written keeps the
// time of that write, not the new version's stamp, so the next update hashes it again.
func TestWritesDuringUpdateStayVisible(t *testing.T) {
	for _, c := range []struct {
		step  string // the hook step at which the game saves
		touch bool   // the files were written since their install: hashed, not trusted
	}{{"reuse", false}, {"hashed", true}} {
		t.Run(c.step, func(t *testing.T) {
			b := streamed(t)
			res1, v2files := b.installMany(t, 4)
			packs := make([]string, 4)
			touched := time.Now().Add(-time.Hour)
			for i := range packs {
				packs[i] = filepath.Join(res1.Dir, "assets", fmt.Sprintf("pack-%02d.bin", i))
				if c.touch {
					if err := os.Chtimes(packs[i], touched, touched); err != nil {
						t.Fatal(err)
					}
				}
			}
			v2files[0].Body = []byte("1.1.0")
			v2 := b.addBuild("1.1.0", v2files...)
			var once sync.Once
			saved := false
			inst, err := New(Config{State: b.state, Source: b.src, FreeSpace: b.inst.cfg.FreeSpace, Hook: func(step string, _, _ int64) {
				if step == c.step {
					once.Do(func() {
						saved = true
						for _, p := range packs {
							f, err := os.OpenFile(p, os.O_WRONLY, 0)
							if err == nil {
								_, err = f.WriteAt([]byte("saved"), 10)
								f.Close()
							}
							if err != nil {
								t.Error(err)
							}
						}
					})
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := inst.Install(context.Background(), b.game, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if !saved {
				t.Fatalf("the update never reached %q (no hard links here?)", c.step)
			}
			stamp := b.load().Games["tiny-game"].Current.FilesTime
			for _, f := range v2.files {
				p := filepath.Join(res.Dir, filepath.FromSlash(f.Path))
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if sha256Of(t, p) != f.SHA256 && fi.ModTime().Equal(stamp) {
					t.Errorf("%s, written during the update, carries the new version's stamp: the next update would trust it", f.Path)
				}
			}
		})
	}
}

// TestUpdateInterrupted stops an update in the middle, as a crash would: the current version
// stays playable, and the update starts again and finishes.
func TestUpdateInterrupted(t *testing.T) {
	b := streamed(t)
	_, v2files := b.installMany(t, 6)
	v2files[5].Body = randomBytes(64 << 10)
	v2 := b.addBuild("1.1.0", v2files...)
	ctx, cancel := context.WithCancel(context.Background())
	var crashState []byte
	var crash sync.Once // the changed file and the zip's tail are fetched side by side
	statePath := filepath.Join(b.state.Dir(), "state.json")
	inst, err := New(Config{State: b.state, Source: b.src, FreeSpace: b.inst.cfg.FreeSpace, Hook: func(step string, _, _ int64) {
		if step == "stream" {
			crash.Do(func() {
				crashState, _ = os.ReadFile(statePath)
				cancel()
			})
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inst.Install(ctx, b.game, "", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Install = %v, want it stopped", err)
	}
	os.WriteFile(statePath, crashState, 0o600)
	if _, err := b.inst.Recover(); err != nil {
		t.Fatal(err)
	}
	noTemp(t, b)
	changed := fileOf(t, v2, v2files[5].Name).CompressedSize
	if sz, err := b.inst.PendingSize(b.game.Slug); err != nil || sz != (Size{Version: "1.1.0", Fetch: changed, BuildSize: v2.size, Update: true}) {
		t.Errorf("PendingSize = %+v, %v; want 1.1.0 fetching %d of %d bytes", sz, err, changed, v2.size)
	}
	if rep, err := b.inst.Verify(context.Background(), b.game, false, nil); err != nil || !rep.OK() || rep.Version != "1.0.0" {
		t.Errorf("1.0.0 after the interrupted update: %+v %v", rep, err)
	}
	res, err := b.inst.Install(context.Background(), b.game, "", nil)
	if err != nil || res.Version != "1.1.0" || res.Reused == 0 {
		t.Fatalf("the update again = %+v, %v", res, err)
	}
}

// TestLaunchDuringUpdateKeepsThePlayedVersion: a version played for the first time while an
// update of its game downloads (the update holds the game's lock) is recorded as launched, so
// the update's switch keeps it as the previous version instead of removing the folder of the
// game being played.
func TestLaunchDuringUpdateKeepsThePlayedVersion(t *testing.T) {
	b := streamed(t)
	res1, files := b.installMany(t, 4)
	if err := b.inst.Launched(b.game.Slug, res1.ReleaseID); err != nil {
		t.Fatal(err)
	}
	files[0].Body = []byte("1.1.0")
	b.addBuild("1.1.0", files...)
	res2, err := b.inst.Install(context.Background(), b.game, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	files[1].Body = []byte("1.2.0")
	b.addBuild("1.2.0", files...)
	downloading, played := make(chan struct{}), make(chan struct{})
	var once sync.Once
	inst, err := New(Config{State: b.state, Source: b.src, FreeSpace: b.inst.cfg.FreeSpace, Hook: func(step string, _, _ int64) {
		if step == "stream" {
			once.Do(func() { close(downloading); <-played })
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := inst.Install(context.Background(), b.game, "", nil)
		done <- err
	}()
	<-downloading
	err = b.inst.Launched(b.game.Slug, res2.ReleaseID) // 1.1.0 is played while 1.2.0 downloads
	close(played)
	if err != nil {
		t.Fatalf("Launched during the update: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	g := b.load().Games[b.game.Slug]
	if g.Current.Version != "1.2.0" || g.Previous == nil || g.Previous.Version != "1.1.0" {
		t.Errorf("after the update: current %+v, previous %+v; want 1.2.0 and 1.1.0 kept", g.Current, g.Previous)
	}
	if _, err := os.Stat(res2.Dir); err != nil {
		t.Errorf("the played version's folder: %v", err)
	}
	if _, err := os.Stat(res1.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("1.0.0's folder after the update: %v, want it removed", err)
	}
}

// TestUpdateWithTamperedRange serves wrong bytes for the changed file: the update fails, and
// the installed version is untouched and playable.
func TestUpdateWithTamperedRange(t *testing.T) {
	b := streamed(t)
	v2, f := b.updateOfOneFile(t)
	body, _ := os.ReadFile(v2.path)
	body[f.DataOffset+f.CompressedSize/2] ^= 0xff
	other := filepath.Join(b.dir, "tampered.zip")
	os.WriteFile(other, body, 0o644)
	b.srv.swap[v2.id] = other
	_, err := b.inst.Install(context.Background(), b.game, "", nil)
	if !errors.Is(err, ErrVerify) {
		t.Fatalf("Install = %v, want ErrVerify", err)
	}
	noTemp(t, b)
	rep, err := b.inst.Verify(context.Background(), b.game, false, nil)
	if err != nil || !rep.OK() || rep.Version != "1.0.0" {
		t.Errorf("1.0.0 after the failed update: %+v %v", rep, err)
	}
}

// TestUpdateFromServerWithoutRange updates through a server that ignores Range: every range
// is read from the start of the zip, skipping what comes before it, and the update succeeds.
func TestUpdateFromServerWithoutRange(t *testing.T) {
	b := streamed(t)
	_, v2files := b.installMany(t, 6)
	v2files[4].Body = randomBytes(64 << 10)
	b.addBuild("1.1.0", v2files...)
	b.srv.noRange = true
	if _, err := b.inst.Install(context.Background(), b.game, "", nil); err != nil {
		t.Fatal(err)
	}
	if rep, err := b.inst.Verify(context.Background(), b.game, false, nil); err != nil || !rep.OK() || rep.Version != "1.1.0" {
		t.Errorf("verify = %+v, %v", rep, err)
	}
}

// index is the position of path in files.
func index(files []state.File, path string) int {
	for i, f := range files {
		if f.Path == path {
			return i
		}
	}
	return -1
}

func lastDataEnd(files []state.File) int64 {
	var end int64
	for _, f := range files {
		end = max(end, f.DataOffset+f.CompressedSize)
	}
	return end
}

// TestFailedDownloadSaysWhy: a download that fails on every attempt returns an error that
// carries the last cause, so that the launcher can tell the player they are offline (or the
// disk is full) instead of "something went wrong".
func TestFailedDownloadSaysWhy(t *testing.T) {
	for _, streams := range []bool{true, false} {
		b := setup(t)
		b.located = streams
		b.addBuild("1.0.0", manyFiles("1.0.0", 2, 1<<10)...)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		b.src.url = "http://" + ln.Addr().String() // nothing answers there once closed
		ln.Close()
		_, err = b.inst.Install(context.Background(), b.game, "", nil)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("streamed %v: Install = %v, want an error that is the refused connection", streams, err)
		}
	}
}

// TestWriteFailureIsNotRetried: when a file cannot be written (here a folder is in its way; a
// full disk is the usual cause), the install stops at once with that error, instead of
// fetching the build again on every attempt first.
func TestWriteFailureIsNotRetried(t *testing.T) {
	b := streamed(t)
	// pack-03 starts past the first read (chunkSize at the most): the folder is in its way
	// before its bytes arrive.
	bd := b.addBuild("1.0.0", manyFiles("1.0.0", 6, chunkSize)...)
	f := fileOf(t, bd, "assets/pack-03.bin")
	if f.HeaderOffset <= chunkSize {
		t.Fatalf("pack-03 starts at %d, within the first read", f.HeaderOffset)
	}
	var once sync.Once
	inst, err := New(Config{State: b.state, Source: b.src, FreeSpace: b.inst.cfg.FreeSpace, Backoff: time.Millisecond,
		Hook: func(step string, done, _ int64) {
			if step == "stream" && done < f.HeaderOffset {
				once.Do(func() {
					temp := b.load().Games["tiny-game"].Pending.Temp
					lib := b.load().Library
					if err := os.MkdirAll(filepath.Join(lib, filepath.FromSlash(temp), "assets", "pack-03.bin"), 0o755); err != nil {
						t.Error(err)
					}
				})
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = inst.Install(context.Background(), b.game, "", nil)
	if err == nil || errors.Is(err, ErrVerify) {
		t.Fatalf("Install = %v, want the write's error", err)
	}
	if rs := b.srv.ranges(); len(rs) != 1 {
		t.Errorf("the build was fetched %d times (%q), want once", len(rs), rs)
	}
}

// installDamaged installs b's game while the server damages the byte at offset once, and
// checks that the install of version succeeded whole, with nothing recorded as failed.
func installDamaged(t *testing.T, b *bundle, at int64, version string) {
	t.Helper()
	b.srv.damage.at, b.srv.damage.copy = at, filepath.Join(b.dir, "damaged.zip")
	if _, err := b.inst.Install(context.Background(), b.game, "", nil); err != nil {
		t.Fatal(err)
	}
	if g := b.load().Games["tiny-game"]; g.Failed != nil || g.Current == nil || g.Current.Version != version {
		t.Errorf("state: failed %+v current %+v", g.Failed, g.Current)
	}
	if rep, err := b.inst.Verify(context.Background(), b.game, false, nil); err != nil || !rep.OK() || rep.Version != version {
		t.Errorf("verify = %+v, %v", rep, err)
	}
	noTemp(t, b)
}

// TestStreamedDamageOnTheWay damages a byte of a file's data on the way, once: the install
// fetches again from the end of the file before it, and succeeds; nothing is recorded as
// failed.
func TestStreamedDamageOnTheWay(t *testing.T) {
	b := streamed(t)
	bd := b.addBuild("1.0.0", manyFiles("1.0.0", 6, 200<<10)...)
	prev, f := fileOf(t, bd, "assets/pack-02.bin"), fileOf(t, bd, "assets/pack-03.bin")
	installDamaged(t, b, f.DataOffset+f.CompressedSize/2, "1.0.0")
	from := prev.DataOffset + prev.CompressedSize
	want := []string{fmt.Sprintf("bytes=0-%d", bd.size-1), fmt.Sprintf("bytes=%d-%d", from, bd.size-1)}
	if diff := cmp.Diff(want, b.srv.ranges()); diff != "" {
		t.Errorf("GETs (-want +got):\n%s", diff)
	}
}

// TestStreamedTailDamageOnTheWay damages a byte of the zip's end record on the way, once:
// every file matches, the whole zip does not, so the build is fetched once more, all of it,
// and the install succeeds.
func TestStreamedTailDamageOnTheWay(t *testing.T) {
	b := streamed(t)
	bd := b.addBuild("1.0.0", manyFiles("1.0.0", 3, 50<<10)...)
	installDamaged(t, b, bd.size-30, "1.0.0")
	whole := fmt.Sprintf("bytes=0-%d", bd.size-1)
	if diff := cmp.Diff([]string{whole, whole}, b.srv.ranges()); diff != "" {
		t.Errorf("GETs (-want +got):\n%s", diff)
	}
}

// TestUpdateDamageOnTheWay damages a byte of a changed file on the way, once: the update is
// made once more and succeeds.
func TestUpdateDamageOnTheWay(t *testing.T) {
	b := streamed(t)
	_, f := b.updateOfOneFile(t)
	installDamaged(t, b, f.DataOffset+f.CompressedSize/2, "1.1.0")
}

// TestEntryWrittenAgainIsNotVerified extracts a build's files, then a stretch again from the
// second file that stops in the middle of it, as a resumed stream can: the second file, cut
// short, no longer counts as verified, nor does any after it.
func TestEntryWrittenAgainIsNotVerified(t *testing.T) {
	b := streamed(t)
	bd := b.addBuild("1.0.0", manyFiles("1.0.0", 3, 50<<10)...)
	entries, _ := located(bd.files)
	sorted, err := zipsafe.CheckManifest(entries, bd.size, b.inst.cfg.Limits)
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(bd.path)
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	x := newExtraction(root, sorted, sorted, time.Now())
	stretch := func(i int, from, to int64) {
		r := &route{x: x, pos: from, i: i, end: len(sorted), tailStart: -1}
		if err := r.write(body[from:to]); err != nil {
			t.Fatal(err)
		}
		r.stop()
	}
	last := sorted[len(sorted)-1]
	stretch(0, 0, last.DataOffset+last.CompressedSize)
	if k := x.prefix(); k != len(sorted) {
		t.Fatalf("%d of %d files verified after the whole stretch", k, len(sorted))
	}
	e := sorted[1]
	stretch(1, e.HeaderOffset, e.DataOffset+e.CompressedSize/2)
	if k := x.prefix(); k != 1 {
		t.Errorf("%d files count as verified, want 1: %s was written again and cut", k, e.Path)
	}

	// Fetched once more from the second file after it failed: the files after it, verified
	// the first time, are to be written again and no longer count, even before their bytes
	// come.
	x.retry(1)
	stretch(1, e.HeaderOffset, e.DataOffset+e.CompressedSize)
	if k := x.prefix(); k != 2 {
		t.Errorf("%d files count as verified after the retry, want 2: only %s was written again", k, e.Path)
	}
}

// TestFilesOnTheDiskBeforeTheSwitch: every way of installing (the whole zip, the stream, an
// update) flushes the extracted files to the disk before the state records them extracted and
// the switch makes them current, so that a power cut cannot leave a version switched to whose
// files are empty or short.
func TestFilesOnTheDiskBeforeTheSwitch(t *testing.T) {
	for _, c := range []struct {
		name            string
		located, update bool
	}{{"whole zip", false, false}, {"streamed", true, false}, {"update", true, true}} {
		t.Run(c.name, func(t *testing.T) {
			var steps []string
			b := setup(t, func(cfg *Config) {
				cfg.Hook = func(step string, _, _ int64) {
					if step == "synced" || step == "extracted" || step == "renamed" {
						steps = append(steps, step) // all three on the installing goroutine
					}
				}
			})
			b.located = c.located
			files := manyFiles("1.0.0", 3, 10<<10)
			b.addBuild("1.0.0", files...)
			if c.update {
				if _, err := b.inst.Install(context.Background(), b.game, "", nil); err != nil {
					t.Fatal(err)
				}
				steps = nil
				b.addBuild("1.0.1", files...) // the same files: all of them reused
			}
			res, err := b.inst.Install(context.Background(), b.game, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.update && res.Reused == 0 {
				t.Fatalf("%+v: not an update", res)
			}
			if diff := cmp.Diff([]string{"synced", "extracted", "renamed"}, steps); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
		})
	}
}

// TestInstallsAtOnceShareTheFreeSpace: with two downloads at a time, an install does not
// count the free space another install under way was promised. The second waits for the
// first to end, then checks what is left, and is refused without fetching anything.
func TestInstallsAtOnceShareTheFreeSpace(t *testing.T) {
	b := streamed(t, func(c *Config) { c.MaxDownloads = 2 })
	b.addBuild("1.0.0", manyFiles("1.0.0", 3, 100<<10)...)
	b.free.Store(12 << 20) // each install needs about 8.6 MiB (a margin of 8): room for one
	b.srv.gate = make(chan struct{})
	ctx := context.Background()
	first := b.inst.Enqueue(ctx, b.game, "", nil)
	waitUntil(t, func() bool { return len(b.srv.ranges()) == 1 }) // the first install's download
	second := b.inst.Enqueue(ctx, Game{ID: "game-2", Slug: "other-game"}, "", nil)
	waitUntil(t, func() bool {
		b.inst.space.mu.Lock()
		defer b.inst.space.mu.Unlock()
		return b.inst.space.waiting == 1 || len(b.srv.ranges()) == 2
	})
	if n := len(b.srv.ranges()); n != 1 {
		close(b.srv.gate) // so that the server can close
		t.Fatalf("%d GETs: the second install counted the space promised to the first", n)
	}
	refusedOnceFirstWritten(t, b, first, second, 4<<20)
}

// refusedOnceFirstWritten lets the first install, held at its download (b.srv.gate), finish
// with free bytes left on the disk, and checks that the second was then refused for space
// without fetching anything.
func refusedOnceFirstWritten(t *testing.T, b *bundle, first, second *Job, free int64) {
	t.Helper()
	b.free.Store(free)
	close(b.srv.gate)
	ctx := context.Background()
	if _, err := first.Wait(ctx); err != nil {
		t.Fatalf("the first install: %v", err)
	}
	if _, err := second.Wait(ctx); !errors.Is(err, ErrDiskSpace) {
		t.Fatalf("the second install = %v, want ErrDiskSpace", err)
	}
	if n := len(b.srv.ranges()); n != 1 {
		t.Errorf("%d GETs, want the first install's only", n)
	}
}

// TestQueuedInstallChecksSpaceInItsTurn queues a second game's install behind the first (one
// download at a time) on a disk that holds only one of them: the second checks the free space
// when its turn comes, after the first has written its files, and is refused then, before it
// fetches anything, instead of passing the check at once and failing part-way.
func TestQueuedInstallChecksSpaceInItsTurn(t *testing.T) {
	b := streamed(t)
	b.addBuild("1.0.0", manyFiles("1.0.0", 3, 100<<10)...)
	b.srv.gate = make(chan struct{})
	ctx := context.Background()
	first := b.inst.Enqueue(ctx, b.game, "", nil)
	waitUntil(t, func() bool { return len(b.srv.ranges()) == 1 }) // the first install's download
	second := b.inst.Enqueue(ctx, Game{ID: "game-2", Slug: "other-game"}, "", nil)
	waitUntil(t, func() bool { // the second install waits for its turn
		b.inst.slots.mu.Lock()
		defer b.inst.slots.mu.Unlock()
		return len(b.inst.slots.waiting) == 1
	})
	refusedOnceFirstWritten(t, b, first, second, 1<<20) // what is left once the first is written
}
