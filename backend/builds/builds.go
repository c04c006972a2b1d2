// Package builds is the build pipeline: upload slots for a release's zip, the checks that turn
// an uploaded object into a release's build (size, sha256, zip safety, file manifest), and
// signed downloads for those entitled to them. It composes a Repo (the postgres package) and a
// blob.Store (local directory or S3); the rules come from the market package.
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
	// Upload returns an upload slot.
	Upload(ctx context.Context, uploadID string) (market.Upload, error)
	// DeleteUpload forgets an upload slot; a missing one is not an error.
	DeleteUpload(ctx context.Context, uploadID string) error
	// AttachBuild, in one transaction, locks the upload's release, refuses it if published,
	// replaces its build and manifest with b, and deletes the upload slot. It returns the
	// object key of the build it replaced, "" if none.
	AttachBuild(ctx context.Context, uploadID string, b market.Build) (replacedKey string, err error)
	// GameByID returns a game in any status.
	GameByID(ctx context.Context, gameID string) (market.Game, error)
	// DownloadableRelease returns the game's release with its build and manifest: releaseID,
	// or the latest published release when releaseID is "". A release without a build, or
	// unpublished and published is true, is NotFound.
	DownloadableRelease(ctx context.Context, gameID, releaseID string, published bool) (market.Release, error)
	// Entitlement returns the id of the user's entitlement to the game that is not revoked,
	// or a NotFound error.
	Entitlement(ctx context.Context, userID, gameID string) (string, error)
	// RecordDownload writes a download_events row.
	RecordDownload(ctx context.Context, entitlementID, releaseID, ipHash, userAgent string) error
	// ExpiredUploads returns upload slots that expired before t.
	ExpiredUploads(ctx context.Context, t time.Time) ([]market.Upload, error)
}

// Config sets the pipeline's limits.
type Config struct {
	MaxBuildBytes  int64          // largest zip accepted
	Zip            zipsafe.Limits // entries, sizes and compression ratio of a zip
	UploadExpiry   time.Duration  // how long an upload URL works
	DownloadExpiry time.Duration  // how long a download URL works
	IPHashSecret   []byte         // key of the HMAC that turns client IPs into download_events.ip_hash
}

// WithDefaults returns c with unset fields given their defaults.
func (c Config) WithDefaults() Config {
	if c.MaxBuildBytes == 0 {
		c.MaxBuildBytes = 8 << 30
	}
	if c.Zip == (zipsafe.Limits{}) {
		c.Zip = zipsafe.DefaultLimits()
	}
	if c.UploadExpiry == 0 {
		c.UploadExpiry = 2 * time.Hour
	}
	if c.DownloadExpiry == 0 {
		c.DownloadExpiry = 30 * time.Minute
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

// New returns the pipeline over repo and store. cfg must have an IPHashSecret.
func New(repo Repo, store blob.Store, cfg Config, log *slog.Logger) (*Service, error) {
	cfg = cfg.WithDefaults()
	if len(cfg.IPHashSecret) < 16 {
		return nil, errors.New("builds: the IP hash secret must have at least 16 bytes")
	}
	return &Service{repo: repo, store: store, cfg: cfg, log: log, now: time.Now}, nil
}

// UploadSlot is where and how to send a build zip.
type UploadSlot struct {
	Upload market.Upload
	URL    string
	Header http.Header
}

// CreateUpload opens an upload slot for release's build, for its game's developer.
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
		SHA256: sha, SizeBytes: size, ExpiresAt: s.now().Add(s.cfg.UploadExpiry).Truncate(time.Second)}
	url, header, err := s.store.UploadURL(ctx, u.ObjectKey, size, s.cfg.UploadExpiry)
	if err != nil {
		return UploadSlot{}, fmt.Errorf("upload URL: %w", err)
	}
	if err := s.repo.CreateUpload(ctx, u); err != nil {
		return UploadSlot{}, err
	}
	return UploadSlot{Upload: u, URL: url, Header: header}, nil
}

