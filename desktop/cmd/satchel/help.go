package main

import (
	"fmt"
	"io"
	"strings"
)

// command is the help of one satchel command: `satchel help NAME` and `satchel NAME --help`
// print it.
type command struct {
	name    string // as typed: "install", "identity new"
	usage   string // the arguments and flags after "satchel"
	summary string // one line, for the list of commands
	help    string // what it does, its flags and examples
}

// commands are every command, in the order `satchel help` lists them.
var commands = []command{
	{"identity", "identity new|import|show|list|use|export|remove", "your identities (secret keys live only in the OS keyring)", `
An identity is a Nostr key: its public key is your account on every Satchel store, its secret key
signs your requests and never leaves the OS keyring (except through identity export). Run
satchel help identity SUBCOMMAND for each one.

Examples:
  satchel identity new --label laptop
  satchel identity list
`},
	{"identity new", "identity new [--label L]", "create an identity and make it the active one", `
Creates a secret key in the OS keyring and makes it the identity satchel signs with.

Flags:
  --label L   a name for the identity, usable wherever an ID is asked for

Examples:
  satchel identity new
  satchel identity new --label laptop
`},
	{"identity import", "identity import [--label L] < KEY", "import a secret key read from standard input", `
Reads a secret key (nsec1... or 64 hex characters) from standard input, stores it in the OS
keyring and makes it the active identity. The key is never read from the command line, where
the process list would show it.

Flags:
  --label L   a name for the identity

Examples:
  satchel identity import --label backup < key.txt
  pass show satchel/nsec | satchel identity import
`},
	{"identity show", "identity show [ID]", "show an identity's npub and hex public key", `
Shows the active identity (or ID: an npub, hex public key or label). With SATCHEL_NSEC set,
shows that key's identity.

Examples:
  satchel identity show
  satchel --json identity show laptop
`},
	{"identity list", "identity list", "list the identities; * marks the active one", `
Examples:
  satchel identity list
`},
	{"identity use", "identity use ID", "make ID (npub, hex or label) the active identity", `
Examples:
  satchel identity use laptop
  satchel identity use npub1...
`},
	{"identity export", "identity export [ID]", "print the secret key (nsec), to back it up", `
Prints the secret key of the active identity (or ID) on standard output: only on this explicit
request. Anyone who has it can spend as you and sign as you.

Examples:
  satchel identity export > nsec.txt
`},
	{"identity remove", "identity remove ID", "remove an identity and delete its key from the keyring", `
Examples:
  satchel identity remove old-laptop
`},
	{"library", "library [--offline]", "your games: owned, installed, latest version", `
Lists the games you own with their installed and latest versions. When the server cannot be
reached it shows what is installed on this machine, and says so.

Flags:
  --offline   show the local state without asking the server

Examples:
  satchel library
  satchel --json library --offline
`},
	{"library move", "library move DIR", "move every installed game to DIR", `
Moves the library folder and every installed game to DIR; an interrupted move resumes at the
next start.

Examples:
  satchel library move /mnt/games/satchel
`},
	{"buy", "buy SLUG [--guest] [--pay-test-money] [--no-wait]", "buy a game with a Lightning invoice", `
Creates a purchase, prints its Lightning invoice and waits until it is paid (Ctrl-C stops
waiting; the purchase stays).

Flags:
  --guest            buy without an identity: you get a receipt code (keep it; claim moves the
                     game to an identity later)
  --pay-test-money   pay the invoice with test money (servers with the dev invoice provider only)
  --no-wait          print the invoice and exit

Examples:
  satchel buy lantern-drift
  satchel buy lantern-drift --pay-test-money
  satchel buy lantern-drift --guest --no-wait
`},
	{"claim", "claim CODE", "move a guest purchase to your identity", `
Examples:
  satchel claim 7ZQK-M2XA-...
`},
	{"install", "install SLUG [--version V] [--receipt CODE]", "download, verify and install (or update, or resume)", `
Downloads the build, checks its sha256 and every file against the release's manifest, and
installs it; an interrupted download resumes. The previous version stays until the new one has
launched once.

Flags:
  --version V       install this version instead of the latest
  --receipt CODE    a guest purchase's receipt code (no identity needed)

Examples:
  satchel install lantern-drift
  satchel install lantern-drift --version 1.0.0
  satchel install lantern-drift --receipt 7ZQK-M2XA-...
`},
	{"launch", "launch SLUG [--detach]", "run an installed game (no network needed)", `
Runs the game's launch target for this system from its satchel.toml and waits for it; exits 8 if
it fails to start or exits with another code than 0. A new version that fails to launch is
rolled back to the previous one.

Flags:
  --detach   return once the game has started

Examples:
  satchel launch lantern-drift
  satchel launch lantern-drift --detach
`},
	{"uninstall", "uninstall SLUG", "remove a game's files", `
Examples:
  satchel uninstall lantern-drift
`},
	{"verify", "verify SLUG [--repair]", "re-hash the installed files; restore damaged ones", `
Checks every installed file against the build's manifest; exits 6 when one is damaged or
missing and not repaired. Files that are not part of the build (saves, settings) are left alone.

Flags:
  --repair   download and restore damaged or missing files

Examples:
  satchel verify lantern-drift
  satchel verify lantern-drift --repair
`},
	{"sync", "sync [--once]", "follow the library and auto-update until stopped", `
Follows your library on the server and installs new releases of the games with auto-update on,
and the games you just got (bought here, with satchel buy or in the window, or claimed), until
Ctrl-C.

Flags:
  --once   refresh, install what auto-update would, then exit

Examples:
  satchel sync
  satchel sync --once
`},
	{"config", "config [set KEY VALUE]", "show or change the settings", `
Without arguments, shows the settings. Keys:
  server          the store's URL
  auto-update     on or off: install new releases of owned games by themselves
  speed-limit     download speed in bytes/s, with K, M or G (powers of 1024); off or 0: none
  max-downloads   downloads at once, 1 to 8
  keep-downloads  on or off: keep each installed version's build zip in the library's
                  .downloads folder (off: no zip stays after an install)

Examples:
  satchel config
  satchel config set speed-limit 2M
  satchel config set keep-downloads on
  satchel config set server https://store.example.com
`},
	{"auto-update", "auto-update SLUG on|off|default", "auto-update of one game (default: the setting)", `
Examples:
  satchel auto-update lantern-drift off
  satchel auto-update lantern-drift default
`},
	{"push", "push SLUG VERSION BUILD.zip [--notes FILE] [--publish]", "upload a build as release VERSION (developers, CI)", `
Creates release VERSION of your game SLUG if needed, uploads BUILD.zip (skipped when the release
already has this very build) and waits for the server's checks. In CI, SATCHEL_NSEC holds the
developer's secret key.

Flags:
  --notes FILE   the release notes (Markdown)
  --publish      publish the release once the build is in

Examples:
  satchel push lantern-drift 1.2.0 dist/lantern-drift.zip --notes CHANGES.md --publish
  SATCHEL_NSEC="$NSEC" satchel --server https://store.example.com push lantern-drift 1.2.0 build.zip
`},
	{"developer", "developer [--address NAME@DOMAIN] [--studio NAME]", "your payout address and studio name (developers)", `
Shows where your sales are paid and the studio your games are shown "by". --address sets or
changes the Lightning Address (the server checks it answers, and accepts your share of a sale,
before it takes it; the first one makes you a developer); --studio sets the studio name ("-"
clears it).

Examples:
  satchel developer --address you@wallet.example
  satchel developer --studio "Lantern Works"
`},
	{"media", "media SLUG [--cover FILE] [--screenshot FILE]... [--remove ID]...", "set your game's cover and screenshots (developers, CI)", `
Uploads PNG, JPEG or WebP images (at most 10 MiB, each side 16 to 4096 pixels) as the store's
images of your game SLUG: --cover replaces its cover, each --screenshot goes last (8 at most),
and --remove takes an image away by its id. With no flag it lists the game's images: kind,
size in pixels, id and URL.

Examples:
  satchel media lantern-drift --cover art/cover.png --screenshot art/river.png --screenshot art/shrine.jpg
  satchel media lantern-drift --remove 3f0c9a3e-...
`},
	{"status", "status SLUG", "a game and its releases as the server has them", `
With the game on this machine: its install, and the size of an install or update under way,
interrupted or available ("Update 1.2.0: 14 MiB of 1.1 GiB": the bytes it downloads, of the
whole build; an interrupted one also says how much of it is downloaded).

Examples:
  satchel status lantern-drift
`},
	{"help", "help [COMMAND]", "this help, or a command's", `
Also: satchel COMMAND --help (or -h).

Examples:
  satchel help install
  satchel identity new --help
`},
}

