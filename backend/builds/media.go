package builds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // image.Decode reads JPEG
	_ "image/png"  // and PNG
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	_ "golang.org/x/image/webp" // and WebP

	"satchel.dev/backend/blob"
	"satchel.dev/backend/market"
)

// MediaRepo is what game media keep in the database.
type MediaRepo interface {
	// GameByID returns a game in any status, with its media.
	GameByID(ctx context.Context, gameID string) (market.Game, error)
	// CreateMediaUpload stores a new image upload slot.
	CreateMediaUpload(ctx context.Context, u market.MediaUpload) error
	// MediaUpload returns an open image upload slot: neither finished nor closed.
	MediaUpload(ctx context.Context, uploadID string) (market.MediaUpload, error)
	// AttachMedia, in one transaction, marks the open slot finished (NotFound if it is not
	// open), locks m's game, refuses an image the game has already (AlreadyExists) and a
	// screenshot beyond market.MaxScreenshots (FailedPrecondition), and adds m: a cover
	// replaces the game's cover, a screenshot goes last. It returns m as stored, and the
	// object key of the cover it replaced ("" if none).
	AttachMedia(ctx context.Context, uploadID string, m market.Media) (market.Media, string, error)
	// CloseMediaUpload closes the slot if it is open and says whether it was finished
	// instead; closing a closed slot changes nothing; a missing one is NotFound.
	CloseMediaUpload(ctx context.Context, uploadID string) (finished bool, err error)
	// DeleteMediaUpload forgets a slot; a missing one is not an error.
	DeleteMediaUpload(ctx context.Context, uploadID string) error
	// ExpiredMediaUploads returns the slots, in any state, that expired before t.
	ExpiredMediaUploads(ctx context.Context, t time.Time) ([]market.MediaUpload, error)
	// MediaByID returns an image of a game, NotFound if none has the id.
	MediaByID(ctx context.Context, mediaID string) (market.Media, error)
	// DeleteMedia removes an image's row; NotFound if it is gone.
	DeleteMedia(ctx context.Context, mediaID string) error
	// MediaBySHA256 returns the game's image with that content, and the game; NotFound if
	// the game has none.
	MediaBySHA256(ctx context.Context, gameID, sha256 string) (market.Media, market.Game, error)
}

// Media runs game media: upload slots for images (through the same signed upload URLs as
// builds), the checks that make an upload a game's cover or screenshot (size, sha256, type,
// dimensions, one full decode), and the images served to anyone while their game is public.
// Like a build, an image never changes once added: FinishMediaUpload copies the upload to a
// key of its own, checks that copy, and serves only it.
type Media struct {
	repo  MediaRepo
	store blob.Store
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	// decoding bounds how many images are decoded at once: each may hold up to 64 MiB.
	decoding chan struct{}
}

// NewMedia returns the media service over repo and store, with cfg's upload expiry and
// finishing time (see Config).
func NewMedia(repo MediaRepo, store blob.Store, cfg Config, log *slog.Logger) *Media {
	return &Media{repo: repo, store: store, cfg: cfg.WithDefaults(), log: log, now: time.Now, decoding: make(chan struct{}, 2)}
}

// MediaSlot is where and how to send an image.
type MediaSlot struct {
	Upload market.MediaUpload
	URL    string
	Header http.Header
}

// CreateUpload opens an upload slot for an image of kind for the caller's game, under
// market.CheckMediaUpload: a fresh object key and a URL that stores one body of size bytes
// there if its PUT starts within the upload expiry.
func (s *Media) CreateUpload(ctx context.Context, a market.Actor, gameID string, kind market.MediaKind, size int64, sha, contentType string) (MediaSlot, error) {
	if err := market.RequireUser(a); err != nil {
		return MediaSlot{}, err
	}
	if err := market.ValidateID("game_id", gameID); err != nil {
		return MediaSlot{}, err
	}
	g, err := s.repo.GameByID(ctx, gameID)
	if err != nil {
		return MediaSlot{}, err
	}
	if err := market.CheckMediaUpload(a, g, kind, size, sha, contentType, len(g.Screenshots)); err != nil {
		return MediaSlot{}, err
	}
	id, err := newID()
	if err != nil {
		return MediaSlot{}, err
	}
	u := market.MediaUpload{ID: id, GameID: g.ID, DeveloperUserID: a.UserID, Kind: kind, ObjectKey: market.MediaUploadObjectKey(g.ID, id),
		SHA256: sha, SizeBytes: size, ContentType: contentType, ExpiresAt: s.now().Add(s.cfg.FinishWithin).Truncate(time.Second)}
	url, header, err := s.store.UploadURL(ctx, u.ObjectKey, size, s.cfg.UploadExpiry)
	if err != nil {
		return MediaSlot{}, fmt.Errorf("upload URL: %w", err)
	}
	if err := s.repo.CreateMediaUpload(ctx, u); err != nil {
		return MediaSlot{}, err
	}
	return MediaSlot{Upload: u, URL: url, Header: header}, nil
}

