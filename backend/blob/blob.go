// Package blob stores large objects (a release's build zip) by key, and hands out short-lived
// URLs through which clients upload and download them without passing through the server.
//
// Adapters: blob/local (a directory on the server's disk, served by the server itself) and
// blob/s3 (an S3-compatible object store). blob/blobtest holds the behaviour both must share.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Store keeps objects by key. Keys are made by the server only
// ("builds/<release-uuid>/<upload-uuid>.zip" for an upload, ".build.zip" for the build made from
// it); implementations still refuse, with an error wrapping ErrInvalidKey, any key that CheckKey
// refuses.
//
// Upload URLs only create, and cannot be revoked. So a caller that needs an object never to
// change keeps it under a key no upload URL was ever made for, written by Copy alone; and one
// that needs an upload URL to store one body at most keeps that body at its key until the URL
// has expired.
type Store interface {
	// UploadURL returns a URL that accepts an HTTP PUT of exactly size bytes to key until
	// expiry, and the headers the client must send with it besides Content-Length (which is
	// implied: the body must be exactly size bytes). The URL only creates: a PUT while key holds
	// an object is refused (the local store answers 409 Conflict, S3 412 Precondition Failed)
	// and changes nothing, so the URL stores one body at most for as long as that body stays at
	// key. Expiry bounds when a PUT may start; one under way may end after it. Objects larger
	// than MaxSingleUploadSize may be refused with ErrTooLargeForSingleUpload.
	UploadURL(ctx context.Context, key string, size int64, expiry time.Duration) (url string, header http.Header, err error)
	// DownloadURL returns a URL that serves key to GET, with HTTP Range support, until expiry;
	// filename is suggested to the client through Content-Disposition. The URL is made whether
	// or not key exists; fetching a missing key answers 404. Only GET is promised (a presigned
	// S3 URL is signed for one method): a client learns the size from the Content-Range of a
	// GET of "bytes=0-0". A Range of several ranges may be answered 200 with the whole object.
	DownloadURL(ctx context.Context, key string, expiry time.Duration, filename string) (string, error)
	// Copy makes dst hold the object at src, replacing any object at dst, without the bytes
	// passing through the server: the local store links the file (a stored file is never
	// written again), S3 copies inside the bucket (objects up to MaxSingleUploadSize). Nothing
	// later done to src, through a URL or Delete, reaches dst. Once it returns, dst survives a
	// crash of the machine (the local store syncs the file and its folders; S3 acknowledges
	// only what it stored): an upload's PUT need not, and builds.FinishUpload relies on it. It
	// returns an error wrapping ErrNotFound if src does not exist.
	Copy(ctx context.Context, src, dst string) error
	// Open opens key for streaming and random access. It returns an error wrapping ErrNotFound
	// if key does not exist. The caller closes the Object.
	Open(ctx context.Context, key string) (Object, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Object is an open stored object. Read streams it from the start; ReadAt reads anywhere in it
// (as archive/zip needs) and may be called concurrently with itself.
type Object interface {
	io.Reader
	io.ReaderAt
	io.Closer
	Size() int64
}

var (
	// ErrNotFound says that no object has the key.
	ErrNotFound = errors.New("blob: not found")
	// ErrInvalidKey says that a key is not one the server makes (see CheckKey).
	ErrInvalidKey = errors.New("blob: invalid key")
	// ErrTooLargeForSingleUpload says that the store cannot take an object this large in one
	// PUT (S3 limits a single PUT to MaxSingleUploadSize).
	ErrTooLargeForSingleUpload = errors.New("blob: object too large for a single upload")
)

// MaxSingleUploadSize is the largest object S3 accepts in one PUT: 5 GiB.
const MaxSingleUploadSize int64 = 5 << 30

// MaxKeyLen is the longest key accepted, in bytes (S3's limit).
const MaxKeyLen = 1024

// CheckKey returns nil if key is a clean relative slash-separated path made only of
// [a-z0-9/._-]: not empty, at most MaxKeyLen bytes, no leading or trailing slash, no empty
// segment, no segment starting with a dot (which also rules out "." and ".."), and no segment
// longer than 255 bytes. Otherwise it returns an error wrapping ErrInvalidKey. Both adapters
// call it, so a key one store takes, the other takes too.
func CheckKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, MaxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '/' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: %q has a character outside [a-z0-9/._-]", ErrInvalidKey, key)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return fmt.Errorf("%w: %q has an empty segment (leading, trailing or double slash)", ErrInvalidKey, key)
		case seg[0] == '.':
			return fmt.Errorf("%w: %q has a segment starting with a dot", ErrInvalidKey, key)
		case len(seg) > 255:
			return fmt.Errorf("%w: %q has a segment longer than 255 bytes", ErrInvalidKey, key)
		}
	}
	return nil
}

// ContentDisposition returns the Content-Disposition value that offers filename for saving:
// attachment with the filename quoted, or in RFC 2231's percent-encoded filename* form when it
// holds any byte outside printable ASCII (so no line break can reach the header). An empty
// filename gives "attachment".
func ContentDisposition(filename string) string {
	if filename != "" {
		if v := mime.FormatMediaType("attachment", map[string]string{"filename": filename}); v != "" {
			return v
		}
	}
	return "attachment"
}