// FinishUpload checks the uploaded object against the slot (size, then sha256, streamed) and
// the zip against the safety rules, recording its manifest, and makes it the release's build.
// Any failed check deletes the object and the slot and says which check failed.
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
	b, err := s.verify(ctx, u)
	if err != nil {
		var me *market.Error
		if errors.As(err, &me) && me.Code == market.CodeFailedPrecondition {
			s.discard(ctx, u)
		}
		return market.Release{}, err
	}
	replaced, err := s.repo.AttachBuild(ctx, u.ID, b)
	if err != nil {
		if market.ErrorCode(err) == market.CodeFailedPrecondition {
			s.discard(ctx, u)
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

// verify streams the uploaded object: its size, its sha256, then the zip's rules and manifest.
// A check that fails is a FailedPrecondition error naming the check.
func (s *Service) verify(ctx context.Context, u market.Upload) (market.Build, error) {
	obj, err := s.store.Open(ctx, u.ObjectKey)
	if errors.Is(err, blob.ErrNotFound) {
		return market.Build{}, market.Errorf(market.CodeFailedPrecondition,
			"nothing was uploaded for upload %s: PUT the zip to the upload URL first", u.ID)
	}
	if err != nil {
		return market.Build{}, err
	}
	defer obj.Close()
	if obj.Size() != u.SizeBytes {
		return market.Build{}, market.Errorf(market.CodeFailedPrecondition,
			"size check failed: the upload has %d bytes, CreateUpload declared %d; the upload was deleted", obj.Size(), u.SizeBytes)
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(h, io.NewSectionReader(obj, 0, obj.Size()), make([]byte, 1<<20)); err != nil {
		return market.Build{}, fmt.Errorf("reading the upload: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != u.SHA256 {
		return market.Build{}, market.Errorf(market.CodeFailedPrecondition,
			"sha256 check failed: the upload hashes to %s, CreateUpload declared %s; the upload was deleted", got, u.SHA256)
	}
	entries, err := zipsafe.Scan(obj, obj.Size(), s.cfg.Zip)
	var ze *zipsafe.Error
	if errors.As(err, &ze) {
		return market.Build{}, market.Errorf(market.CodeFailedPrecondition, "zip check failed: %s; the upload was deleted", ze.Error())
	}
	if err != nil {
		return market.Build{}, fmt.Errorf("reading the upload: %w", err)
	}
	b := market.Build{ReleaseID: u.ReleaseID, ObjectKey: u.ObjectKey, SHA256: u.SHA256, SizeBytes: u.SizeBytes,
		ContentType: market.BuildContentType, FileCount: int64(len(entries))}
	for _, e := range entries {
		b.Files = append(b.Files, market.File{Path: e.Path, SizeBytes: e.Size, Mode: uint32(e.Mode.Perm()), SHA256: e.SHA256})
		b.InstalledBytes += e.Size
	}
	return b, nil
}

// discard deletes an upload's object and slot, logging what it cannot delete.
func (s *Service) discard(ctx context.Context, u market.Upload) {
	ctx = context.WithoutCancel(ctx)
	if err := s.store.Delete(ctx, u.ObjectKey); err != nil {
		s.log.WarnContext(ctx, "deleting a refused upload", "key", u.ObjectKey, "err", err)
	}
	if err := s.repo.DeleteUpload(ctx, u.ID); err != nil {
		s.log.WarnContext(ctx, "forgetting a refused upload", "upload", u.ID, "err", err)
	}
}

// PurgeExpiredUploads deletes the objects and slots of uploads that expired before t without
// being finished.
func (s *Service) PurgeExpiredUploads(ctx context.Context, t time.Time) error {
	expired, err := s.repo.ExpiredUploads(ctx, t)
	if err != nil {
		return err
	}
	for _, u := range expired {
		s.discard(ctx, u)
	}
	return nil
}

// Download is what a launcher needs to fetch and verify a build.
type Download struct {
	Release   market.Release // with Build and its Files
	URL       string
	ExpiresAt time.Time
}

// GetDownload returns a signed URL for a build of the game: releaseID, or the latest published
// release when "". Players need an entitlement (recorded in download_events): their own, or
// guestEntitlement, the one a guest's receipt code holds (the caller checked the code). The
// developer may also fetch unpublished releases.
func (s *Service) GetDownload(ctx context.Context, a market.Actor, gameID, releaseID, guestEntitlement string, c market.Client) (Download, error) {
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
	entitlementID := guestEntitlement
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
		if err := s.repo.RecordDownload(ctx, entitlementID, r.ID, s.ipHash(c.IP), ua); err != nil {
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
