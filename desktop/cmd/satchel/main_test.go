package main_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	catalogv1 "satchel.dev/shared/api/satchel/catalog/v1"
	developerv1 "satchel.dev/shared/api/satchel/developer/v1"
	"satchel.dev/shared/nostr"

	"satchel.dev/desktop/client"
	"satchel.dev/desktop/install"
	"satchel.dev/desktop/internal/testenv"
	"satchel.dev/desktop/state"
)

// These tests drive the real satchel binary, as a player or a CI job would, against the real
// satchel-server (its own PostgreSQL cluster, the demo catalog, the dev invoice provider) and
// a real Secret Service (gnome-keyring on a private D-Bus session), all started here.
var env struct {
	bin      string // the folder with satchel, satchel-server, satchel-demo-game
	server   *testenv.Server
	keyring  *testenv.Session
	tempRoot string
}

func TestMain(m *testing.M) {
	code, err := setupAndRun(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setupAndRun(m *testing.M) (int, error) {
	root, err := os.MkdirTemp("", "satchel-e2e")
	if err != nil {
		return 0, err
	}
	env.tempRoot = root
	defer os.RemoveAll(root)
	env.bin = filepath.Join(root, "bin")
	pkgs := append([]string{"satchel.dev/desktop/cmd/satchel"}, testenv.ServerPackages()...)
	if err := testenv.Build(env.bin, pkgs...); err != nil {
		return 0, err
	}
	if env.keyring, err = testenv.StartSession(filepath.Join(root, "kr")); err != nil {
		return 0, err
	}
	defer env.keyring.Stop()
	if env.server, err = testenv.StartServer(env.bin, filepath.Join(root, "server")); err != nil {
		return 0, err
	}
	defer env.server.Stop()
	return m.Run(), nil
}

// player is one machine running the launcher: its own data and config folders.
type player struct {
	t      *testing.T
	dir    string
	marker string
	env    []string
}

func newPlayer(t *testing.T) *player {
	dir := t.TempDir()
	p := &player{t: t, dir: dir, marker: filepath.Join(dir, "marker")}
	p.env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_STATE_HOME=" + filepath.Join(dir, "state"),
		"SATCHEL_SERVER=" + env.server.URL, "SATCHEL_DEMO_MARKER=" + p.marker,
	}, env.keyring.Env...)
	return p
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs satchel with args (and extra environment) and returns what it printed.
func (p *player) run(extra []string, args ...string) result {
	p.t.Helper()
	cmd := exec.Command(filepath.Join(env.bin, "satchel"), args...)
	cmd.Env = append(append([]string{}, p.env...), extra...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		p.t.Fatal(err)
	}
	return result{out.String(), errOut.String(), code}
}

// ok runs satchel and fails the test unless it exits 0; with --json it decodes the output.
func (p *player) ok(v any, args ...string) result {
	p.t.Helper()
	if v != nil {
		args = append([]string{"--json"}, args...)
	}
	r := p.run(nil, args...)
	if r.code != 0 {
		p.t.Fatalf("satchel %s: %s", strings.Join(args, " "), r)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
			p.t.Fatalf("satchel %s: output is not JSON (%v): %s", strings.Join(args, " "), err, r)
		}
	}
	return r
}

// state reads the player's launcher state.
func (p *player) state() *state.State {
	p.t.Helper()
	st, err := state.OpenIn(filepath.Join(p.dir, "data", "satchel"), filepath.Join(p.dir, "state", "satchel"))
	if err != nil {
		p.t.Fatal(err)
	}
	s, err := st.Load()
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

// waitFor polls the player's state until cond holds.
func (p *player) waitFor(what string, cond func(*state.Game) bool, slug string) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if cond(p.state().Games[slug]) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := json.MarshalIndent(p.state().Games[slug], "", "  ")
	p.t.Fatalf("timed out waiting until %s; state:\n%s", what, b)
}

// markers returns the lines the demo game wrote at each start.
func (p *player) markers() []string {
	b, _ := os.ReadFile(p.marker)
	var titles []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if i := strings.LastIndexByte(l, ' '); i > 0 {
			titles = append(titles, l[:i])
		}
	}
	return titles
}

// developer is a game developer with a CI key.
type developer struct {
	t   *testing.T
	key nostr.SecretKey
	c   *client.Client
	p   *player // runs `satchel push` with SATCHEL_NSEC
}

