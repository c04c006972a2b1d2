package launch

import (
	"errors"
	"path/filepath"
	"strings"
)

// terminals are the terminal emulators TerminalCommand looks for on Linux and the BSDs, in
// order, each with the flags after which it takes the program to run and its arguments: flags
// that keep the emulator running until the program ends, so the launcher sees the game end.
// gnome-terminal is asked to --wait, xfce4-terminal not to hand the window to a running
// instance (--disable-server): without them both return at once.
var terminals = [][]string{
	{"x-terminal-emulator", "-e"},
	{"gnome-terminal", "--wait", "--"},
	{"konsole", "-e"},
	{"xfce4-terminal", "--disable-server", "-x"},
	{"xterm", "-e"},
}

// TerminalEnv names the environment variable that chooses the terminal emulator, as a command
// line the game's own is appended to ("xterm -e", "kitty"): it wins over the search.
const TerminalEnv = "SATCHEL_TERMINAL"

// TerminalCommand returns the command a terminal game (Spec.Terminal) runs in when launched
// from the desktop on goos, for Options.Terminal:
//   - $SATCHEL_TERMINAL split on spaces when set, on every system, as it is;
//   - on Windows nil: Windows gives a console program a console window of its own;
//   - on macOS an error: terminal games start there from Terminal, with `satchel launch`;
//   - elsewhere (Linux, the BSDs) the first of terminals found with lookPath, or an error
//     saying what to install.
//
// x-terminal-emulator is Debian's and Ubuntu's choice of the desktop's terminal, a chain of
// symbolic links (update-alternatives) that evalSymlinks resolves: when it ends at a terminal
// of the list (gnome-terminal or gnome-terminal.wrapper, konsole, xfce4-terminal.wrapper,
// xterm...) that lookPath finds, that terminal runs with its own flags, because Debian's
// wrappers return at once and the game would show as ended while its window stays. Any other
// emulator it points at runs with -e; if it returns before the game ends, the launcher shows
// the game as ended while its window stays (set SATCHEL_TERMINAL to a command that waits).
func TerminalCommand(goos string, getenv func(string) string, lookPath, evalSymlinks func(string) (string, error)) ([]string, error) {
	if v := strings.Fields(getenv(TerminalEnv)); len(v) > 0 {
		return v, nil
	}
	switch goos {
	case "windows":
		return nil, nil
	case "darwin":
		return nil, errors.New("this game runs in a terminal: start it from Terminal with `satchel launch` and its name, or set " +
			TerminalEnv + " to a terminal that takes a program to run")
	}
	for i, t := range terminals {
		path, err := lookPath(t[0])
		if err != nil {
			continue
		}
		if i == 0 {
			if known := alternative(path, lookPath, evalSymlinks); known != nil {
				return known, nil
			}
		}
		return t, nil
	}
	return nil, errors.New("this game runs in a terminal, and no terminal emulator was found (x-terminal-emulator, gnome-terminal, konsole, " +
		"xfce4-terminal, xterm): install one (on Debian: sudo apt install xterm), or set " + TerminalEnv + " to one, such as \"xterm -e\"")
}

// alternative returns the entry of terminals that x-terminal-emulator at path resolves to
// (its target's name, less Debian's ".wrapper"), when lookPath finds that terminal; else nil.
func alternative(path string, lookPath, evalSymlinks func(string) (string, error)) []string {
	target, err := evalSymlinks(path)
	if err != nil {
		return nil
	}
	name := strings.TrimSuffix(filepath.Base(target), ".wrapper")
	for _, t := range terminals[1:] {
		if t[0] == name {
			if _, err := lookPath(name); err == nil {
				return t
			}
		}
	}
	return nil
}
