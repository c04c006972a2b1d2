package core

import (
	"archive/zip"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	accountv1 "satchel.dev/shared/api/satchel/account/v1"
	catalogv1 "satchel.dev/shared/api/satchel/catalog/v1"
	developerv1 "satchel.dev/shared/api/satchel/developer/v1"
	libraryv1 "satchel.dev/shared/api/satchel/library/v1"
	"satchel.dev/shared/zipsafe"

	"satchel.dev/desktop/client"
	"satchel.dev/desktop/launch"
	"satchel.dev/desktop/publish"
)

// The developer's side of the engine: the account, games and releases, build uploads with
// a preview of what changed, and the money each game made. Every call signs with the Core's
// identity; the server checks that it is the game's developer.

// Account is the signed-in identity as the server knows it.
type Account struct {
	Pubkey      string `json:"pubkey"`
	Npub        string `json:"npub"`
	DisplayName string `json:"display_name,omitempty"`
	// Developer is true once a payout Lightning Address is set.
	Developer     bool   `json:"developer"`
	PayoutAddress string `json:"payout_address,omitempty"`
	// Studio is the name the developer's games are shown "by"; "" shows DisplayName.
	Studio string `json:"studio,omitempty"`
	Admin  bool   `json:"admin,omitempty"`
}

// ErrNoSigner: the call needs an identity and the Core has none.
var ErrNoSigner = errors.New("no identity: create or import one first")

func (c *Core) needSigner() error {
	if c.client.Signer() == nil {
		return ErrNoSigner
	}
	return nil
}

// Account returns the identity's account (the server creates it on the first signed call).
func (c *Core) Account(ctx context.Context) (Account, error) {
	if err := c.needSigner(); err != nil {
		return Account{}, err
	}
	res, err := c.client.Account.GetMe(ctx, &accountv1.GetMeRequest{})
	if err != nil {
		return Account{}, err
	}
	u := res.GetUser()
	return Account{Pubkey: u.GetPubkey(), Npub: u.GetNpub(), DisplayName: u.GetDisplayName(),
		Developer: u.GetDeveloper().GetPayoutLnAddress() != "", PayoutAddress: u.GetDeveloper().GetPayoutLnAddress(),
		Studio: u.GetDeveloper().GetStudioName(), Admin: u.GetIsAdmin()}, nil
}

// SetStudio sets the studio name the developer's games are shown "by" ("" clears it).
func (c *Core) SetStudio(ctx context.Context, name string) (Account, error) {
	if err := c.needSigner(); err != nil {
		return Account{}, err
	}
	name = strings.TrimSpace(name)
	if _, err := c.client.Account.UpdateProfile(ctx, &accountv1.UpdateProfileRequest{StudioName: &name}); err != nil {
		return Account{}, err
	}
	return c.Account(ctx)
}

// UploadImage adds the image file at path to the developer's game: as its cover (replacing
// it) or as its last screenshot. The server checks it (PNG, JPEG or WebP, at most 10 MiB,
// 16 to 4096 pixels a side; 8 screenshots at most). It returns the game with its images.
func (c *Core) UploadImage(ctx context.Context, gameID string, cover bool, path string) (DevGame, error) {
	if err := c.needSigner(); err != nil {
		return DevGame{}, err
	}
	if _, err := publish.UploadImage(ctx, c.client, &http.Client{Transport: c.cfg.Transport}, gameID, cover, path); err != nil {
		return DevGame{}, err
	}
	return c.myGame(ctx, gameID)
}

// DeleteImage removes an image from the developer's game and returns the game.
func (c *Core) DeleteImage(ctx context.Context, gameID, imageID string) (DevGame, error) {
	if err := c.needSigner(); err != nil {
		return DevGame{}, err
	}
	if _, err := c.client.Developer.DeleteMedia(ctx, &developerv1.DeleteMediaRequest{MediaId: imageID}); err != nil {
		return DevGame{}, err
	}
	return c.myGame(ctx, gameID)
}

// BecomeDeveloper sets the Lightning Address the identity's sales are paid to, which makes it
// a developer, or changes it. The server resolves the address first and refuses it, saying
// why, unless it answers with a pay request that takes the developer's share of a sale.
func (c *Core) BecomeDeveloper(ctx context.Context, lnAddress string) (Account, error) {
	if err := c.needSigner(); err != nil {
		return Account{}, err
	}
	if _, err := c.client.Developer.SetPayoutAddress(ctx, &developerv1.SetPayoutAddressRequest{LnAddress: strings.TrimSpace(lnAddress)}); err != nil {
		return Account{}, err
	}
	return c.Account(ctx)
}