// mediaKey is where the image made from upload u lives, under a name no upload URL is made for.
func mediaKey(u market.MediaUpload) string {
	return "media/" + u.GameID + "/" + u.ID + market.MediaTypes[u.ContentType]
}

// FinishUpload adds an upload to its game, for the developer who opened its slot: it copies
// the upload to the image's own key, checks the copy (size, sha256, streamed; then the
// format and dimensions from its header, then one full decode), and attaches it. A failed
// check closes the slot, deletes the copy, and says which check failed. It returns the image
// and its game with all its media.
func (s *Media) FinishUpload(ctx context.Context, a market.Actor, uploadID string) (market.Media, market.Game, error) {
	if err := market.ValidateID("upload_id", uploadID); err != nil {
		return market.Media{}, market.Game{}, err
	}
	u, err := s.repo.MediaUpload(ctx, uploadID)
	if err != nil {
		return market.Media{}, market.Game{}, err
	}
	if err := market.CheckFinishUpload(a, market.Upload{ID: u.ID, DeveloperUserID: u.DeveloperUserID, ExpiresAt: u.ExpiresAt}, s.now()); err != nil {
		return market.Media{}, market.Game{}, err
	}
	key := mediaKey(u)
	if err := s.store.Copy(ctx, u.ObjectKey, key); err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			s.refuse(ctx, u)
			return market.Media{}, market.Game{}, market.Errorf(market.CodeFailedPrecondition,
				"nothing was uploaded for upload %s: PUT the image to the upload URL before FinishMediaUpload; open a new upload with CreateMediaUpload", u.ID)
		}
		return market.Media{}, market.Game{}, err
	}
	m, err := s.verify(ctx, u, key)
	if err == nil {
		var replaced string
		if m, replaced, err = s.repo.AttachMedia(ctx, u.ID, m); err == nil && replaced != "" {
			if err := s.store.Delete(ctx, replaced); err != nil {
				s.log.WarnContext(ctx, "deleting a replaced cover", "key", replaced, "err", err)
			}
		}
	}
	if err != nil {
		if c := market.ErrorCode(err); c == market.CodeFailedPrecondition || c == market.CodeAlreadyExists {
			s.refuse(ctx, u)
		}
		return market.Media{}, market.Game{}, err
	}
	g, err := s.repo.GameByID(ctx, u.GameID)
	return m, g, err
}

