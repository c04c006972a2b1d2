// Package launch finds what to run in an installed game and runs it.
//
// A build names its launch target in satchel.toml at the root of its zip:
//
//	[launch.linux-amd64]          # or [launch.linux] for any architecture
//	exec = "bin/game"             # relative to the install folder
//	args = ["-title", "My Game"]  # optional
//	working_dir = "."             # optional, relative to the install folder
//	terminal = true               # optional: the game draws in a terminal (see TerminalCommand)
//
// Without satchel.toml the target is the only executable file at the top level of the build:
// a file with an executable bit on Linux and macOS, an .exe on Windows. Anything else (no
// section for this OS and architecture, no or several executables, a path that leaves the
// install folder, also through a symbolic link) is an *Error that says what the developer must
// fix. The launcher never runs a path outside the install folder. Gaps lists the platforms a
// build cannot be launched on, before it is uploaded.
//
// A running game is a process tree the launcher can stop as a whole: a process group on Unix,
// a Job Object on Windows (proc_unix.go, proc_windows.go).
package launch

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/BurntSushi/toml"
)

// ManifestName is the launch manifest at the root of a build.
const ManifestName = "satchel.toml"

// Manifest is the content of satchel.toml.
type Manifest struct {
	// Launch maps "<os>-<arch>" (Go's names: linux-amd64, windows-amd64, darwin-arm64) or
	// "<os>" to the launch target.
	Launch map[string]Target `toml:"launch"`
}

// Target is one launch target of satchel.toml.
type Target struct {
	Exec       string   `toml:"exec"`
	Args       []string `toml:"args"`
	WorkingDir string   `toml:"working_dir"`
	// Terminal says the game is a terminal program: launched from a desktop, it needs a
	// terminal window (Options.Terminal).
	Terminal bool `toml:"terminal"`
}

// Spec is a resolved launch: everything needed to run the game.
type Spec struct {
	Dir     string   // the install folder, absolute
	Path    string   // the program, absolute, inside Dir
	Args    []string // its arguments
	WorkDir string   // its working directory, absolute, inside Dir
	// Source says where the target came from: `satchel.toml [launch.linux-amd64]` or
	// "the only executable at the top level".
	Source string
	// Terminal is the target's terminal setting.
	Terminal bool
}

// Error is a build that cannot be launched, with the reason.
type Error struct{ Reason string }

func (e *Error) Error() string { return "cannot launch this build: " + e.Reason }

