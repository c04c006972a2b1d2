// Package builds is the build pipeline: upload slots for a release's zip, the checks that turn
// an uploaded object into a release's build (size, sha256, zip safety, file manifest), and
// signed downloads for those entitled to them. It composes a Repo (the postgres package) and a
// blob.Store (local directory or S3); the rules come from the market package.
//
// A build never changes once finished. An upload URL stores one body at most (blob.Store's
// upload URLs only create, and the uploaded object stays at its key until the slot expires, long
// after the URL); FinishUpload copies that object to the build's own key, for which no upload
// URL is ever made, and checks the copy, so what was checked is what is served.
package builds

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"satchel.dev/backend/blob"
	"satchel.dev/backend/market"
	"satchel.dev/shared/zipsafe"
)

// Repo is what the pipeline keeps in the database.
type Repo interface {
	// ReleaseWithGame returns a release (with its build, if any) and its game.
	ReleaseWithGame(ctx context.Context, releaseID string) (market.Release, market.Game, error)
	// CreateUpload stores a new upload slot.
	CreateUpload(ctx context.Context, u market.Upload) error
	// Upload returns an open upload slot: one neither finished nor closed, expired or not.
	Upload(ctx context.Context, uploadID string) (market.Upload, error)
	// AttachBuild, in one transaction, marks the open upload slot finished (NotFound if it is
	// not open), locks its release, refuses it if published, and replaces its build and
	// manifest with b. It returns the object key of the build it replaced, "" if none.
	AttachBuild(ctx context.Context, uploadID string, b market.Build) (replacedKey string, err error)
	// CloseUpload closes the upload slot if it is open, so that it can never be finished, and
	// says whether it was finished instead: then its build's object is a release's build.
	// Closing a closed slot changes nothing; a missing one is NotFound.
	CloseUpload(ctx context.Context, uploadID string) (finished bool, err error)
	// DeleteUpload forgets an upload slot; a missing one is not an error.
	DeleteUpload(ctx context.Context, uploadID string) error
	// GameByID returns a game in any status.
	GameByID(ctx context.Context, gameID string) (market.Game, error)
	// DownloadableRelease returns the game's release with its build and manifest: releaseID,
	// or the latest published release when releaseID is "". A release without a build, or
	// unpublished and published is true, is NotFound.
	DownloadableRelease(ctx context.Context, gameID, releaseID string, published bool) (market.Release, error)
	// Entitlement returns the id of the user's entitlement to the game that is not revoked,
	// or a NotFound error.
	Entitlement(ctx context.Context, userID, gameID string) (string, error)
	// RecordDownload writes a download_events row, unless the entitlement has one for the
	// release created after since: that download is still going on (a resume, a renewed
	// link), and is counted once.
	RecordDownload(ctx context.Context, entitlementID, releaseID, ipHash, userAgent string, since time.Time) error
	// ExpiredUploads returns the upload slots, open, finished or closed, that expired before t.
	ExpiredUploads(ctx context.Context, t time.Time) ([]market.Upload, error)
	// BuildsWithoutEntries returns the builds (without Files) whose manifest does not say
	// where its files lie in the zip: those finished before the server recorded it.
	BuildsWithoutEntries(ctx context.Context) ([]market.Build, error)
	// SetBuildEntries records, in one transaction, where each file of build buildID lies in
	// its zip. files must be exactly the build's manifest (path, size and sha256 of every
	// file); otherwise it changes nothing and returns a FailedPrecondition error.
	SetBuildEntries(ctx context.Context, buildID string, files []market.File) error
}

const (
	// DefaultMaxBuildBytes is the largest build zip accepted by default: 8 GiB.
	DefaultMaxBuildBytes = 8 << 30
	// DefaultUploadExpiry is how long an upload URL accepts the start of a PUT.
	DefaultUploadExpiry = 15 * time.Minute
	// DefaultFinishWithin is how long after CreateUpload an upload can be finished: a PUT
	// begun before its URL expired may still be streaming. The slot and its upload object are
	// kept until then, and deleted by PurgeExpiredUploads after.
	DefaultFinishWithin = 2 * time.Hour
	// DefaultDownloadWindow is how long the GetDownload calls of one entitlement for one
	// release count as one download: long enough for a slow install with its renewed links
	// and a resume after a crash.
	DefaultDownloadWindow = 24 * time.Hour
)