func newDeveloper(t *testing.T) *developer {
	key, err := nostr.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Config{BaseURL: env.server.URL, Signer: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Developer.SetPayoutAddress(context.Background(), &developerv1.SetPayoutAddressRequest{LnAddress: "dev@" + strings.TrimPrefix(env.server.URL, "http://")} /* answered by the test-money server itself */); err != nil {
		t.Fatal(err)
	}
	d := &developer{t: t, key: key, c: c, p: newPlayer(t)}
	d.p.env = append(d.p.env, "SATCHEL_NSEC="+key.Nsec())
	return d
}

// game creates a free game and returns its slug.
func (d *developer) game(slug, title string) {
	d.t.Helper()
	if _, err := d.c.Developer.CreateGame(context.Background(), &developerv1.CreateGameRequest{Slug: slug, Title: title, Summary: "A test game."}); err != nil {
		d.t.Fatal(err)
	}
}

func (d *developer) list(slug string) {
	d.t.Helper()
	gg, err := d.c.Catalog.GetGame(context.Background(), &catalogv1.GetGameRequest{Slug: slug})
	if err != nil {
		d.t.Fatal(err)
	}
	if _, err := d.c.Developer.SetGameStatus(context.Background(), &developerv1.SetGameStatusRequest{GameId: gg.GetGame().GetId(), Status: catalogv1.GameStatus_GAME_STATUS_LISTED}); err != nil {
		d.t.Fatal(err)
	}
}

// build writes a build zip of the demo game titled title and returns its path.
func (d *developer) build(slug, title string, extra ...testenv.File) string {
	d.t.Helper()
	files, err := testenv.GameBuild(filepath.Join(env.bin, "satchel-demo-game"), slug, title, []string{"-frames", "1"}, extra...)
	if err != nil {
		d.t.Fatal(err)
	}
	return d.zip(files)
}

func (d *developer) zip(files []testenv.File) string {
	d.t.Helper()
	p := filepath.Join(d.t.TempDir(), "build.zip")
	if _, _, err := testenv.WriteZip(p, files); err != nil {
		d.t.Fatal(err)
	}
	return p
}

// push runs `satchel push` as CI does.
func (d *developer) push(slug, version, zip string, args ...string) map[string]any {
	d.t.Helper()
	var out map[string]any
	d.p.ok(&out, append([]string{"push", slug, version, zip, "--publish"}, args...)...)
	return out
}

// brokenBuild is a build of slug whose launch script writes into the game's program (shipped
// unchanged) and exits with code 3 at once.
func brokenBuild(d *developer, slug string) string {
	d.t.Helper()
	program, err := os.ReadFile(filepath.Join(env.bin, "satchel-demo-game"))
	if err != nil {
		d.t.Fatal(err)
	}
	// The game's program ships unchanged, so the update shares it with the version before
	// (a hard link); the broken launch script writes into it, as a game patching its own
	// files does, and fails.
	script := "#!/bin/sh\nprintf broken | dd of=\"$(dirname \"$0\")/" + slug + "\" conv=notrunc 2>/dev/null\n" +
		"echo 'missing library' >&2\nexit 3\n"
	return d.zip([]testenv.File{
		{Name: "satchel.toml", Body: []byte("[launch.linux]\nexec = \"bin/broken\"\n")},
		{Name: "bin/broken", Mode: 0o755, Body: []byte(script)},
		{Name: "bin/" + slug, Mode: 0o755, Body: program},
	})
}

func TestBuyInstallLaunchRepairUninstall(t *testing.T) {
	p := newPlayer(t)
	var id map[string]any
	p.ok(&id, "identity", "new", "--label", "player")
	var bought map[string]any
	p.ok(&bought, "buy", "lantern-drift", "--pay-test-money")
	if bought["status"] != "PAID" || bought["test_money"] != true || !strings.HasPrefix(bought["invoice"].(string), "ln") {
		t.Fatalf("buy: %v", bought)
	}
	var lib struct{ Games []map[string]any }
	p.ok(&lib, "library")
	if len(lib.Games) != 1 || lib.Games[0]["slug"] != "lantern-drift" || lib.Games[0]["status"] != "not installed" || lib.Games[0]["latest"] != "1.0.0" {
		t.Fatalf("library: %v", lib)
	}
	var inst map[string]any
	p.ok(&inst, "install", "lantern-drift")
	if inst["version"] != "1.0.0" {
		t.Fatalf("install: %v", inst)
	}
	dir := inst["dir"].(string)

	// The demo build's satchel.toml runs bin/lantern-drift, which writes the marker and runs
	// about 3 s.
	r := p.ok(nil, "launch", "lantern-drift")
	if got := p.markers(); len(got) != 1 || got[0] != "Lantern Drift" {
		t.Errorf("markers = %q, want the game to have run once\n%s", got, r)
	}

	// Damage two files; verify finds them, repair fetches them back by HTTP Range.
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("tampered"), 0o644)
	os.Remove(filepath.Join(dir, "bin", "lantern-drift"))
	r = p.run(nil, "verify", "lantern-drift")
	if r.code != 6 || !strings.Contains(r.stdout, "README.txt: size (damaged)") || !strings.Contains(r.stdout, "bin/lantern-drift: missing (damaged)") {
		t.Errorf("verify of a damaged install: %s", r)
	}
	var rep struct {
		Repaired []string
		Fetched  int64 `json:"fetched_bytes"`
	}
	p.ok(&rep, "verify", "lantern-drift", "--repair")
	if len(rep.Repaired) != 2 || rep.Fetched == 0 {
		t.Errorf("repair: %+v", rep)
	}
	p.ok(nil, "verify", "lantern-drift")

	// The secret key is in the keyring only.
	var exported map[string]string
	p.ok(&exported, "identity", "export")
	key, err := nostr.ParseSecretKey(exported["nsec"])
	if err != nil || key.PublicKey().Hex() != id["pubkey"] {
		t.Fatalf("export: %v %v", exported, err)
	}
	for _, d := range []string{"data", "config", "state"} {
		filepath.WalkDir(filepath.Join(p.dir, d), func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			b, _ := os.ReadFile(path)
			if bytes.Contains(b, []byte(key.Nsec())) || bytes.Contains(b, []byte(key.Hex())) || bytes.Contains(b, key[:]) {
				t.Errorf("%s holds the secret key", path)
			}
			return nil
		})
	}

	p.ok(nil, "uninstall", "lantern-drift")
	if _, err := os.Stat(dir); err == nil {
		t.Error("uninstall left the game's files")
	}
	p.ok(&lib, "library", "--offline")
	if lib.Games[0]["status"] != "not installed" {
		t.Errorf("after uninstall: %v", lib)
	}
	if r := p.run(nil, "launch", "lantern-drift"); r.code != 4 || !strings.Contains(r.stderr, "not installed") {
		t.Errorf("launching an uninstalled game: %s", r)
	}
}

