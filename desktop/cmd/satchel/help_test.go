package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"satchel.dev/desktop/core"
	"satchel.dev/desktop/install"
	"satchel.dev/desktop/signer"
)

// runCLI runs the command line in-process with an empty environment: help and usage errors
// need no folder, keyring or server.
func runCLI(args ...string) (code int, stdout, stderr string) {
	return runCLIEnv(nil, args...)
}

// runCLIEnv runs the command line in-process with the environment env.
func runCLIEnv(env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelpOfEveryCommand(t *testing.T) {
	for _, c := range commands {
		words := strings.Fields(c.name)
		for _, args := range [][]string{
			append(append([]string{}, words...), "--help"),
			append(append([]string{}, words...), "-h"),
			append([]string{"help"}, words...),
			append(append([]string{"--json"}, words...), "--help"),
		} {
			code, out, errOut := runCLI(args...)
			if code != exitOK || errOut != "" {
				t.Errorf("satchel %s: exit %d, stderr %q", strings.Join(args, " "), code, errOut)
			}
			if !strings.HasPrefix(out, "Usage: satchel "+c.usage+"\n") || !strings.Contains(out, "Examples:\n  satchel ") {
				t.Errorf("satchel %s printed no usage line and examples:\n%s", strings.Join(args, " "), out)
			}
		}
	}
}

func TestHelpAmongArguments(t *testing.T) {
	code, out, _ := runCLI("install", "lantern-drift", "--version", "1.0.0", "-h")
	if code != exitOK || !strings.HasPrefix(out, "Usage: satchel install ") {
		t.Errorf("satchel install lantern-drift --version 1.0.0 -h: exit %d\n%s", code, out)
	}
	// After "--", -h is an argument like any other.
	dirs := map[string]string{"SATCHEL_DATA_DIR": t.TempDir(), "SATCHEL_CONFIG_DIR": t.TempDir()}
	if code, _, _ := runCLIEnv(dirs, "launch", "lantern-drift", "--", "-h"); code != exitUsage {
		t.Errorf("satchel launch lantern-drift -- -h: exit %d, want the usage error of an extra argument", code)
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}, {"--server", "http://x", "--help"}} {
		code, out, _ := runCLI(args...)
		if code != exitOK {
			t.Errorf("satchel %s: exit %d", strings.Join(args, " "), code)
		}
		for _, c := range commands {
			if !strings.Contains(out, "  "+c.usage+" ") {
				t.Errorf("satchel %s does not list %q", strings.Join(args, " "), c.usage)
			}
		}
	}
}

// TestEveryCommandHasHelp: the commands the CLI runs and the commands with help are the same.
func TestEveryCommandHasHelp(t *testing.T) {
	helped := map[string]bool{}
	for _, c := range commands {
		helped[strings.Fields(c.name)[0]] = true
	}
	runners := (&app{}).runners()
	for name := range runners {
		if !helped[name] {
			t.Errorf("command %q has no help", name)
		}
	}
	for name := range helped {
		if _, ok := runners[name]; !ok && name != "help" {
			t.Errorf("help of %q, which is no command", name)
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"help", "frobnicate"}, {"frobnicate", "--help"}, {"--server"}} {
		if code, _, errOut := runCLI(args...); code != exitUsage || !strings.Contains(errOut, "satchel help") {
			t.Errorf("satchel %s: exit %d, stderr %q; want exit 2 and a pointer to satchel help", strings.Join(args, " "), code, errOut)
		}
	}
}

// TestExitCodes: every exit code the help documents is the one its kind of error gets.
func TestExitCodes(t *testing.T) {
	tests := []struct {
		err  error
		code int
	}{
		{nil, 0},
		{errors.New("disk on fire"), 1},
		{usagef("no command given"), 2},
		{connect.NewError(connect.CodeUnavailable, errors.New("connection refused")), 3},
		{connect.NewError(connect.CodeDeadlineExceeded, errors.New("timeout")), 3},
		{core.ErrUnknownGame, 4},
		{install.ErrNotInstalled, 4},
		{connect.NewError(connect.CodeNotFound, errors.New("no release 9.9")), 4},
		{connect.NewError(connect.CodePermissionDenied, errors.New("not your game")), 5},
		{connect.NewError(connect.CodeUnauthenticated, errors.New("bad signature")), 5},
		{connect.NewError(connect.CodeFailedPrecondition, errors.New("not published")), 5},
		{connect.NewError(connect.CodeInvalidArgument, errors.New("bad version")), 5},
		{fmt.Errorf("README.txt: %w", install.ErrVerify), 6},
		{signer.ErrKeyringUnavailable, 7},
		{signer.ErrNoIdentity, 7},
		{core.ErrNoSigner, 7},
		{gameExit{"exited with 3"}, 8},
		{fmt.Errorf("%w: no target for this system", core.ErrLaunch), 8},
		{install.ErrBusy, 9},
		{install.ErrDiskSpace, 10},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.code {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.code)
		}
		if !strings.Contains(usageFooter, fmt.Sprintf("\n  %-3d ", tt.code)) {
			t.Errorf("exit code %d is not documented in satchel help", tt.code)
		}
	}
}