// Config sets the pipeline's limits.
type Config struct {
	MaxBuildBytes  int64          // largest zip accepted
	Zip            zipsafe.Limits // entries, sizes and compression ratio of a zip
	UploadExpiry   time.Duration  // how long an upload URL accepts the start of a PUT
	FinishWithin   time.Duration  // how long after CreateUpload the upload can be finished; at least UploadExpiry
	DownloadExpiry time.Duration  // how long a download URL works
	// DownloadWindow is how long after a download is recorded the entitlement's further
	// GetDownload calls for the same release count as the same download.
	DownloadWindow time.Duration
	IPHashSecret   []byte // key of the HMAC that turns client IPs into download_events.ip_hash
}

// WithDefaults returns c with unset fields given their defaults.
func (c Config) WithDefaults() Config {
	if c.MaxBuildBytes == 0 {
		c.MaxBuildBytes = DefaultMaxBuildBytes
	}
	if c.Zip == (zipsafe.Limits{}) {
		c.Zip = zipsafe.DefaultLimits()
	}
	if c.UploadExpiry == 0 {
		c.UploadExpiry = DefaultUploadExpiry
	}
	if c.FinishWithin == 0 {
		c.FinishWithin = max(DefaultFinishWithin, c.UploadExpiry)
	}
	if c.DownloadExpiry == 0 {
		c.DownloadExpiry = 30 * time.Minute
	}
	if c.DownloadWindow == 0 {
		c.DownloadWindow = DefaultDownloadWindow
	}
	return c
}

// Service runs the pipeline.
type Service struct {
	repo  Repo
	store blob.Store
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
}

// New returns the pipeline over repo and store. cfg must have an IPHashSecret, and a
// FinishWithin no shorter than its UploadExpiry.
func New(repo Repo, store blob.Store, cfg Config, log *slog.Logger) (*Service, error) {
	cfg = cfg.WithDefaults()
	if len(cfg.IPHashSecret) < 16 {
		return nil, errors.New("builds: the IP hash secret must have at least 16 bytes")
	}
	if cfg.FinishWithin < cfg.UploadExpiry {
		return nil, fmt.Errorf("builds: uploads must be finishable (%v) for at least as long as their URLs work (%v)", cfg.FinishWithin, cfg.UploadExpiry)
	}
	return &Service{repo: repo, store: store, cfg: cfg, log: log, now: time.Now}, nil
}

// UploadSlot is where and how to send a build zip.
type UploadSlot struct {
	Upload market.Upload
	URL    string
	Header http.Header
}

// CreateUpload opens an upload slot for release's build, for its game's developer: a fresh
// object key and a URL that stores one body of size bytes there, if its PUT starts within
// UploadExpiry. The slot can be finished until FinishWithin from now.
func (s *Service) CreateUpload(ctx context.Context, a market.Actor, releaseID string, size int64, sha string) (UploadSlot, error) {
	if err := market.RequireUser(a); err != nil {
		return UploadSlot{}, err
	}
	if err := market.ValidateID("release_id", releaseID); err != nil {
		return UploadSlot{}, err
	}
	r, g, err := s.repo.ReleaseWithGame(ctx, releaseID)
	if err != nil {
		return UploadSlot{}, err
	}
	if err := market.CheckUpload(a, g, r, size, sha, s.cfg.MaxBuildBytes); err != nil {
		return UploadSlot{}, err
	}
	id, err := newID()
	if err != nil {
		return UploadSlot{}, err
	}
	u := market.Upload{ID: id, ReleaseID: r.ID, DeveloperUserID: a.UserID, ObjectKey: market.BuildObjectKey(r.ID, id),
		SHA256: sha, SizeBytes: size, ExpiresAt: s.now().Add(s.cfg.FinishWithin).Truncate(time.Second)}
	url, header, err := s.store.UploadURL(ctx, u.ObjectKey, size, s.cfg.UploadExpiry)
	if err != nil {
		return UploadSlot{}, fmt.Errorf("upload URL: %w", err)
	}
	if err := s.repo.CreateUpload(ctx, u); err != nil {
		return UploadSlot{}, err
	}
	return UploadSlot{Upload: u, URL: url, Header: header}, nil
}