// usageFooter is the end of `satchel help`: global flags, environment and exit codes.
const usageFooter = `
Global flags (anywhere on the command line):
  --server URL       the store ($SATCHEL_SERVER, else the settings, else http://127.0.0.1:8080)
  --json             one JSON document on standard output; progress as JSON lines on stderr
  --identity ID      the identity to sign with ($SATCHEL_IDENTITY, else the active one)
  --data-dir DIR     games and state ($SATCHEL_DATA_DIR; $SATCHEL_STATE_DIR moves the state)
  --config-dir DIR   settings and identities ($SATCHEL_CONFIG_DIR)

satchel --version prints the version, commit and Go version of this satchel.

Folders by default: on Linux $XDG_DATA_HOME/satchel (~/.local/share/satchel), the state in
$XDG_STATE_HOME/satchel (~/.local/state/satchel), $XDG_CONFIG_HOME/satchel (~/.config/satchel);
on Windows %LOCALAPPDATA%\Satchel, settings in %APPDATA%\Satchel; on macOS
~/Library/Application Support/Satchel. Secret keys live in the OS keyring: the Secret Service
on Linux, Windows Credential Manager, the macOS Keychain.

In CI, where there is no keyring, SATCHEL_NSEC holds the secret key (nsec1... or hex): satchel
signs with it and never touches the keyring.

Exit codes:
  0   success (help included)
  1   another failure
  2   usage: an unknown command or flag, a missing argument
  3   the server cannot be reached
  4   no such game, release or install
  5   refused by the server (signature, permission, state, input)
  6   verification failed: a download or an installed file does not match the build
  7   identity or keyring problem
  8   the game failed to launch, or exited with another code than 0
  9   another satchel process is working on the game
  10  not enough disk space
`

