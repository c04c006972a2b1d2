// Package s3 is the blob.Store kept in a bucket of an S3-compatible object store (AWS S3,
// MinIO, versitygw...). Clients upload and download through presigned URLs, straight to the
// store. The store must honour conditional writes (If-None-Match: * on PUT), as AWS S3, MinIO
// and versitygw do: that is what keeps an upload URL from replacing an object.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"satchel.dev/backend/blob"
)

// Config says where the bucket is and how to reach it.
type Config struct {
	// Endpoint is the store's host[:port], without scheme ("s3.eu-west-1.amazonaws.com",
	// "127.0.0.1:7070").
	Endpoint string
	// Region is the bucket's region; "us-east-1" if empty.
	Region string
	// Bucket holds the objects.
	Bucket    string
	AccessKey string
	SecretKey string
	// UseTLS makes the client, and the URLs it presigns, use https.
	UseTLS bool
	// CreateBucket makes New create Bucket if it does not exist; otherwise New fails then.
	CreateBucket bool
}

// WithDefaults returns c with the empty fields that have a default filled in.
func (c Config) WithDefaults() Config {
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	return c
}

// Validate reports the first field that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Endpoint == "":
		return errors.New("s3 blob store: Endpoint is empty")
	case strings.Contains(c.Endpoint, "/"):
		return fmt.Errorf("s3 blob store: Endpoint %q must be host[:port], without scheme or path (set UseTLS for https)", c.Endpoint)
	case c.Bucket == "":
		return errors.New("s3 blob store: Bucket is empty")
	case c.AccessKey == "" || c.SecretKey == "":
		return errors.New("s3 blob store: AccessKey and SecretKey are required")
	}
	return nil
}

// Store is a blob.Store in one S3 bucket. It is safe for concurrent use.
type Store struct {
	client *minio.Client
	bucket string
}

var _ blob.Store = (*Store)(nil)

// New connects to the store and checks that the bucket exists, creating it if
// cfg.CreateBucket is set. Presigning needs no round trip afterwards.
func New(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.UseTLS,
		Region: cfg.Region, // known, so presigning never asks the store for the bucket's location
	})
	if err != nil {
		return nil, fmt.Errorf("s3 blob store: %w", err)
	}
	exists, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3 blob store: checking bucket %q at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	if !exists {
		if !cfg.CreateBucket {
			return nil, fmt.Errorf("s3 blob store: bucket %q does not exist at %s (create it, or set CreateBucket)", cfg.Bucket, cfg.Endpoint)
		}
		err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		if err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
			return nil, fmt.Errorf("s3 blob store: creating bucket %q at %s: %w", cfg.Bucket, cfg.Endpoint, err)
		}
	}
	return &Store{client: client, bucket: cfg.Bucket}, nil
}

// UploadURL presigns a PUT of key, with Content-Length among the signed headers so that the store
// refuses (403) a body of any other declared size, and If-None-Match: * (returned in the header
// for the client to send) so that it refuses (412) a PUT while key holds an object. A presigned
// URL cannot be revoked: it works until it expires, so keep the object it stored at key until then
// (see blob.Store). The store does not necessarily check that the body is as long as declared
// (versitygw v1.8.0 stores a body cut short by the client's half-close): whoever accepts an upload
// checks Open(key).Size(). Above blob.MaxSingleUploadSize it returns
// blob.ErrTooLargeForSingleUpload: such objects need a multipart upload, which this adapter does
// not offer yet. expiry must be between 1 second and 7 days (S3's limits).
func (s *Store) UploadURL(ctx context.Context, key string, size int64, expiry time.Duration) (string, http.Header, error) {
	if err := blob.CheckKey(key); err != nil {
		return "", nil, err
	}
	if size < 0 {
		return "", nil, fmt.Errorf("s3 blob store: negative size %d", size)
	}
	if size > blob.MaxSingleUploadSize {
		return "", nil, fmt.Errorf("%w: %d bytes, S3 takes at most %d bytes in one PUT", blob.ErrTooLargeForSingleUpload, size, blob.MaxSingleUploadSize)
	}
	signed := http.Header{"Content-Length": {strconv.FormatInt(size, 10)}, "If-None-Match": {"*"}}
	u, err := s.client.PresignHeader(ctx, http.MethodPut, s.bucket, key, expiry, nil, signed)
	if err != nil {
		return "", nil, fmt.Errorf("s3 blob store: presigning upload of %s: %w", key, err)
	}
	return u.String(), http.Header{"If-None-Match": {"*"}}, nil
}

