package install

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"satchel.dev/desktop/internal/testenv"
	"satchel.dev/desktop/launch"
	"satchel.dev/desktop/state"
	"satchel.dev/shared/zipsafe"
)

// build is a release's zip served by the test file server.
type build struct {
	id, version string
	path        string // the zip
	sha         string
	size        int64
	files       []state.File
}

// server serves builds with HTTP Range, and misbehaves on request.
type server struct {
	mu       sync.Mutex
	builds   map[string]*build
	gets     []string // Range header of each GET ("" for none)
	active   int
	maxConc  int
	validTok func(tok string) bool
	cutAfter int64 // drop the connection of the next GET after this many bytes
	// stallAfter makes the next ranged GET stop after this many bytes until stall is closed
	// (or the client goes away), then drop the connection.
	stallAfter int64
	stall      chan struct{}
	noRange    bool
	swap       map[string]string // serve another file for a build id
	gate       chan struct{}     // when set, each GET waits for it
	// damage flips the byte at damage.at in the next GET whose answer holds it, as a network
	// that damages bytes on the way would; damage.copy is where the damaged build is kept.
	damage struct {
		at   int64 // 0: none
		copy string
	}
}

// damaged returns a copy of file with the byte at s.damage.at flipped, if the GET of rng (a
// Range header, "" for all) answers with that byte; then it damages nothing more. The caller
// holds s.mu.
func (s *server) damaged(file, rng string) string {
	if s.damage.at == 0 {
		return file
	}
	var from, to int64
	if rng != "" {
		if _, err := fmt.Sscanf(rng, "bytes=%d-%d", &from, &to); err != nil || s.damage.at < from || s.damage.at > to {
			return file
		}
	}
	body, err := os.ReadFile(file)
	if err != nil {
		return file
	}
	body[s.damage.at] ^= 0xff
	if err := os.WriteFile(s.damage.copy, body, 0o644); err != nil {
		return file
	}
	s.damage.at = 0
	return s.damage.copy
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	b := s.builds[id]
	valid := s.validTok == nil || s.validTok(r.URL.Query().Get("tok"))
	cut := s.cutAfter
	noRange := s.noRange
	stallAfter, stall := s.stallAfter, s.stall
	file := ""
	if b != nil {
		file = b.path
		if other, ok := s.swap[id]; ok {
			file = other
		}
	}
	gate := s.gate
	if r.Method == http.MethodGet {
		if b != nil {
			file = s.damaged(file, r.Header.Get("Range"))
		}
		s.gets = append(s.gets, r.Header.Get("Range"))
		s.cutAfter = 0
		if r.Header.Get("Range") != "" {
			s.stallAfter = 0
		}
		s.active++
		s.maxConc = max(s.maxConc, s.active)
	}
	s.mu.Unlock()
	defer func() {
		if r.Method == http.MethodGet {
			s.mu.Lock()
			s.active--
			s.mu.Unlock()
		}
	}()
	if gate != nil && r.Method == http.MethodGet {
		<-gate
	}
	if b == nil {
		http.NotFound(w, r)
		return
	}
	if !valid {
		http.Error(w, "link expired", http.StatusForbidden)
		return
	}
	f, err := os.Open(file)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	defer f.Close()
	if noRange {
		r.Header.Del("Range")
	}
	if cut > 0 && r.Header.Get("Range") == "" {
		// Send the headers of the whole file, then only cut bytes, then drop the connection.
		fi, _ := f.Stat()
		w.Header().Set("Content-Length", fmt.Sprint(fi.Size()))
		w.Header().Set("Accept-Ranges", "bytes")
		w.WriteHeader(200)
		io.CopyN(w, f, cut)
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	switch {
	case cut > 0 && r.Header.Get("Range") != "":
		w = &cutWriter{ResponseWriter: w, left: cut, r: r}
	case stallAfter > 0 && r.Header.Get("Range") != "":
		w = &cutWriter{ResponseWriter: w, left: stallAfter, r: r, stall: stall}
	}
	http.ServeContent(w, r, "", time.Time{}, f)
}

// cutWriter sends left bytes of a response, then waits for stall to close (when set) or the
// client to go away, and drops the connection.
type cutWriter struct {
	http.ResponseWriter
	left  int64
	r     *http.Request
	stall chan struct{}
}

func (c *cutWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p[:min(int64(len(p)), c.left)])
	c.left -= int64(n)
	if err != nil || c.left > 0 {
		return n, err
	}
	c.ResponseWriter.(http.Flusher).Flush()
	if c.stall != nil {
		select {
		case <-c.stall:
		case <-c.r.Context().Done():
		}
	}
	panic(http.ErrAbortHandler)
}

func (s *server) ranges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.gets...)
}

// source is the test's Source: it hands out URLs of the test server.
type source struct {
	mu        sync.Mutex
	url       string
	srv       *server
	latest    string
	calls     int // GetDownload's
	manifests int // Manifest's, which are no downloads
	tok       int
	files     map[string][]state.File // manifest overrides
	err       error
}

func (s *source) GetDownload(_ context.Context, _, releaseID string) (Download, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.tok++
	dl, err := s.manifest(releaseID)
	if err != nil {
		return Download{}, err
	}
	dl.URL, dl.ExpiresAt = fmt.Sprintf("%s/%s?tok=%d", s.url, dl.ReleaseID, s.tok), time.Now().Add(time.Hour)
	return dl, nil
}

func (s *source) Manifest(_ context.Context, _, releaseID string) (Download, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.manifests++
	return s.manifest(releaseID)
}

// manifest returns releaseID ("" for the latest) without a URL; s.mu is held.
func (s *source) manifest(releaseID string) (Download, error) {
	if s.err != nil {
		return Download{}, s.err
	}
	if releaseID == "" {
		releaseID = s.latest
	}
	s.srv.mu.Lock()
	b := s.srv.builds[releaseID]
	s.srv.mu.Unlock()
	if b == nil {
		return Download{}, errors.New("no such release")
	}
	files := b.files
	if f, ok := s.files[releaseID]; ok {
		files = f
	}
	return Download{ReleaseID: b.id, Version: b.version, SHA256: b.sha, Size: b.size, Files: files}, nil
}

type bundle struct {
	t *testing.T
	// located makes addBuild's manifests say where each file lies in the zip, as a server
	// that records it does, so that builds stream.
	located bool
	dir     string
	state   *state.Store
	srv     *server
	src     *source
	inst    *Installer
	game    Game
	free    atomic.Int64
}