// helpFlags are the arguments that ask for a command's help.
var helpFlags = map[string]bool{"-h": true, "--help": true, "-help": true}

// wantsHelp reports whether args (before a "--") ask for help.
func wantsHelp(args []string) bool {
	for _, arg := range args {
		if arg == "--" {
			return false
		}
		if helpFlags[arg] {
			return true
		}
	}
	return false
}

// printHelp prints the help of the command that words name (the longest match: "identity new
// --label x" is identity new), or the list of commands when words name none. Words that name no
// command are a usage error.
func printHelp(w io.Writer, words []string) error {
	var names []string
	for _, word := range words {
		if strings.HasPrefix(word, "-") {
			break
		}
		names = append(names, word)
	}
	if len(names) == 0 {
		fmt.Fprint(w, "satchel: the Satchel launcher from the command line\n\nUsage: satchel [global flags] COMMAND [flags] [arguments]\n\nCommands:\n")
		for _, c := range commands {
			fmt.Fprintf(w, "  %-56s %s\n", c.usage, c.summary)
		}
		fmt.Fprint(w, "\nsatchel help COMMAND (or satchel COMMAND --help) shows a command's flags and examples.\n", usageFooter)
		return nil
	}
	for n := len(names); n > 0; n-- {
		name := strings.Join(names[:n], " ")
		for _, c := range commands {
			if c.name == name {
				fmt.Fprintf(w, "Usage: satchel %s\n\n%s\n%s", c.usage, c.summary, c.help)
				return nil
			}
		}
	}
	return usagef("no command %q", strings.Join(names, " "))
}
