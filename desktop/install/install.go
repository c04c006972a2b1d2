// Package install downloads, verifies, extracts and switches game builds in the library, and
// keeps them healthy: verify and repair, uninstall, moving the library, and recovery after a
// crash. It imports no GUI and talks to the server only through a Source.
//
// An install goes through steps recorded in the local state (package state) before each one
// starts, so that a crash at any point recovers to a consistent state:
//
//  1. stream: when the manifest says where each file lies in the zip (servers that record
//     it), the zip is extracted as it downloads into a temporary folder
//     <library>/<slug>/.tmp-*, on the same file system as the library: the manifest passes
//     the shared zip safety rules (zipsafe) before the first byte is written, each file is
//     inflated, written and checked against the manifest while the next ones arrive, the
//     whole zip's sha256 is computed on the same pass and its central directory compared
//     with the manifest at the end. No zip is kept, unless the player keeps downloads
//     (Config.KeepDownloads): the zip is then written to <library>/.downloads on the same
//     pass. A dropped connection or a crash resumes
//     at the first file not yet verified. An update fetches only the files the current
//     version lacks, by HTTP Range, and copies the others from it (streamInstall, update);
//  2. otherwise download, then extract: the build zip is fetched with grab into
//     <library>/.downloads, resuming a partial file, hashed while it arrives, and refused
//     (and deleted) if its size or sha256 differs from what the server published; then it is
//     extracted with zipsafe into the temporary folder, and every file is checked against
//     the server's file manifest;
//  3. rename: the temporary folder is renamed, atomically, to <library>/<slug>/<version>;
//  4. switch: the state makes it the game's current version. The version it replaces is kept
//     as the previous one until the new one has launched once (Installer.Launched), so a
//     failed update never leaves the player without a working game (Installer.Rollback).
//     The downloaded zip is removed, unless the player keeps downloads: then it stays in
//     <library>/.downloads as long as its version is installed (KeptZip).
//
// Recover, run when the launcher starts, brings every interrupted install back to a
// consistent state: the current version untouched and playable, temporary folders removed
// (but a streamed install's, whose verified files the next attempt resumes after), a partial
// download kept for the next attempt to resume.
package install

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"

	"satchel.dev/desktop/internal/fsutil"
	"satchel.dev/desktop/state"
	"satchel.dev/shared/zipsafe"
)

// Game identifies a game to install.
type Game struct {
	ID    string // the server's game id
	Slug  string
	Title string
}

// Download is where and what to download: a release's build as the server describes it.
type Download struct {
	ReleaseID string
	Version   string
	// URL is a signed URL of the zip; HTTP Range works on it. It expires: Source gives a
	// fresh one.
	URL       string
	ExpiresAt time.Time
	SHA256    string // lowercase hex of the whole zip
	Size      int64
	Files     []state.File // the build's file manifest
}

// Source gives download URLs and manifests; the launcher's is the server's GetDownload.
type Source interface {
	// GetDownload returns a fresh signed URL and the manifest of the game's release
	// releaseID ("" for the latest published release). The server counts it as a download of
	// the release.
	GetDownload(ctx context.Context, gameID, releaseID string) (Download, error)
	// Manifest returns what GetDownload does but the URL (URL empty, ExpiresAt zero), and is
	// not counted as a download: it only says what an install or update would fetch. It is
	// refused whenever GetDownload would be.
	Manifest(ctx context.Context, gameID, releaseID string) (Download, error)
}

// Phase is what an install is doing.
type Phase string

// The phases an install reports, in order.
const (
	PhaseQueued      Phase = "queued"
	PhaseDownloading Phase = "downloading"
	PhaseExtracting  Phase = "extracting"
	PhaseSwitching   Phase = "switching"
	PhaseDone        Phase = "done"
	PhaseFailed      Phase = "failed"
)

// Progress is a snapshot of an install, reported to the caller as it goes.
type Progress struct {
	Slug    string `json:"slug"`
	Version string `json:"version,omitempty"`
	Phase   Phase  `json:"phase"`
	// Done and Total count bytes of the current phase (the zip while downloading and
	// extracting; while an update fetches only what changed, the bytes it fetches).
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
	// BuildSize is the size of the whole zip while an update fetches only what changed, so
	// that a face can say "Update 1.2.0: 14 MiB of 1.1 GiB" (Total of BuildSize); 0 otherwise.
	BuildSize int64 `json:"build_size,omitempty"`
	// BytesPerSecond is the recent download rate; ETA the time left at that rate.
	BytesPerSecond float64       `json:"bytes_per_second,omitempty"`
	ETA            time.Duration `json:"eta,omitempty"`
	// Resumed is how many bytes of the download an earlier attempt had already fetched.
	Resumed int64 `json:"resumed,omitempty"`
	// Err is set with PhaseFailed.
	Err string `json:"error,omitempty"`
}