func setup(t *testing.T, tweak ...func(*Config)) *bundle {
	t.Helper()
	b := &bundle{t: t, dir: t.TempDir(), srv: &server{builds: map[string]*build{}, swap: map[string]string{}}}
	b.free.Store(1 << 50)
	var err error
	if b.state, err = state.Open(filepath.Join(b.dir, "data")); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(b.srv)
	t.Cleanup(hs.Close)
	b.src = &source{url: hs.URL, srv: b.srv, files: map[string][]state.File{}}
	cfg := Config{State: b.state, Source: b.src, Backoff: 10 * time.Millisecond, ProgressEvery: 10 * time.Millisecond,
		FreeSpace: func(string) (int64, error) { return b.free.Load(), nil }}
	for _, f := range tweak {
		f(&cfg)
	}
	if b.inst, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	b.game = Game{ID: "game-1", Slug: "tiny-game", Title: "Tiny Game"}
	return b
}

// addBuild makes a zip of files as release version and publishes it as the latest.
func (b *bundle) addBuild(version string, files ...testenv.File) *build {
	b.t.Helper()
	p := filepath.Join(b.dir, "build-"+version+".zip")
	sha, size, err := testenv.WriteZip(p, files)
	if err != nil {
		b.t.Fatal(err)
	}
	f, _ := os.Open(p)
	defer f.Close()
	entries, err := zipsafe.Scan(f, size, zipsafe.Limits{})
	if err != nil {
		b.t.Fatal(err)
	}
	bd := &build{id: "rel-" + strings.ReplaceAll(version, ".", "-"), version: version, path: p, sha: sha, size: size}
	for _, e := range entries {
		f := state.File{Path: e.Path, Size: e.Size, Mode: uint32(e.Mode.Perm()), SHA256: e.SHA256}
		if b.located {
			f.HeaderOffset, f.DataOffset, f.CompressedSize, f.Method, f.CRC32 = e.HeaderOffset, e.DataOffset, e.CompressedSize, e.Method, e.CRC32
		}
		bd.files = append(bd.files, f)
	}
	b.srv.mu.Lock()
	b.srv.builds[bd.id] = bd
	b.srv.mu.Unlock()
	b.src.mu.Lock()
	b.src.latest = bd.id
	b.src.mu.Unlock()
	return bd
}

func (b *bundle) load() *state.State {
	b.t.Helper()
	st, err := b.state.Load()
	if err != nil {
		b.t.Fatal(err)
	}
	return st
}

func randomBytes(n int) []byte {
	p := make([]byte, n)
	rand.Read(p)
	return p
}

// gameFiles is a small build: a launch script, a README and a large random file.
func gameFiles(version string, bigSize int) []testenv.File {
	return []testenv.File{
		{Name: "satchel.toml", Body: []byte("[launch.linux]\nexec = \"run.sh\"\n")},
		{Name: "run.sh", Mode: 0o755, Body: []byte("#!/bin/sh\necho " + version + "\n")},
		{Name: "README.txt", Body: []byte("version " + version + "\n")},
		{Name: "data/big.bin", Body: randomBytes(bigSize), Store: true},
	}
}