// GameDraft is what a developer writes about a game.
type GameDraft struct {
	// Slug names the game in URLs; it is set when the game is created and never changes.
	Slug          string `json:"slug"`
	Title         string `json:"title"`
	Summary       string `json:"summary"`
	DescriptionMD string `json:"description_md"`
	PriceMsat     int64  `json:"price_msat"`
}

// DevGame is one of the developer's games with its releases, newest first.
type DevGame struct {
	ID            string       `json:"id"`
	Slug          string       `json:"slug"`
	Title         string       `json:"title"`
	Summary       string       `json:"summary"`
	DescriptionMD string       `json:"description_md"`
	PriceMsat     int64        `json:"price_msat"`
	Status        string       `json:"status"` // DRAFT, UNLISTED, LISTED, FEATURED or BANNED
	Releases      []DevRelease `json:"releases"`
	// Cover and Screenshots are the store's images of the game (URLs that answer once the
	// game is UNLISTED, LISTED or FEATURED).
	Cover       *Image  `json:"cover,omitempty"`
	Screenshots []Image `json:"screenshots"`
}

// DevRelease is a release as its developer sees it.
type DevRelease struct {
	ID          string    `json:"id"`
	GameID      string    `json:"game_id"`
	Version     string    `json:"version"`
	NotesMD     string    `json:"notes_md"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
	Published   bool      `json:"published"`
	PublishedAt time.Time `json:"published_at,omitzero"`
	// Build is the release's checked build, nil until one is in place.
	Build *BuildInfo `json:"build,omitempty"`
	// Upload is this launcher's upload of a build for the release: under way, or the last
	// one that failed or was refused. Nil otherwise.
	Upload *UploadProgress `json:"upload,omitempty"`
}

// BuildInfo describes a release's checked build.
type BuildInfo struct {
	SHA256         string `json:"sha256"`
	Size           int64  `json:"size"`
	FileCount      int64  `json:"file_count"`
	InstalledBytes int64  `json:"installed_bytes"`
}

func gameStatus(s catalogv1.GameStatus) string {
	return strings.TrimPrefix(s.String(), "GAME_STATUS_")
}

func (c *Core) devGameFrom(g *catalogv1.Game, rels []*catalogv1.Release, uploads map[string]UploadProgress) DevGame {
	out := DevGame{ID: g.GetId(), Slug: g.GetSlug(), Title: g.GetTitle(), Summary: g.GetSummary(),
		DescriptionMD: g.GetDescriptionMd(), PriceMsat: g.GetPriceMsat(), Status: gameStatus(g.GetStatus()), Releases: []DevRelease{},
		Cover: c.image(g.GetCover()), Screenshots: []Image{}}
	for _, m := range g.GetScreenshots() {
		out.Screenshots = append(out.Screenshots, *c.image(m))
	}
	for _, r := range rels {
		out.Releases = append(out.Releases, devReleaseFrom(r, uploads))
	}
	slices.SortStableFunc(out.Releases, func(a, b DevRelease) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out
}

func devReleaseFrom(r *catalogv1.Release, uploads map[string]UploadProgress) DevRelease {
	out := DevRelease{ID: r.GetId(), GameID: r.GetGameId(), Version: r.GetVersion(), NotesMD: r.GetReleaseNotesMd(),
		CreatedAt: asTime(r.GetCreatedAt()), Published: r.GetPublishedAt() != nil, PublishedAt: asTime(r.GetPublishedAt())}
	if b := r.GetBuild(); b != nil {
		out.Build = &BuildInfo{SHA256: b.GetSha256(), Size: b.GetSizeBytes(), FileCount: b.GetFileCount(), InstalledBytes: b.GetInstalledBytes()}
	}
	if u, ok := uploads[out.ID]; ok {
		out.Upload = &u
	}
	return out
}

func asTime(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

// MyGames returns the identity's games, newest first, with every release.
func (c *Core) MyGames(ctx context.Context) ([]DevGame, error) {
	if err := c.needSigner(); err != nil {
		return nil, err
	}
	res, err := c.client.Developer.ListMyGames(ctx, &developerv1.ListMyGamesRequest{})
	if err != nil {
		return nil, err
	}
	uploads := c.uploadStates()
	out := []DevGame{}
	for _, g := range res.GetGames() {
		out = append(out, c.devGameFrom(g.GetGame(), g.GetReleases(), uploads))
	}
	return out, nil
}

func (c *Core) myGame(ctx context.Context, gameID string) (DevGame, error) {
	games, err := c.MyGames(ctx)
	if err != nil {
		return DevGame{}, err
	}
	for _, g := range games {
		if g.ID == gameID {
			return g, nil
		}
	}
	return DevGame{}, fmt.Errorf("%w: you have no game %s", ErrUnknownGame, gameID)
}

// CreateGame creates a game, as a DRAFT only its developer sees.
func (c *Core) CreateGame(ctx context.Context, d GameDraft) (DevGame, error) {
	if err := c.needSigner(); err != nil {
		return DevGame{}, err
	}
	res, err := c.client.Developer.CreateGame(ctx, &developerv1.CreateGameRequest{Slug: strings.TrimSpace(d.Slug), Title: d.Title,
		Summary: d.Summary, DescriptionMd: d.DescriptionMD, PriceMsat: d.PriceMsat})
	if err != nil {
		return DevGame{}, err
	}
	return c.devGameFrom(res.GetGame(), nil, nil), nil
}

// UpdateGame changes a game's title, summary, description and price (not its slug).
func (c *Core) UpdateGame(ctx context.Context, gameID string, d GameDraft) (DevGame, error) {
	if err := c.needSigner(); err != nil {
		return DevGame{}, err
	}
	if _, err := c.client.Developer.UpdateGame(ctx, &developerv1.UpdateGameRequest{GameId: gameID, Title: &d.Title,
		Summary: &d.Summary, DescriptionMd: &d.DescriptionMD, PriceMsat: &d.PriceMsat}); err != nil {
		return DevGame{}, err
	}
	return c.myGame(ctx, gameID)
}

// SetGameStatus lists, unlists or drafts a game: status is DRAFT, UNLISTED or LISTED (a
// listed game needs a published release).
func (c *Core) SetGameStatus(ctx context.Context, gameID, status string) (DevGame, error) {
	if err := c.needSigner(); err != nil {
		return DevGame{}, err
	}
	v, ok := catalogv1.GameStatus_value["GAME_STATUS_"+strings.ToUpper(status)]
	if !ok {
		return DevGame{}, fmt.Errorf("%q is not a listing status: say DRAFT, UNLISTED or LISTED", status)
	}
	if _, err := c.client.Developer.SetGameStatus(ctx, &developerv1.SetGameStatusRequest{GameId: gameID, Status: catalogv1.GameStatus(v)}); err != nil {
		return DevGame{}, err
	}
	return c.myGame(ctx, gameID)
}

// CreateRelease creates an unpublished release of a game.
func (c *Core) CreateRelease(ctx context.Context, gameID, version, notesMD string) (DevRelease, error) {
	if err := c.needSigner(); err != nil {
		return DevRelease{}, err
	}
	res, err := c.client.Developer.CreateRelease(ctx, &developerv1.CreateReleaseRequest{GameId: gameID,
		Version: strings.TrimSpace(version), ReleaseNotesMd: notesMD})
	if err != nil {
		return DevRelease{}, err
	}
	return devReleaseFrom(res.GetRelease(), nil), nil
}

// PublishRelease publishes a release whose build is in place: owners' launchers hear of it
// at once and update where auto-update is on.
func (c *Core) PublishRelease(ctx context.Context, releaseID string) (DevRelease, error) {
	if err := c.needSigner(); err != nil {
		return DevRelease{}, err
	}
	res, err := c.client.Developer.PublishRelease(ctx, &developerv1.PublishReleaseRequest{ReleaseId: releaseID})
	if err != nil {
		return DevRelease{}, err
	}
	return devReleaseFrom(res.GetRelease(), c.uploadStates()), nil
}

// FileChange is one file of a BuildDiff.
type FileChange struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	OldSize int64  `json:"old_size,omitempty"`
}

// BuildDiff is what a build zip changes against the previous release's build, from the two
// file manifests.
type BuildDiff struct {
	Zip            string `json:"zip"`
	Size           int64  `json:"size"`
	Files          int    `json:"files"`
	InstalledBytes int64  `json:"installed_bytes"`
	// Against is the version compared with, "" when no earlier release has a build.
	Against   string       `json:"against,omitempty"`
	Added     []FileChange `json:"added"`
	Removed   []FileChange `json:"removed"`
	Changed   []FileChange `json:"changed"`
	Unchanged int          `json:"unchanged"`
	// Gaps are the platforms the build cannot be launched on, with why: a warning, not a
	// refusal (a game may ship for some systems only).
	Gaps []launch.Gap `json:"gaps"`
}

// PreviewBuild checks the zip with the same rules as the server and compares its files with
// the build of the release published before releaseID (or, if none is published, the newest
// earlier release with a build). Nothing is uploaded.
func (c *Core) PreviewBuild(ctx context.Context, releaseID, zip string) (BuildDiff, error) {
	if err := c.needSigner(); err != nil {
		return BuildDiff{}, err
	}
	f, err := os.Open(zip)
	if err != nil {
		return BuildDiff{}, fmt.Errorf("opening the build: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return BuildDiff{}, err
	}
	entries, err := zipsafe.Scan(f, fi.Size(), zipsafe.Limits{})
	if err != nil {
		return BuildDiff{}, fmt.Errorf("%s cannot be a build: %w", zip, err)
	}
	gaps, err := buildGaps(f, fi.Size())
	if err != nil {
		return BuildDiff{}, fmt.Errorf("%s cannot be launched anywhere: %w", zip, err)
	}
	diff := BuildDiff{Zip: zip, Size: fi.Size(), Files: len(entries), Added: []FileChange{}, Removed: []FileChange{}, Changed: []FileChange{},
		Gaps: gaps}
	for _, e := range entries {
		diff.InstalledBytes += e.Size
	}
	game, rel, err := c.findRelease(ctx, releaseID)
	if err != nil {
		return diff, err
	}
	prev := previousBuild(game, rel)
	old := map[string]*libraryv1.ManifestFile{}
	if prev != nil {
		res, err := c.client.Library.GetDownload(ctx, &libraryv1.GetDownloadRequest{GameId: game.ID, ReleaseId: prev.ID, Preview: true})
		if err != nil {
			return diff, fmt.Errorf("reading the files of %s: %w", prev.Version, err)
		}
		diff.Against = prev.Version
		for _, mf := range res.GetFiles() {
			old[mf.GetPath()] = mf
		}
	}
	for _, e := range entries {
		o, ok := old[e.Path]
		switch {
		case !ok:
			diff.Added = append(diff.Added, FileChange{Path: e.Path, Size: e.Size})
		case o.GetSha256() != e.SHA256 || o.GetMode()&0o111 != uint32(e.Mode)&0o111:
			diff.Changed = append(diff.Changed, FileChange{Path: e.Path, Size: e.Size, OldSize: o.GetSizeBytes()})
		default:
			diff.Unchanged++
		}
		delete(old, e.Path)
	}
	for p, o := range old {
		diff.Removed = append(diff.Removed, FileChange{Path: p, OldSize: o.GetSizeBytes()})
	}
	slices.SortFunc(diff.Removed, func(a, b FileChange) int { return cmp.Compare(a.Path, b.Path) })
	return diff, nil
}

// buildGaps is launch.Gaps of a build zip (never nil, for the window).
func buildGaps(r io.ReaderAt, size int64) ([]launch.Gap, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, err
	}
	gaps, err := launch.Gaps(zr)
	if gaps == nil {
		gaps = []launch.Gap{}
	}
	return gaps, err
}

func (c *Core) findRelease(ctx context.Context, releaseID string) (DevGame, DevRelease, error) {
	games, err := c.MyGames(ctx)
	if err != nil {
		return DevGame{}, DevRelease{}, err
	}
	for _, g := range games {
		for _, r := range g.Releases {
			if r.ID == releaseID {
				return g, r, nil
			}
		}
	}
	return DevGame{}, DevRelease{}, fmt.Errorf("%w: you have no release %s", ErrUnknownGame, releaseID)
}

// previousBuild is the release rel's build is compared with: the newest published release
// created before it, else the newest earlier one with a build.
func previousBuild(g DevGame, rel DevRelease) *DevRelease {
	var fallback *DevRelease
	for i := range g.Releases { // newest first
		r := &g.Releases[i]
		if r.ID == rel.ID || r.Build == nil || r.CreatedAt.After(rel.CreatedAt) {
			continue
		}
		if r.Published {
			return r
		}
		if fallback == nil {
			fallback = r
		}
	}
	return fallback
}

// UploadPhase is how far a build upload got.
type UploadPhase string

// The phases of an upload, in order, and how it ends.
const (
	UploadHashing   UploadPhase = "hashing"   // the launcher hashes the zip
	UploadUploading UploadPhase = "uploading" // the zip is sent
	UploadChecking  UploadPhase = "checking"  // the server checks size, sha256 and the zip's rules
	UploadReady     UploadPhase = "ready"     // the build is in place
	UploadRefused   UploadPhase = "refused"   // the server's checks refused it (Error says why)
	UploadFailed    UploadPhase = "failed"    // the upload did not get through (Error says why)
)

// UploadProgress is a snapshot of a build upload.
type UploadProgress struct {
	ReleaseID string      `json:"release_id"`
	Phase     UploadPhase `json:"phase"`
	// Done and Total count the bytes of the phase (hashing, uploading).
	Done           int64         `json:"done"`
	Total          int64         `json:"total"`
	BytesPerSecond float64       `json:"bytes_per_second,omitempty"`
	ETA            time.Duration `json:"eta,omitempty"`
	Error          string        `json:"error,omitempty"`
}

type uploads struct {
	mu sync.Mutex
	m  map[string]UploadProgress
}

func (c *Core) uploadStates() map[string]UploadProgress {
	u := c.uploads
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[string]UploadProgress, len(u.m))
	for k, v := range u.m {
		out[k] = v
	}
	return out
}

// UploadBuild makes zip the build of the unpublished release releaseID: it hashes the zip,
// sends it to a fresh upload slot, and has the server check it. progress hears every phase,
// at most every 200ms while bytes move; the last state also shows in MyGames until the
// build is in place. A build the server refuses ends in UploadRefused with the server's
// reason, and the error.
func (c *Core) UploadBuild(ctx context.Context, releaseID, zip string, progress func(UploadProgress)) (DevRelease, error) {
	if err := c.needSigner(); err != nil {
		return DevRelease{}, err
	}
	u := c.uploads
	report := func(p UploadProgress) {
		p.ReleaseID = releaseID
		u.mu.Lock()
		if p.Phase == UploadReady {
			delete(u.m, releaseID)
		} else {
			u.m[releaseID] = p
		}
		u.mu.Unlock()
		if progress != nil {
			progress(p)
		}
	}
	u.mu.Lock()
	if p, ok := u.m[releaseID]; ok && (p.Phase == UploadHashing || p.Phase == UploadUploading || p.Phase == UploadChecking) {
		u.mu.Unlock()
		return DevRelease{}, fmt.Errorf("a build of this release is already being uploaded (%s)", p.Phase)
	}
	u.m[releaseID] = UploadProgress{ReleaseID: releaseID, Phase: UploadHashing}
	u.mu.Unlock()
	rel, err := c.uploadBuild(ctx, releaseID, zip, report)
	if err != nil {
		phase := UploadFailed
		var refused *refusedError
		if errors.As(err, &refused) {
			phase = UploadRefused
		}
		report(UploadProgress{Phase: phase, Error: err.Error()})
		return DevRelease{}, err
	}
	report(UploadProgress{Phase: UploadReady, Done: rel.Build.Size, Total: rel.Build.Size})
	return rel, nil
}

// refusedError is a build the server's checks refused.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

func (c *Core) uploadBuild(ctx context.Context, releaseID, zip string, report func(UploadProgress)) (DevRelease, error) {
	f, err := os.Open(zip)
	if err != nil {
		return DevRelease{}, fmt.Errorf("opening the build: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return DevRelease{}, err
	}
	size := fi.Size()

	h := sha256.New()
	hashed := &meteredReader{r: f}
	stop := hashed.every(ctx, 200*time.Millisecond, func(done int64, bps float64, eta time.Duration) {
		report(UploadProgress{Phase: UploadHashing, Done: done, Total: size, BytesPerSecond: bps, ETA: eta})
	}, size)
	_, err = io.CopyBuffer(h, hashed, make([]byte, 1<<20))
	stop()
	if err != nil {
		return DevRelease{}, fmt.Errorf("reading the build: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))

	slot, err := c.client.Developer.CreateUpload(ctx, &developerv1.CreateUploadRequest{ReleaseId: releaseID, SizeBytes: size, Sha256: sum})
	if err != nil {
		return DevRelease{}, refusal(err)
	}
	body := &meteredReader{r: io.NewSectionReader(f, 0, size)}
	stop = body.every(ctx, 200*time.Millisecond, func(done int64, bps float64, eta time.Duration) {
		report(UploadProgress{Phase: UploadUploading, Done: done, Total: size, BytesPerSecond: bps, ETA: eta})
	}, size)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, slot.GetUrl(), body)
	if err != nil {
		stop()
		return DevRelease{}, err
	}
	req.ContentLength = size
	for k, v := range slot.GetHeaders() {
		req.Header.Set(k, v)
	}
	res, err := (&http.Client{Transport: c.cfg.Transport}).Do(req)
	stop()
	if err != nil {
		return DevRelease{}, fmt.Errorf("uploading the build: %w (upload again to retry)", err)
	}
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return DevRelease{}, fmt.Errorf("uploading the build: the storage answered %s: %s", res.Status, strings.TrimSpace(string(msg)))
	}

	report(UploadProgress{Phase: UploadChecking, Done: size, Total: size})
	fin, err := c.client.Developer.FinishUpload(ctx, &developerv1.FinishUploadRequest{UploadId: slot.GetUploadId()})
	if err != nil {
		return DevRelease{}, refusal(err)
	}
	rel := devReleaseFrom(fin.GetRelease(), nil)
	if rel.Build == nil {
		rel.Build = &BuildInfo{SHA256: sum, Size: size}
	}
	return rel, nil
}

// refusal marks the server's refusals of a build (its checks, a published release).
func refusal(err error) error {
	var ce *client.Error
	if (errors.Is(err, client.ErrFailedPrecondition) || errors.Is(err, client.ErrInvalid)) && errors.As(err, &ce) {
		return &refusedError{msg: ce.Message}
	}
	return err
}

// meteredReader counts what is read through it.
type meteredReader struct {
	r io.Reader
	n atomic.Int64
}

func (m *meteredReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	m.n.Add(int64(n))
	return n, err
}

// every calls fn every interval with the bytes read so far, the recent rate and the time
// left to total at that rate, until the returned stop is called.
func (m *meteredReader) every(ctx context.Context, interval time.Duration, fn func(done int64, bps float64, eta time.Duration), total int64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		type sample struct {
			at time.Time
			n  int64
		}
		samples := []sample{{time.Now(), 0}}
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			n := m.n.Load()
			now := time.Now()
			samples = append(samples, sample{now, n})
			for len(samples) > 2 && now.Sub(samples[0].at) > 3*time.Second {
				samples = samples[1:]
			}
			var bps float64
			var eta time.Duration
			if dt := now.Sub(samples[0].at).Seconds(); dt > 0 {
				bps = float64(n-samples[0].n) / dt
			}
			if bps > 0 {
				eta = time.Duration(float64(total-n) / bps * float64(time.Second))
			}
			fn(n, bps, eta)
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-finished
	}
}

// Sale is one purchase of a developer's game.
type Sale struct {
	PurchaseID   string    `json:"purchase_id"`
	GameTitle    string    `json:"game_title"`
	Status       string    `json:"status"`
	PriceMsat    int64     `json:"price_msat"`
	FeeMsat      int64     `json:"fee_msat"`
	NetMsat      int64     `json:"net_msat"`
	PaidAt       time.Time `json:"paid_at,omitzero"`
	PayoutStatus string    `json:"payout_status,omitempty"`
}

// SalesTotals add up a game's sales.
type SalesTotals struct {
	Count       int64 `json:"count"`
	GrossMsat   int64 `json:"gross_msat"`
	FeeMsat     int64 `json:"fee_msat"`
	NetMsat     int64 `json:"net_msat"`
	SentMsat    int64 `json:"sent_msat"`
	PendingMsat int64 `json:"pending_msat"`
	FailedMsat  int64 `json:"failed_msat"`
}

// SalesReport is a game's newest sales (up to 100) and its totals.
type SalesReport struct {
	Totals SalesTotals `json:"totals"`
	Sales  []Sale      `json:"sales"`
}

// LedgerEntry is one line of a game's ledger.
type LedgerEntry struct {
	ID         string    `json:"id"`
	PurchaseID string    `json:"purchase_id"`
	Type       string    `json:"type"`
	AmountMsat int64     `json:"amount_msat"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
}