// Result is a finished install.
type Result struct {
	Slug      string `json:"slug"`
	Version   string `json:"version"`
	ReleaseID string `json:"release_id"`
	// Dir is the install folder.
	Dir string `json:"dir"`
	// AlreadyInstalled is true when the release was already the current version.
	AlreadyInstalled bool `json:"already_installed,omitempty"`
	// Resumed is how many bytes of the zip were already there from an earlier attempt;
	// Fetched how many this install downloaded; Reused how many bytes of files an update
	// copied from the current version instead.
	Resumed int64 `json:"resumed_bytes"`
	Fetched int64 `json:"fetched_bytes"`
	Reused  int64 `json:"reused_bytes"`
	// Previous is the version kept until this one has launched once, if any.
	Previous string `json:"previous,omitempty"`
	// Kept is the build's whole zip, kept after the install because the player keeps
	// downloads (Config.KeepDownloads); "" when none is (an update that fetched only what
	// changed has no whole zip to keep).
	Kept string `json:"kept_zip,omitempty"`
}

// Errors an install may wrap.
var (
	// ErrBusy: another launcher process is changing this game (or the library).
	ErrBusy = errors.New("busy")
	// ErrVerify: a download or an installed file does not match what the server published.
	ErrVerify = errors.New("verification failed")
	// ErrDiskSpace: not enough free space for the download and the installed files.
	ErrDiskSpace = errors.New("not enough disk space")
	// ErrNotInstalled: the game has no installed version.
	ErrNotInstalled = errors.New("not installed")
	// ErrMoving: the library is being moved.
	ErrMoving = errors.New("the library is being moved")
)

// Config configures an Installer.
type Config struct {
	// State is the launcher's local state. Required.
	State *state.Store
	// Source gives download URLs. Required for installs and repairs.
	Source Source
	// HTTP fetches the builds (plain requests to signed URLs); nil means a client with
	// bounded dial times.
	HTTP *http.Client
	// Limits are the zip safety limits; zero fields take zipsafe's defaults.
	Limits zipsafe.Limits
	// SpeedLimit caps the total download rate in bytes per second; 0 is unlimited.
	// SetSpeedLimit changes it while downloads run.
	SpeedLimit int64
	// MaxDownloads is how many downloads run at once; 0 means 1.
	MaxDownloads int
	// KeepDownloads keeps the whole zip of each installed version in <library>/.downloads
	// (KeptZip): a streamed install then also writes the zip it streams. Off, no zip stays
	// after an install. SetKeepDownloads changes it for the installs that start afterwards.
	KeepDownloads bool
	// FreeSpace returns the bytes available to the launcher in the file system of dir; nil
	// means fsutil.FreeSpace (statfs(2); GetDiskFreeSpaceEx on Windows).
	FreeSpace func(dir string) (int64, error)
	// Attempts is how many times a download is tried when the connection drops or the
	// server fails; default 6. Backoff is the first wait between attempts; default 500ms.
	Attempts int
	Backoff  time.Duration
	// ProgressEvery is how often progress is reported; default 250ms.
	ProgressEvery time.Duration
	// Hook, when set, is called at each step of an install with the bytes done and total of
	// that step: "download" (as bytes arrive), "downloaded", "extract" (as the zip is read),
	// "extracted", "renamed" (before the switch) and "switched"; a streamed install or update
	// calls "stream" (as bytes arrive, with the offset reached in the zip) and "checkpoint"
	// (a resume point recorded: the offset a resumed install fetches from) in place of the
	// first four, and an update "hashed" (a linked file of the current version read, before
	// it is stamped) and "reuse" (a file of the current version put in the new one, with the
	// bytes reused so far). It exists for crash tests; production code leaves it nil.
	// It may be called from several goroutines at once.
	Hook func(step string, done, total int64)
	// Logger receives what the installer does; nil discards it.
	Logger *slog.Logger
}

