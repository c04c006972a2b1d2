package install

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/flate"

	"satchel.dev/desktop/state"
	"satchel.dev/shared/zipsafe"
)

const (
	// chunkSize is the size of the reads from the network and of the pieces handed to the
	// goroutines that inflate and write the entries.
	chunkSize = 256 << 10
	// maxTail bounds what a streamed install keeps in memory to check at the end: the zip's
	// bytes after the last entry's data (its central directory and end records).
	maxTail = 64 << 20
)

// errInterrupted: the stream stopped in the middle of an entry (a dropped connection, a
// cancellation); the entry is fetched again, it is not damaged.
var errInterrupted = errors.New("the download stopped in the middle of the file")

// located returns the manifest as zipsafe entries, and whether every file says where it lies
// in the zip (a server that records it): only then can the zip be extracted as it streams in.
func located(files []state.File) ([]zipsafe.Entry, bool) {
	out := make([]zipsafe.Entry, len(files))
	for i, f := range files {
		if f.DataOffset <= 0 {
			return nil, false
		}
		out[i] = zipsafe.Entry{Path: f.Path, Size: f.Size, Mode: fs.FileMode(f.Mode), SHA256: f.SHA256, HeaderOffset: f.HeaderOffset,
			DataOffset: f.DataOffset, CompressedSize: f.CompressedSize, Method: f.Method, CRC32: f.CRC32}
	}
	return out, len(out) > 0
}

// extraction writes entries of one build zip into a folder as their bytes arrive, each
// inflated, hashed and written by a goroutine of its own, at most one per CPU at once, and
// checked against the manifest (size, CRC-32, sha256) before it counts as verified.
type extraction struct {
	root    *os.Root
	all     []zipsafe.Entry // the whole manifest
	entries []zipsafe.Entry // those to extract, sorted by HeaderOffset
	stamp   time.Time       // each file's time once verified (see filesTime)
	sem     chan struct{}
	pool    sync.Pool

	mu       sync.Mutex
	verified []bool
	failed   error
}

func newExtraction(root *os.Root, all, entries []zipsafe.Entry, stamp time.Time) *extraction {
	x := &extraction{root: root, all: all, entries: entries, stamp: stamp, sem: make(chan struct{}, runtime.GOMAXPROCS(0)), verified: make([]bool, len(entries))}
	x.pool.New = func() any { b := make([]byte, chunkSize); return &b }
	return x
}

// err is the first entry that failed its checks, if any.
func (x *extraction) err() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.failed
}

// retry forgets the failure of an entry, and that the entries from the index from on are
// verified: they are all extracted again. No entry's goroutine may be running.
func (x *extraction) retry(from int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.failed = nil
	for i := from; i < len(x.verified); i++ {
		x.verified[i] = false
	}
}

// prefix is how many entries, in the zip's order, are verified.
func (x *extraction) prefix() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	k := 0
	for k < len(x.verified) && x.verified[k] {
		k++
	}
	return k
}

// complete returns nil when every entry is verified; else the first entry's failure, or
// which entry never arrived whole.
func (x *extraction) complete() error {
	if err := x.err(); err != nil {
		return err
	}
	if k := x.prefix(); k != len(x.entries) {
		return fmt.Errorf("%w: %s never arrived whole", ErrVerify, x.entries[k].Path)
	}
	return nil
}

// feed carries an entry's compressed bytes to its goroutine; cut is set when the stream
// stopped before the entry's end.
type feed struct {
	ch  chan *[]byte
	cut atomic.Bool
}

// start starts entry i's goroutine in wg, waiting while every CPU has one, and returns its
// feed. The entry is not verified until the goroutine has checked what it wrote anew.
func (x *extraction) start(i int, wg *sync.WaitGroup) *feed {
	x.sem <- struct{}{}
	x.mu.Lock()
	x.verified[i] = false // its file is written again from the start
	x.mu.Unlock()
	f := &feed{ch: make(chan *[]byte, 4)}
	wg.Go(func() {
		defer func() { <-x.sem }()
		err := x.extract(x.entries[i], f)
		for b := range f.ch { // what the inflater left: the rest of a failed or padded entry
			x.pool.Put(b)
		}
		x.mu.Lock()
		defer x.mu.Unlock()
		switch {
		case err == nil:
			x.verified[i] = true
		case !errors.Is(err, errInterrupted) && x.failed == nil:
			x.failed = err
		}
	})
	return f
}