// TestAutoUpdateAndRollback runs the launcher's engine (`satchel sync`) while a developer
// pushes releases from CI: new entitlements and releases install by themselves; with
// auto-update off the game shows "update available"; a broken update that fails to launch is
// rolled back and the previous version runs, the file they shared, which the broken one wrote
// into, put back.
func TestAutoUpdateAndRollback(t *testing.T) {
	const slug = "auto-tester"
	d := newDeveloper(t)
	d.game(slug, "Auto Tester")
	d.push(slug, "1.0.0", d.build(slug, "Auto 1.0.0"))
	d.list(slug)

	p := newPlayer(t)
	p.ok(nil, "identity", "new")
	// startSync starts the engine; the function it returns stops it.
	startSync := func(out *lockedBuffer) func() {
		sync := exec.Command(filepath.Join(env.bin, "satchel"), "sync", "--json")
		sync.Env = p.env
		sync.Stdout, sync.Stderr = out, out
		if err := sync.Start(); err != nil {
			t.Fatal(err)
		}
		return func() {
			sync.Process.Signal(syscall.SIGTERM)
			if err := sync.Wait(); err != nil {
				t.Errorf("satchel sync did not stop cleanly: %v\n%s", err, out.String())
			}
		}
	}
	var syncOut lockedBuffer
	stopSync := startSync(&syncOut)
	defer func() { stopSync() }()
	// The engine's events, in the order it published them.
	libraryEvent := `"kind":"library","slug":"` + slug + `"`
	progressEvent := `"kind":"progress","slug":"` + slug + `"`

	var bought map[string]any
	p.ok(&bought, "buy", slug)
	if bought["status"] != "PAID" {
		t.Fatalf("a free game: %v", bought)
	}
	installed := func(v string) func(*state.Game) bool {
		return func(g *state.Game) bool { return g != nil && g.Current != nil && g.Current.Version == v }
	}
	p.waitFor("the new game is installed", installed("1.0.0"), slug)

	notes := filepath.Join(t.TempDir(), "notes.md")
	os.WriteFile(notes, []byte("Faster lanterns."), 0o644)
	pushed := d.push(slug, "1.1.0", d.build(slug, "Auto 1.1.0"), "--notes", notes)
	if pushed["created"] != true || pushed["uploaded"] != true || pushed["published"] != true {
		t.Errorf("push: %v", pushed)
	}
	p.waitFor("1.1.0 is installed", installed("1.1.0"), slug)
	if g := p.state().Games[slug]; g.Previous == nil || g.Previous.Version != "1.0.0" {
		t.Errorf("the previous version is not kept until the first launch: %+v", g.Previous)
	}
	p.ok(nil, "launch", slug)
	if g := p.state().Games[slug]; g.Previous != nil || !g.Current.Launched {
		t.Errorf("after the first launch: previous %+v, launched %v", g.Previous, g.Current.Launched)
	}

	// Pushing the same build again (a retried CI job) changes nothing.
	again := d.push(slug, "1.1.0", d.build(slug, "Auto 1.1.0"))
	if again["uploaded"] != false || again["created"] != false {
		t.Errorf("pushing the same build again: %v", again)
	}

	// Auto-update off: the broken 1.2.0 only shows as an update.
	p.ok(nil, "config", "set", "auto-update", "off")
	mark := len(syncOut.String())
	d.push(slug, "1.2.0", brokenBuild(d, slug))
	p.waitFor("the library knows 1.2.0", func(g *state.Game) bool { return g.Latest != nil && g.Latest.Version == "1.2.0" }, slug)
	// The engine announces the change, then decides in the same call whether to install it:
	// a queued install would be the very next event, well before the command below ends.
	waitUntil(t, "the engine reports the change", func() bool { return strings.Contains(syncOut.String()[mark:], libraryEvent) })
	var lib struct{ Games []map[string]any }
	p.ok(&lib, "library", "--offline")
	if g := lib.Games[0]; g["installed"] != "1.1.0" || g["status"] != "update available" {
		t.Fatalf("with auto-update off: %v", g)
	}
	if out := syncOut.String()[mark:]; strings.Contains(out, progressEvent) {
		t.Fatalf("with auto-update off, the engine queued an install:\n%s", out)
	}

	// On again, at once: the engine sees the settings rewritten (even if it never saw "off"),
	// installs by itself, fails to launch, and 1.1.0 runs instead.
	p.ok(nil, "config", "set", "auto-update", "on")
	p.waitFor("1.2.0 is installed", installed("1.2.0"), slug)
	// 1.2.0 wrote into the program it shares with 1.1.0, and `satchel launch` has no identity
	// to fetch it again with: it says so, and `satchel verify SLUG --repair` puts it back.
	r := p.run(nil, "launch", slug)
	if r.code == 0 || !strings.Contains(r.stderr, "1.2.0: it ended after") || !strings.Contains(r.stderr, "back to 1.1.0") ||
		!strings.Contains(r.stderr, "satchel verify "+slug+" --repair") {
		t.Errorf("launch of the broken update: %s", r)
	}
	// Until it is repaired, 1.1.0 does not run on what 1.2.0 wrote.
	r = p.run(nil, "launch", slug)
	if r.code == 0 || !strings.Contains(r.stderr, "satchel verify "+slug+" --repair") {
		t.Errorf("second launch before the repair: %s", r)
	}
	p.ok(nil, "verify", slug, "--repair")
	if g := p.state().Games[slug]; g.Current.Unchecked {
		t.Errorf("1.1.0 is still unchecked after verify --repair")
	}
	p.ok(nil, "launch", slug)
	if got := p.markers(); strings.Join(got, ",") != "Auto 1.1.0,Auto 1.1.0" {
		t.Errorf("markers = %q, want 1.1.0 to have run twice", got)
	}
	program, _ := os.ReadFile(filepath.Join(env.bin, "satchel-demo-game"))
	st := p.state()
	if got, _ := os.ReadFile(filepath.Join(st.Path(slug, st.Games[slug].Current.Dir), "bin", slug)); !bytes.Equal(got, program) {
		t.Errorf("1.1.0's program after the rollback is not the one it shipped (%d bytes, starting %q)", len(got), got[:min(len(got), 8)])
	}
	// An engine that starts anew goes over every game before it follows the stream: once it is
	// connected, it has decided, and must not install the failed release again.
	stopSync()
	var restartOut lockedBuffer
	stopSync = startSync(&restartOut)
	waitUntil(t, "the restarted engine is connected", func() bool { return strings.Contains(restartOut.String(), `"connected":true`) })
	if out := restartOut.String(); !strings.Contains(out, libraryEvent) || strings.Contains(out, progressEvent) {
		t.Errorf("the restarted engine went over %s and queued an install of the failed release (or did not go over it):\n%s", slug, out)
	}
	g := p.state().Games[slug]
	if g.Current.Version != "1.1.0" || g.Failed == nil || g.Failed.Version != "1.2.0" || g.Pending != nil {
		t.Errorf("after the rollback: current %+v failed %+v pending %+v", g.Current, g.Failed, g.Pending)
	}
	r = p.ok(nil, "status", slug)
	if !strings.Contains(r.stdout, "1.2.0 failed: it ended after") {
		t.Errorf("status does not say why 1.2.0 failed:\n%s", r)
	}
	if !strings.Contains(syncOut.String(), `"kind":"installed"`) {
		t.Errorf("satchel sync printed no installed event:\n%s", syncOut.String())
	}
}

