package launch_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"satchel.dev/desktop/launch"
)

// install writes files (name -> content; a name ending in * is executable, "@target" makes a
// symbolic link) into a fresh install folder.
func install(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "game", "1.0.0")
	for name, body := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, "*") {
			name, mode = strings.TrimSuffix(name, "*"), 0o755
		}
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if target, ok := strings.CutPrefix(body, "@"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		wantPath string // relative to the install folder
		wantArgs []string
		wantWork string
		wantErr  string
	}{
		{"manifest for os-arch", map[string]string{
			"satchel.toml": "[launch.linux-amd64]\nexec = \"bin/game\"\nargs = [\"-title\", \"X\"]\n[launch.windows-amd64]\nexec = \"game.exe\"\n",
			"bin/game*":    "#!/bin/sh\n"}, "bin/game", []string{"-title", "X"}, ".", ""},
		{"manifest for os only, working dir", map[string]string{
			"satchel.toml": "[launch.linux]\nexec = \"bin/game\"\nworking_dir = \"data\"\n",
			"bin/game*":    "x", "data/level": "x"}, "bin/game", nil, "data", ""},
		{"exec bit set when missing", map[string]string{
			"satchel.toml": "[launch.linux]\nexec = \"game\"\n", "game": "x"}, "game", nil, ".", ""},
		{"no section for this platform", map[string]string{
			"satchel.toml": "[launch.windows-amd64]\nexec = \"game.exe\"\n"}, "", nil, "", "no [launch.linux-amd64] or [launch.linux] section (it has: windows-amd64)"},
		{"exec climbs out", map[string]string{
			"satchel.toml": "[launch.linux]\nexec = \"../../../bin/sh\"\n"}, "", nil, "", "leaves the install folder"},
		{"absolute exec", map[string]string{
			"satchel.toml": "[launch.linux]\nexec = \"/bin/sh\"\n"}, "", nil, "", "leaves the install folder"},
		{"exec through a link out", map[string]string{
			"satchel.toml": "[launch.linux]\nexec = \"bin/sh\"\n", "bin": "@/bin"}, "", nil, "", "leads outside the install folder"},
		{"working dir out", map[string]string{
			"satchel.toml": "[launch.linux]\nexec = \"game\"\nworking_dir = \"..\"\n", "game*": "x"}, "", nil, "", "working_dir \"..\" leaves"},
		{"missing exec", map[string]string{
			"satchel.toml": "[launch.linux]\nexec = \"nope\"\n"}, "", nil, "", `exec "nope" is not in the build`},
		{"typo in the manifest", map[string]string{
			"satchel.toml": "[launch.linux]\nexe = \"game\"\n", "game*": "x"}, "", nil, "", "unknown keys: launch.linux.exe"},
		{"bad toml", map[string]string{"satchel.toml": "[launch\n"}, "", nil, "", "not valid TOML"},
		{"only executable", map[string]string{"game*": "x", "README.txt": "x", "lib/helper*": "x"}, "game", nil, ".", ""},
		{"no executable", map[string]string{"README.txt": "x"}, "", nil, "", "no executable file at its top level"},
		{"several executables", map[string]string{"a*": "x", "b*": "x"}, "", nil, "", "several executable files at its top level (a, b)"},
		{"a link is not the only executable", map[string]string{"sh": "@/bin/sh"}, "", nil, "", "no executable file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := install(t, tt.files)
			spec, err := launch.Resolve(dir, "linux", "amd64")
			if tt.wantErr != "" {
				var le *launch.Error
				if !errors.As(err, &le) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve = %+v, %v; want an *Error saying %q", spec, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []string{rel(t, dir, spec.Path), rel(t, dir, spec.WorkDir)}
			if diff := cmp.Diff([]string{tt.wantPath, tt.wantWork}, got); diff != "" {
				t.Errorf("path, working dir (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantArgs, spec.Args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
			if fi, err := os.Stat(spec.Path); err != nil || fi.Mode().Perm()&0o100 == 0 {
				t.Errorf("the target is not executable: %v %v", fi, err)
			}
		})
	}
}

// TestResolveWindows runs Windows' rules on any OS, through the same function: programs are
// .exe files, whatever their mode, and no exec bit is set.
func TestResolveWindows(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		wantPath string
		wantErr  string
	}{
		{"the only .exe", map[string]string{"Game.EXE": "MZ", "run.sh*": "x", "data.pak": "x"}, "Game.EXE", ""},
		{"no .exe", map[string]string{"game*": "x"}, "", "no .exe file at its top level"},
		{"several", map[string]string{"a.exe": "x", "b.exe": "x"}, "", "several .exe files at its top level (a.exe, b.exe)"},
		{"manifest", map[string]string{"satchel.toml": "[launch.windows-amd64]\nexec = \"bin/game.exe\"\n", "bin/game.exe": "MZ"}, "bin/game.exe", ""},
		{"manifest names no .exe", map[string]string{"satchel.toml": "[launch.windows]\nexec = \"game\"\n", "game": "x"}, "", `exec "game" is not an .exe`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := install(t, tt.files)
			spec, err := launch.Resolve(dir, "windows", "amd64")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve = %+v, %v; want %q", spec, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := rel(t, dir, spec.Path); got != filepath.FromSlash(tt.wantPath) {
				t.Errorf("path = %s, want %s", got, tt.wantPath)
			}
			if fi, _ := os.Stat(spec.Path); fi.Mode().Perm()&0o111 != 0 {
				t.Errorf("mode %v: exec bits were set for Windows", fi.Mode())
			}
		})
	}
}

