// Package launch finds what to run in an installed game and runs it.
//
// A build names its launch target in satchel.toml at the root of its zip:
//
//	[launch.linux-amd64]          # or [launch.linux] for any architecture
//	exec = "bin/game"             # relative to the install folder
//	args = ["-title", "My Game"]  # optional
//	working_dir = "."             # optional, relative to the install folder
//
// Without satchel.toml the target is the only executable file at the top level of the build.
// Anything else (no section for this OS and architecture, no or several executables, a path
// that leaves the install folder, also through a symbolic link) is an *Error that says what
// the developer must fix. The launcher never runs a path outside the install folder.
package launch

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
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
		return Manifest{}, failf("%s has unknown keys: %s (known: launch.<os>-<arch>.exec, args, working_dir)", ManifestName, strings.Join(keys, ", "))
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
		return resolveOnlyExecutable(dir)
	}
	if err != nil {
		return Spec{}, err
	}
	m, err := ParseManifest(string(data))
	if err != nil {
		return Spec{}, err
	}
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
		return Spec{}, failf("%s has no [launch.%s-%s] or [launch.%s] section (it has: %s): this build does not run on %s-%s",
			ManifestName, goos, goarch, goos, strings.Join(have, ", "), goos, goarch)
	}
	where := fmt.Sprintf("%s [launch.%s]", ManifestName, key)
	if t.Exec == "" {
		return Spec{}, failf("%s has no exec: name the program to run, relative to the build's root", where)
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
	if err := makeExecutable(path, fi); err != nil {
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
	return Spec{Dir: dir, Path: path, Args: t.Args, WorkDir: work, Source: where}, nil
}

// inside returns dir/rel after checking that it stays inside dir, also once every symbolic
// link on the way is resolved (realDir is dir resolved).
func inside(dir, realDir, rel, what string) (string, error) {
	native := filepath.FromSlash(rel)
	if !filepath.IsLocal(native) {
		return "", failf("%s %q leaves the install folder: it must be a relative path inside the build, without ..", what, rel)
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

func resolveOnlyExecutable(dir string) (Spec, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return Spec{}, err
	}
	var exes []string
	for _, e := range ents {
		if !e.Type().IsRegular() { // symbolic links and folders never count
			continue
		}
		fi, err := e.Info()
		if err == nil && fi.Mode().Perm()&0o111 != 0 {
			exes = append(exes, e.Name())
		}
	}
	switch len(exes) {
	case 1:
		return Spec{Dir: dir, Path: filepath.Join(dir, exes[0]), WorkDir: dir, Source: "the only executable at the top level"}, nil
	case 0:
		return Spec{}, failf("the build has no %s and no executable file at its top level: the developer must add a %s naming the program to run", ManifestName, ManifestName)
	default:
		return Spec{}, failf("the build has no %s and several executable files at its top level (%s): the developer must add a %s naming the one to run",
			ManifestName, strings.Join(exes, ", "), ManifestName)
	}
}

func makeExecutable(path string, fi fs.FileInfo) error {
	if fi.Mode().Perm()&0o100 != 0 {
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
	spec    Spec
	started time.Time
	done    chan struct{}
	exit    Exit
}

// Start runs the game described by spec. The process is the caller's to watch (Done, Wait)
// and to stop (Stop); it keeps running if the launcher exits.
func Start(spec Spec, opts Options) (*Process, error) {
	if spec.Path == "" || spec.Dir == "" {
		return nil, errors.New("launch: empty Spec: call Resolve first")
	}
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Dir = spec.WorkDir
	cmd.Env = opts.Env
	cmd.Stdout, cmd.Stderr = opts.Stdout, opts.Stderr
	// Its own process group: a Ctrl-C meant for the launcher's terminal does not kill the game.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, failf("starting %s: %v", spec.Path, err)
	}
	p := &Process{cmd: cmd, spec: spec, started: time.Now(), done: make(chan struct{})}
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

// Stop asks the game to end (SIGTERM to its process group).
func (p *Process) Stop() error {
	return syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
}