func failf(format string, args ...any) error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// ParseManifest parses satchel.toml. Unknown keys are errors, so a typo does not go unnoticed.
func ParseManifest(data string) (Manifest, error) {
	var m Manifest
	md, err := toml.Decode(data, &m)
	if err != nil {
		return Manifest{}, failf("%s is not valid TOML: %v", ManifestName, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return Manifest{}, failf("%s has unknown keys: %s (known: launch.<os>-<arch>.exec, args, working_dir, terminal)", ManifestName, strings.Join(keys, ", "))
	}
	return m, nil
}

// Resolve finds the launch target of the build installed in dir for goos/goarch, and makes
// sure it is executable (setting its exec bits if the zip lacked them). It refuses any path
// that is absolute, climbs out with "..", or resolves (through symbolic links) outside dir.
func Resolve(dir, goos, goarch string) (Spec, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Spec{}, err
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return Spec{}, fmt.Errorf("the install folder %s: %w", dir, err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return resolveOnlyExecutable(dir, goos)
	}
	if err != nil {
		return Spec{}, err
	}
	m, err := ParseManifest(string(data))
	if err != nil {
		return Spec{}, err
	}
	where, t, err := m.target(goos, goarch)
	if err != nil {
		return Spec{}, err
	}
	path, err := inside(dir, realDir, t.Exec, where+" exec")
	if err != nil {
		return Spec{}, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return Spec{}, failf("%s exec %q is not in the build", where, t.Exec)
	}
	if !fi.Mode().IsRegular() {
		return Spec{}, failf("%s exec %q is not a regular file", where, t.Exec)
	}
	if err := runnable(goos, where, t.Exec); err != nil {
		return Spec{}, err
	}
	if err := makeExecutable(path, fi, goos); err != nil {
		return Spec{}, err
	}
	work := dir
	if t.WorkingDir != "" {
		if work, err = inside(dir, realDir, t.WorkingDir, where+" working_dir"); err != nil {
			return Spec{}, err
		}
		if fi, err := os.Stat(work); err != nil || !fi.IsDir() {
			return Spec{}, failf("%s working_dir %q is not a folder of the build", where, t.WorkingDir)
		}
	}
	return Spec{Dir: dir, Path: path, Args: t.Args, WorkDir: work, Source: where, Terminal: t.Terminal}, nil
}

// target returns the section of m for goos/goarch ([launch.<os>-<arch>], else [launch.<os>])
// and where it is, as "satchel.toml [launch.<key>]"; an *Error when there is none or it names
// no program.
func (m Manifest) target(goos, goarch string) (string, Target, error) {
	key := goos + "-" + goarch
	t, ok := m.Launch[key]
	if !ok {
		key = goos
		t, ok = m.Launch[key]
	}
	if !ok {
		var have []string
		for k := range m.Launch {
			have = append(have, k)
		}
		sort.Strings(have)
		return "", Target{}, failf("%s has no [launch.%s-%s] or [launch.%s] section (it has: %s): this build does not run on %s-%s",
			ManifestName, goos, goarch, goos, strings.Join(have, ", "), goos, goarch)
	}
	where := fmt.Sprintf("%s [launch.%s]", ManifestName, key)
	if t.Exec == "" {
		return "", Target{}, failf("%s has no exec: name the program to run, relative to the build's root", where)
	}
	return where, t, nil
}

// runnable refuses an exec (named at where) that goos cannot run by its name: Windows runs
// only .exe files.
func runnable(goos, where, exec string) error {
	if goos == "windows" && !executable(goos, exec, 0) {
		return failf("%s exec %q is not an .exe: Windows runs only .exe files", where, exec)
	}
	return nil
}

// leaves is the *Error of a path (what, rel as written) that is not inside the build.
func leaves(what, rel string) error {
	return failf("%s %q leaves the install folder: it must be a relative path inside the build, without ..", what, rel)
}

// inside returns dir/rel after checking that it stays inside dir, also once every symbolic
// link on the way is resolved (realDir is dir resolved).
func inside(dir, realDir, rel, what string) (string, error) {
	native := filepath.FromSlash(rel)
	if !filepath.IsLocal(native) {
		return "", leaves(what, rel)
	}
	p := filepath.Join(dir, native)
	real, err := filepath.EvalSymlinks(p)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil // reported by the caller as missing
	}
	if err != nil {
		return "", failf("%s %q: %v", what, rel, err)
	}
	if r, err := filepath.Rel(realDir, real); err != nil || !filepath.IsLocal(r) {
		return "", failf("%s %q leads outside the install folder (through a symbolic link): refusing to run it", what, rel)
	}
	return real, nil
}

func resolveOnlyExecutable(dir, goos string) (Spec, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return Spec{}, err
	}
	name, err := onlyExecutable(ents, goos)
	if err != nil {
		return Spec{}, err
	}
	return Spec{Dir: dir, Path: filepath.Join(dir, name), WorkDir: dir, Source: "the only executable at the top level"}, nil
}

// onlyExecutable returns the one entry of ents (a build's top level) that is a program on goos,
// or an *Error saying there is none or several.
func onlyExecutable(ents []fs.DirEntry, goos string) (string, error) {
	var exes []string
	for _, e := range ents {
		if !e.Type().IsRegular() { // symbolic links and folders never count
			continue
		}
		fi, err := e.Info()
		if err == nil && executable(goos, e.Name(), fi.Mode()) {
			exes = append(exes, e.Name())
		}
	}
	kind := "executable file"
	if goos == "windows" {
		kind = ".exe file"
	}
	switch len(exes) {
	case 1:
		return exes[0], nil
	case 0:
		return "", failf("the build has no %s and no %s at its top level: the developer must add a %s naming the program to run", ManifestName, kind, ManifestName)
	default:
		return "", failf("the build has no %s and several %ss at its top level (%s): the developer must add a %s naming the one to run",
			ManifestName, kind, strings.Join(exes, ", "), ManifestName)
	}
}

