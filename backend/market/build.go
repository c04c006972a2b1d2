package market

import (
	"regexp"
	"time"
)

// Build is a release's verified build zip (one per release).
type Build struct {
	ID          string
	ReleaseID   string
	ObjectKey   string
	SHA256      string // lowercase hex of the zip
	SizeBytes   int64
	ContentType string
	FileCount   int64
	// InstalledBytes is the sum of the files' uncompressed sizes.
	InstalledBytes int64
	// Files is the manifest; loaded only where a caller needs it (downloads).
	Files     []File
	CreatedAt time.Time
}

// File is one file of a build's manifest.
type File struct {
	Path      string // slash-separated, inside the zip
	SizeBytes int64
	Mode      uint32 // 0644 or 0755
	SHA256    string // lowercase hex of the uncompressed bytes

	// Where the file lies in the zip, for launchers that extract while the zip streams in or
	// fetch single files by HTTP Range: its local header's offset, its compressed data's
	// offset and length, its method (0 Store, 8 Deflate) and CRC-32. All zero for a build
	// recorded before the server kept them, until backfilled (see Located).
	HeaderOffset    int64
	DataOffset      int64
	CompressedBytes int64
	Method          uint16
	CRC32           uint32
}

// Located reports whether f says where it lies in the zip (no local header ends before
// offset 30, so a located file's data never starts at 0).
func (f File) Located() bool { return f.DataOffset > 0 }

// Upload is a slot a developer opened to upload a release's build: the zip must arrive at
// ObjectKey with exactly SizeBytes bytes hashing to SHA256 before ExpiresAt.
type Upload struct {
	ID              string
	ReleaseID       string
	DeveloperUserID string
	ObjectKey       string
	SHA256          string
	SizeBytes       int64
	ExpiresAt       time.Time
}

// BuildContentType is the content type of every build.
const BuildContentType = "application/zip"

var sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// BuildObjectKey is where an upload's object is stored. It holds server-made ids only, never
// text a user chose.
func BuildObjectKey(releaseID, uploadID string) string {
	return "builds/" + releaseID + "/" + uploadID + ".zip"
}

// CheckUpload decides whether a may open an upload of size bytes hashing to sha256 for release
// r of game g, on a server whose largest build is maxBytes.
func CheckUpload(a Actor, g Game, r Release, size int64, sha256 string, maxBytes int64) error {
	if err := CheckReleaseOwner(a, g, r.ID); err != nil {
		return err
	}
	if r.Published() {
		return Errorf(CodeFailedPrecondition, "release %s is published and its build cannot change: create a new release", r.Version)
	}
	if !sha256Pattern.MatchString(sha256) {
		return Errorf(CodeInvalid, "sha256 must be the zip's sha256 as 64 lowercase hex characters")
	}
	if size <= 0 {
		return Errorf(CodeInvalid, "size_bytes must be the zip's size in bytes, more than 0")
	}
	if size > maxBytes {
		return Errorf(CodeInvalid, "the build is %d bytes; this server takes builds up to %d bytes", size, maxBytes)
	}
	return nil
}

// CheckFinishUpload decides whether a may finish upload u at time now.
func CheckFinishUpload(a Actor, u Upload, now time.Time) error {
	if err := RequireUser(a); err != nil {
		return err
	}
	if u.DeveloperUserID != a.UserID {
		return Errorf(CodePermissionDenied, "upload %s belongs to another developer", u.ID)
	}
	if now.After(u.ExpiresAt) {
		return Errorf(CodeFailedPrecondition, "upload %s expired at %s: open a new one with CreateUpload", u.ID, u.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// CheckPublish refuses to publish a release without a build.
func CheckPublish(r Release) error {
	if r.Build == nil {
		return Errorf(CodeFailedPrecondition, "release %s has no build: upload its zip (CreateUpload, then FinishUpload) before publishing", r.Version)
	}
	return nil
}

// CheckDownload decides whether a may download a build of g: admins always; nobody else while
// the game is BANNED; its developer; and players with an entitlement that is not revoked. A
// caller with no entitlement to a game hidden from them (see Hidden) gets GameNotFound.
func CheckDownload(a Actor, g Game, entitled bool) error {
	switch {
	case a.Admin:
		return nil
	case Hidden(a, g) && !entitled:
		return GameNotFound(g.ID)
	case g.Status == StatusBanned:
		return Errorf(CodePermissionDenied, "game %q is banned: its downloads are stopped", g.Slug)
	case !a.Anonymous() && a.UserID == g.DeveloperUserID, entitled:
		return nil
	case a.Anonymous():
		return Errorf(CodeUnauthenticated, "sign in (or give a receipt code) to download game %q", g.Slug)
	}
	return Errorf(CodePermissionDenied, "you do not own game %q: buy it first", g.Slug)
}