// extract writes entry e from its feed, replacing what a stopped attempt left, and checks it.
func (x *extraction) extract(e zipsafe.Entry, f *feed) error {
	if dir := path.Dir(e.Path); dir != "." {
		if err := x.root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("extracting %s: %w", e.Path, err)
		}
	}
	out, err := x.root.OpenFile(e.Path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, e.Mode)
	if err != nil {
		return fmt.Errorf("extracting %s: %w", e.Path, err)
	}
	defer out.Close()
	if err := out.Chmod(e.Mode); err != nil { // the umask may have taken bits away
		return fmt.Errorf("extracting %s: %w", e.Path, err)
	}
	var src io.Reader = &feedReader{f: f, x: x}
	if e.Method == zip.Deflate {
		fr := flate.NewReader(src)
		defer fr.Close()
		src = fr
	}
	sum, crc := sha256.New(), crc32.NewIEEE()
	buf := x.pool.Get().(*[]byte)
	defer x.pool.Put(buf)
	n, err := io.CopyBuffer(io.MultiWriter(out, sum, crc), io.LimitReader(src, e.Size+1), (*buf)[:cap(*buf)])
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s in the build's zip %s", ErrVerify, e.Path, fmt.Sprintf(format, args...))
	}
	var corrupt flate.CorruptInputError
	switch {
	case f.cut.Load():
		return errInterrupted
	case errors.As(err, &corrupt) || errors.Is(err, io.ErrUnexpectedEOF):
		return bad("has corrupt compressed data (%v)", err)
	case err != nil:
		return fmt.Errorf("extracting %s: %w", e.Path, err)
	case n != e.Size:
		return bad("holds %d bytes, the manifest says %d", n, e.Size)
	case crc.Sum32() != e.CRC32:
		return bad("does not match its CRC-32")
	case hex.EncodeToString(sum.Sum(nil)) != e.SHA256:
		return bad("does not match the sha256 of the manifest")
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("extracting %s: %w", e.Path, err)
	}
	_ = x.root.Chtimes(e.Path, time.Time{}, x.stamp) // refused: it is hashed when an update comes
	return nil
}

// feedReader reads an entry's compressed bytes from its feed.
type feedReader struct {
	f        *feed
	x        *extraction
	cur, buf []byte
	held     *[]byte
}

func (r *feedReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.held != nil {
			r.x.pool.Put(r.held)
			r.held = nil
		}
		b, ok := <-r.f.ch
		if !ok {
			return 0, io.EOF
		}
		r.held, r.cur = b, *b
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// route hands one contiguous stretch of the zip, as it arrives, to the entries
// entries[i:end] of its extraction; bytes outside those entries are skipped, except the tail
// (from tailStart, when not negative), which it keeps. With a hash, it also hashes every byte
// and keeps the hash's state where each entry's data ends, from which a stopped stream resumes
// once the entry is verified.
type route struct {
	x         *extraction
	pos       int64 // of the next byte
	i, end    int
	hash      hash.Hash
	tailStart int64
	tail      []byte
	hdr       []byte
	cur       *feed          // entries[i]'s, while its data passes
	workers   sync.WaitGroup // the goroutines of the entries this route started
	at        atomic.Int64   // pos, for other goroutines

	mu    sync.Mutex
	snaps map[int][]byte // hash states by entry index: at the end of the data of the entry before
}

// write takes the next bytes of the stretch.
func (r *route) write(p []byte) error {
	for len(p) > 0 {
		n := len(p)
		var e zipsafe.Entry
		if r.i < r.end {
			e = r.x.entries[r.i]
		}
		switch {
		case r.i < r.end && r.pos < e.HeaderOffset:
			n = int(min(int64(n), e.HeaderOffset-r.pos))
		case r.i < r.end && r.pos < e.DataOffset:
			if r.pos == e.HeaderOffset {
				r.hdr = r.hdr[:0]
			}
			n = int(min(int64(n), e.DataOffset-r.pos))
			r.hdr = append(r.hdr, p[:n]...)
		case r.i < r.end:
			n = int(min(int64(n), e.DataOffset+e.CompressedSize-r.pos))
			b := r.x.pool.Get().(*[]byte)
			*b = (*b)[:n]
			copy(*b, p[:n])
			r.cur.ch <- b
		case r.tailStart >= 0 && r.pos < r.tailStart:
			n = int(min(int64(n), r.tailStart-r.pos))
		case r.tailStart >= 0:
			r.tail = append(r.tail, p[:n]...)
		}
		if r.hash != nil {
			r.hash.Write(p[:n])
		}
		r.pos += int64(n)
		p = p[n:]
		if r.i < r.end && r.pos == e.DataOffset && r.cur == nil {
			if err := zipsafe.CheckLocalHeader(r.hdr, e); err != nil {
				return err
			}
			r.cur = r.x.start(r.i, &r.workers)
		}
		if r.i < r.end && r.pos == e.DataOffset+e.CompressedSize && r.cur != nil {
			r.snap(r.i + 1) // before the entry can be verified: a checkpoint past it has its hash
			close(r.cur.ch)
			r.cur = nil
			r.i++
		}
		if err := r.x.err(); err != nil {
			return err
		}
	}
	r.at.Store(r.pos)
	return nil
}

// snap keeps the hash's state at r.pos, the end of the data of entry i-1.
func (r *route) snap(i int) {
	if r.hash == nil {
		return
	}
	s, err := r.hash.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic(err) // crypto/sha256 always marshals
	}
	r.mu.Lock()
	r.snaps[i] = s
	r.mu.Unlock()
}

