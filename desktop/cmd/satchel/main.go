// Command satchel is the Satchel launcher without a window: the same engine (package core)
// for players at a terminal, for scripts, and for developers' CI pipelines.
//
//	satchel [global flags] COMMAND [flags] [arguments]
//
// `satchel help` lists the commands, the global flags, the environment and the exit codes
// (help.go); `satchel help COMMAND` and `satchel COMMAND --help` show a command's flags and
// examples, and exit 0. `satchel --version` (where a command would be) prints "satchel " and
// buildinfo's version, commit and Go version, and exits 0.
//
// Secret keys live in the OS keyring: Windows Credential Manager, the macOS Keychain, the
// Secret Service on Linux. The folders are each OS's (settings.DirsFor; `satchel help` names
// them).
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
	"satchel.dev/shared/buildinfo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes, as `satchel help` documents them (usageFooter): exitCode maps errors to them.
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
		errors.Is(err, signer.ErrNoIdentity), errors.Is(err, signer.ErrKeyMissing), errors.Is(err, core.ErrNoSigner):
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
	if len(rest) == 0 {
		return usagef("no command given")
	}
	cmd, rest := rest[0], rest[1:]
	switch {
	case cmd == "--version" || cmd == "-version": // not a global flag: install has its own --version
		info := buildinfo.Read()
		a.out(info, func(w io.Writer) { fmt.Fprintln(w, "satchel", info) })
		return nil
	case helpFlags[cmd], cmd == "help" && !wantsHelp(rest):
		return printHelp(a.stdout, rest)
	case wantsHelp(rest):
		return printHelp(a.stdout, append([]string{cmd}, rest...))
	}
	r, ok := a.runners()[cmd]
	if !ok {
		return usagef("unknown command %q", cmd)
	}
	// --data-dir and --config-dir act as SATCHEL_DATA_DIR and SATCHEL_CONFIG_DIR (the state
	// follows the data folder the same way).
	dirs, err := settings.DefaultDirs(func(k string) string {
		switch {
		case k == "SATCHEL_DATA_DIR" && *dataDir != "":
			return *dataDir
		case k == "SATCHEL_CONFIG_DIR" && *configDir != "":
			return *configDir
		}
		return a.getenv(k)
	})
	if err != nil {
		return err
	}
	a.dirs = dirs
	return r(rest)
}

// runners are the commands by their first word; each has its help in commands (help.go).
func (a *app) runners() map[string]func(args []string) error {
	return map[string]func([]string) error{
		"identity": a.identityCmd,
		"library": func(args []string) error {
			if len(args) > 0 && args[0] == "move" {
				return a.moveCmd(args[1:])
			}
			return a.libraryCmd(args)
		},
		"buy":         a.buyCmd,
		"claim":       a.claimCmd,
		"install":     a.installCmd,
		"launch":      a.launchCmd,
		"uninstall":   a.uninstallCmd,
		"verify":      a.verifyCmd,
		"sync":        a.syncCmd,
		"config":      a.configCmd,
		"auto-update": a.autoUpdateCmd,
		"push":        a.pushCmd,
		"media":       a.mediaCmd,
		"developer":   a.developerCmd,
		"status":      a.statusCmd,
	}
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
