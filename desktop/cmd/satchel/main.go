// Command satchel is the Satchel launcher without a window: the same engine (package core)
// for players at a terminal, for scripts, and for developers' CI pipelines.
//
//	satchel [global flags] <command> [flags] [arguments]
//
// Identity (the secret key lives only in the OS keyring):
//
//	identity new [--label L]        create an identity and make it the active one
//	identity import [--label L]     import a key (nsec1... or 64 hex) read from standard input
//	identity show [ID]              show the active identity (or ID): npub and hex public key
//	identity list                   list the identities
//	identity use ID                 make ID (npub, hex or label) the active identity
//	identity export [ID]            print the secret key (nsec): only on explicit request
//	identity remove ID              remove the identity and its key from the keyring
//
// Playing:
//
//	library                         owned and installed games (local state when offline)
//	library move DIR                move every installed game to DIR (resumes if interrupted)
//	buy SLUG [--guest] [--pay-test-money] [--no-wait]
//	                                buy a game: print the Lightning invoice and wait until paid
//	claim CODE                      move a guest purchase to your identity
//	install SLUG [--version V] [--receipt CODE]
//	                                download, verify and install (or update, or resume)
//	launch SLUG [--detach]          run the installed game (no network needed)
//	uninstall SLUG                  remove the game's files
//	verify SLUG [--repair]          re-hash the installed files; restore damaged ones
//	sync [--once]                   follow the library and auto-update until stopped
//	config [set KEY VALUE]          show or change settings: server, auto-update (on/off),
//	                                speed-limit (bytes/s, K/M/G suffixes, 0 = none), max-downloads
//	auto-update SLUG on|off|default per-game auto-update
//
// Developing:
//
//	push SLUG VERSION BUILD.zip [--notes FILE] [--publish]
//	                                upload a build as release VERSION (created if needed)
//	status SLUG                     the game and its releases as the server has them
//
// Global flags: --server URL ($SATCHEL_SERVER, else the settings, else
// http://127.0.0.1:8080), --json (one JSON document on standard output; progress as JSON
// lines on standard error), --identity ID ($SATCHEL_IDENTITY), --data-dir
// ($SATCHEL_DATA_DIR, else $XDG_DATA_HOME/satchel), --config-dir ($SATCHEL_CONFIG_DIR, else
// $XDG_CONFIG_HOME/satchel).
//
// In CI, where there is no keyring, SATCHEL_NSEC holds the secret key (nsec1... or hex): the
// CLI then signs with it and never touches the keyring. The desktop launcher itself always
// uses the keyring.
//
// Exit codes: 0 success; 1 other failure; 2 usage; 3 the server cannot be reached; 4 no such
// game, release or install; 5 refused by the server (signature, permission, state, input);
// 6 verification failed (a download or an installed file does not match the build);
// 7 identity or keyring problem; 8 the game failed to launch or exited with another code than
// 0; 9 another satchel process is working on the game; 10 not enough disk space.
//
// Test hook: when SATCHEL_TEST_CRASH_AT names an install step (mid-download, after-download,
// mid-extract, after-extract, after-rename), the process kills itself with SIGKILL at that
// step, so tests can show that the next start recovers. Never set it otherwise.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"connectrpc.com/connect"

	"satchel.dev/desktop/client"
	"satchel.dev/desktop/core"
	"satchel.dev/desktop/install"
	"satchel.dev/desktop/settings"
	"satchel.dev/desktop/signer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK       = 0
	exitFail     = 1
	exitUsage    = 2
	exitOffline  = 3
	exitNotFound = 4
	exitRefused  = 5
	exitVerify   = 6
	exitIdentity = 7
	exitGame     = 8
	exitBusy     = 9
	exitSpace    = 10
)

// usageError is a command line mistake.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// gameExit is a game that ended with another code than 0.
type gameExit struct{ msg string }

func (e gameExit) Error() string { return e.msg }

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var ue usageError
	var ge gameExit
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ge), errors.Is(err, core.ErrLaunch):
		return exitGame
	case errors.Is(err, signer.ErrKeyringUnavailable), errors.Is(err, signer.ErrKeyringLocked),
		errors.Is(err, signer.ErrNoIdentity), errors.Is(err, signer.ErrKeyMissing):
		return exitIdentity
	case errors.Is(err, install.ErrBusy), errors.Is(err, install.ErrMoving):
		return exitBusy
	case errors.Is(err, install.ErrVerify):
		return exitVerify
	case errors.Is(err, install.ErrDiskSpace):
		return exitSpace
	case errors.Is(err, install.ErrNotInstalled), errors.Is(err, core.ErrUnknownGame):
		return exitNotFound
	case client.Offline(err):
		return exitOffline
	}
	switch connect.CodeOf(err) {
	case connect.CodeNotFound:
		return exitNotFound
	case connect.CodeUnauthenticated, connect.CodePermissionDenied, connect.CodeFailedPrecondition,
		connect.CodeInvalidArgument, connect.CodeAlreadyExists, connect.CodeResourceExhausted:
		return exitRefused
	}
	return exitFail
}