// verify checks the object at key, the copy of upload u: its size and sha256, streamed; then
// its header (type, dimensions); then it decodes the whole image once, so that what is served
// is an image. A check that fails is a FailedPrecondition error naming the check.
func (s *Media) verify(ctx context.Context, u market.MediaUpload, key string) (market.Media, error) {
	obj, err := s.store.Open(ctx, key)
	if err != nil {
		return market.Media{}, err
	}
	defer obj.Close()
	if obj.Size() != u.SizeBytes {
		return market.Media{}, market.Errorf(market.CodeFailedPrecondition,
			"size check failed: the upload has %d bytes, CreateMediaUpload declared %d; upload again with CreateMediaUpload", obj.Size(), u.SizeBytes)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(obj, 0, obj.Size())); err != nil {
		return market.Media{}, fmt.Errorf("reading the upload: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != u.SHA256 {
		return market.Media{}, market.Errorf(market.CodeFailedPrecondition,
			"sha256 check failed: the upload hashes to %s, CreateMediaUpload declared %s; upload again with CreateMediaUpload", got, u.SHA256)
	}
	cfg, format, err := image.DecodeConfig(io.NewSectionReader(obj, 0, obj.Size()))
	if err != nil {
		format = ""
	}
	if err := market.CheckMediaImage(u.ContentType, format, cfg.Width, cfg.Height); err != nil {
		return market.Media{}, err
	}
	select {
	case s.decoding <- struct{}{}:
		defer func() { <-s.decoding }()
	case <-ctx.Done():
		return market.Media{}, ctx.Err()
	}
	if _, _, err := image.Decode(io.NewSectionReader(obj, 0, obj.Size())); err != nil {
		return market.Media{}, market.Errorf(market.CodeFailedPrecondition,
			"image check failed: the file does not decode as %s (%v); export it again and upload it with CreateMediaUpload", u.ContentType, err)
	}
	return market.Media{GameID: u.GameID, Kind: u.Kind, ObjectKey: key, SHA256: u.SHA256, SizeBytes: u.SizeBytes,
		ContentType: u.ContentType, Width: cfg.Width, Height: cfg.Height}, nil
}

// refuse closes upload u's slot after a failed check and deletes the copy made of it, unless a
// concurrent FinishUpload attached that copy first. The uploaded object stays until
// PurgeExpiredUploads, so that the upload URL keeps refusing PUTs.
func (s *Media) refuse(ctx context.Context, u market.MediaUpload) {
	ctx = context.WithoutCancel(ctx)
	finished, err := s.repo.CloseMediaUpload(ctx, u.ID)
	if err != nil {
		s.log.WarnContext(ctx, "closing a refused image upload", "upload", u.ID, "err", err)
		return
	}
	if !finished {
		if err := s.store.Delete(ctx, mediaKey(u)); err != nil {
			s.log.WarnContext(ctx, "deleting a refused image", "key", mediaKey(u), "err", err)
		}
	}
}

// Delete removes an image from the caller's game, and its object, and returns the game with
// its media.
func (s *Media) Delete(ctx context.Context, a market.Actor, mediaID string) (market.Game, error) {
	if err := market.RequireUser(a); err != nil {
		return market.Game{}, err
	}
	if err := market.ValidateID("media_id", mediaID); err != nil {
		return market.Game{}, err
	}
	m, err := s.repo.MediaByID(ctx, mediaID)
	if err != nil {
		return market.Game{}, err
	}
	g, err := s.repo.GameByID(ctx, m.GameID)
	if err != nil {
		return market.Game{}, err
	}
	if err := market.CheckOwner(a, g); err != nil {
		return market.Game{}, err
	}
	if err := s.repo.DeleteMedia(ctx, m.ID); err != nil {
		return market.Game{}, err
	}
	if err := s.store.Delete(ctx, m.ObjectKey); err != nil {
		s.log.WarnContext(ctx, "deleting a removed image", "key", m.ObjectKey, "err", err)
	}
	return s.repo.GameByID(ctx, m.GameID)
}

// Open returns the image of game gameID named file ("<sha256>.<ext>", as market.Media.Path
// ends) and its content, to anyone while the game is public (UNLISTED, LISTED, FEATURED);
// NotFound otherwise, as for an image that does not exist. The caller closes the object.
func (s *Media) Open(ctx context.Context, gameID, file string) (market.Media, blob.Object, error) {
	notFound := market.Errorf(market.CodeNotFound, "no image %s of game %s", market.Clip(file), market.Clip(gameID))
	sha, ext, _ := strings.Cut(file, ".")
	if market.ValidateID("game_id", gameID) != nil || len(sha) != 64 {
		return market.Media{}, nil, notFound
	}
	m, g, err := s.repo.MediaBySHA256(ctx, gameID, sha)
	if market.ErrorCode(err) == market.CodeNotFound || err == nil && (!g.Status.Public() || market.MediaTypes[m.ContentType] != "."+ext) {
		return market.Media{}, nil, notFound
	}
	if err != nil {
		return market.Media{}, nil, err
	}
	obj, err := s.store.Open(ctx, m.ObjectKey)
	return m, obj, err
}

// PurgeExpiredUploads deletes the image upload slots that expired before t, with their upload
// objects and the copies of slots never finished, as Service.PurgeExpiredUploads does for
// builds.
func (s *Media) PurgeExpiredUploads(ctx context.Context, t time.Time) error {
	expired, err := s.repo.ExpiredMediaUploads(ctx, t)
	if err != nil {
		return err
	}
	for _, u := range expired {
		finished, err := s.repo.CloseMediaUpload(ctx, u.ID)
		if err != nil {
			s.log.WarnContext(ctx, "closing an expired image upload", "upload", u.ID, "err", err)
			continue
		}
		keys := []string{u.ObjectKey}
		if !finished {
			keys = append(keys, mediaKey(u))
		}
		deleted := true
		for _, key := range keys {
			if err := s.store.Delete(ctx, key); err != nil {
				s.log.WarnContext(ctx, "deleting an expired image upload", "key", key, "err", err)
				deleted = false
			}
		}
		if deleted {
			if err := s.repo.DeleteMediaUpload(ctx, u.ID); err != nil {
				s.log.WarnContext(ctx, "forgetting an expired image upload", "upload", u.ID, "err", err)
			}
		}
	}
	return nil
}