// Payout is a payment of a sale's net amount to the developer's Lightning Address.
type Payout struct {
	ID         string    `json:"id"`
	PurchaseID string    `json:"purchase_id"`
	LnAddress  string    `json:"ln_address"`
	AmountMsat int64     `json:"amount_msat"`
	Status     string    `json:"status"`
	Attempts   int32     `json:"attempts"`
	LastError  string    `json:"last_error,omitempty"`
	SentAt     time.Time `json:"sent_at,omitzero"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
}

const moneyPage = 100

// Sales returns a game's newest sales and totals.
func (c *Core) Sales(ctx context.Context, gameID string) (SalesReport, error) {
	if err := c.needSigner(); err != nil {
		return SalesReport{}, err
	}
	res, err := c.client.Developer.ListSales(ctx, &developerv1.ListSalesRequest{GameId: gameID, PageSize: moneyPage})
	if err != nil {
		return SalesReport{}, err
	}
	t := res.GetTotals()
	out := SalesReport{Totals: SalesTotals{Count: t.GetSaleCount(), GrossMsat: t.GetGrossMsat(), FeeMsat: t.GetFeeMsat(),
		NetMsat: t.GetNetMsat(), SentMsat: t.GetSentMsat(), PendingMsat: t.GetPendingMsat(), FailedMsat: t.GetFailedMsat()}, Sales: []Sale{}}
	for _, s := range res.GetSales() {
		sale := Sale{PurchaseID: s.GetPurchaseId(), GameTitle: s.GetGameTitle(),
			Status: strings.TrimPrefix(s.GetStatus().String(), "PURCHASE_STATUS_"), PriceMsat: s.GetPriceMsat(),
			FeeMsat: s.GetFeeMsat(), NetMsat: s.GetNetMsat(), PaidAt: asTime(s.GetPaidAt())}
		if p := s.GetPayout(); p != nil {
			sale.PayoutStatus = strings.TrimPrefix(p.GetStatus().String(), "PAYOUT_STATUS_")
		}
		out.Sales = append(out.Sales, sale)
	}
	return out, nil
}

// Ledger returns a game's newest ledger entries.
func (c *Core) Ledger(ctx context.Context, gameID string) ([]LedgerEntry, error) {
	if err := c.needSigner(); err != nil {
		return nil, err
	}
	res, err := c.client.Developer.ListLedger(ctx, &developerv1.ListLedgerRequest{GameId: gameID, PageSize: moneyPage})
	if err != nil {
		return nil, err
	}
	out := []LedgerEntry{}
	for _, e := range res.GetEntries() {
		out = append(out, LedgerEntry{ID: e.GetId(), PurchaseID: e.GetPurchaseId(),
			Type: strings.TrimPrefix(e.GetType().String(), "LEDGER_ENTRY_TYPE_"), AmountMsat: e.GetAmountMsat(), CreatedAt: asTime(e.GetCreatedAt())})
	}
	return out, nil
}

// Payouts returns a game's newest payouts.
func (c *Core) Payouts(ctx context.Context, gameID string) ([]Payout, error) {
	if err := c.needSigner(); err != nil {
		return nil, err
	}
	res, err := c.client.Developer.ListPayouts(ctx, &developerv1.ListPayoutsRequest{GameId: gameID, PageSize: moneyPage})
	if err != nil {
		return nil, err
	}
	out := []Payout{}
	for _, p := range res.GetPayouts() {
		out = append(out, Payout{ID: p.GetId(), PurchaseID: p.GetPurchaseId(), LnAddress: p.GetLnAddress(), AmountMsat: p.GetAmountMsat(),
			Status: strings.TrimPrefix(p.GetStatus().String(), "PAYOUT_STATUS_"), Attempts: p.GetAttemptCount(),
			LastError: p.GetLastError(), SentAt: asTime(p.GetSentAt()), CreatedAt: asTime(p.GetCreatedAt())})
	}
	return out, nil
}
