package launch

import (
	"errors"
	"strings"
)

// terminals are the terminal emulators TerminalCommand looks for on Linux and the BSDs, in
// order, each with the flag after which it takes the program to run and its arguments.
// x-terminal-emulator is Debian's and Ubuntu's choice of the desktop's terminal (update-
// alternatives). gnome-terminal is asked to --wait, so the launcher sees the game end; some
// others (x-terminal-emulator pointing at gnome-terminal's wrapper) return at once, and then
// the game shows as ended while its window stays.
var terminals = [][]string{
	{"x-terminal-emulator", "-e"},
	{"gnome-terminal", "--wait", "--"},
	{"konsole", "-e"},
	{"xfce4-terminal", "-x"},
	{"xterm", "-e"},
}

// TerminalEnv names the environment variable that chooses the terminal emulator, as a command
// line the game's own is appended to ("xterm -e", "kitty"): it wins over the search.
const TerminalEnv = "SATCHEL_TERMINAL"

// TerminalCommand returns the command a terminal game (Spec.Terminal) runs in when launched
// from the desktop on goos, for Options.Terminal: $SATCHEL_TERMINAL split on spaces when set;
// nil on Windows, which gives a console program a console window of its own; on macOS an
// error (terminal games start there from Terminal, with `satchel launch`); elsewhere the
// first terminal emulator found on the PATH, or an error saying what to install.
func TerminalCommand(goos string, getenv func(string) string, lookPath func(string) (string, error)) ([]string, error) {
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
	for _, t := range terminals {
		if _, err := lookPath(t[0]); err == nil {
			return t, nil
		}
	}
	return nil, errors.New("this game runs in a terminal, and no terminal emulator was found (x-terminal-emulator, gnome-terminal, konsole, " +
		"xfce4-terminal, xterm): install one (on Debian: sudo apt install xterm), or set " + TerminalEnv + " to one, such as \"xterm -e\"")
}