// FinishUpload makes an upload the release's build, for the developer who opened its slot. It
// copies the uploaded object to the build's own key, where no upload URL can reach it, checks
// that copy (size, then sha256, streamed, then the zip's safety rules, recording its manifest),
// and attaches it to the release, closing the slot. A failed check closes the slot too, deletes
// the copy, and says which check failed. Either way nothing the upload URL stores is used again:
// the uploaded object stays at its key, where the URL refuses every PUT, until the slot expires.
// FinishUpload is what tells the developer the build is stored, so it is where the build is made
// durable: the upload's PUT may answer before its bytes reach the disk (the local store's does),
// and the store's Copy returns only once the copy survives a crash (the local store syncs the
// file and its directories; S3 acknowledges a copy once stored), before anything is recorded.
func (s *Service) FinishUpload(ctx context.Context, a market.Actor, uploadID string) (market.Release, error) {
	if err := market.ValidateID("upload_id", uploadID); err != nil {
		return market.Release{}, err
	}
	u, err := s.repo.Upload(ctx, uploadID)
	if err != nil {
		return market.Release{}, err
	}
	if err := market.CheckFinishUpload(a, u, s.now()); err != nil {
		return market.Release{}, err
	}
	key := buildKey(u)
	if err := s.store.Copy(ctx, u.ObjectKey, key); err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			s.refuse(ctx, u)
			return market.Release{}, market.Errorf(market.CodeFailedPrecondition,
				"nothing was uploaded for upload %s: PUT the zip to the upload URL before FinishUpload; open a new upload with CreateUpload", u.ID)
		}
		return market.Release{}, err
	}
	b, err := s.verify(ctx, u, key)
	if err != nil {
		if market.ErrorCode(err) == market.CodeFailedPrecondition {
			s.refuse(ctx, u)
		}
		return market.Release{}, err
	}
	replaced, err := s.repo.AttachBuild(ctx, u.ID, b)
	if err != nil {
		if market.ErrorCode(err) == market.CodeFailedPrecondition {
			s.refuse(ctx, u)
		}
		return market.Release{}, err
	}
	if replaced != "" {
		if err := s.store.Delete(ctx, replaced); err != nil {
			s.log.WarnContext(ctx, "deleting a replaced build", "key", replaced, "err", err)
		}
	}
	r, _, err := s.repo.ReleaseWithGame(ctx, u.ReleaseID)
	return r, err
}

// buildKey is where the build made from upload u lives: beside its upload object, under a name
// CreateUpload never makes an upload URL for (those are market.BuildObjectKey's only).
func buildKey(u market.Upload) string {
	return "builds/" + u.ReleaseID + "/" + u.ID + ".build.zip"
}