// app is one run of the command.
type app struct {
	ctx            context.Context
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
	json           bool
	server         string
	identity       string
	dirs           settings.Dirs
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{ctx: ctx, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	err := a.main(args)
	code := exitCode(err)
	if err != nil {
		if a.json {
			a.printJSON(map[string]any{"error": map[string]any{"message": err.Error(), "exit_code": code}})
		} else {
			fmt.Fprintln(stderr, "satchel:", err)
			var ue usageError
			if errors.As(err, &ue) {
				fmt.Fprintln(stderr, "run `satchel help` for the commands")
			}
		}
	}
	return code
}

func (a *app) main(args []string) error {
	// Global flags may come anywhere: `satchel library --json` works like `satchel --json library`.
	fs := flag.NewFlagSet("satchel", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&a.json, "json", false, "JSON output")
	fs.StringVar(&a.server, "server", a.getenv("SATCHEL_SERVER"), "server URL")
	fs.StringVar(&a.identity, "identity", a.getenv("SATCHEL_IDENTITY"), "identity to use")
	dataDir := fs.String("data-dir", "", "data folder")
	configDir := fs.String("config-dir", "", "config folder")
	globals, rest, err := splitGlobals(fs, args)
	if err != nil {
		return err
	}
	if err := fs.Parse(globals); err != nil {
		return usagef("%v", err)
	}
	dirs, err := settings.DefaultDirs(a.getenv)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		dirs.Data = *dataDir
	}
	if *configDir != "" {
		dirs.Config = *configDir
	}
	a.dirs = dirs
	if len(rest) == 0 {
		return usagef("no command given")
	}
	cmd, rest := rest[0], rest[1:]
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprint(a.stdout, helpText)
		return nil
	case "identity":
		return a.identityCmd(rest)
	case "library":
		if len(rest) > 0 && rest[0] == "move" {
			return a.moveCmd(rest[1:])
		}
		return a.libraryCmd(rest)
	case "buy":
		return a.buyCmd(rest)
	case "claim":
		return a.claimCmd(rest)
	case "install":
		return a.installCmd(rest)
	case "launch":
		return a.launchCmd(rest)
	case "uninstall":
		return a.uninstallCmd(rest)
	case "verify":
		return a.verifyCmd(rest)
	case "sync":
		return a.syncCmd(rest)
	case "config":
		return a.configCmd(rest)
	case "auto-update":
		return a.autoUpdateCmd(rest)
	case "push":
		return a.pushCmd(rest)
	case "status":
		return a.statusCmd(rest)
	}
	return usagef("unknown command %q", cmd)
}

// splitGlobals takes the global flags out of args, wherever they are (up to a "--").
func splitGlobals(fs *flag.FlagSet, args []string) (globals, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return globals, append(rest, args[i:]...), nil
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		f := fs.Lookup(name)
		if !strings.HasPrefix(arg, "-") || f == nil {
			rest = append(rest, arg)
			continue
		}
		globals = append(globals, arg)
		if _, isBool := f.Value.(interface{ IsBoolFlag() bool }); !isBool && !hasValue {
			if i+1 >= len(args) {
				return nil, nil, usagef("flag %s needs a value", arg)
			}
			i++
			globals = append(globals, args[i])
		}
	}
	return globals, rest, nil
}

const helpText = `satchel: the Satchel launcher from the command line

identity new|import|show|list|use|export|remove    your identity (kept in the OS keyring)
library [move DIR]                                 your games; move the library folder
buy SLUG [--guest] [--pay-test-money]              buy a game with a Lightning invoice
claim CODE                                         claim a guest purchase
install SLUG [--version V]                         install or update a game
launch SLUG [--detach]                             play an installed game (works offline)
uninstall SLUG                                     remove a game's files
verify SLUG [--repair]                             check (and repair) an installed game
sync [--once]                                      follow your library, auto-update
config [set KEY VALUE]                             settings (server, auto-update, speed-limit, max-downloads)
auto-update SLUG on|off|default                    per-game auto-update
push SLUG VERSION BUILD.zip [--notes F] [--publish] upload a build (developers, CI)
status SLUG                                        a game's releases on the server

global flags: --server URL --json --identity ID --data-dir DIR --config-dir DIR
CI: SATCHEL_NSEC=<nsec> signs without a keyring
`