// waitUntil polls cond until it holds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestCrashRecovery kills `satchel install` with kill -9 at each step of an update (which
// streams: the new build is mostly new), then shows that the next start recovers: the old
// version launches (offline, too), the only temporary folder left is the one the install
// resumes into, and the install finishes, resuming the download after the files verified.
func TestCrashRecovery(t *testing.T) {
	const slug = "crash-tester"
	d := newDeveloper(t)
	d.game(slug, "Crash Tester")
	d.push(slug, "1.0.0", d.build(slug, "Crash 1.0.0"))
	d.list(slug)
	// 8 MiB of new data in four files, so that the stream records resume points past its middle.
	var assets []testenv.File
	for i := range 4 {
		big := make([]byte, 2<<20)
		rand.Read(big)
		assets = append(assets, testenv.File{Name: fmt.Sprintf("data/assets-%d.bin", i), Body: big, Store: true})
	}
	d.push(slug, "2.0.0", d.build(slug, "Crash 2.0.0", assets...))

	for _, step := range []string{"mid-download", "after-extract", "after-rename"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			p := newPlayer(t)
			p.ok(nil, "identity", "new")
			p.ok(nil, "buy", slug)
			p.ok(nil, "install", slug, "--version", "1.0.0")
			p.ok(nil, "launch", slug)

			if step == "mid-download" { // slow enough for a resume point to be recorded mid-way
				p.ok(nil, "config", "set", "speed-limit", "8M")
			}
			r := p.run([]string{"SATCHEL_TEST_CRASH_AT=" + step}, "install", slug)
			p.ok(nil, "config", "set", "speed-limit", "off")
			if r.code != -1 {
				t.Fatalf("the install was not killed at %s: %s", step, r)
			}

			// Offline: the server is unreachable, the old version still plays.
			offline := []string{"SATCHEL_SERVER=http://127.0.0.1:9"}
			if r := p.run(offline, "launch", slug); r.code != 0 {
				t.Fatalf("launch after the crash: %s", r)
			}
			if got := p.markers(); strings.Join(got, ",") != "Crash 1.0.0,Crash 1.0.0" {
				t.Errorf("markers = %q, want 1.0.0 to run again", got)
			}
			r = p.run(offline, "--json", "library")
			var lib struct {
				Games   []map[string]any
				Offline bool
			}
			json.Unmarshal([]byte(r.stdout), &lib)
			if r.code != 0 || !lib.Offline || len(lib.Games) != 1 || lib.Games[0]["installed"] != "1.0.0" || lib.Games[0]["status"] != "installing" {
				t.Errorf("library offline: %s", r)
			}
			lib2 := filepath.Join(p.dir, "data", "satchel", "library", slug)
			ents, _ := os.ReadDir(lib2)
			var names []string
			for _, e := range ents {
				if !strings.HasPrefix(e.Name(), ".tmp-2.0.0-") { // the folder the install resumes into
					names = append(names, e.Name())
				}
			}
			if strings.Join(names, ",") != "1.0.0" || len(ents) != 2 {
				t.Errorf("the game's folder holds %v, want 1.0.0 and the folder 2.0.0 resumes into", ents)
			}

			var res struct {
				Version string
				Resumed int64 `json:"resumed_bytes"`
				Fetched int64 `json:"fetched_bytes"`
			}
			p.ok(&res, "install", slug)
			switch {
			case res.Version != "2.0.0":
				t.Errorf("install after the crash: %+v", res)
			case step == "mid-download" && res.Resumed < 4<<20:
				t.Errorf("the download was not resumed: %+v", res)
			case step != "mid-download" && res.Fetched != 0:
				t.Errorf("the verified download was fetched again: %+v", res)
			}
			p.ok(nil, "launch", slug)
			if got := p.markers(); len(got) != 3 || got[2] != "Crash 2.0.0" {
				t.Errorf("markers = %q, want 2.0.0 last", got)
			}
			p.ok(nil, "verify", slug)
		})
	}
}

