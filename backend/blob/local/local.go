// Package local is the blob.Store kept in a directory on the server's own disk: the embedded
// default. The server serves its upload and download URLs itself, through Handler.
package local

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"satchel.dev/backend/blob"
)

const (
	// PathPrefix is where the server mounts Handler: mux.Handle(local.PathPrefix, s.Handler()).
	PathPrefix = "/blob/"

	// Temporary files (uploads being written, Copy's links being placed) live at the top of
	// the directory under this prefix. No key can name them: blob.CheckKey refuses segments
	// that start with a dot.
	tempPrefix = ".upload-"
	// New removes temporary files older than this, left by a crash; younger ones may belong to
	// an upload still running in another process on the same directory.
	staleTempAge = 24 * time.Hour
	// Uploads stream through one buffer of this size each: 16,384 writes a GiB, so system
	// calls cost little, and each write(2) fills page cache in small pieces. Larger writes are
	// slower on Linux with large folios (6.18 measured): ext4 backs a 1 MiB write with one 1 MiB
	// folio, taken from the large free blocks, which a virtual machine with free page reporting
	// has handed back to its host, so every page of it faults in the host on first touch (dd
	// of 1 GiB in 1 MiB writes: 4 to 7 s of system time once the free 1 MiB blocks still backed
	// ran out, against 0.4 to 1 s in 32 or 64 KiB writes).
	copyBufferSize = 64 << 10
	// MinSecretLen is the shortest HMAC secret New accepts.
	MinSecretLen = 32
)

// Store is a blob.Store in one directory. Objects are files at the key's path below the
// directory (mode 0600, directories 0700); nothing outside the directory can be reached, even
// through a symbolic link. A stored file is never written again: a PUT links a new file at a
// free key, Copy links a stored one at a second key. Store is safe for concurrent use, also by
// several processes on one directory.
type Store struct {
	root    *os.Root
	secret  []byte
	baseURL string // the server's public URL, without a trailing slash
	buffers sync.Pool
}

var _ blob.Store = (*Store)(nil)

// New opens (creating it 0700 if missing) the store in dir. secret (at least MinSecretLen
// bytes, kept by the server across restarts) signs the URLs; baseURL is the server's public
// URL ("https://satchel.example"), under which Handler is mounted at PathPrefix (a path in
// baseURL is kept in the URLs; a proxy in front must strip it, as Handler sees PathPrefix+key
// from the root). New removes temporary files left more than a day ago by interrupted
// uploads. Call Close when done.
func New(dir string, secret []byte, baseURL string) (*Store, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("local blob store: the secret must be at least %d bytes, got %d", MinSecretLen, len(secret))
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("local blob store: base URL %q must be an http or https URL without query", baseURL)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("local blob store: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("local blob store: %w", err)
	}
	s := &Store{
		root:    root,
		secret:  append([]byte(nil), secret...),
		baseURL: strings.TrimSuffix(baseURL, "/"),
	}
	s.buffers.New = func() any { b := make([]byte, copyBufferSize); return &b }
	if err := s.removeStaleTemps(time.Now().Add(-staleTempAge)); err != nil {
		root.Close()
		return nil, fmt.Errorf("local blob store: removing stale uploads: %w", err)
	}
	return s, nil
}

// Close releases the directory. URLs already handed out stop working with this Store.
func (s *Store) Close() error { return s.root.Close() }