// DownloadURL presigns a GET (HEAD needs its own signature in S3) of key that answers with
// Content-Type application/zip and Content-Disposition offering filename. expiry must be between
// 1 second and 7 days.
func (s *Store) DownloadURL(ctx context.Context, key string, expiry time.Duration, filename string) (string, error) {
	if err := blob.CheckKey(key); err != nil {
		return "", err
	}
	params := url.Values{
		"response-content-type":        {"application/zip"},
		"response-content-disposition": {blob.ContentDisposition(filename)},
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, expiry, params)
	if err != nil {
		return "", fmt.Errorf("s3 blob store: presigning download of %s: %w", key, err)
	}
	return u.String(), nil
}

// Copy copies src to dst inside the bucket (CopyObject: the store copies, up to
// blob.MaxSingleUploadSize, the most any upload URL takes).
func (s *Store) Copy(ctx context.Context, src, dst string) error {
	if err := blob.CheckKey(src); err != nil {
		return err
	}
	if err := blob.CheckKey(dst); err != nil {
		return err
	}
	_, err := s.client.CopyObject(ctx, minio.CopyDestOptions{Bucket: s.bucket, Object: dst},
		minio.CopySrcOptions{Bucket: s.bucket, Object: src})
	if isNotFound(err) {
		return fmt.Errorf("%w: %s", blob.ErrNotFound, src)
	}
	if err != nil {
		return fmt.Errorf("s3 blob store: copying %s to %s: %w", src, dst, err)
	}
	return nil
}

// Open stats key and returns it pinned to the version stat saw (by ETag): if key is replaced
// while open, reads fail rather than mix two versions. Read streams one GET; each ReadAt is a
// ranged GET of its own, so ReadAt calls may run concurrently and never disturb Read. (minio's
// Object is not used for ReadAt: in v7.4.1 a ReadAt that reaches the end makes every later Read
// return io.EOF.) Reads use ctx, so the Object lives no longer than ctx.
func (s *Store) Open(ctx context.Context, key string) (blob.Object, error) {
	if err := blob.CheckKey(key); err != nil {
		return nil, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%w: %s", blob.ErrNotFound, key)
		}
		return nil, fmt.Errorf("s3 blob store: opening %s: %w", key, err)
	}
	o := &object{ctx: ctx, core: minio.Core{Client: s.client}, bucket: s.bucket, key: key, etag: info.ETag, size: info.Size}
	// GetObject sends nothing until the first Read.
	stream, err := s.client.GetObject(ctx, s.bucket, key, o.options())
	if err != nil {
		return nil, fmt.Errorf("s3 blob store: opening %s: %w", key, err)
	}
	o.stream = stream
	return o, nil
}

type object struct {
	ctx         context.Context
	core        minio.Core
	bucket, key string
	etag        string
	size        int64
	stream      *minio.Object
}

func (o *object) options() minio.GetObjectOptions {
	var opts minio.GetObjectOptions
	if o.etag != "" {
		opts.SetMatchETag(o.etag)
	}
	return opts
}

func (o *object) Size() int64 { return o.size }

func (o *object) Read(p []byte) (int, error) { return o.stream.Read(p) }

func (o *object) Close() error { return o.stream.Close() }

func (o *object) ReadAt(p []byte, off int64) (int, error) {
	switch {
	case off < 0:
		return 0, fmt.Errorf("s3 blob store: ReadAt at negative offset %d", off)
	case off >= o.size:
		return 0, io.EOF
	case len(p) == 0:
		return 0, nil
	}
	want := min(int64(len(p)), o.size-off)
	opts := o.options()
	if err := opts.SetRange(off, off+want-1); err != nil {
		return 0, err
	}
	body, _, _, err := o.core.GetObject(o.ctx, o.bucket, o.key, opts)
	if err != nil {
		return 0, fmt.Errorf("s3 blob store: reading %s at %d: %w", o.key, off, err)
	}
	defer body.Close()
	n, err := io.ReadFull(body, p[:want])
	if err != nil {
		return n, fmt.Errorf("s3 blob store: reading %s at %d: %w", o.key, off, err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Delete removes key.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.CheckKey(key); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("s3 blob store: deleting %s: %w", key, err)
	}
	return nil
}

func isNotFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == "NoSuchKey" || r.StatusCode == http.StatusNotFound && r.Code != "NoSuchBucket"
}