// TestUpdateSizes updates a game whose large asset stays the same: `install --json` reports
// the few bytes fetched and the asset reused, and `status` shows the size of an update left
// pending by a crash.
func TestUpdateSizes(t *testing.T) {
	const slug = "size-tester"
	d := newDeveloper(t)
	d.game(slug, "Size Tester")
	asset := testenv.File{Name: "data/assets.bin", Body: make([]byte, 8<<20), Store: true}
	rand.Read(asset.Body)
	d.push(slug, "1.0.0", d.build(slug, "Size 1.0.0", asset))
	d.list(slug)
	p := newPlayer(t)
	p.ok(nil, "identity", "new")
	p.ok(nil, "buy", slug)
	p.ok(nil, "install", slug)

	d.push(slug, "1.1.0", d.build(slug, "Size 1.1.0", asset))
	var res struct {
		Version string
		Fetched int64 `json:"fetched_bytes"`
		Reused  int64 `json:"reused_bytes"`
	}
	p.ok(&res, "install", slug)
	if res.Version != "1.1.0" || res.Fetched <= 0 || res.Fetched > 1<<20 || res.Reused < 8<<20 {
		t.Errorf("the update = %+v, want the asset reused and under 1 MiB fetched", res)
	}

	d.push(slug, "1.2.0", d.build(slug, "Size 1.2.0", asset))
	p.ok(nil, "library") // learns of 1.2.0
	var avail struct {
		Update struct {
			Version   string
			Fetch     int64 `json:"fetch_bytes"`
			BuildSize int64 `json:"build_size"`
			Update    bool
		}
	}
	p.ok(&avail, "status", slug)
	if u := avail.Update; u.Version != "1.2.0" || !u.Update || u.Fetch <= 0 || u.Fetch > 1<<20 || u.BuildSize < 8<<20 {
		t.Errorf("status of the update available: %+v", u)
	}
	if r := p.ok(nil, "status", slug); !strings.Contains(r.stdout, fmt.Sprintf("Update 1.2.0: %s of %s\n", install.Bytes(avail.Update.Fetch), install.Bytes(avail.Update.BuildSize))) {
		t.Errorf("status does not show the size of the update available:\n%s", r)
	}
	if r := p.run([]string{"SATCHEL_TEST_CRASH_AT=after-extract"}, "install", slug); r.code != -1 {
		t.Fatalf("the update was not killed: %s", r)
	}
	var st struct {
		Pending struct {
			Version   string
			Fetch     int64 `json:"fetch_bytes"`
			BuildSize int64 `json:"build_size"`
			Update    bool
		}
	}
	p.ok(&st, "status", slug)
	if pd := st.Pending; pd.Version != "1.2.0" || !pd.Update || pd.Fetch <= 0 || pd.Fetch > 1<<20 || pd.BuildSize < 8<<20 {
		t.Errorf("status of the pending update: %+v", pd)
	}
	want := fmt.Sprintf("Update 1.2.0: %s of %s (%[1]s downloaded)\n", install.Bytes(st.Pending.Fetch), install.Bytes(st.Pending.BuildSize))
	if r := p.ok(nil, "status", slug); !strings.Contains(r.stdout, want) {
		t.Errorf("status does not show the update's size:\n%s", r)
	}
	p.ok(nil, "install", slug)
	p.ok(nil, "launch", slug)
	if got := p.markers(); len(got) != 1 || got[0] != "Size 1.2.0" {
		t.Errorf("markers = %q, want 1.2.0", got)
	}
}

