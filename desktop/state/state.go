// Package state is the launcher's local state: which games it knows, what is installed where,
// which version is current, and what is in progress. It is what lets installed games launch
// with no server and what the launcher recovers from after a crash.
//
// The state is one small JSON file (state.json in the state folder), replaced atomically
// (temporary file, fsync, rename, fsync of the folder) on every change, so a crash leaves
// either the state before a step or the state after it. Changes are read-modify-write under
// an advisory file lock, so several launcher processes (the window and the CLI) can share it.
// Build manifests, which can hold thousands of files, are kept in the data folder, one file
// per release, written before the state that refers to them.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"satchel.dev/desktop/internal/fsutil"
)

// State is everything the launcher knows locally.
type State struct {
	// Library is the absolute path of the library folder: <Library>/<slug>/<version>/ holds
	// each installed version, <Library>/.downloads the builds being downloaded.
	Library string `json:"library"`
	// Move is set while the library is being moved to another folder.
	Move *Move `json:"move,omitempty"`
	// Games by slug.
	Games map[string]*Game `json:"games,omitempty"`
}

// Move records a library move in progress, so an interrupted move resumes.
type Move struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Done lists the entries of the library (game slugs, and ".downloads") already at To.
	Done []string `json:"done,omitempty"`
}

// Game is one game the launcher knows: owned (from the server's library) or installed.
type Game struct {
	Slug   string `json:"slug"`
	GameID string `json:"game_id"`
	Title  string `json:"title,omitempty"`
	// Owned is true while the server's library lists the game for one of Owners.
	Owned bool `json:"owned"`
	// Owners are the identities (hex public keys) whose library on the server lists the game;
	// the installed files are shared, the entitlement is theirs alone.
	Owners []string `json:"owners,omitempty"`
	// Guest is true for a game installed from a guest purchase on this launcher, until its
	// receipt is claimed: the receipt code is its entitlement.
	Guest bool `json:"guest,omitempty"`
	// GrantedTo is the identity that just got the game (a purchase, a claimed receipt) while
	// it was not installed, until an install of it starts or it is uninstalled: whichever
	// process heard of the grant (`satchel buy`, the window), a running launcher with
	// auto-update on installs it.
	GrantedTo string `json:"granted_to,omitempty"`
	// Latest is the newest published release the server last reported.
	Latest *Release `json:"latest,omitempty"`
	// Current is the installed version that launches.
	Current *Install `json:"current,omitempty"`
	// Previous is the version Current replaced, kept until Current has launched once.
	Previous *Install `json:"previous,omitempty"`
	// Pending is an install or update in progress.
	Pending *Pending `json:"pending,omitempty"`
	// Failed is the last release that failed to install or to launch; auto-update skips it.
	Failed *Failure `json:"failed,omitempty"`
	// LastRun is the last time the game was launched.
	LastRun *Run `json:"last_run,omitempty"`
}

// Release identifies a release's build.
type Release struct {
	ReleaseID string `json:"release_id"`
	Version   string `json:"version"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
}

// Install is a version installed in the library.
type Install struct {
	Release
	// Dir is the install folder relative to the library, slash-separated: "<slug>/<version>".
	Dir string `json:"dir"`
	// InstalledBytes is the sum of the files' sizes.
	InstalledBytes int64     `json:"installed_bytes"`
	InstalledAt    time.Time `json:"installed_at"`
	// FilesTime is the modification time every file got once verified (install, Verify); a
	// file that still has it was not written since. Zero: no file is known unchanged.
	FilesTime time.Time `json:"files_time,omitzero"`
	// Launched is true once this version has launched successfully.
	Launched bool `json:"launched"`
	// Unchecked is true from a rollback that put this version back (the version rolled back
	// from may have written into the files the two shared) until a Verify finds every file
	// right; until then a launch verifies it first.
	Unchecked bool `json:"unchecked,omitempty"`
}

// Step is how far a pending install got.
type Step string

// The steps of an install, in order. After StepExtracted come the rename into place and the
// switch, which clears Pending.
const (
	StepDownload   Step = "download"   // the zip is being downloaded (maybe partly there)
	StepDownloaded Step = "downloaded" // the zip is complete and its size and sha256 match
	StepExtract    Step = "extract"    // the zip is being extracted into Temp
	StepExtracted  Step = "extracted"  // Temp holds every file, checked against the manifest
)

// Pending is an install in progress.
type Pending struct {
	Release
	Step Step `json:"step"`
	// Zip, Temp and Dir are relative to the library, slash-separated.
	Zip            string    `json:"zip"`
	Temp           string    `json:"temp,omitempty"`
	Dir            string    `json:"dir"`
	InstalledBytes int64     `json:"installed_bytes"`
	StartedAt      time.Time `json:"started_at"`
	// Stream is set for an install that extracts the zip into Temp as it streams in, or
	// fetches only the changed files of an update: Zip is then empty, as no zip is kept,
	// unless the player keeps downloads (the stream then writes the whole zip there too).
	Stream *Stream `json:"stream,omitempty"`
}

// Stream is how far a streamed install got: the entries of the zip (in the order of their
// bytes) before Offset are in Temp and verified, so a resumed install fetches from Offset.
type Stream struct {
	// Verified counts the entries, in the zip's order, written to Temp and checked.
	Verified int `json:"verified"`
	// Offset is where the stream resumes: the end of the last verified entry's data (written
	// by launchers before 2026-12-06: the next entry's local header; either resumes right).
	Offset int64 `json:"offset"`
	// Hash is the sha256 state (hash.Hash's MarshalBinary) of the zip's bytes before Offset.
	Hash []byte `json:"hash,omitempty"`
	// Update is set when only the changed files are fetched, the others copied from the
	// current version; such an install restarts from nothing.
	Update bool `json:"update,omitempty"`
}

// Failure is a release that did not install or launch.
type Failure struct {
	ReleaseID string    `json:"release_id"`
	Version   string    `json:"version"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}