// stop ends the stretch: an entry whose data was still arriving is cut, and the goroutine of
// every entry the route started has finished when it returns.
func (r *route) stop() {
	if r.cur != nil {
		r.cur.cut.Store(true)
		close(r.cur.ch)
		r.cur = nil
	}
	r.workers.Wait()
}

// checkpoint is where a stream that stopped resumes: the first entry not yet verified, from
// the end of the data of the last one verified (what lies between, such as a data descriptor,
// is fetched again), with the hash's state there. ok is false when no entry was verified since
// from.
func (r *route) checkpoint(from state.Stream) (state.Stream, bool) {
	k := r.x.prefix()
	if k <= from.Verified {
		return from, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	last := r.x.entries[k-1]
	return state.Stream{Verified: k, Offset: last.DataOffset + last.CompressedSize, Hash: r.snaps[k]}, true
}

// statusError is an HTTP status a fetch of the build got instead of its bytes.
type statusError int

func (s statusError) Error() string { return fmt.Sprintf("the server answered HTTP %d", int(s)) }

// expired reports whether err says the signed URL no longer works (it expired, or the store
// moved the object): a fresh one from the Source may.
func expired(err error) bool {
	var s statusError
	return errors.As(err, &s) && (s == http.StatusForbidden || s == http.StatusNotFound || s == http.StatusGone)
}

// fetchRange GETs bytes [from, to] of the build at url and hands them to sink as they arrive,
// at the installer's speed limit (each piece once the limit lets it pass: throttle.reader). A server that ignores Range (200) is read from the start
// and the bytes before from skipped. It returns how many bytes it received.
func (in *Installer) fetchRange(ctx context.Context, url string, from, to int64, sink func([]byte) error) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", from, to))
	req.Header.Set("User-Agent", "satchel-launcher")
	res, err := in.cfg.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var got int64
	switch res.StatusCode {
	case http.StatusPartialContent:
		if start, ok := contentRangeStart(res); !ok || start != from {
			return 0, fmt.Errorf("the server sent the wrong range (%q for bytes %d-%d)", res.Header.Get("Content-Range"), from, to)
		}
	case http.StatusOK:
		n, err := io.CopyN(io.Discard, res.Body, from)
		if got = n; err != nil {
			return got, err
		}
	default:
		return 0, statusError(res.StatusCode)
	}
	want := to - from + 1
	body := in.throttle.reader(ctx, io.LimitReader(res.Body, want))
	buf := make([]byte, chunkSize)
	for done := int64(0); done < want; {
		n, rerr := body.Read(buf)
		if n > 0 {
			got += int64(n)
			done += int64(n)
			if err := sink(buf[:n]); err != nil {
				return got, err
			}
		}
		if rerr == io.EOF && done < want {
			return got, io.ErrUnexpectedEOF
		}
		if rerr != nil && rerr != io.EOF {
			return got, rerr
		}
	}
	return got, nil
}

// tailReader is the zip as a streamed install holds it at the end: its bytes from start on,
// zeros before (where ReadDirectory never looks in a zip that passed CheckManifest).
type tailReader struct {
	tail  []byte
	start int64
}

func (t tailReader) ReadAt(p []byte, off int64) (int, error) {
	end := t.start + int64(len(t.tail))
	if off >= end {
		return 0, io.EOF
	}
	n := 0
	for ; n < len(p) && off+int64(n) < t.start; n++ {
		p[n] = 0
	}
	n += copy(p[n:], t.tail[max(off+int64(n)-t.start, 0):])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// checkDirectory compares the zip's central directory, read from its tail, with the manifest
// the files were extracted by: the same files, at the same places, with the same sizes,
// methods, CRC-32s and executable bits.
func checkDirectory(tail []byte, tailStart, size int64, manifest []zipsafe.Entry, lim zipsafe.Limits) error {
	dir, err := zipsafe.ReadDirectory(tailReader{tail: tail, start: tailStart}, size, lim)
	if err != nil {
		return err
	}
	want := slices.SortedFunc(slices.Values(manifest), func(a, b zipsafe.Entry) int { return strings.Compare(a.Path, b.Path) })
	var problems []string
	for i := 0; i < max(len(dir), len(want)); i++ {
		var d, w zipsafe.Entry
		if i < len(dir) {
			d = dir[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if d.Path != w.Path || d.Size != w.Size || d.Mode != w.Mode || d.HeaderOffset != w.HeaderOffset ||
			d.CompressedSize != w.CompressedSize || d.Method != w.Method || d.CRC32 != w.CRC32 {
			problems = append(problems, fmt.Sprintf("the zip lists %q (%d bytes at %d), the manifest %q (%d bytes at %d)",
				d.Path, d.Size, d.HeaderOffset, w.Path, w.Size, w.HeaderOffset))
		}
		if len(problems) == 3 {
			break
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: the zip's central directory does not match the build's manifest: %s", ErrVerify, strings.Join(problems, "; "))
	}
	return nil
}