// TestKeepDownloads: `config set keep-downloads on` keeps the build's zip of an install
// (`install --json` says where); off, the next install keeps none.
func TestKeepDownloads(t *testing.T) {
	const slug = "keep-tester"
	d := newDeveloper(t)
	d.game(slug, "Keep Tester")
	d.push(slug, "1.0.0", d.build(slug, "Keep 1.0.0"))
	d.list(slug)
	p := newPlayer(t)
	p.ok(nil, "identity", "new")
	p.ok(nil, "buy", slug)
	p.ok(nil, "config", "set", "keep-downloads", "on")
	var set struct {
		Keep bool `json:"keep_downloads"`
	}
	if p.ok(&set, "config"); !set.Keep {
		t.Errorf("config = %+v, want keep_downloads", set)
	}
	if r := p.ok(nil, "config"); !strings.Contains(r.stdout, "keep-downloads  on\n") {
		t.Errorf("config does not show keep-downloads:\n%s", r)
	}
	var res struct {
		Kept string `json:"kept_zip"`
	}
	p.ok(&res, "install", slug)
	if fi, err := os.Stat(res.Kept); res.Kept == "" || err != nil || fi.Size() == 0 {
		t.Errorf("install kept %q (%v)", res.Kept, err)
	}
	p.ok(nil, "uninstall", slug)
	if _, err := os.Stat(res.Kept); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the kept zip outlived the uninstall: %v", err)
	}
	p.ok(nil, "config", "set", "keep-downloads", "off")
	res.Kept = ""
	p.ok(&res, "install", slug)
	if res.Kept != "" {
		t.Errorf("keep-downloads off: install kept %q", res.Kept)
	}
	if r := p.run(nil, "config", "set", "keep-downloads", "maybe"); r.code == 0 {
		t.Errorf("keep-downloads maybe was accepted: %s", r)
	}
}

