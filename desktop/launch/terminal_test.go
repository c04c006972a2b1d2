package launch_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"satchel.dev/desktop/launch"
)

func TestTerminalCommand(t *testing.T) {
	noEnv := func(string) string { return "" }
	have := func(names ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, n := range names {
				if n == name {
					return "/usr/bin/" + n, nil
				}
			}
			return "", errors.New("not found")
		}
	}
	// links are Debian's alternatives: x-terminal-emulator's chain of links ends at target.
	links := func(target string) func(string) (string, error) {
		return func(path string) (string, error) {
			if path == "/usr/bin/x-terminal-emulator" {
				return target, nil
			}
			return path, nil
		}
	}
	noLinks := func(path string) (string, error) { return path, nil }
	broken := func(string) (string, error) { return "", errors.New("too many links") }
	tests := []struct {
		name    string
		goos    string
		env     func(string) string
		path    func(string) (string, error)
		links   func(string) (string, error)
		want    []string
		wantErr string
	}{
		{"Debian's choice first", "linux", noEnv, have("xterm", "x-terminal-emulator"), noLinks, []string{"x-terminal-emulator", "-e"}, ""},
		{"Debian's choice is gnome-terminal's wrapper", "linux", noEnv, have("x-terminal-emulator", "gnome-terminal", "xterm"),
			links("/usr/bin/gnome-terminal.wrapper"), []string{"gnome-terminal", "--wait", "--"}, ""},
		{"Debian's choice is gnome-terminal", "linux", noEnv, have("x-terminal-emulator", "gnome-terminal"),
			links("/usr/bin/gnome-terminal"), []string{"gnome-terminal", "--wait", "--"}, ""},
		{"Debian's choice is xfce4-terminal's wrapper", "linux", noEnv, have("x-terminal-emulator", "xfce4-terminal"),
			links("/usr/bin/xfce4-terminal.wrapper"), []string{"xfce4-terminal", "--disable-server", "-x"}, ""},
		{"Debian's choice is a terminal not on the PATH", "linux", noEnv, have("x-terminal-emulator"),
			links("/opt/gnome/gnome-terminal.wrapper"), []string{"x-terminal-emulator", "-e"}, ""},
		{"Debian's choice is another terminal", "linux", noEnv, have("x-terminal-emulator", "gnome-terminal"),
			links("/usr/bin/lxterminal"), []string{"x-terminal-emulator", "-e"}, ""},
		{"Debian's choice does not resolve", "linux", noEnv, have("x-terminal-emulator", "gnome-terminal"),
			broken, []string{"x-terminal-emulator", "-e"}, ""},
		{"gnome-terminal waits", "linux", noEnv, have("gnome-terminal", "xterm"), broken, []string{"gnome-terminal", "--wait", "--"}, ""},
		{"xterm last", "freebsd", noEnv, have("xterm"), noLinks, []string{"xterm", "-e"}, ""},
		{"none", "linux", noEnv, have(), noLinks, nil, "no terminal emulator was found"},
		{"the setting wins", "linux", func(string) string { return "kitty --hold" }, have("xterm"), noLinks, []string{"kitty", "--hold"}, ""},
		{"windows opens a console itself", "windows", noEnv, have(), noLinks, nil, ""},
		{"macOS from Terminal", "darwin", noEnv, have(), noLinks, nil, "start it from Terminal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := launch.TerminalCommand(tt.goos, tt.env, tt.path, tt.links)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("command (-want +got):\n%s", diff)
			}
		})
	}
}

// A terminal game runs inside the terminal command (here env, which sets a variable and runs
// the rest); a game that is not a terminal game ignores it.
func TestStartInTerminal(t *testing.T) {
	for _, terminal := range []bool{true, false} {
		dir := install(t, map[string]string{"game*": "#!/bin/sh\necho \"in terminal: ${IN_TERMINAL:-no} $*\" > out.txt\n",
			"satchel.toml": "[launch.linux]\nexec = \"game\"\nargs = [\"-x\"]\nterminal = " + map[bool]string{true: "true", false: "false"}[terminal] + "\n"})
		spec, err := launch.Resolve(dir, "linux", "amd64")
		if err != nil {
			t.Fatal(err)
		}
		if spec.Terminal != terminal {
			t.Errorf("Spec.Terminal = %v, want %v", spec.Terminal, terminal)
		}
		p, err := launch.Start(spec, launch.Options{Terminal: []string{"env", "IN_TERMINAL=yes"}})
		if err != nil {
			t.Fatal(err)
		}
		if e := p.Wait(); !e.Success() {
			t.Fatal(e)
		}
		out, _ := os.ReadFile(filepath.Join(dir, "out.txt"))
		want := map[bool]string{true: "in terminal: yes -x\n", false: "in terminal: no -x\n"}[terminal]
		if string(out) != want {
			t.Errorf("terminal = %v: the game wrote %q, want %q", terminal, out, want)
		}
	}
}
