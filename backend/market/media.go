package market

import (
	"time"
)

// MediaKind says what an image of a game is for.
type MediaKind string

const (
	MediaCover      MediaKind = "COVER"      // the store card's image; one per game
	MediaScreenshot MediaKind = "SCREENSHOT" // the game page's strip; at most MaxScreenshots
)

// Media is a checked image of a game (beyond the seeds), stored once at ObjectKey and never
// changed: its public URL names its content (Path).
type Media struct {
	ID          string
	GameID      string
	Kind        MediaKind
	Position    int // the screenshots' order, from 0; 0 for a cover
	ObjectKey   string
	SHA256      string // lowercase hex of the file
	SizeBytes   int64
	ContentType string // one of MediaTypes
	Width       int
	Height      int
	CreatedAt   time.Time
}

// Limits of game media.
const (
	// MaxMediaBytes is the largest image file accepted: 10 MiB.
	MaxMediaBytes = 10 << 20
	// MaxScreenshots is how many screenshots a game has at most.
	MaxScreenshots = 8
	// MinMediaSide and MaxMediaSide bound each side of an image, in pixels: a 4096 by 4096
	// image decodes into 64 MiB, the most one check holds in memory.
	MinMediaSide = 16
	MaxMediaSide = 4096
)

// MediaTypes maps each accepted content type to the extension of its URL.
var MediaTypes = map[string]string{"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}

// Path is where anyone may GET the image while its game is public (GameStatus.Public): it
// names the game and the image's content, so what it serves never changes.
func (m Media) Path() string {
	return "/media/" + m.GameID + "/" + m.SHA256 + MediaTypes[m.ContentType]
}

// MediaUpload is a slot a developer opened to upload an image of a game: the file must arrive
// at ObjectKey with exactly SizeBytes bytes hashing to SHA256 before ExpiresAt.
type MediaUpload struct {
	ID              string
	GameID          string
	DeveloperUserID string
	Kind            MediaKind
	ObjectKey       string
	SHA256          string
	SizeBytes       int64
	ContentType     string
	ExpiresAt       time.Time
}

// MediaUploadObjectKey is where an image upload's object is stored. It holds server-made ids
// only, never text a user chose.
func MediaUploadObjectKey(gameID, uploadID string) string {
	return "media/" + gameID + "/" + uploadID + ".upload"
}

// CheckMediaUpload decides whether a may open an upload of an image of kind for game g, of size
// bytes hashing to sha256, of contentType; screenshots is how many screenshots g has.
func CheckMediaUpload(a Actor, g Game, kind MediaKind, size int64, sha256, contentType string, screenshots int) error {
	if err := CheckOwner(a, g); err != nil {
		return err
	}
	switch kind {
	case MediaCover:
	case MediaScreenshot:
		if err := CheckScreenshotRoom(g, screenshots); err != nil {
			return err
		}
	default:
		return Errorf(CodeInvalid, "kind is required: COVER or SCREENSHOT")
	}
	if _, ok := MediaTypes[contentType]; !ok {
		return Errorf(CodeInvalid, "content_type %q is not accepted: upload a PNG (image/png), JPEG (image/jpeg) or WebP (image/webp)", Clip(contentType))
	}
	if !sha256Pattern.MatchString(sha256) {
		return Errorf(CodeInvalid, "sha256 must be the image's sha256 as 64 lowercase hex characters")
	}
	if size <= 0 {
		return Errorf(CodeInvalid, "size_bytes must be the image's size in bytes, more than 0")
	}
	if size > MaxMediaBytes {
		return Errorf(CodeInvalid, "the image is %d bytes; images may have up to %d bytes (10 MiB): make it smaller", size, MaxMediaBytes)
	}
	return nil
}

// CheckScreenshotRoom refuses a screenshot for g when it has MaxScreenshots already.
func CheckScreenshotRoom(g Game, screenshots int) error {
	if screenshots >= MaxScreenshots {
		return Errorf(CodeFailedPrecondition, "game %q has %d screenshots, the most it may have: delete one first", g.Slug, screenshots)
	}
	return nil
}

// CheckMediaImage decides whether an image of format (as image.DecodeConfig names it: "png",
// "jpeg", "webp"; "" when the file is none of them) and size width by height may be uploaded
// as contentType.
func CheckMediaImage(contentType, format string, width, height int) error {
	if format == "" {
		return Errorf(CodeFailedPrecondition, "type check failed: the file is not a PNG, JPEG or WebP image; upload one of those")
	}
	if "image/"+format != contentType {
		return Errorf(CodeFailedPrecondition, "type check failed: the file is image/%s, not %s as CreateMediaUpload declared; upload it again with its type", format, contentType)
	}
	if width < MinMediaSide || height < MinMediaSide || width > MaxMediaSide || height > MaxMediaSide {
		return Errorf(CodeFailedPrecondition, "dimension check failed: the image is %d by %d pixels; each side must be %d to %d pixels", width, height, MinMediaSide, MaxMediaSide)
	}
	return nil
}