func TestHostileAndBrokenBuilds(t *testing.T) {
	const slug = "hostile-tester"
	d := newDeveloper(t)
	d.game(slug, "Hostile Tester")
	outside := d.zip([]testenv.File{
		{Name: "satchel.toml", Body: []byte("[launch.linux]\nexec = \"../../../../../bin/sh\"\n")},
		{Name: "README.txt", Body: []byte("x")},
	})
	d.push(slug, "1.0.0", outside)
	d.list(slug)

	// A zip the rules refuse never leaves the developer's machine.
	slip := d.zip([]testenv.File{{Name: "../evil.sh", Body: []byte("x")}})
	r := d.p.run(nil, "push", slug, "2.0.0", slip)
	if r.code == 0 || !strings.Contains(r.stderr, `rule "path"`) {
		t.Errorf("pushing a zip-slip build: %s", r)
	}
	// Someone else's game cannot be pushed to.
	r = newDeveloper(t).p.run(nil, "push", slug, "2.0.0", outside)
	if r.code == 0 || !strings.Contains(r.stderr, "you are not the developer") {
		t.Errorf("pushing to another developer's game: %s", r)
	}

	p := newPlayer(t)
	p.ok(nil, "identity", "new")
	if r := p.run(nil, "install", slug); r.code != 5 || !strings.Contains(r.stderr, "you do not own game") {
		t.Errorf("installing a game not bought: %s", r)
	}
	if r := p.run(nil, "install", "no-such-game"); r.code != 4 {
		t.Errorf("installing a game that does not exist: %s", r)
	}
	p.ok(nil, "buy", slug)
	p.ok(nil, "install", slug)
	r = p.run(nil, "launch", slug)
	if r.code != 8 || !strings.Contains(r.stderr, "leaves the install folder") {
		t.Errorf("launching a target outside the install folder: %s", r)
	}
}