// TestGaps checks the change preview's warning: which platforms a build cannot be launched
// on, from its zip, before it is uploaded.
func TestGaps(t *testing.T) {
	exe := &fstest.MapFile{Data: []byte("x"), Mode: 0o755}
	file := &fstest.MapFile{Data: []byte("x"), Mode: 0o644}
	toml := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o644} }
	tests := []struct {
		name    string
		build   fstest.MapFS
		want    []launch.Gap
		wantErr string
	}{
		{"every platform", fstest.MapFS{
			"satchel.toml": toml("[launch.linux]\nexec = \"game\"\n[launch.darwin]\nexec = \"Game.app/Contents/MacOS/game\"\n[launch.windows]\nexec = \"game.exe\"\n"),
			"game":         exe, "Game.app/Contents/MacOS/game": exe, "game.exe": file}, nil, ""},
		{"linux and windows-amd64 only", fstest.MapFS{
			"satchel.toml": toml("[launch.linux]\nexec = \"game\"\n[launch.windows-amd64]\nexec = \"game.exe\"\n[launch.darwin-arm64]\nexec = \"gone\"\n"),
			"game":         exe, "game.exe": file}, []launch.Gap{
			{"darwin-amd64", "satchel.toml has no [launch.darwin-amd64] or [launch.darwin] section (it has: darwin-arm64, linux, windows-amd64): this build does not run on darwin-amd64"},
			{"darwin-arm64", `satchel.toml [launch.darwin-arm64] exec "gone" is not in the build`},
			{"windows-arm64", "satchel.toml has no [launch.windows-arm64] or [launch.windows] section (it has: darwin-arm64, linux, windows-amd64): this build does not run on windows-arm64"},
		}, ""},
		{"exec outside, or not an .exe", fstest.MapFS{
			"satchel.toml": toml("[launch.linux]\nexec = \"../game\"\n[launch.darwin]\nexec = \"bin\"\n[launch.windows]\nexec = \"game\"\n"),
			"game":         exe, "bin/x": file}, []launch.Gap{
			{"linux-amd64", `satchel.toml [launch.linux] exec "../game" leaves the install folder: it must be a relative path inside the build, without ..`},
			{"linux-arm64", `satchel.toml [launch.linux] exec "../game" leaves the install folder: it must be a relative path inside the build, without ..`},
			{"darwin-amd64", `satchel.toml [launch.darwin] exec "bin" is not a regular file`},
			{"darwin-arm64", `satchel.toml [launch.darwin] exec "bin" is not a regular file`},
			{"windows-amd64", `satchel.toml [launch.windows] exec "game" is not an .exe: Windows runs only .exe files`},
			{"windows-arm64", `satchel.toml [launch.windows] exec "game" is not an .exe: Windows runs only .exe files`},
		}, ""},
		{"no manifest, a Unix program", fstest.MapFS{"game": exe, "README": file}, []launch.Gap{
			{"windows-amd64", "the build has no satchel.toml and no .exe file at its top level: the developer must add a satchel.toml naming the program to run"},
			{"windows-arm64", "the build has no satchel.toml and no .exe file at its top level: the developer must add a satchel.toml naming the program to run"},
		}, ""},
		{"bad manifest", fstest.MapFS{"satchel.toml": toml("[launch\n")}, nil, "not valid TOML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := launch.Gaps(tt.build)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Gaps = %v, %v; want %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("gaps (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGapsZip reads a real build zip, as the Developer tab's preview does: modes come from the
// zip's entries.
func TestGapsZip(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, mode := range map[string]os.FileMode{"game": 0o755, "game.exe": 0o644, "data/level": 0o644} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, ExternalAttrs: uint32(mode) << 16, CreatorVersion: 3 << 8})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("x"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := launch.Gaps(zr); err != nil || got != nil {
		t.Errorf("Gaps = %v, %v; want none: game runs on Unix, game.exe on Windows", got, err)
	}
}

func rel(t *testing.T, dir, p string) string {
	real, _ := filepath.EvalSymlinks(dir)
	r, err := filepath.Rel(real, p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStartAndWait(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   launch.Exit
	}{
		{"exit 0", "exit 0", launch.Exit{Code: 0}},
		{"exit 3", "exit 3", launch.Exit{Code: 3}},
		{"killed", "kill -9 $$", launch.Exit{Code: -1, Signal: "killed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := install(t, map[string]string{"game*": "#!/bin/sh\npwd > out.txt\necho \"$@\" >> out.txt\n" + tt.script + "\n",
				"satchel.toml": "[launch.linux]\nexec = \"game\"\nargs = [\"a b\", \"c\"]\n"})
			spec, err := launch.Resolve(dir, "linux", "amd64")
			if err != nil {
				t.Fatal(err)
			}
			p, err := launch.Start(spec, launch.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if p.PID() <= 0 {
				t.Error("no pid")
			}
			got := p.Wait()
			got.Ran = 0
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("exit (-want +got):\n%s", diff)
			}
			out, _ := os.ReadFile(filepath.Join(dir, "out.txt"))
			real, _ := filepath.EvalSymlinks(dir)
			if string(out) != real+"\na b c\n" {
				t.Errorf("the game ran in/with %q", out)
			}
		})
	}
}

func TestStop(t *testing.T) {
	dir := install(t, map[string]string{"game*": "#!/bin/sh\nexec sleep 30\n"})
	spec, err := launch.Resolve(dir, "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	p, err := launch.Start(spec, launch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the game did not stop")
	}
	if e := p.Wait(); e.Success() || e.Signal == "" {
		t.Errorf("exit = %+v, want ended by a signal", e)
	}
}

// TestStopTree stops a game whose process started another: Done closes only once both have
// ended, as the game's output pipe stays open while either runs.
func TestStopTree(t *testing.T) {
	dir := install(t, map[string]string{"game*": "#!/bin/sh\nsleep 30 &\necho started\nwait\n"})
	spec, err := launch.Resolve(dir, "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	var once sync.Once
	p, err := launch.Start(spec, launch.Options{Stdout: writerFunc(func([]byte) { once.Do(func() { close(started) }) })})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the game's child did not stop")
	}
}

// writerFunc calls itself with what is written to it.
type writerFunc func([]byte)

func (f writerFunc) Write(b []byte) (int, error) { f(b); return len(b), nil }
