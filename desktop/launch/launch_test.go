package launch_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