func TestKeyringErrorsAndCI(t *testing.T) {
	p := newPlayer(t)
	noBus := []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(p.dir, "no-bus")}
	r := p.run(noBus, "identity", "new")
	if r.code != 7 || !strings.Contains(r.stderr, "the OS keyring is not available") || !strings.Contains(r.stderr, "SATCHEL_NSEC") {
		t.Errorf("satchel identity new without a keyring: %s", r)
	}
	if _, err := os.Stat(filepath.Join(p.dir, "config", "satchel", "identities.json")); err == nil {
		t.Error("an identity was recorded without a keyring")
	}
	// With an identity whose key is in a keyring that is gone, commands that sign say so.
	p.ok(nil, "identity", "new")
	for _, args := range [][]string{{"library"}, {"install", "lantern-drift"}, {"identity", "export"}} {
		r := p.run(noBus, args...)
		if r.code != 7 || !strings.Contains(r.stderr, "the OS keyring is not available") {
			t.Errorf("satchel %s without a keyring: %s", strings.Join(args, " "), r)
		}
	}
	if r := p.run(noBus, "library", "--offline"); r.code != 0 {
		t.Errorf("the local library needs no keyring: %s", r)
	}
	// In CI, SATCHEL_NSEC signs without any keyring.
	key, _ := nostr.GenerateKey()
	ci := append(noBus, "SATCHEL_NSEC="+key.Nsec())
	r = p.run(ci, "--json", "identity", "show")
	if r.code != 0 || !strings.Contains(r.stdout, key.PublicKey().Npub()) || !strings.Contains(r.stdout, "SATCHEL_NSEC") {
		t.Errorf("identity show with SATCHEL_NSEC: %s", r)
	}
	if r := p.run(ci, "buy", "moss-and-mortar"); r.code != 0 {
		t.Errorf("buying with SATCHEL_NSEC: %s", r)
	}
	if r := p.run(ci, "library"); r.code != 0 || !strings.Contains(r.stdout, "moss-and-mortar") {
		t.Errorf("library with SATCHEL_NSEC: %s", r)
	}
	// Usage errors.
	if r := p.run(nil, "install"); r.code != 2 {
		t.Errorf("install without a slug: %s", r)
	}
	if r := p.run(nil, "frobnicate"); r.code != 2 {
		t.Errorf("an unknown command: %s", r)
	}
}

// TestSpeedLimitChangedFromAnotherProcess: `satchel config set speed-limit` applies to an
// install already running in another process, even one changed before that install began
// watching the settings.
func TestSpeedLimitChangedFromAnotherProcess(t *testing.T) {
	const slug = "speed-tester"
	const size = 24 << 20 // 48 s at 512 KiB/s
	d := newDeveloper(t)
	d.game(slug, "Speed Tester")
	big := make([]byte, size)
	rand.Read(big)
	d.push(slug, "1.0.0", d.build(slug, "Speed 1.0.0", testenv.File{Name: "data/assets.bin", Body: big, Store: true}))
	d.list(slug)

	p := newPlayer(t)
	p.ok(nil, "identity", "new")
	p.ok(nil, "buy", slug)
	p.ok(nil, "config", "set", "speed-limit", "512K")
	cmd := exec.Command(filepath.Join(env.bin, "satchel"), "--json", "install", slug)
	cmd.Env = p.env
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// The download is under way, at the limit: lift it.
	downloading := func() bool {
		for _, l := range strings.Split(out.String(), "\n") {
			var pr install.Progress
			if json.Unmarshal([]byte(l), &pr) == nil && pr.Phase == install.PhaseDownloading && pr.Done > 0 {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(30 * time.Second); !downloading(); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("the install ended before its download was under way (%v):\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no download under way after 30 s:\n%s", out.String())
		}
	}
	lifted := time.Now()
	p.ok(nil, "config", "set", "speed-limit", "off")
	if err := <-done; err != nil {
		t.Fatalf("install: %v\n%s", err, out.String())
	}
	// At the limit the rest would take about 48 s; lifted, far less.
	if took := time.Since(lifted); took > 24*time.Second {
		t.Errorf("the install took %s after the limit was lifted: the new speed limit did not reach it\n%s", took, out.String())
	}
	if g := p.state().Games[slug]; g.Current == nil || g.Current.Version != "1.0.0" {
		t.Errorf("not installed: %+v", g)
	}
}