func (s *Store) removeStaleTemps(before time.Time) error {
	d, err := s.root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	entries, err := d.ReadDir(-1)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tempPrefix) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(before) {
			continue
		}
		if err := s.root.Remove(e.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// UploadURL returns baseURL+PathPrefix+key?size=..&exp=..&sig=.., signed for PUT of exactly
// size bytes until expiry. It only creates: a PUT while key holds an object answers 409 (see
// Handler). No extra header is needed.
func (s *Store) UploadURL(_ context.Context, key string, size int64, expiry time.Duration) (string, http.Header, error) {
	if err := blob.CheckKey(key); err != nil {
		return "", nil, err
	}
	if size < 0 {
		return "", nil, fmt.Errorf("local blob store: negative size %d", size)
	}
	if expiry <= 0 {
		return "", nil, fmt.Errorf("local blob store: expiry %v is not positive", expiry)
	}
	exp := time.Now().Add(expiry).Unix()
	q := url.Values{
		"size": {strconv.FormatInt(size, 10)},
		"exp":  {strconv.FormatInt(exp, 10)},
		"sig":  {hex.EncodeToString(s.sign(http.MethodPut, key, size, exp, ""))},
	}
	return s.baseURL + PathPrefix + key + "?" + q.Encode(), http.Header{}, nil
}

// DownloadURL returns baseURL+PathPrefix+key?exp=..&fn=..&sig=.., signed for GET and HEAD
// until expiry, with filename in the signed part so it cannot be changed.
func (s *Store) DownloadURL(_ context.Context, key string, expiry time.Duration, filename string) (string, error) {
	if err := blob.CheckKey(key); err != nil {
		return "", err
	}
	if expiry <= 0 {
		return "", fmt.Errorf("local blob store: expiry %v is not positive", expiry)
	}
	exp := time.Now().Add(expiry).Unix()
	q := url.Values{
		"exp": {strconv.FormatInt(exp, 10)},
		"sig": {hex.EncodeToString(s.sign(http.MethodGet, key, -1, exp, filename))},
	}
	if filename != "" {
		q.Set("fn", filename)
	}
	return s.baseURL + PathPrefix + key + "?" + q.Encode(), nil
}

// sign is the token of a URL: HMAC-SHA256 over the method, the key, the size (PUT only, else
// -1), the expiry and the filename (GET only). Only the filename may hold any byte, and it comes
// last, so two different URLs never sign the same message.
func (s *Store) sign(method, key string, size, exp int64, filename string) []byte {
	m := hmac.New(sha256.New, s.secret)
	fmt.Fprintf(m, "satchel-blob-v1\n%s\n%s\n%d\n%d\n%s", method, key, size, exp, filename)
	return m.Sum(nil)
}

// Open opens the file of key. The Object keeps reading the version it opened even if key is
// replaced or deleted meanwhile.
func (s *Store) Open(ctx context.Context, key string) (blob.Object, error) {
	if err := blob.CheckKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, info, err := s.openRegular(key)
	if err != nil {
		return nil, err
	}
	return &object{File: f, size: info.Size()}, nil
}

// openRegular opens key's file, or returns an error wrapping blob.ErrNotFound if there is no
// regular file at key.
func (s *Store) openRegular(key string) (*os.File, fs.FileInfo, error) {
	f, err := s.root.Open(key)
	if err != nil {
		if notFound(err) {
			return nil, nil, fmt.Errorf("%w: %s", blob.ErrNotFound, key)
		}
		return nil, nil, fmt.Errorf("local blob store: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("local blob store: %w", err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%w: %s", blob.ErrNotFound, key)
	}
	return f, info, nil
}

func notFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

type object struct {
	*os.File
	size int64
}

func (o *object) Size() int64 { return o.size }

// Delete removes key's file, then whichever of its parent directories that leaves empty.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	info, err := s.root.Lstat(key)
	if err != nil {
		if notFound(err) {
			return nil
		}
		return fmt.Errorf("local blob store: %w", err)
	}
	if info.IsDir() {
		return nil // no object has this key
	}
	if err := s.root.Remove(key); err != nil && !notFound(err) {
		return fmt.Errorf("local blob store: %w", err)
	}
	// A PUT racing with this may lose its freshly made directory: it makes it again.
	for dir := path.Dir(key); dir != "."; dir = path.Dir(dir) {
		if s.root.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// Handler serves the URLs made by UploadURL and DownloadURL: PUT, GET and HEAD of
// PathPrefix+key. Mount it on the server's mux at PathPrefix, without stripping the prefix.
// Every request is checked (key, signature, expiry) before the directory is touched: a
// malformed key answers 400, a missing, tampered or expired signature 403, each with a short
// plain-text reason. A PUT answers 200 once the object is stored at key, written but not yet
// synced to disk, at the speed of the page cache: Copy syncs it, and an upload is only ever
// used through a Copy (a crash before it can leave an object that fails FinishUpload's size and
// sha256 checks, never a build that does); 413 if the
// body is longer than the signed size, 400 if shorter; 409 if key holds an object, found before
// the body is read or stored by another PUT meanwhile (an object is never replaced). A GET
// serves the object as application/zip with Range support and the signed filename in
// Content-Disposition.
func (s *Store) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Store) serveHTTP(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if blob.CheckKey(key) != nil {
		http.Error(w, "blob: invalid key", http.StatusBadRequest)
		return
	}
	switch r.Method {
	case http.MethodPut:
		s.servePut(w, r, key)
	case http.MethodGet, http.MethodHead:
		s.serveGet(w, r, key)
	default:
		w.Header().Set("Allow", "GET, HEAD, PUT")
		http.Error(w, "blob: method not allowed", http.StatusMethodNotAllowed)
	}
}

// check verifies the signed query of a request, writing the refusal if any.
func (s *Store) check(w http.ResponseWriter, method, key string, q url.Values, size int64, filename string) bool {
	exp, err := strconv.ParseInt(q.Get("exp"), 10, 64)
	sig, err2 := hex.DecodeString(q.Get("sig"))
	if err != nil || err2 != nil || len(sig) != sha256.Size {
		http.Error(w, "blob: missing or malformed signature", http.StatusForbidden)
		return false
	}
	if !hmac.Equal(sig, s.sign(method, key, size, exp, filename)) {
		http.Error(w, "blob: invalid signature", http.StatusForbidden)
		return false
	}
	if time.Now().Unix() > exp {
		http.Error(w, "blob: link expired", http.StatusForbidden)
		return false
	}
	return true
}

func (s *Store) serveGet(w http.ResponseWriter, r *http.Request, key string) {
	q := r.URL.Query()
	filename := q.Get("fn")
	if !s.check(w, http.MethodGet, key, q, -1, filename) {
		return
	}
	f, info, err := s.openRegular(key)
	if err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			http.Error(w, "blob: not found", http.StatusNotFound)
			return
		}
		slog.ErrorContext(r.Context(), "blob: opening for download", "key", key, "err", err)
		http.Error(w, "blob: cannot read the object", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", blob.ContentDisposition(filename))
	h.Set("Cache-Control", "private")
	// An object is never replaced, so its key names its bytes: a strong ETag, with which
	// ServeContent answers If-None-Match (304) and If-Range (a resumed download).
	sum := sha256.Sum256([]byte(key))
	h.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	http.ServeContent(w, r, "", info.ModTime(), f)
}

func (s *Store) servePut(w http.ResponseWriter, r *http.Request, key string) {
	q := r.URL.Query()
	size, err := strconv.ParseInt(q.Get("size"), 10, 64)
	if err != nil || size < 0 {
		http.Error(w, "blob: missing or malformed size", http.StatusForbidden)
		return
	}
	if !s.check(w, http.MethodPut, key, q, size, "") {
		return
	}
	switch {
	case r.ContentLength > size:
		http.Error(w, fmt.Sprintf("blob: body is %d bytes, longer than the %d signed", r.ContentLength, size), http.StatusRequestEntityTooLarge)
		return
	case r.ContentLength >= 0 && r.ContentLength < size:
		http.Error(w, fmt.Sprintf("blob: body is %d bytes, shorter than the %d signed", r.ContentLength, size), http.StatusBadRequest)
		return
	}
	if _, err := s.root.Lstat(key); err == nil {
		http.Error(w, errExists.Error(), http.StatusConflict)
		return
	}
	switch err := s.put(key, size, r.Body); {
	case err == nil:
		w.WriteHeader(http.StatusOK)
	case errors.Is(err, errExists):
		http.Error(w, errExists.Error(), http.StatusConflict)
	case errors.Is(err, errTooLong):
		http.Error(w, fmt.Sprintf("blob: body is longer than the %d bytes signed", size), http.StatusRequestEntityTooLarge)
	case errors.Is(err, errTooShort):
		http.Error(w, fmt.Sprintf("blob: body is shorter than the %d bytes signed", size), http.StatusBadRequest)
	case errors.Is(err, errBodyRead):
		http.Error(w, "blob: reading the body failed", http.StatusBadRequest)
	default:
		slog.ErrorContext(r.Context(), "blob: storing upload", "key", key, "err", err)
		http.Error(w, "blob: cannot store the object", http.StatusInternalServerError)
	}
}

var (
	errExists   = errors.New("blob: key holds an object already; an upload URL never replaces one")
	errTooLong  = errors.New("body longer than the signed size")
	errTooShort = errors.New("body shorter than the signed size")
	errBodyRead = errors.New("reading the body")
)

// put streams exactly size bytes from body into a temporary file and links it at key, unless
// key holds an object (errExists). The bytes go from the body to the file through one pooled
// buffer, with no other copy; put does not sync them to disk (Copy does). The temporary file
// is removed either way; on error key is left as it was.
func (s *Store) put(key string, size int64, body io.Reader) (err error) {
	tmp := tempName()
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer s.root.Remove(tmp)
	defer func() {
		if err != nil {
			f.Close()
		}
	}()

	bp := s.buffers.Get().(*[]byte)
	defer s.buffers.Put(bp)
	buf := *bp
	var written int64
	for {
		n, rerr := io.ReadFull(body, buf)
		if n > 0 {
			if written+int64(n) > size {
				return errTooLong
			}
			if _, err := f.Write(buf[:n]); err != nil {
				return err
			}
			written += int64(n)
		}
		if rerr == io.ErrUnexpectedEOF {
			rerr = io.EOF
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("%w: %w", errBodyRead, rerr)
		}
	}
	if written < size {
		return errTooShort
	}
	if err := f.Close(); err != nil {
		return err
	}
	return s.place(tmp, key, false)
}

// tempName returns a fresh name for a temporary file at the top of the directory.
func tempName() string {
	var rnd [16]byte
	rand.Read(rnd[:])
	return tempPrefix + hex.EncodeToString(rnd[:])
}

// place gives the file tmp the name key, making key's directories: it renames tmp onto key when
// replace is set, else it links tmp at key, failing with errExists if key is taken, and leaves
// tmp to the caller. It syncs nothing: an upload is made durable by Copy, which syncs the file
// and the directory of the key it copies to.
func (s *Store) place(tmp, key string, replace bool) error {
	dir := path.Dir(key)
	for attempt := 0; ; attempt++ {
		if dir != "." {
			if err := s.root.MkdirAll(dir, 0o700); err != nil {
				return err
			}
		}
		var err error
		if replace {
			err = s.root.Rename(tmp, key)
		} else {
			err = s.root.Link(tmp, key)
		}
		if err == nil {
			break
		}
		if errors.Is(err, fs.ErrExist) && !replace {
			return errExists
		}
		// A Delete of the last object in dir may have removed dir between the two calls.
		if !errors.Is(err, fs.ErrNotExist) || attempt == 2 {
			return err
		}
	}
	return nil
}

// Copy links src's file at dst, replacing any object there: both keys name one file, which is
// never written again (a PUT only ever links a new file), so no later PUT or Delete of src
// changes what dst holds. It syncs the file to disk first (a PUT does not wait for that), and
// after linking it every directory from dst's up to the store's own (a PUT makes them without
// syncing them), so dst survives a crash once Copy has returned.
func (s *Store) Copy(ctx context.Context, src, dst string) error {
	if err := blob.CheckKey(src); err != nil {
		return err
	}
	if err := blob.CheckKey(dst); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	info, err := s.root.Lstat(src)
	if err != nil && !notFound(err) {
		return fmt.Errorf("local blob store: %w", err)
	}
	if err != nil || !info.Mode().IsRegular() {
		return fmt.Errorf("%w: %s", blob.ErrNotFound, src)
	}
	if err := s.syncFile(src); err != nil {
		return err
	}
	tmp := tempName()
	if err := s.root.Link(src, tmp); err != nil {
		if notFound(err) {
			return fmt.Errorf("%w: %s", blob.ErrNotFound, src)
		}
		return fmt.Errorf("local blob store: %w", err)
	}
	if err := s.place(tmp, dst, true); err != nil {
		s.root.Remove(tmp)
		return fmt.Errorf("local blob store: %w", err)
	}
	for dir := path.Dir(dst); ; dir = path.Dir(dir) {
		if err := s.syncFile(dir); err != nil {
			return err
		}
		if dir == "." {
			return nil
		}
	}
}

// syncFile flushes the file or directory name (a key, or a key's directory) to disk.
func (s *Store) syncFile(name string) error {
	f, err := s.root.Open(name)
	if err != nil {
		if notFound(err) {
			return fmt.Errorf("%w: %s", blob.ErrNotFound, name)
		}
		return fmt.Errorf("local blob store: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("local blob store: %w", err)
	}
	return nil
}