// tree lists the files under dir with their content's first line (for small text files).
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			out = append(out, rel+"/")
		} else {
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func TestInstallUpdateKeepsPreviousUntilLaunched(t *testing.T) {
	b := setup(t)
	v1 := b.addBuild("1.0.0", gameFiles("1.0.0", 100<<10)...)
	var phases []Phase
	res, err := b.inst.Install(context.Background(), b.game, "", func(p Progress) {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Phase{PhaseDownloading, PhaseExtracting, PhaseSwitching, PhaseDone}, phases); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	lib := b.load().Library
	if res.Dir != filepath.Join(lib, "tiny-game", "1.0.0") || res.Fetched != v1.size || res.Resumed != 0 {
		t.Errorf("result = %+v", res)
	}
	if fi, err := os.Stat(filepath.Join(res.Dir, "run.sh")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("run.sh: %v %v, want mode 0755", fi, err)
	}
	again, err := b.inst.Install(context.Background(), b.game, "", nil)
	if err != nil || !again.AlreadyInstalled {
		t.Errorf("installing again = %+v, %v; want AlreadyInstalled", again, err)
	}

	b.addBuild("1.1.0", gameFiles("1.1.0", 100<<10)...)
	res2, err := b.inst.Install(context.Background(), b.game, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Previous != "1.0.0" {
		t.Errorf("previous = %q, want 1.0.0 kept until 1.1.0 has launched", res2.Previous)
	}
	want := []string{".downloads/", "tiny-game/", "tiny-game/1.0.0/", "tiny-game/1.1.0/"}
	if diff := cmp.Diff(want, topDirs(t, lib)); diff != "" {
		t.Errorf("library (-want +got):\n%s", diff)
	}
	g := b.load().Games["tiny-game"]
	if g.Current.Version != "1.1.0" || g.Previous.Version != "1.0.0" || g.Pending != nil {
		t.Errorf("state: current %v previous %v pending %v", g.Current, g.Previous, g.Pending)
	}
	if err := b.inst.Launched("tiny-game", g.Current.ReleaseID); err != nil {
		t.Fatal(err)
	}
	want = []string{".downloads/", "tiny-game/", "tiny-game/1.1.0/"}
	if diff := cmp.Diff(want, topDirs(t, lib)); diff != "" {
		t.Errorf("after the first launch (-want +got):\n%s", diff)
	}
	if ids, _ := b.state.Manifests(); len(ids) != 1 {
		t.Errorf("manifests kept: %v, want only 1.1.0's", ids)
	}
}

// TestReinstallKeptPrevious reinstalls the version kept as previous before the current one
// has launched: the first launch that follows must remove only the versions no longer used,
// never the folder of the game being played, and leave a state whose installs each have a
// folder of their own.
func TestReinstallKeptPrevious(t *testing.T) {
	b := setup(t)
	v1 := b.addBuild("1.0.0", gameFiles("1.0.0", 1<<10)...)
	ctx := context.Background()
	// play launches the current version as the launcher does: resolve, start, wait for a
	// clean exit, record the first launch. It returns the program that ran.
	play := func() string {
		t.Helper()
		st := b.load()
		cur := st.Games["tiny-game"].Current
		spec, err := launch.Resolve(st.Path("tiny-game", cur.Dir), runtime.GOOS, runtime.GOARCH)
		if err != nil {
			t.Fatal(err)
		}
		proc, err := launch.Start(spec, launch.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if e := proc.Wait(); !e.Success() {
			t.Fatalf("%s %s: %s", cur.Version, spec.Path, e)
		}
		if err := b.inst.Launched("tiny-game", cur.ReleaseID); err != nil {
			t.Fatal(err)
		}
		return spec.Path
	}
	if _, err := b.inst.Install(ctx, b.game, "", nil); err != nil {
		t.Fatal(err)
	}
	play()
	b.addBuild("2.0.0", gameFiles("2.0.0", 1<<10)...)
	if res, err := b.inst.Install(ctx, b.game, "", nil); err != nil || res.Previous != "1.0.0" {
		t.Fatalf("installing 2.0.0 = %+v, %v; want 1.0.0 kept as previous", res, err)
	}
	res, err := b.inst.Install(ctx, b.game, v1.id, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := b.load().Games["tiny-game"]
	if g.Current == nil || g.Current.ReleaseID != v1.id || res.Dir != b.load().Path("tiny-game", g.Current.Dir) {
		t.Fatalf("reinstalling 1.0.0 = %+v; current %+v", res, g.Current)
	}
	if g.Previous != nil && g.Previous.Dir == g.Current.Dir {
		t.Errorf("current and previous share the folder %s", g.Current.Dir)
	}

	ran := play()
	if _, err := os.Stat(ran); err != nil {
		t.Errorf("the first launch removed the game being played: %v", err)
	}
	st := b.load()
	g = st.Games["tiny-game"]
	if g.Current == nil || g.Current.ReleaseID != v1.id || !g.Current.Launched || g.Previous != nil || g.Pending != nil {
		t.Fatalf("after the launch: current %+v previous %+v pending %+v; want 1.0.0 launched, alone", g.Current, g.Previous, g.Pending)
	}
	want := []string{".downloads/", "tiny-game/", "tiny-game/" + path.Base(g.Current.Dir) + "/"}
	if diff := cmp.Diff(want, topDirs(t, st.Library)); diff != "" {
		t.Errorf("library (-want +got):\n%s", diff)
	}
	if rep, err := b.inst.Verify(ctx, b.game, false, nil); err != nil || !rep.OK() {
		t.Errorf("verifying the version being played = %+v, %v", rep, err)
	}
	if ids, _ := b.state.Manifests(); len(ids) != 1 || ids[0] != v1.id {
		t.Errorf("manifests kept: %v, want only 1.0.0's", ids)
	}
}

// TestKeptPreviousLeftByOlderLaunchers: older launchers reinstalled the kept previous version
// into its own folder. The states they left are repaired without removing a folder in use.
func TestKeptPreviousLeftByOlderLaunchers(t *testing.T) {
	// installed makes 1.0.0 (launched) the previous version and 2.0.0 (never launched) the
	// current one, with a file the player left in 1.0.0's folder.
	installed := func(t *testing.T, b *bundle) (v1 *build, lib string) {
		t.Helper()
		v1 = b.addBuild("1.0.0", gameFiles("1.0.0", 10)...)
		if _, err := b.inst.Install(context.Background(), b.game, "", nil); err != nil {
			t.Fatal(err)
		}
		if err := b.inst.Launched("tiny-game", v1.id); err != nil {
			t.Fatal(err)
		}
		b.addBuild("2.0.0", gameFiles("2.0.0", 10)...)
		if _, err := b.inst.Install(context.Background(), b.game, "", nil); err != nil {
			t.Fatal(err)
		}
		lib = b.load().Library
		if err := os.WriteFile(filepath.Join(lib, "tiny-game", "1.0.0", "save.dat"), []byte("level 9"), 0o644); err != nil {
			t.Fatal(err)
		}
		return v1, lib
	}

	t.Run("previous in the current folder", func(t *testing.T) {
		b := setup(t)
		v1, lib := installed(t, b)
		b.state.Update(func(s *state.State) error {
			g := s.Game("tiny-game")
			cur := *g.Previous
			cur.Launched = false
			g.Current = &cur
			return nil
		})
		if _, err := b.inst.Recover(); err != nil {
			t.Fatal(err)
		}
		if g := b.load().Games["tiny-game"]; g.Previous != nil || g.Current.Dir != "tiny-game/1.0.0" {
			t.Errorf("after recovery: current %+v previous %+v; want 1.0.0 alone", g.Current, g.Previous)
		}
		if err := b.inst.Launched("tiny-game", v1.id); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(lib, "tiny-game", "1.0.0", "save.dat")); err != nil {
			t.Errorf("the first launch removed the game being played: %v", err)
		}
	})

	t.Run("reinstall into the previous folder, interrupted", func(t *testing.T) {
		var b *bundle
		var lib string
		var renamed []string // the files of 1.0.0's folder once the reinstall is renamed into place
		b = setup(t, func(c *Config) {
			c.Hook = func(step string, _, _ int64) {
				if step == "renamed" {
					renamed = tree(t, filepath.Join(lib, "tiny-game", "1.0.0"))
				}
			}
		})
		v1, l := installed(t, b)
		lib = l
		zip := ".downloads/tiny-game-" + v1.id + ".zip"
		body, _ := os.ReadFile(v1.path)
		os.WriteFile(filepath.Join(lib, filepath.FromSlash(zip)), body, 0o644)
		b.state.Update(func(s *state.State) error {
			s.Game("tiny-game").Pending = &state.Pending{Release: state.Release{ReleaseID: v1.id, Version: "1.0.0", SHA256: v1.sha, Size: v1.size},
				Step: state.StepDownloaded, Zip: zip, Dir: "tiny-game/1.0.0"}
			return nil
		})
		res, err := b.inst.Install(context.Background(), b.game, v1.id, nil)
		if err != nil || res.Fetched != 0 {
			t.Fatalf("finishing the reinstall = %+v, %v; want it done from the verified download", res, err)
		}
		if !contains(renamed, "save.dat") {
			t.Errorf("the reinstall replaced the previous version's folder while the state still had it: %v", renamed)
		}
		g := b.load().Games["tiny-game"]
		if g.Current.ReleaseID != v1.id || g.Current.Dir == "tiny-game/1.0.0" || g.Previous != nil {
			t.Errorf("after the reinstall: current %+v previous %+v; want 1.0.0 in a folder of its own, alone", g.Current, g.Previous)
		}
		if rep, err := b.inst.Verify(context.Background(), b.game, false, nil); err != nil || !rep.OK() {
			t.Errorf("verifying 1.0.0 = %+v, %v", rep, err)
		}
	})
}

// topDirs lists the library two levels deep.
func topDirs(t *testing.T, lib string) []string {
	var out []string
	for _, p := range tree(t, lib) {
		if strings.HasSuffix(p, "/") && strings.Count(p, "/") <= 2 {
			out = append(out, p)
		}
	}
	return out
}

func TestRollback(t *testing.T) {
	b := setup(t)
	b.addBuild("1.0.0", gameFiles("1.0.0", 1<<10)...)
	if _, err := b.inst.Install(context.Background(), b.game, "", nil); err != nil {
		t.Fatal(err)
	}
	g := b.load().Games["tiny-game"]
	b.inst.Launched("tiny-game", g.Current.ReleaseID)
	bad := b.addBuild("2.0.0", gameFiles("2.0.0", 1<<10)...)
	if _, err := b.inst.Install(context.Background(), b.game, "", nil); err != nil {
		t.Fatal(err)
	}
	now, err := b.inst.Rollback("tiny-game", bad.id, "it exited with code 3")
	if err != nil || now.Version != "1.0.0" {
		t.Fatalf("Rollback = %v, %v; want 1.0.0", now, err)
	}
	g = b.load().Games["tiny-game"]
	if g.Current.Version != "1.0.0" || g.Previous != nil || g.Failed == nil || g.Failed.ReleaseID != bad.id {
		t.Errorf("after rollback: current %v previous %v failed %v", g.Current, g.Previous, g.Failed)
	}
	if _, err := os.Stat(filepath.Join(b.load().Library, "tiny-game", "2.0.0")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the failed version is still there (%v)", err)
	}
	if _, err := b.inst.Rollback("tiny-game", g.Current.ReleaseID, "x"); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("a rollback with no previous version = %v, want ErrNotInstalled", err)
	}
}

func TestResumeAfterDroppedConnection(t *testing.T) {
	b := setup(t)
	bd := b.addBuild("1.0.0", gameFiles("1.0.0", 2<<20)...)
	b.srv.cutAfter = 700 << 10
	res, err := b.inst.Install(context.Background(), b.game, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	// The resume first probes the server with a one-byte range (a HEAD would be refused by
	// presigned S3 URLs), then asks for the rest.
	rs := b.srv.ranges()
	if diff := cmp.Diff([]string{"", "bytes=0-0", fmt.Sprintf("bytes=%d-", 700<<10)}, rs); diff != "" {
		t.Errorf("GETs' ranges (-want +got):\n%s", diff)
	}
	if res.Fetched != bd.size {
		t.Errorf("fetched %d bytes in all, want %d (no byte twice)", res.Fetched, bd.size)
	}
}

func TestResumeAfterRestart(t *testing.T) {
	b := setup(t)
	bd := b.addBuild("1.0.0", gameFiles("1.0.0", 2<<20)...)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := false
	inst, err := New(Config{State: b.state, Source: b.src, FreeSpace: b.inst.cfg.FreeSpace, Hook: func(step string, done, total int64) {
		if step == "download" && done*2 >= total && !stopped {
			stopped = true
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	// A slow download, so the cancel lands mid-way.
	inst.SetSpeedLimit(4 << 20)
	if _, err := inst.Install(ctx, b.game, "", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Install = %v, want it cancelled", err)
	}
	g := b.load().Games["tiny-game"]
	if g.Pending == nil || g.Pending.Step != state.StepDownload {
		t.Fatalf("pending = %+v, want a download in progress", g.Pending)
	}
	// A new installer is the launcher restarted.
	rec, err := b.inst.Recover()
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Actions) != 1 || !strings.Contains(rec.Actions[0], "to resume") {
		t.Errorf("recovery = %q", rec.Actions)
	}
	res, err := b.inst.Install(context.Background(), b.game, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed < 1<<20 || res.Resumed+res.Fetched != bd.size {
		t.Errorf("resumed %d + fetched %d, want a resume from at least 1 MiB adding up to %d", res.Resumed, res.Fetched, bd.size)
	}
}

func TestRefusedDownloads(t *testing.T) {
	tests := []struct {
		name    string
		mess    func(b *bundle, bd *build)
		wantErr error
		want    string
	}{
		{"sha256 mismatch", func(b *bundle, bd *build) {
			other := filepath.Join(b.dir, "other.zip")
			body, _ := os.ReadFile(bd.path)
			body[len(body)/2] ^= 0xff
			os.WriteFile(other, body, 0o644)
			b.srv.swap[bd.id] = other
		}, ErrVerify, "does not match what the server published"},
		{"size mismatch", func(b *bundle, bd *build) {
			other := filepath.Join(b.dir, "other.zip")
			body, _ := os.ReadFile(bd.path)
			os.WriteFile(other, append(body, 1, 2, 3), 0o644)
			b.srv.swap[bd.id] = other
		}, ErrVerify, "whose size is not the"},
		{"not enough disk space", func(b *bundle, bd *build) { b.free.Store(bd.size) }, ErrDiskSpace, "free some space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			bd := b.addBuild("1.0.0", gameFiles("1.0.0", 300<<10)...)
			tt.mess(b, bd)
			_, err := b.inst.Install(context.Background(), b.game, "", nil)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Install = %v, want %v saying %q", err, tt.wantErr, tt.want)
			}
			lib := b.load().Library
			if files := tree(t, filepath.Join(lib, ".downloads")); len(files) != 0 {
				t.Errorf("the refused download was kept: %v", files)
			}
			if _, err := os.Stat(filepath.Join(lib, "tiny-game", "1.0.0")); !errors.Is(err, fs.ErrNotExist) {
				t.Error("something was installed")
			}
		})
	}
}

func TestServerIgnoringRangeRestarts(t *testing.T) {
	b := setup(t)
	b.addBuild("1.0.0", gameFiles("1.0.0", 1<<20)...)
	b.srv.cutAfter = 300 << 10
	b.srv.noRange = true
	res, err := b.inst.Install(context.Background(), b.game, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(res.Dir, "README.txt")); err != nil || string(got) != "version 1.0.0\n" {
		t.Errorf("README = %q %v", got, err)
	}
}

func TestExpiredLinkIsRenewed(t *testing.T) {
	b := setup(t)
	b.addBuild("1.0.0", gameFiles("1.0.0", 500<<10)...)
	// The first link the source gives is refused, as an expired one is.
	b.srv.validTok = func(tok string) bool { return tok != "1" }
	if _, err := b.inst.Install(context.Background(), b.game, "", nil); err != nil {
		t.Fatal(err)
	}
	if b.src.calls != 2 {
		t.Errorf("GetDownload called %d times, want 2 (the second for a fresh link)", b.src.calls)
	}
}

func TestBadBuildsAreRefused(t *testing.T) {
	tests := []struct {
		name  string
		files []testenv.File
		mess  func(files []state.File) []state.File
		want  string
	}{
		{"file differs from the manifest", gameFiles("1", 10), func(fs []state.File) []state.File {
			fs[0].SHA256 = strings.Repeat("0", 64)
			return fs
		}, "sha256 differs"},
		{"file missing from the zip", gameFiles("1", 10), func(fs []state.File) []state.File {
			return append(fs, state.File{Path: "extra.dat", Size: 1, Mode: 0o644, SHA256: strings.Repeat("1", 64)})
		}, "not in the zip"},
		{"zip slip", []testenv.File{{Name: "../../evil.sh", Body: []byte("x")}}, nil, `rule "path"`},
		{"absolute path", []testenv.File{{Name: "/etc/evil", Body: []byte("x")}}, nil, `rule "path"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			var bd *build
			if tt.mess != nil {
				bd = b.addBuild("1.0.0", tt.files...)
				b.src.files[bd.id] = tt.mess(append([]state.File(nil), bd.files...))
			} else {
				bd = b.rawBuild("1.0.0", tt.files)
			}
			_, err := b.inst.Install(context.Background(), b.game, "", nil)
			if !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Install = %v, want ErrVerify saying %q", err, tt.want)
			}
			lib := b.load().Library
			if got := tree(t, lib); len(got) > 2 { // .downloads/ and tiny-game/, both empty
				t.Errorf("files left in the library: %v", got)
			}
			if _, err := os.Stat(filepath.Join(b.dir, "evil.sh")); err == nil {
				t.Error("zip slip wrote outside the library")
			}
			g := b.load().Games["tiny-game"]
			if g.Current != nil || g.Pending != nil || g.Failed == nil || g.Failed.ReleaseID != bd.id {
				t.Errorf("state: current %v pending %v failed %v", g.Current, g.Pending, g.Failed)
			}
		})
	}
}

// rawBuild serves a zip that zipsafe would refuse (so it has no manifest to compute), with a
// manifest that claims its entries.
func (b *bundle) rawBuild(version string, files []testenv.File) *build {
	p := filepath.Join(b.dir, "raw-"+version+".zip")
	sha, size, err := testenv.WriteZip(p, files)
	if err != nil {
		b.t.Fatal(err)
	}
	bd := &build{id: "rel-raw", version: version, path: p, sha: sha, size: size,
		files: []state.File{{Path: "x", Size: 1, Mode: 0o644, SHA256: strings.Repeat("0", 64)}}}
	b.srv.builds[bd.id] = bd
	b.src.latest = bd.id
	return bd
}

func TestSpeedLimitChangesWhileDownloading(t *testing.T) {
	const limit = 64 << 10 // the 3 MiB take 48 s at the limit: far more than the rest takes lifted, even under -race
	b := setup(t, func(c *Config) { c.SpeedLimit = limit })
	bd := b.addBuild("1.0.0", gameFiles("1.0.0", 3<<20)...)
	start := time.Now()
	// The progress callback lifts the limit once the download is under way (it is never
	// called concurrently, and not after Install returns).
	var lifted time.Time
	var before int64
	var ranFor time.Duration
	_, err := b.inst.Install(context.Background(), b.game, "", func(p Progress) {
		if p.Phase == PhaseDownloading && lifted.IsZero() && p.Done >= 64<<10 {
			ranFor, before = time.Since(start), p.Done
			b.inst.SetSpeedLimit(0)
			lifted = time.Now()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if lifted.IsZero() {
		t.Fatal("the download reported no progress")
	}
	rest := time.Since(lifted)
	// A loaded machine only downloads slower: the limit bounds the bytes from above, plus a
	// slack for what passes before the limit bites (the limiter's bucket, the HTTP and read
	// buffers, and progress reported in steps): 374,784 bytes were seen in 343 ms once. Without
	// the limit the whole 3 MiB would be through in that time.
	if max := int64(limit*ranFor.Seconds()) + 512<<10; before > max {
		t.Errorf("downloaded %d bytes in %s under a %d B/s limit, want at most %d", before, ranFor, limit, max)
	}
	// The rest, unlimited, takes far less than the half of what it would at the limit.
	if atLimit := time.Duration(float64(bd.size-before) / limit * float64(time.Second)); rest > atLimit/2 {
		t.Errorf("the last %d bytes took %s (%s at the limit): lifting the limit did not apply to the running download", bd.size-before, rest, atLimit)
	}
}

func TestQueueRunsOneDownloadAtATime(t *testing.T) {
	b := setup(t)
	b.addBuild("1.0.0", gameFiles("1.0.0", 200<<10)...)
	b.srv.gate = make(chan struct{})
	var jobs []*Job
	for _, slug := range []string{"game-a", "game-b", "game-c"} {
		jobs = append(jobs, b.inst.Enqueue(context.Background(), Game{ID: slug, Slug: slug}, "", nil))
	}
	if again := b.inst.Enqueue(context.Background(), Game{ID: "game-a", Slug: "game-a"}, "", nil); again != jobs[0] {
		t.Error("queuing a queued game made a second job")
	}
	// Let the downloads through one by one, each once the others wait for a slot of the
	// queue (not for the server).
	queued := func() int {
		b.inst.slots.mu.Lock()
		defer b.inst.slots.mu.Unlock()
		return len(b.inst.slots.waiting)
	}
	for i := range 3 {
		waitUntil(t, func() bool { return len(b.srv.ranges()) == i+1 && queued() == 2-i })
		b.srv.gate <- struct{}{}
	}
	for _, j := range jobs {
		if _, err := j.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if b.srv.maxConc != 1 {
		t.Errorf("%d downloads ran at once, want 1", b.srv.maxConc)
	}
	if len(b.inst.Jobs()) != 0 {
		t.Errorf("jobs left: %d", len(b.inst.Jobs()))
	}
}

func TestVerifyAndRepair(t *testing.T) {
	b := setup(t)
	files := gameFiles("1.0.0", 3<<20)
	files = append(files, testenv.File{Name: "data/levels/one.txt", Body: []byte("level one\n")})
	bd := b.addBuild("1.0.0", files...)
	res, err := b.inst.Install(context.Background(), b.game, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := b.inst.Verify(context.Background(), b.game, false, nil)
	if err != nil || len(rep.Damaged) != 0 || rep.Checked != 5 {
		t.Fatalf("a fresh install: %+v, %v", rep, err)
	}
	// Damage it: change a byte, delete a file, drop an exec bit, replace a file by a folder,
	// add a save file.
	os.WriteFile(filepath.Join(res.Dir, "README.txt"), []byte("version 6.6.6\n"), 0o644)
	os.RemoveAll(filepath.Join(res.Dir, "data", "levels"))
	os.Chmod(filepath.Join(res.Dir, "run.sh"), 0o644)
	os.Remove(filepath.Join(res.Dir, "satchel.toml"))
	os.Mkdir(filepath.Join(res.Dir, "satchel.toml"), 0o755)
	os.WriteFile(filepath.Join(res.Dir, "save.dat"), []byte("progress"), 0o644)

	rep, err = b.inst.Verify(context.Background(), b.game, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Issue{{"README.txt", "sha256"}, {"data/levels/one.txt", "missing"}, {"run.sh", "not executable"}, {"satchel.toml", "not a regular file"}}
	if diff := cmp.Diff(want, sorted(rep.Damaged)); diff != "" || rep.OK() {
		t.Errorf("damage found (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"save.dat"}, rep.Extra); diff != "" {
		t.Errorf("extra files (-want +got):\n%s", diff)
	}

	rep, err = b.inst.Verify(context.Background(), b.game, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(rep.Repaired)
	if diff := cmp.Diff([]string{"README.txt", "data/levels/one.txt", "run.sh", "satchel.toml"}, rep.Repaired); diff != "" {
		t.Errorf("repaired (-want +got):\n%s", diff)
	}
	// Only the damaged files' bytes came from the server, not the 3 MiB file.
	if rep.Fetched >= bd.size/2 {
		t.Errorf("the repair fetched %d bytes of a %d-byte build", rep.Fetched, bd.size)
	}
	rep, err = b.inst.Verify(context.Background(), b.game, false, nil)
	if err != nil || len(rep.Damaged) != 0 {
		t.Errorf("after the repair: %+v, %v", rep.Damaged, err)
	}
	if got, _ := os.ReadFile(filepath.Join(res.Dir, "save.dat")); string(got) != "progress" {
		t.Error("the repair touched a save file")
	}
}

func sorted(is []Issue) []Issue {
	sort.Slice(is, func(a, b int) bool { return is[a].Path < is[b].Path })
	return is
}

func TestRepairRefusesSymlinkOut(t *testing.T) {
	b := setup(t)
	b.addBuild("1.0.0", gameFiles("1.0.0", 10)...)
	res, err := b.inst.Install(context.Background(), b.game, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(b.dir, "outside")
	os.Mkdir(outside, 0o755)
	os.RemoveAll(filepath.Join(res.Dir, "data"))
	if err := os.Symlink(outside, filepath.Join(res.Dir, "data")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.inst.Verify(context.Background(), b.game, true, nil); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("the repair wrote through a symbolic link out of the install: %v", ents)
	}
	if fi, err := os.Lstat(filepath.Join(res.Dir, "data", "big.bin")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("data/big.bin not restored: %v %v", fi, err)
	}
}

func TestUninstall(t *testing.T) {
	b := setup(t)
	b.addBuild("1.0.0", gameFiles("1.0.0", 10)...)
	if _, err := b.inst.Install(context.Background(), b.game, "", nil); err != nil {
		t.Fatal(err)
	}
	if err := b.inst.Uninstall("tiny-game"); err != nil {
		t.Fatal(err)
	}
	st := b.load()
	if _, ok := st.Games["tiny-game"]; ok {
		t.Error("the game's state is still there")
	}
	if _, err := os.Stat(filepath.Join(st.Library, "tiny-game")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("the game's files are still there")
	}
	if ids, _ := b.state.Manifests(); len(ids) != 0 {
		t.Errorf("manifests left: %v", ids)
	}
	if err := b.inst.Uninstall("tiny-game"); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("uninstalling twice = %v, want ErrNotInstalled", err)
	}
}

func TestMoveLibrary(t *testing.T) {
	for _, byCopy := range []bool{false, true} {
		t.Run(fmt.Sprintf("copy=%v", byCopy), func(t *testing.T) {
			b := setup(t)
			b.inst.moveByCopy = byCopy
			b.addBuild("1.0.0", gameFiles("1.0.0", 100<<10)...)
			for _, slug := range []string{"game-a", "game-b"} {
				if _, err := b.inst.Install(context.Background(), Game{ID: slug, Slug: slug}, "", nil); err != nil {
					t.Fatal(err)
				}
			}
			from := b.load().Library
			to := filepath.Join(b.dir, "elsewhere", "games")
			var last Progress
			if err := b.inst.MoveLibrary(context.Background(), to, func(p Progress) { last = p }); err != nil {
				t.Fatal(err)
			}
			st := b.load()
			if st.Library != to || st.Move != nil {
				t.Errorf("library = %s, move = %+v", st.Library, st.Move)
			}
			if _, err := os.Stat(from); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the old library is still there: %v", tree(t, from))
			}
			if last.Done != last.Total || last.Total < 200<<10 {
				t.Errorf("last progress %+v", last)
			}
			rep, err := b.inst.Verify(context.Background(), Game{ID: "game-a", Slug: "game-a"}, false, nil)
			if err != nil || !rep.OK() || !strings.HasPrefix(rep.Dir, to) {
				t.Errorf("verify after the move: %+v %v", rep, err)
			}
		})
	}
}

// TestMoveLibraryThatDoesNotFit moves the library to a folder with 1 MiB free: to another
// file system (a copy), the move is refused before anything moves, and the library stays
// where it was, with no move under way; within the same file system (a rename, needing no
// room) it goes ahead.
func TestMoveLibraryThatDoesNotFit(t *testing.T) {
	for _, byCopy := range []bool{true, false} {
		t.Run(fmt.Sprintf("copy=%v", byCopy), func(t *testing.T) {
			b := setup(t)
			b.addBuild("1.0.0", gameFiles("1.0.0", 4<<20)...)
			if _, err := b.inst.Install(context.Background(), b.game, "", nil); err != nil {
				t.Fatal(err)
			}
			b.inst.moveByCopy = byCopy
			b.free.Store(1 << 20)
			from := b.load().Library
			to := filepath.Join(b.dir, "small-disk")
			err := b.inst.MoveLibrary(context.Background(), to, nil)
			st := b.load()
			if !byCopy {
				if err != nil || st.Library != to {
					t.Fatalf("a move by rename = %v, library %s; want it moved to %s", err, st.Library, to)
				}
				return
			}
			if !errors.Is(err, ErrDiskSpace) {
				t.Fatalf("MoveLibrary = %v, want ErrDiskSpace", err)
			}
			if st.Library != from || st.Move != nil {
				t.Errorf("library %s, move %+v: want it left at %s with no move under way", st.Library, st.Move, from)
			}
			if got := tree(t, to); len(got) != 0 {
				t.Errorf("the refused move left files in %s: %v", to, got)
			}
			if rep, err := b.inst.Verify(context.Background(), b.game, false, nil); err != nil || !rep.OK() {
				t.Errorf("verify after the refused move: %+v %v", rep, err)
			}
		})
	}
}

// TestMoveLibraryAfterAnInterruptedProbe: a launcher stopped while it probed whether the
// target is on another disk leaves an empty probe file behind, in the library or in the
// target; the next move to that target goes ahead, and removes them.
func TestMoveLibraryAfterAnInterruptedProbe(t *testing.T) {
	b := setup(t)
	b.addBuild("1.0.0", gameFiles("1.0.0", 100<<10)...)
	if _, err := b.inst.Install(context.Background(), b.game, "", nil); err != nil {
		t.Fatal(err)
	}
	from := b.load().Library
	to := filepath.Join(b.dir, "other-disk")
	for _, dir := range []string{from, to} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, probePrefix+"123"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.inst.MoveLibrary(context.Background(), to, nil); err != nil {
		t.Fatalf("MoveLibrary = %v, want the library moved", err)
	}
	for _, dir := range []string{from, to} {
		if left, _ := filepath.Glob(filepath.Join(dir, probePrefix+"*")); len(left) > 0 {
			t.Errorf("probes left: %v", left)
		}
	}
	if rep, err := b.inst.Verify(context.Background(), b.game, false, nil); err != nil || !rep.OK() {
		t.Errorf("verify after the move: %+v %v", rep, err)
	}
}

// TestResumedExtractionChecksSpace: an install stopped once its zip was downloaded and
// verified extracts it when it starts again, with no download; it checks first that the
// files fit, and is refused, keeping the zip, when they do not.
func TestResumedExtractionChecksSpace(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	b := setup(t, func(c *Config) {
		c.Hook = func(step string, _, _ int64) {
			if step == "downloaded" {
				stop()
			}
		}
	})
	b.addBuild("1.0.0", gameFiles("1.0.0", 4<<20)...)
	if _, err := b.inst.Install(ctx, b.game, "", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("the first attempt = %v, want it stopped once downloaded", err)
	}
	b.free.Store(2 << 20)
	if _, err := b.inst.Install(context.Background(), b.game, "", nil); !errors.Is(err, ErrDiskSpace) {
		t.Fatalf("extracting on a full disk = %v, want ErrDiskSpace", err)
	}
	b.free.Store(1 << 40)
	res, err := b.inst.Install(context.Background(), b.game, "", nil)
	if err != nil || res.Fetched != 0 {
		t.Fatalf("then = %+v, %v; want it installed from the kept zip", res, err)
	}
}

func TestMoveLibraryResumes(t *testing.T) {
	b := setup(t)
	b.inst.moveByCopy = true
	b.addBuild("1.0.0", gameFiles("1.0.0", 100<<10)...)
	for _, slug := range []string{"game-a", "game-b", "game-c"} {
		if _, err := b.inst.Install(context.Background(), Game{ID: slug, Slug: slug}, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	from := b.load().Library
	to := filepath.Join(b.dir, "new")
	// Interrupt the move while it copies the second game.
	ctx, cancel := context.WithCancel(context.Background())
	err := b.inst.MoveLibrary(ctx, to, func(p Progress) {
		if p.Slug == "game-b" && p.Done < p.Total {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("MoveLibrary = %v, want it cancelled", err)
	}
	st := b.load()
	if st.Move == nil || !cmp.Equal(st.Move.Done, []string{"game-a"}) {
		t.Fatalf("move state = %+v", st.Move)
	}
	// Meanwhile every game is complete on one side.
	for _, slug := range []string{"game-a", "game-b", "game-c"} {
		g := st.Games[slug]
		if _, err := os.Stat(filepath.Join(st.Path(slug, g.Current.Dir), "run.sh")); err != nil {
			t.Errorf("%s is not playable mid-move: %v", slug, err)
		}
	}
	if _, err := b.inst.Install(context.Background(), b.game, "", nil); !errors.Is(err, ErrMoving) {
		t.Errorf("an install during the move = %v, want ErrMoving", err)
	}
	if err := b.inst.MoveLibrary(context.Background(), filepath.Join(b.dir, "other"), nil); !errors.Is(err, ErrMoving) {
		t.Errorf("a move elsewhere = %v, want ErrMoving", err)
	}
	if err := b.inst.MoveLibrary(context.Background(), to, nil); err != nil {
		t.Fatal(err)
	}
	if st := b.load(); st.Library != to || st.Move != nil {
		t.Errorf("after resuming: library %s move %+v", st.Library, st.Move)
	}
	if got := tree(t, to); !contains(got, "game-c/1.0.0/run.sh") || contains(got, ".moving-game-b/") {
		t.Errorf("new library: %v", got)
	}
	if _, err := os.Stat(from); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old library left: %v", tree(t, from))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestRecover builds the state a crash leaves at each step and checks what Recover does.
func TestRecover(t *testing.T) {
	tests := []struct {
		name string
		// crash makes the state (and files) of a crash, given the installed 1.0.0 and the
		// pending 2.0.0.
		step      state.Step
		leftovers []string // made in the game's folder
		wantStep  state.Step
		wantTree  []string
	}{
		{"mid-download", state.StepDownload, nil, state.StepDownload,
			[]string{".downloads/", ".downloads/tiny-game-rel-2-0-0.zip", "tiny-game/", "tiny-game/1.0.0/"}},
		{"mid-extract", state.StepExtract, []string{".tmp-2.0.0-123/", ".tmp-2.0.0-123/README.txt"}, state.StepDownloaded,
			[]string{".downloads/", ".downloads/tiny-game-rel-2-0-0.zip", "tiny-game/", "tiny-game/1.0.0/"}},
		{"between rename and switch", state.StepExtracted, []string{"2.0.0/", "2.0.0/README.txt"}, state.StepDownloaded,
			[]string{".downloads/", ".downloads/tiny-game-rel-2-0-0.zip", "tiny-game/", "tiny-game/1.0.0/"}},
		{"stray temporary folder", state.StepDownloaded, []string{".tmp-9-9/", "9.9.9/"}, state.StepDownloaded,
			[]string{".downloads/", ".downloads/tiny-game-rel-2-0-0.zip", "tiny-game/", "tiny-game/1.0.0/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			b.addBuild("1.0.0", gameFiles("1.0.0", 10)...)
			if _, err := b.inst.Install(context.Background(), b.game, "", nil); err != nil {
				t.Fatal(err)
			}
			v2 := b.addBuild("2.0.0", gameFiles("2.0.0", 10)...)
			lib := b.load().Library
			zip := filepath.Join(lib, ".downloads", "tiny-game-"+v2.id+".zip")
			body, _ := os.ReadFile(v2.path)
			if tt.step == state.StepDownload {
				body = body[:len(body)/2]
			}
			os.WriteFile(zip, body, 0o644)
			// A download nothing refers to, old enough not to be another process's new one.
			stray := filepath.Join(lib, ".downloads", "stray.zip")
			os.WriteFile(stray, []byte("x"), 0o644)
			os.Chtimes(stray, time.Now().Add(-2*time.Hour), time.Now().Add(-2*time.Hour))
			for _, l := range tt.leftovers {
				p := filepath.Join(lib, "tiny-game", l)
				if strings.HasSuffix(l, "/") {
					os.MkdirAll(p, 0o755)
				} else {
					os.WriteFile(p, []byte("partial"), 0o644)
				}
			}
			b.state.SaveManifest(v2.id, v2.files)
			b.state.Update(func(s *state.State) error {
				p := &state.Pending{Release: state.Release{ReleaseID: v2.id, Version: "2.0.0", SHA256: v2.sha, Size: v2.size},
					Step: tt.step, Zip: ".downloads/tiny-game-" + v2.id + ".zip", Dir: "tiny-game/2.0.0"}
				if tt.step == state.StepExtract {
					p.Temp = "tiny-game/.tmp-2.0.0-123"
				}
				s.Game("tiny-game").Pending = p
				return nil
			})

			if _, err := b.inst.Recover(); err != nil {
				t.Fatal(err)
			}
			g := b.load().Games["tiny-game"]
			if g.Current == nil || g.Current.Version != "1.0.0" || g.Pending == nil || g.Pending.Step != tt.wantStep || g.Pending.Temp != "" {
				t.Errorf("state: current %+v pending %+v", g.Current, g.Pending)
			}
			var got []string
			for _, p := range tree(t, lib) {
				if !strings.HasPrefix(p, "tiny-game/1.0.0/") || p == "tiny-game/1.0.0/" {
					got = append(got, p)
				}
			}
			if diff := cmp.Diff(tt.wantTree, got); diff != "" {
				t.Errorf("library after recovery (-want +got):\n%s", diff)
			}
			// The old version is intact, and the install finishes.
			rep, err := b.inst.Verify(context.Background(), b.game, false, nil)
			if err != nil || !rep.OK() || rep.Version != "1.0.0" {
				t.Errorf("1.0.0 after recovery: %+v %v", rep, err)
			}
			res, err := b.inst.Install(context.Background(), b.game, "", nil)
			if err != nil || res.Version != "2.0.0" {
				t.Fatalf("finishing the install: %+v %v", res, err)
			}
			if tt.step == state.StepDownload && res.Resumed == 0 {
				t.Error("the partial download was not resumed")
			}
			if tt.step != state.StepDownload && res.Fetched != 0 {
				t.Errorf("fetched %d bytes although the verified download was kept", res.Fetched)
			}
		})
	}
}

func TestBusy(t *testing.T) {
	b := setup(t)
	b.addBuild("1.0.0", gameFiles("1.0.0", 10)...)
	b.srv.gate = make(chan struct{})
	j := b.inst.Enqueue(context.Background(), b.game, "", nil)
	waitUntil(t, func() bool { return len(b.srv.ranges()) > 0 })
	other, err := New(Config{State: b.state, Source: b.src})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Install(context.Background(), b.game, "", nil); !errors.Is(err, ErrBusy) {
		t.Errorf("a second installer = %v, want ErrBusy", err)
	}
	close(b.srv.gate)
	if _, err := j.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out")
}

// TestVersionFoldersDifferInMoreThanCase: Windows' and macOS's file systems do not tell
// 1.0.0-RC from 1.0.0-rc, so a new version whose name differs from an installed one's only in
// case gets a folder of its own (the switch would otherwise remove the installed version's
// folder as a leftover, and a later drop the new one's), and there the installed folders are
// in use whatever the case. A version ending in a dot, which Windows drops from names, is
// refused.
func TestVersionFoldersDifferInMoreThanCase(t *testing.T) {
	sha := strings.Repeat("a", 64)
	g := &state.Game{Slug: "g", Current: &state.Install{Dir: "g/1.0.0-RC"}}
	if got := path.Join(g.Slug, dirName(g, Download{Version: "1.0.0-rc", SHA256: sha})); strings.EqualFold(got, g.Current.Dir) {
		t.Errorf("1.0.0-rc's folder is %s, the same as 1.0.0-RC's where case does not count", got)
	}
	if foldCase := runtime.GOOS == "windows" || runtime.GOOS == "darwin"; g.Uses("g/1.0.0-rc") != foldCase {
		t.Errorf("g/1.0.0-rc in use: %v, want %v on %s", !foldCase, foldCase, runtime.GOOS)
	}
	dl := Download{SHA256: sha, Size: 1, URL: "https://store.example/b.zip", ReleaseID: "r"}
	for v, ok := range map[string]bool{"1.0.0.": false, "1.0.0": true, "1.0.0-rc-": true, "1.0.0+build": true} {
		dl.Version = v
		if err := checkDownload(dl); (err == nil) != ok {
			t.Errorf("version %q: %v, want accepted %v", v, err, ok)
		}
	}
}