// verify streams the object at key, the copy of upload u: its size, its sha256, then the zip's
// rules and manifest. A check that fails is a FailedPrecondition error naming the check.
func (s *Service) verify(ctx context.Context, u market.Upload, key string) (market.Build, error) {
	obj, err := s.store.Open(ctx, key)
	if err != nil {
		return market.Build{}, err
	}
	defer obj.Close()
	if obj.Size() != u.SizeBytes {
		return market.Build{}, market.Errorf(market.CodeFailedPrecondition,
			"size check failed: the upload has %d bytes, CreateUpload declared %d; upload again with CreateUpload", obj.Size(), u.SizeBytes)
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(h, io.NewSectionReader(obj, 0, obj.Size()), make([]byte, 1<<20)); err != nil {
		return market.Build{}, fmt.Errorf("reading the upload: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != u.SHA256 {
		return market.Build{}, market.Errorf(market.CodeFailedPrecondition,
			"sha256 check failed: the upload hashes to %s, CreateUpload declared %s; upload again with CreateUpload", got, u.SHA256)
	}
	entries, err := zipsafe.Scan(obj, obj.Size(), s.cfg.Zip)
	var ze *zipsafe.Error
	if errors.As(err, &ze) {
		return market.Build{}, market.Errorf(market.CodeFailedPrecondition, "zip check failed: %s; fix the zip and upload it again with CreateUpload", ze.Error())
	}
	if err != nil {
		return market.Build{}, fmt.Errorf("reading the upload: %w", err)
	}
	b := market.Build{ReleaseID: u.ReleaseID, ObjectKey: key, SHA256: u.SHA256, SizeBytes: u.SizeBytes,
		ContentType: market.BuildContentType, FileCount: int64(len(entries))}
	for _, e := range entries {
		b.Files = append(b.Files, fileOf(e))
		b.InstalledBytes += e.Size
	}
	return b, nil
}

// fileOf is the manifest's record of a zip entry, with where it lies in the zip.
func fileOf(e zipsafe.Entry) market.File {
	return market.File{Path: e.Path, SizeBytes: e.Size, Mode: uint32(e.Mode.Perm()), SHA256: e.SHA256,
		HeaderOffset: e.HeaderOffset, DataOffset: e.DataOffset, CompressedBytes: e.CompressedSize, Method: e.Method, CRC32: e.CRC32}
}

// refuse closes upload u's slot after a failed check and deletes the copy made for its build,
// unless a concurrent FinishUpload attached that copy first. The uploaded object stays, so that
// the upload URL keeps refusing PUTs, until PurgeExpiredUploads. Failures are logged: the purge
// deletes what is left.
func (s *Service) refuse(ctx context.Context, u market.Upload) {
	ctx = context.WithoutCancel(ctx)
	finished, err := s.repo.CloseUpload(ctx, u.ID)
	if err != nil {
		s.log.WarnContext(ctx, "closing a refused upload", "upload", u.ID, "err", err)
		return
	}
	if !finished {
		if err := s.store.Delete(ctx, buildKey(u)); err != nil {
			s.log.WarnContext(ctx, "deleting a refused build", "key", buildKey(u), "err", err)
		}
	}
}

// PurgeExpiredUploads deletes the upload slots that expired before t, with their upload
// objects (whose URLs expired long before) and the copies made of slots never finished. It
// closes an open slot first, so that no FinishUpload can attach a copy it deletes. A slot whose
// objects cannot be deleted is kept for the next purge (the failure is logged).
func (s *Service) PurgeExpiredUploads(ctx context.Context, t time.Time) error {
	expired, err := s.repo.ExpiredUploads(ctx, t)
	if err != nil {
		return err
	}
	for _, u := range expired {
		finished, err := s.repo.CloseUpload(ctx, u.ID)
		if err != nil {
			s.log.WarnContext(ctx, "closing an expired upload", "upload", u.ID, "err", err)
			continue
		}
		keys := []string{u.ObjectKey}
		if !finished {
			keys = append(keys, buildKey(u))
		}
		deleted := true
		for _, key := range keys {
			if err := s.store.Delete(ctx, key); err != nil {
				s.log.WarnContext(ctx, "deleting an expired upload", "key", key, "err", err)
				deleted = false
			}
		}
		if deleted {
			if err := s.repo.DeleteUpload(ctx, u.ID); err != nil {
				s.log.WarnContext(ctx, "forgetting an expired upload", "upload", u.ID, "err", err)
			}
		}
	}
	return nil
}

// BackfillEntries records where the files of every build finished before the server kept it
// lie in its zip: it reads each such build's zip from the store (streamed, as FinishUpload
// does), checks it again with the zip rules and against the build's sha256, and records the
// locations only if the zip's files are exactly the build's manifest. A build that fails is
// reported to report (with its error) and left as it was; the others go on. report also hears
// each build done (with a nil error). It returns how many builds it backfilled. Running it
// again does only what is left, so it can be stopped at any time.
func (s *Service) BackfillEntries(ctx context.Context, report func(b market.Build, err error)) (int, error) {
	todo, err := s.repo.BuildsWithoutEntries(ctx)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, b := range todo {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		err := s.backfill(ctx, b)
		report(b, err)
		if err == nil {
			done++
		}
	}
	return done, nil
}

// backfill records the locations of build b's files from its zip.
func (s *Service) backfill(ctx context.Context, b market.Build) error {
	obj, err := s.store.Open(ctx, b.ObjectKey)
	if err != nil {
		return fmt.Errorf("opening the zip %s: %w", b.ObjectKey, err)
	}
	defer obj.Close()
	if obj.Size() != b.SizeBytes {
		return fmt.Errorf("the zip %s has %d bytes, the build %d", b.ObjectKey, obj.Size(), b.SizeBytes)
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(h, io.NewSectionReader(obj, 0, obj.Size()), make([]byte, 1<<20)); err != nil {
		return fmt.Errorf("reading the zip %s: %w", b.ObjectKey, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != b.SHA256 {
		return fmt.Errorf("the zip %s hashes to %s, the build says %s", b.ObjectKey, got, b.SHA256)
	}
	entries, err := zipsafe.Scan(obj, obj.Size(), s.cfg.Zip)
	if err != nil {
		return fmt.Errorf("the zip %s: %w", b.ObjectKey, err)
	}
	files := make([]market.File, len(entries))
	for i, e := range entries {
		files[i] = fileOf(e)
	}
	return s.repo.SetBuildEntries(ctx, b.ID, files)
}

// Download is what a launcher needs to fetch and verify a build.
type Download struct {
	Release   market.Release // with Build and its Files
	URL       string         // "" for a preview
	ExpiresAt time.Time      // zero for a preview
}

// DownloadOptions refine GetDownload.
type DownloadOptions struct {
	// GuestEntitlement is the entitlement a guest's receipt code holds (the caller checked
	// the code); "" for none.
	GuestEntitlement string
	// Preview asks for the release and its manifest only, to size an install or an update:
	// no URL is signed and no download is recorded.
	Preview bool
}

// GetDownload returns a signed URL for a build of the game: releaseID, or the latest published
// release when "". Players need an entitlement: their own, or opts.GuestEntitlement. The
// developer may also fetch unpublished releases. A player's download is recorded in
// download_events once: the launcher fetches an install or an update by many Range requests
// on the one URL (which the store serves without the server knowing), and asks again for a
// fresh URL when it expires or when it resumes after a crash; those calls, within
// DownloadWindow of the recorded one, are the same download and are not recorded again. A
// preview (opts.Preview) is refused or allowed exactly as the download is, and returns the
// release without a URL and records nothing.
func (s *Service) GetDownload(ctx context.Context, a market.Actor, gameID, releaseID string, opts DownloadOptions, c market.Client) (Download, error) {
	if err := market.ValidateID("game_id", gameID); err != nil {
		return Download{}, err
	}
	if releaseID != "" {
		if err := market.ValidateID("release_id", releaseID); err != nil {
			return Download{}, err
		}
	}
	g, err := s.repo.GameByID(ctx, gameID)
	if err != nil {
		return Download{}, err
	}
	entitlementID := opts.GuestEntitlement
	if entitlementID == "" && !a.Anonymous() {
		entitlementID, err = s.repo.Entitlement(ctx, a.UserID, g.ID)
		if err != nil && market.ErrorCode(err) != market.CodeNotFound {
			return Download{}, err
		}
	}
	if err := market.CheckDownload(a, g, entitlementID != ""); err != nil {
		return Download{}, err
	}
	developer := a.Admin || a.UserID == g.DeveloperUserID
	r, err := s.repo.DownloadableRelease(ctx, g.ID, releaseID, !developer)
	if err != nil {
		return Download{}, err
	}
	if opts.Preview {
		return Download{Release: r}, nil
	}
	expires := s.now().Add(s.cfg.DownloadExpiry)
	url, err := s.store.DownloadURL(ctx, r.Build.ObjectKey, s.cfg.DownloadExpiry, g.Slug+"-"+r.Version+".zip")
	if err != nil {
		return Download{}, fmt.Errorf("download URL: %w", err)
	}
	if entitlementID != "" {
		ua := c.UserAgent
		if len(ua) > 512 {
			ua = ua[:512]
		}
		if err := s.repo.RecordDownload(ctx, entitlementID, r.ID, s.ipHash(c.IP), ua, s.now().Add(-s.cfg.DownloadWindow)); err != nil {
			return Download{}, err
		}
	}
	return Download{Release: r, URL: url, ExpiresAt: expires}, nil
}

// ipHash is the HMAC-SHA256 of a client IP under the server's secret: downloads from one
// address can be told apart without keeping the address.
func (s *Service) ipHash(ip string) string {
	m := hmac.New(sha256.New, s.cfg.IPHashSecret)
	m.Write([]byte(ip))
	return hex.EncodeToString(m.Sum(nil))
}

// newID returns a random UUID (version 4).
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