// Run is one launch of a game.
type Run struct {
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	// ExitCode is the process's exit code once it ended; -1 if it was killed by a signal.
	ExitCode int `json:"exit_code"`
	// Error is why the game could not start, why its launch counted as failed, or that it
	// exited with an error within seconds.
	Error string `json:"error,omitempty"`
	// Tail is the last lines of the launch log when Error is set.
	Tail []string `json:"tail,omitempty"`
}

// Game returns the game of slug, creating an empty one if needed.
func (s *State) Game(slug string) *Game {
	if s.Games == nil {
		s.Games = map[string]*Game{}
	}
	g := s.Games[slug]
	if g == nil {
		g = &Game{Slug: slug}
		s.Games[slug] = g
	}
	return g
}

// OwnedBy reports whether the identity with the hex public key owner owns the game.
func (g *Game) OwnedBy(owner string) bool {
	return owner != "" && slices.Contains(g.Owners, owner)
}

// Uses reports whether dir (relative to the library, like Install.Dir) is the folder of the
// game's current or previous version. Those folders are the installed versions: nothing may
// remove or replace one while the state refers to it, and no two installs share one.
func (g *Game) Uses(dir string) bool { return g.uses(dir, SameDir) }

// UsesAnyCase is Uses with case ignored on every system: a new install's folder is never one
// that a file system ignoring case (Windows', macOS's, a library moved there) takes for an
// installed version's.
func (g *Game) UsesAnyCase(dir string) bool { return g.uses(dir, strings.EqualFold) }

func (g *Game) uses(dir string, same func(a, b string) bool) bool {
	for _, x := range []*Install{g.Current, g.Previous} {
		if x != nil && same(x.Dir, dir) {
			return true
		}
	}
	return false
}

// SameDir reports whether the folders a and b (relative to the library) are one: on Windows
// and macOS, whose file systems compare names without case, 1.0.0-RC and 1.0.0-rc are one
// folder; elsewhere they are two.
func SameDir(a, b string) bool {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// Slugs returns the slugs of the known games, sorted.
func (s *State) Slugs() []string {
	out := make([]string, 0, len(s.Games))
	for slug := range s.Games {
		out = append(out, slug)
	}
	sort.Strings(out)
	return out
}

// LibraryOf returns the library folder that holds entry (a game slug or ".downloads"): the
// new folder once a move has moved it, else Library.
func (s *State) LibraryOf(entry string) string {
	if s.Move != nil {
		for _, d := range s.Move.Done {
			if d == entry {
				return s.Move.To
			}
		}
		return s.Move.From
	}
	return s.Library
}

// Path returns the absolute path of rel (a Dir, Temp or Zip of slug's game).
func (s *State) Path(entry, rel string) string {
	if rel == "" {
		return ""
	}
	return filepath.Join(s.LibraryOf(entry), filepath.FromSlash(rel))
}

// File is one file of a build's manifest.
type File struct {
	Path   string `json:"path"` // slash-separated, relative
	Size   int64  `json:"size"`
	Mode   uint32 `json:"mode"` // 0644 or 0755
	SHA256 string `json:"sha256"`
	// Where the file lies in the build zip (see zipsafe.Entry): its local header's offset,
	// its compressed data's offset and length, method and CRC-32. Zero when the server did
	// not say (an older server, or a build it has not backfilled).
	HeaderOffset   int64  `json:"header_offset,omitempty"`
	DataOffset     int64  `json:"data_offset,omitempty"`
	CompressedSize int64  `json:"compressed_size,omitempty"`
	Method         uint16 `json:"method,omitempty"`
	CRC32          uint32 `json:"crc32,omitempty"`
}

// Store keeps the state in a state folder and the build manifests in a data folder.
type Store struct {
	dir      string     // the data folder
	stateDir string     // the folder of state.json and state.lock
	mu       sync.Mutex // one Update at a time in this process; the file lock covers other processes
}

// Open returns the store whose state and build manifests are both in the data folder dir:
// OpenIn(dir, dir).
func Open(dir string) (*Store, error) { return OpenIn(dir, dir) }

// OpenIn returns the store whose state file (state.json, with state.lock) is in stateDir and
// whose build manifests, install locks and default library are in the data folder dir,
// creating both folders if needed.
//
// Launchers before the state folder existed kept state.json in the data folder: when stateDir
// is another folder and has no state.json yet, OpenIn moves the data folder's there, once,
// under the state lock (one atomic rename, or an atomic copy then removal when the folders
// are on different file systems), so no other process sees it missing.
func OpenIn(dir, stateDir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "manifests"), 0o700); err != nil {
		return nil, fmt.Errorf("creating the data folder: %w", err)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the state folder: %w", err)
	}
	s := &Store{dir: dir, stateDir: stateDir}
	if filepath.Clean(dir) != filepath.Clean(stateDir) {
		if err := s.moveFrom(filepath.Join(dir, "state.json")); err != nil {
			return nil, fmt.Errorf("moving the launcher's state to %s: %w", stateDir, err)
		}
	}
	return s, nil
}