// WithDefaults returns c with unset fields given their defaults.
func (c Config) WithDefaults() Config {
	if c.HTTP == nil {
		c.HTTP = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: 30 * time.Second}}
	}
	if c.MaxDownloads == 0 {
		c.MaxDownloads = 1
	}
	if c.FreeSpace == nil {
		c.FreeSpace = fsutil.FreeSpace
	}
	if c.Attempts == 0 {
		c.Attempts = 6
	}
	if c.Backoff == 0 {
		c.Backoff = 500 * time.Millisecond
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = 250 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Installer installs and maintains games. It is safe for concurrent use, also by several
// processes sharing one data folder: each game is changed by one of them at a time (a file
// lock per game), the others get ErrBusy.
type Installer struct {
	cfg      Config
	state    *state.Store
	throttle *throttle
	slots    *slots
	space    *space
	keep     atomic.Bool // Config.KeepDownloads, as it changes

	mu   sync.Mutex
	jobs map[string]*Job // queued or running, by slug

	// moveByCopy makes MoveLibrary copy even within one file system (tests of the copy path).
	moveByCopy bool
}

// New returns an installer.
func New(cfg Config) (*Installer, error) {
	cfg = cfg.WithDefaults()
	if cfg.State == nil {
		return nil, errors.New("install: Config.State is required")
	}
	if cfg.SpeedLimit < 0 || cfg.MaxDownloads < 1 {
		return nil, errors.New("install: SpeedLimit must not be negative, MaxDownloads at least 1")
	}
	in := &Installer{cfg: cfg, state: cfg.State, throttle: newThrottle(cfg.SpeedLimit),
		slots: newSlots(cfg.MaxDownloads), space: newSpace(), jobs: map[string]*Job{}}
	in.keep.Store(cfg.KeepDownloads)
	return in, nil
}

// SetSpeedLimit changes the download speed limit (bytes per second, 0 for none) at once, also
// for downloads under way.
func (in *Installer) SetSpeedLimit(bps int64) { in.throttle.set(bps) }

// SetMaxDownloads changes how many downloads run at once (at least 1).
func (in *Installer) SetMaxDownloads(n int) { in.slots.resize(max(n, 1)) }

// SetKeepDownloads turns keeping downloads (Config.KeepDownloads) on or off. An install under
// way keeps its zip only if it was on when the install started and still is when it ends;
// zips kept earlier are removed by the next Recover once it is off.
func (in *Installer) SetKeepDownloads(on bool) { in.keep.Store(on) }

// KeptZip is where the whole zip of a game's release is downloaded, relative to the library
// (slash-separated), and where it stays when the player keeps downloads.
func KeptZip(slug, releaseID string) string {
	return path.Join(".downloads", slug+"-"+releaseID+".zip")
}

// Library returns the library folder.
func (in *Installer) Library() (string, error) {
	st, err := in.state.Load()
	if err != nil {
		return "", err
	}
	return st.Library, nil
}

func (in *Installer) hook(step string, done, total int64) {
	if in.cfg.Hook != nil {
		in.cfg.Hook(step, done, total)
	}
}

// lockGame takes the game's lock, or says who holds it.
func (in *Installer) lockGame(slug string) (*fsutil.Lock, error) {
	l, err := fsutil.TryLock(filepath.Join(in.state.Dir(), "locks", slug+".lock"))
	if errors.Is(err, fsutil.ErrLocked) {
		return nil, fmt.Errorf("%w: %s is being changed (installed, verified or moved) by this or another Satchel process (%v): wait for it to finish", ErrBusy, slug, err)
	}
	return l, err
}

var (
	slugPattern    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{1,62}[a-z0-9])$`)
	versionPattern = regexp.MustCompile(`^[0-9A-Za-z]([0-9A-Za-z.+_-]{0,62}[0-9A-Za-z+_-])?$`) // no trailing dot, which Windows drops
	shaPattern     = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func checkDownload(dl Download) error {
	switch {
	case !versionPattern.MatchString(dl.Version):
		return fmt.Errorf("the server gave version %q, which cannot name a folder", dl.Version)
	case !shaPattern.MatchString(dl.SHA256) || dl.Size <= 0 || dl.URL == "" || dl.ReleaseID == "":
		return errors.New("the server's download answer is incomplete (no URL, size or sha256)")
	}
	return nil
}

// Install installs release releaseID ("" for the latest published one) of game g, or
// finishes an install of it that was interrupted, and makes it the current version. It
// reports progress to progress (which may be nil) from the calling goroutine or the
// installer's, never concurrently. If the release is already current it returns at once with
// AlreadyInstalled. A cancelled ctx stops the install where it is; the next Install resumes.
func (in *Installer) Install(ctx context.Context, g Game, releaseID string, progress func(Progress)) (Result, error) {
	if !slugPattern.MatchString(g.Slug) {
		return Result{}, fmt.Errorf("%q is not a game slug", g.Slug)
	}
	if progress == nil {
		progress = func(Progress) {}
	}
	lock, err := in.lockGame(g.Slug)
	if err != nil {
		return Result{}, err
	}
	defer lock.Unlock()
	defer in.space.end(g.Slug)
	res, err := in.install(ctx, g, releaseID, progress)
	if err != nil {
		progress(Progress{Slug: g.Slug, Version: res.Version, Phase: PhaseFailed, Err: err.Error()})
		return res, err
	}
	progress(Progress{Slug: g.Slug, Version: res.Version, Phase: PhaseDone})
	return res, nil
}

func (in *Installer) install(ctx context.Context, g Game, releaseID string, progress func(Progress)) (Result, error) {
	st, err := in.state.Load()
	if err != nil {
		return Result{}, err
	}
	if st.Move != nil {
		return Result{}, fmt.Errorf("%w to %s: finish the move first (`satchel library move` resumes it)", ErrMoving, st.Move.To)
	}
	lib := st.Library
	game := st.Games[g.Slug]
	var p *state.Pending
	var dl Download
	if game != nil && game.Pending != nil && finishable(game.Pending) &&
		(releaseID == "" || releaseID == game.Pending.ReleaseID) {
		// The zip (or every file) is here and verified: finish without the server (offline too).
		p = game.Pending
		files, err := in.state.Manifest(p.ReleaseID)
		if err != nil {
			return Result{}, err
		}
		dl = Download{ReleaseID: p.ReleaseID, Version: p.Version, SHA256: p.SHA256, Size: p.Size, Files: files}
	} else {
		if in.cfg.Source == nil {
			return Result{}, errors.New("install: no Source to download from")
		}
		if dl, err = in.cfg.Source.GetDownload(ctx, g.ID, releaseID); err != nil {
			return Result{}, err
		}
		if err := checkDownload(dl); err != nil {
			return Result{}, err
		}
	}
	res := Result{Slug: g.Slug, Version: dl.Version, ReleaseID: dl.ReleaseID}
	if game != nil && game.Current != nil && game.Current.ReleaseID == dl.ReleaseID && game.Current.SHA256 == dl.SHA256 {
		res.AlreadyInstalled = true
		res.Dir = st.Path(g.Slug, game.Current.Dir)
		if p := game.Pending; p != nil && p.ReleaseID == dl.ReleaseID {
			// A reinstall of the current build that was interrupted: nothing left to do.
			_, err := in.state.Update(func(s *state.State) error { s.Game(g.Slug).Pending = nil; return nil })
			_ = in.removeLeftovers(lib, p)
			return res, err
		}
		return res, nil
	}

	if p == nil || p.ReleaseID != dl.ReleaseID || p.SHA256 != dl.SHA256 {
		if game != nil && game.Pending != nil && (game.Pending.ReleaseID != dl.ReleaseID || game.Pending.SHA256 != dl.SHA256) {
			_ = in.removeLeftovers(lib, game.Pending) // an install of another release: drop it
		}
		if err := in.state.SaveManifest(dl.ReleaseID, dl.Files); err != nil {
			return Result{}, err
		}
		var installed int64
		for _, f := range dl.Files {
			installed += f.Size
		}
		var stream *state.Stream
		if _, ok := located(dl.Files); ok {
			_, update := in.updateFrom(game, dl)
			stream = &state.Stream{Update: update}
		}
		st, err = in.state.Update(func(s *state.State) error {
			gs := s.Game(g.Slug)
			if gs.GameID == "" {
				gs.GameID = g.ID
			}
			if gs.Title == "" {
				gs.Title = g.Title
			}
			gs.GrantedTo = "" // the grant is being installed
			if gs.Pending != nil && gs.Pending.ReleaseID == dl.ReleaseID && gs.Pending.SHA256 == dl.SHA256 {
				return nil // keep the partial download
			}
			gs.Pending = &state.Pending{
				Release: state.Release{ReleaseID: dl.ReleaseID, Version: dl.Version, SHA256: dl.SHA256, Size: dl.Size},
				Step:    state.StepDownload, Zip: KeptZip(g.Slug, dl.ReleaseID),
				Dir: path.Join(g.Slug, dirName(gs, dl)), InstalledBytes: installed, StartedAt: time.Now().UTC(), Stream: stream,
			}
			if stream != nil && (stream.Update || !in.keep.Load()) {
				// Nothing to keep: the files are extracted as they arrive (and an update
				// fetches only some of the zip's bytes).
				gs.Pending.Zip = ""
			}
			return nil
		})
		if err != nil {
			return Result{}, err
		}
		p = st.Games[g.Slug].Pending
	}
	if st.Games[g.Slug].Uses(p.Dir) {
		// An install recorded by an older launcher, into the folder of an installed version:
		// give it a folder of its own before anything is extracted.
		st, err = in.state.Update(func(s *state.State) error {
			gs := s.Game(g.Slug)
			if gs.Pending == nil {
				return fmt.Errorf("the install of %s was cancelled meanwhile", g.Slug)
			}
			gs.Pending.Dir = path.Join(g.Slug, dirName(gs, dl))
			return nil
		})
		if err != nil {
			return Result{}, err
		}
		p = st.Games[g.Slug].Pending
	}

	var temp string
	switch {
	case p.Stream != nil && p.Step == state.StepExtracted:
		temp = filepath.Join(lib, filepath.FromSlash(p.Temp))
	case p.Stream != nil:
		if err := checkPathLengths(lib, p, dl.Files, fsutil.MaxPath); err != nil {
			return res, err
		}
		var cur *state.Install
		var curFiles []state.File
		if gs := st.Games[g.Slug]; p.Stream.Update && gs.Current != nil {
			if curFiles, err = in.state.Manifest(gs.Current.ReleaseID); err == nil {
				cur = gs.Current
			}
		}
		if cur != nil {
			temp, res.Fetched, res.Reused, err = in.update(ctx, g, p, lib, cur, st.Path(g.Slug, cur.Dir), curFiles, dl, progress)
		} else {
			temp, res.Resumed, res.Fetched, err = in.streamInstall(ctx, g, p, lib, dl, progress)
		}
		if err != nil {
			return res, err
		}
		if err := in.extracted(g.Slug, temp, dl.Size); err != nil { // its download slot given back
			return res, err
		}
	default:
		if temp, err = in.downloadAndExtract(ctx, g, p, lib, dl, &res, progress); err != nil {
			return res, err
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err // stopped before the switch: the next install finishes from the files
	}
	dir := filepath.Join(lib, filepath.FromSlash(p.Dir))
	progress(Progress{Slug: g.Slug, Version: dl.Version, Phase: PhaseSwitching})
	if err := os.RemoveAll(dir); err != nil { // a leftover of a crash between rename and switch
		return res, err
	}
	if err := fsutil.Rename(temp, dir); err != nil {
		return res, fmt.Errorf("moving the extracted files into place: %w", err)
	}
	if err := fsutil.SyncDir(filepath.Dir(dir)); err != nil {
		return res, err
	}
	in.hook("renamed", 0, 0)
	prev, drop, err := in.switchTo(g.Slug, p, filesTime(p))
	if err != nil {
		return res, err
	}
	in.hook("switched", 0, 0)
	res.Dir, res.Previous = dir, prev
	if p.Zip != "" {
		zip := filepath.Join(lib, filepath.FromSlash(p.Zip))
		if fi, err := os.Stat(zip); in.keep.Load() && err == nil && fi.Size() == p.Size {
			res.Kept = zip
		} else {
			_ = os.Remove(zip)
		}
	}
	in.drop(lib, drop)
	in.cfg.Logger.Info("installed", "game", g.Slug, "version", dl.Version, "dir", dir, "fetched", res.Fetched, "reused", res.Reused)
	return res, nil
}

// finishable reports whether pending install p has everything it needs on disk, verified, to
// finish without the server: a downloaded zip, or every file extracted from the stream.
func finishable(p *state.Pending) bool {
	if p.Stream != nil {
		return p.Step == state.StepExtracted
	}
	return p.Step != state.StepDownload
}

// downloadAndExtract installs a build whose manifest does not say where its files lie in the
// zip (an older server, a build not backfilled): the zip is downloaded whole into .downloads,
// verified, then extracted into a temporary folder, which it returns.
func (in *Installer) downloadAndExtract(ctx context.Context, g Game, p *state.Pending, lib string, dl Download, res *Result, progress func(Progress)) (string, error) {
	zipPath := filepath.Join(lib, filepath.FromSlash(p.Zip))
	if p.Step == state.StepDownload {
		if err := checkPathLengths(lib, p, dl.Files, fsutil.MaxPath); err != nil {
			return "", err
		}
		if err := os.MkdirAll(filepath.Dir(zipPath), 0o755); err != nil {
			return "", err
		}
		resumed, fetched, err := in.download(ctx, g, dl, zipPath, func() error { return in.checkSpace(ctx, g.Slug, lib, zipPath, p) }, progress)
		res.Resumed, res.Fetched = resumed, fetched
		if err != nil {
			return "", err
		}
		if err := in.setStep(g.Slug, state.StepDownloaded, ""); err != nil {
			return "", err
		}
		in.hook("downloaded", dl.Size, dl.Size)
	} else if fi, err := os.Stat(zipPath); err != nil || fi.Size() != p.Size {
		// The verified zip is gone (deleted by hand?): download it again next time.
		_ = in.setStep(g.Slug, state.StepDownload, "")
		return "", fmt.Errorf("the downloaded build of %s %s disappeared: install again to download it", g.Slug, dl.Version)
	} else if err := in.checkSpace(ctx, g.Slug, lib, zipPath, p); err != nil { // for the files only
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return in.extract(ctx, g, p, lib, zipPath, dl.Files, progress)
}

// dirName is the folder name for dl in game: its version, unless the current or the previous
// version has that folder, case ignored (another build of the same version, a developer's
// re-uploaded draft, this very build kept as the previous version, or a version differing
// only in case). A new install always gets a
// folder of its own, so that it never replaces the files of an installed version and the
// state never has two installs in one folder.
func dirName(g *state.Game, dl Download) string {
	name := dl.Version
	for i := 1; g.UsesAnyCase(path.Join(g.Slug, name)); i++ {
		name = fmt.Sprintf("%s~%s", dl.Version, dl.SHA256[:12])
		if i > 1 {
			name += fmt.Sprintf("-%d", i)
		}
	}
	return name
}

func (in *Installer) setStep(slug string, step state.Step, temp string) error {
	_, err := in.state.Update(func(s *state.State) error {
		p := s.Game(slug).Pending
		if p == nil {
			return fmt.Errorf("the install of %s was cancelled meanwhile", slug)
		}
		p.Step, p.Temp = step, temp
		return nil
	})
	return err
}

// switchTo makes the pending install current, its files stamped at filesTime. It returns the
// version kept as previous and the installs no longer needed.
func (in *Installer) switchTo(slug string, p *state.Pending, filesTime time.Time) (string, []*state.Install, error) {
	var prev string
	var drop []*state.Install
	_, err := in.state.Update(func(s *state.State) error {
		g := s.Game(slug)
		drop = nil
		next := &state.Install{Release: p.Release, Dir: p.Dir, InstalledBytes: p.InstalledBytes, InstalledAt: time.Now().UTC(), FilesTime: filesTime}
		switch {
		case g.Current == nil:
		case g.Current.Launched || g.Previous == nil:
			// Keep the version that last worked (or the only one there is) until the new one
			// has launched once.
			if g.Previous != nil {
				drop = append(drop, g.Previous)
			}
			g.Previous = g.Current
		default:
			// Current never launched: the older Previous is still the one known to work.
			drop = append(drop, g.Current)
		}
		if g.Previous != nil && g.Previous.ReleaseID == next.ReleaseID && g.Previous.SHA256 == next.SHA256 {
			// The kept previous version reinstalled: the same build is no fallback.
			drop = append(drop, g.Previous)
			g.Previous = nil
		}
		g.Current, g.Pending, g.GrantedTo = next, nil, ""
		if g.Failed != nil && g.Failed.ReleaseID == p.ReleaseID {
			g.Failed = nil
		}
		if g.Previous != nil {
			prev = g.Previous.Version
		}
		return nil
	})
	return prev, drop, err
}

// drop removes installs no longer in the state, and their manifests when no install refers
// to them any more. It never removes a folder the state still refers to (the current or the
// previous version's, or an install's in progress).
func (in *Installer) drop(lib string, installs []*state.Install) {
	if len(installs) == 0 {
		return
	}
	st, err := in.state.Load()
	if err != nil {
		return
	}
	used := map[string]bool{}
	for _, g := range st.Games {
		for _, x := range []*state.Install{g.Current, g.Previous} {
			if x != nil {
				used[x.ReleaseID] = true
			}
		}
		if g.Pending != nil {
			used[g.Pending.ReleaseID] = true
		}
	}
	for _, x := range installs {
		if g := st.Games[path.Dir(x.Dir)]; g != nil && (g.Uses(x.Dir) || g.Pending != nil && state.SameDir(g.Pending.Dir, x.Dir)) {
			in.cfg.Logger.Error("not removing an old version: its folder is in use", "dir", x.Dir)
			continue
		}
		if err := os.RemoveAll(filepath.Join(lib, filepath.FromSlash(x.Dir))); err != nil {
			in.cfg.Logger.Warn("removing an old version", "dir", x.Dir, "err", err)
		}
		if g := st.Games[path.Dir(x.Dir)]; g == nil || g.Pending == nil || g.Pending.Zip != KeptZip(path.Dir(x.Dir), x.ReleaseID) {
			_ = os.Remove(filepath.Join(lib, filepath.FromSlash(KeptZip(path.Dir(x.Dir), x.ReleaseID)))) // its kept download
		}
		if !used[x.ReleaseID] {
			_ = in.state.RemoveManifest(x.ReleaseID)
		}
	}
}

// removeLeftovers deletes the files of a pending install that is abandoned, and returns the
// first failure to delete.
func (in *Installer) removeLeftovers(lib string, p *state.Pending) error {
	var first error
	for _, rel := range []string{p.Zip, p.Temp} {
		if rel != "" {
			if err := os.RemoveAll(filepath.Join(lib, filepath.FromSlash(rel))); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// checkStreamSpace is checkSpace for the streamed install or update p, with its kept zip if
// any. Like checkSpace, it is called once the install holds its download slot, so that the
// installs before it in the queue have written their files.
func (in *Installer) checkStreamSpace(ctx context.Context, slug, lib string, p *state.Pending) error {
	zip := "" // the zip the stream writes too, when the player keeps downloads
	if p.Zip != "" {
		zip = filepath.Join(lib, filepath.FromSlash(p.Zip))
	}
	return in.checkSpace(ctx, slug, lib, zip, p)
}

// checkSpace refuses a download that would not fit: what is left to download into zipPath
// ("" when none is kept) plus the installed size, with a margin. The space is promised to
// slug's install until Install returns; an install that would fit only once the other
// installs under way have written their files waits for them (see space.promise).
func (in *Installer) checkSpace(ctx context.Context, slug, lib, zipPath string, p *state.Pending) error {
	if err := os.MkdirAll(lib, 0o755); err != nil {
		return err
	}
	have := int64(0)
	if zipPath == "" { // nothing to download to disk: the files are extracted as they arrive
		have = p.Size
	} else if fi, err := os.Stat(zipPath); err == nil {
		have = min(fi.Size(), p.Size)
	}
	need := p.Size - have + p.InstalledBytes + 8<<20
	free := func() (int64, error) {
		n, err := in.cfg.FreeSpace(lib)
		if err != nil {
			return 0, fmt.Errorf("checking free disk space in %s: %w", lib, err)
		}
		return n, nil
	}
	return in.space.promise(ctx, slug, need, free, func(free int64) error {
		return fmt.Errorf("%w in %s for %s %s: it needs %s (download %s + installed files %s), only %s is free: free some space, or move the library to a larger disk (`satchel library move`)",
			ErrDiskSpace, lib, path.Dir(p.Dir), p.Version, Bytes(need), Bytes(p.Size-have), Bytes(p.InstalledBytes), Bytes(free))
	})
}

// checkPathLengths refuses to install files (p's, into the library lib) whose absolute path
// would be longer than limit characters (UTF-16 code units, as Windows counts them); a limit
// of 0 allows any length. The launcher itself reaches such paths, but a game that is not
// long-path aware cannot open them on Windows, so the player is told to move the library to a
// shorter folder instead.
func checkPathLengths(lib string, p *state.Pending, files []state.File, limit int) error {
	if limit == 0 {
		return nil
	}
	dir := filepath.Join(lib, filepath.FromSlash(p.Dir))
	longest, n := "", 0
	for _, f := range files {
		full := filepath.Join(dir, filepath.FromSlash(f.Path))
		if l := len(utf16.Encode([]rune(full))); l > n {
			longest, n = full, l
		}
	}
	if n <= limit {
		return nil
	}
	return fmt.Errorf("%s %s cannot be installed in %s: its file %s would have a path of %d characters, and Windows games open at most %d: move the library to a folder with a shorter path (`satchel library move C:\\Games`) and install again",
		path.Dir(p.Dir), p.Version, lib, longest, n, limit)
}

// Bytes formats a size for people: 1.5 MiB.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Launched records that the current version of slug (release releaseID) has launched
// successfully, and removes the previous version, which is no longer needed (at the next
// switch instead, when another install or verify of the game is under way).
func (in *Installer) Launched(slug, releaseID string) error {
	// The mark needs no game lock (the state's update is atomic), and must not wait for one:
	// an install of the game under way holds it, and its switch must see the version being
	// played as launched, to keep it instead of removing it. Removing the previous version
	// needs the lock; while another install or verify holds it, the previous version stays
	// until the next switch.
	lock, err := in.lockGame(slug)
	if err != nil && !errors.Is(err, ErrBusy) {
		return err
	}
	if lock != nil {
		defer lock.Unlock()
	}
	var drop []*state.Install
	st, err := in.state.Update(func(s *state.State) error {
		g := s.Games[slug]
		if g == nil || g.Current == nil || g.Current.ReleaseID != releaseID {
			return nil // switched meanwhile: nothing to confirm
		}
		g.Current.Launched = true
		if g.Previous != nil && lock != nil {
			drop = []*state.Install{g.Previous}
			g.Previous = nil
		}
		return nil
	})
	if err != nil {
		return err
	}
	in.drop(st.Library, drop)
	return nil
}

// Rollback puts the previous version of slug back in place of the current one (release
// releaseID), which failed to launch for reason, removes the failed version and records the
// failure so that auto-update does not install that release again. It returns the version now
// current. Without a previous version it records the failure and returns ErrNotInstalled.
func (in *Installer) Rollback(slug, releaseID, reason string) (*state.Install, error) {
	lock, err := in.lockGame(slug)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	var drop []*state.Install
	var now *state.Install
	st, err := in.state.Update(func(s *state.State) error {
		g := s.Games[slug]
		if g == nil || g.Current == nil || g.Current.ReleaseID != releaseID {
			return fmt.Errorf("%s changed meanwhile: nothing rolled back", slug)
		}
		g.Failed = &state.Failure{ReleaseID: releaseID, Version: g.Current.Version, Reason: reason, At: time.Now().UTC()}
		if g.Previous == nil {
			return nil
		}
		drop = []*state.Install{g.Current}
		g.Current, g.Previous = g.Previous, nil
		g.Current.Unchecked = true
		now = g.Current
		return nil
	})
	if err != nil {
		return nil, err
	}
	if now == nil {
		return nil, fmt.Errorf("%w: %s has no previous version to go back to", ErrNotInstalled, slug)
	}
	in.drop(st.Library, drop)
	return now, nil
}

// Discard forgets slug's pending install (paused, interrupted or failed) and deletes what it
// downloaded and extracted, leaving the current version, if any, as it was. It holds the
// game's lock: while an install of slug runs, in this process or another, it discards
// nothing and returns ErrBusy.
func (in *Installer) Discard(slug string) error {
	lock, err := in.lockGame(slug)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	var p *state.Pending
	st, err := in.state.Update(func(s *state.State) error {
		g := s.Games[slug]
		if g == nil || g.Pending == nil {
			return nil
		}
		p, g.Pending, g.GrantedTo = g.Pending, nil, ""
		if g.Current == nil && g.Previous == nil && !g.Owned {
			delete(s.Games, slug)
		}
		return nil
	})
	if err != nil || p == nil {
		return err
	}
	if err := in.removeLeftovers(st.Library, p); err != nil {
		return err
	}
	if st.Games[slug] == nil || st.Games[slug].Current == nil {
		_ = os.Remove(filepath.Join(st.Library, slug)) // only if empty
	}
	return nil
}

// Uninstall removes every file of slug from the library (installed versions, downloads in
// progress) and its install state. What the server said about the game (owned, latest
// release) stays, so the library still lists it as not installed.
func (in *Installer) Uninstall(slug string) error {
	lock, err := in.lockGame(slug)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	st, err := in.state.Load()
	if err != nil {
		return err
	}
	if st.Move != nil {
		return fmt.Errorf("%w to %s: finish the move first", ErrMoving, st.Move.To)
	}
	g := st.Games[slug]
	if g == nil || (g.Current == nil && g.Pending == nil && g.Previous == nil) {
		return fmt.Errorf("%w: %s is not installed", ErrNotInstalled, slug)
	}
	if g.Pending != nil {
		_ = in.removeLeftovers(st.Library, g.Pending)
	}
	for _, x := range []*state.Install{g.Current, g.Previous} {
		if x != nil {
			_ = os.Remove(filepath.Join(st.Library, filepath.FromSlash(KeptZip(slug, x.ReleaseID))))
		}
	}
	if err := os.RemoveAll(filepath.Join(st.Library, slug)); err != nil {
		return fmt.Errorf("removing %s: %w", slug, err)
	}
	var ids []string
	_, err = in.state.Update(func(s *state.State) error {
		g := s.Game(slug)
		for _, x := range []*state.Install{g.Current, g.Previous} {
			if x != nil {
				ids = append(ids, x.ReleaseID)
			}
		}
		if g.Pending != nil {
			ids = append(ids, g.Pending.ReleaseID)
		}
		g.Current, g.Previous, g.Pending, g.Failed, g.LastRun = nil, nil, nil, nil, nil
		g.GrantedTo = "" // uninstalled: it stays so until the player installs it
		if !g.Owned {
			delete(s.Games, slug)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		_ = in.state.RemoveManifest(id)
	}
	return nil
}

// exists reports whether p exists (any type).
func exists(p string) bool {
	_, err := os.Lstat(p)
	return !errors.Is(err, fs.ErrNotExist)
}