// executable reports whether a regular file of this name and mode is a program on goos: an
// .exe on Windows, which has no executable bits; a file with one on every other system.
func executable(goos, name string, mode fs.FileMode) bool {
	if goos == "windows" {
		return strings.EqualFold(filepath.Ext(name), ".exe")
	}
	return mode.Perm()&0o111 != 0
}

// makeExecutable sets the exec bits of the program path (described by fi) if the zip lacked
// them; on Windows there are none to set.
func makeExecutable(path string, fi fs.FileInfo, goos string) error {
	if goos == "windows" || fi.Mode().Perm()&0o100 != 0 {
		return nil
	}
	if err := os.Chmod(path, fi.Mode().Perm()|0o111); err != nil {
		return fmt.Errorf("making %s executable: %w", path, err)
	}
	return nil
}

// Options are what a launched game gets besides its Spec.
type Options struct {
	// Env is the game's environment; nil means the launcher's own.
	Env []string
	// Stdout and Stderr receive the game's output; nil discards it.
	Stdout, Stderr io.Writer
	// Terminal, for a game whose Spec.Terminal is set, is the terminal emulator command the
	// game runs in (TerminalCommand), placed before the game's own: the process launched,
	// watched and stopped is then the terminal's, and the game's output is in its window
	// (Stdout and Stderr get the terminal's own). Nil runs a terminal game like any other.
	Terminal []string
}

// Exit is how a game's process ended.
type Exit struct {
	// Code is the exit code; -1 when a signal ended the process.
	Code int
	// Signal names the signal that ended the process, if one did.
	Signal string
	// Ran is how long the process ran.
	Ran time.Duration
	// Err is set when waiting for the process failed.
	Err error
}

// Success reports whether the process exited with code 0.
func (e Exit) Success() bool { return e.Err == nil && e.Code == 0 }

func (e Exit) String() string {
	switch {
	case e.Err != nil:
		return e.Err.Error()
	case e.Signal != "":
		return "killed by " + e.Signal
	}
	return fmt.Sprintf("exit code %d", e.Code)
}

// Process is a running game.
type Process struct {
	cmd     *exec.Cmd
	tree    *tree
	spec    Spec
	started time.Time
	done    chan struct{}
	exit    Exit
}

// Start runs the game described by spec, in a process tree of its own: a Ctrl-C meant for the
// launcher's terminal does not reach it, and Stop reaches every process it starts. The game is
// the caller's to watch (Done, Wait) and to stop (Stop); it keeps running if the launcher exits.
func Start(spec Spec, opts Options) (*Process, error) {
	if spec.Path == "" || spec.Dir == "" {
		return nil, errors.New("launch: empty Spec: call Resolve first")
	}
	argv := append([]string{spec.Path}, spec.Args...)
	if spec.Terminal && len(opts.Terminal) > 0 {
		argv = append(slices.Clip(opts.Terminal), argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = spec.WorkDir
	cmd.Env = opts.Env
	cmd.Stdout, cmd.Stderr = opts.Stdout, opts.Stderr
	t, err := startTree(cmd)
	if err != nil {
		return nil, failf("starting %s: %v", spec.Path, err)
	}
	p := &Process{cmd: cmd, tree: t, spec: spec, started: time.Now(), done: make(chan struct{})}
	go p.wait()
	return p, nil
}

func (p *Process) wait() {
	err := p.cmd.Wait()
	e := Exit{Ran: time.Since(p.started)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		e.Code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			e.Signal = ws.Signal().String()
		}
	default:
		e.Code, e.Err = -1, err
	}
	p.exit = e
	p.tree.release()
	close(p.done)
}

// PID is the game's process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Spec is what was launched.
func (p *Process) Spec() Spec { return p.spec }

// StartedAt is when the game started.
func (p *Process) StartedAt() time.Time { return p.started }

// Done is closed when the game has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the game to exit and says how it ended.
func (p *Process) Wait() Exit {
	<-p.done
	return p.exit
}

// Stop ends the game's process tree. On Unix it asks (SIGTERM to the process group), so the
// game may save first. Windows has no such request for a game: there every process of its Job
// Object ends at once, with exit code 1. Once the game has exited, Stop returns
// os.ErrProcessDone on Windows.
func (p *Process) Stop() error { return p.tree.stop() }