// moveFrom moves the state file old into the state folder unless the folder has one already.
func (s *Store) moveFrom(old string) error {
	l, err := fsutil.WaitLock(s.lockPath())
	if err != nil {
		return err
	}
	defer l.Unlock()
	if _, err := os.Lstat(s.path()); !errors.Is(err, fs.ErrNotExist) {
		return err // nil when the state folder has its state already
	}
	err = fsutil.Rename(old, s.path())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil // nothing to move: a new launcher
	case fsutil.CrossDevice(err):
		b, err := os.ReadFile(old)
		if err != nil {
			return err
		}
		if err := fsutil.WriteFile(s.path(), b, 0o600); err != nil {
			return err
		}
		if err := os.Remove(old); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if err := fsutil.SyncDir(s.stateDir); err != nil {
			return err
		}
	}
	return fsutil.SyncDir(s.dir)
}

// Dir is the data folder.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path() string { return filepath.Join(s.stateDir, "state.json") }

func (s *Store) lockPath() string { return filepath.Join(s.stateDir, "state.lock") }

// Load returns a fresh copy of the state. A missing file is an empty state whose library is
// <data>/library.
func (s *Store) Load() (*State, error) {
	st := &State{}
	b, err := os.ReadFile(s.path())
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(b, st); err != nil {
			return nil, fmt.Errorf("the launcher's state %s is damaged (%v): move it away to start afresh", s.path(), err)
		}
	}
	if st.Library == "" {
		st.Library = filepath.Join(s.dir, "library")
	}
	if st.Games == nil {
		st.Games = map[string]*Game{}
	}
	return st, nil
}

// Update applies fn to the current state and saves the result atomically, holding the state
// lock so no other process changes it meanwhile. If fn fails nothing is saved. It returns the
// state as saved.
func (s *Store) Update(fn func(*State) error) (*State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := fsutil.WaitLock(s.lockPath())
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	st, err := s.Load()
	if err != nil {
		return nil, err
	}
	if err := fn(st); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := fsutil.WriteFile(s.path(), append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("saving the launcher's state: %w", err)
	}
	return st, nil
}

var releaseIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

func (s *Store) manifestPath(releaseID string) (string, error) {
	if !releaseIDPattern.MatchString(releaseID) {
		return "", fmt.Errorf("release id %q is not one the server gives", releaseID)
	}
	return filepath.Join(s.dir, "manifests", releaseID+".json"), nil
}

// SaveManifest stores the file manifest of a release's build, durably.
func (s *Store) SaveManifest(releaseID string, files []File) error {
	p, err := s.manifestPath(releaseID)
	if err != nil {
		return err
	}
	b, err := json.Marshal(files)
	if err != nil {
		return err
	}
	return fsutil.WriteFile(p, b, 0o600)
}

// Manifest returns the file manifest of a release saved by SaveManifest.
func (s *Store) Manifest(releaseID string) ([]File, error) {
	p, err := s.manifestPath(releaseID)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("the file list of release %s is missing from the launcher's data: %w", releaseID, err)
	}
	var files []File
	if err := json.Unmarshal(b, &files); err != nil {
		return nil, fmt.Errorf("the file list of release %s is damaged: %w", releaseID, err)
	}
	return files, nil
}

// RemoveManifest forgets a release's manifest; a missing one is not an error.
func (s *Store) RemoveManifest(releaseID string) error {
	p, err := s.manifestPath(releaseID)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Manifests lists the release ids that have a saved manifest.
func (s *Store) Manifests() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(s.dir, "manifests"))
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok && releaseIDPattern.MatchString(name) {
			ids = append(ids, name)
		}
	}
	return ids, nil
}
