package install

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cavaliergopher/grab/v3"
	"golang.org/x/time/rate"
)

// download fetches dl into zipPath with grab, resuming what is there, hashing while the bytes
// arrive, and checks the size and sha256 of the result; a mismatch deletes the file. Once it
// holds a download slot, and before it fetches anything, it calls check (free space). It
// returns how many bytes were already there and how many it fetched. A partial file survives
// errors and cancellation, for the next attempt to resume.
func (in *Installer) download(ctx context.Context, g Game, dl Download, zipPath string, check func() error, progress func(Progress)) (resumed, fetched int64, err error) {
	release := in.slots.acquire(ctx)
	if release == nil {
		return 0, 0, ctx.Err()
	}
	defer release()
	if err := check(); err != nil {
		return 0, 0, err
	}

	hs := &hashState{h: sha256.New()}
	url := dl.URL
	refreshes, failures := 0, 0
	wait := in.cfg.Backoff
	first := true
	for {
		have, err := hs.syncWith(zipPath, dl.Size)
		if err != nil {
			return resumed, fetched, err
		}
		if first {
			resumed, first = have, false
		}
		if have == dl.Size {
			break
		}
		if url == "" {
			fresh, err := in.cfg.Source.GetDownload(ctx, g.ID, dl.ReleaseID)
			if err != nil {
				return resumed, fetched, err
			}
			if fresh.SHA256 != dl.SHA256 || fresh.Size != dl.Size {
				os.Remove(zipPath)
				return resumed, fetched, fmt.Errorf("the build of %s %s changed on the server during the download: install again", g.Slug, dl.Version)
			}
			url = fresh.URL
		}
		before := have
		err = in.fetch(ctx, g, dl, url, zipPath, hs, resumed, progress)
		if n := hs.size() - before; n > 0 {
			fetched += n
		}
		if err == nil {
			break
		}
		var sce grab.StatusCodeError
		switch {
		case ctx.Err() != nil:
			return resumed, fetched, ctx.Err()
		case errors.Is(err, grab.ErrBadLength):
			os.Remove(zipPath)
			return resumed, fetched, fmt.Errorf("%w: the server sends a build of %s %s whose size is not the %d bytes it published; the download was deleted: try again later, and tell the developer if it keeps happening",
				ErrVerify, g.Slug, dl.Version, dl.Size)
		case errors.As(err, &sce) && (sce == http.StatusForbidden || sce == http.StatusNotFound || sce == http.StatusGone):
			// The signed URL expired (or the store moved the object): ask for a fresh one.
			refreshes++
			if refreshes > 3 {
				return resumed, fetched, fmt.Errorf("downloading %s %s: the server keeps refusing the download link (HTTP %d)", g.Slug, dl.Version, int(sce))
			}
			in.cfg.Logger.Info("download link refused, asking for a fresh one", "game", g.Slug, "status", int(sce))
			url = ""
			continue
		}
		if errors.Is(err, errNoResume) {
			in.cfg.Logger.Info("the server cannot resume: downloading from the start", "game", g.Slug)
			os.Remove(zipPath)
		}
		failures++
		if failures >= in.cfg.Attempts {
			return resumed, fetched, fmt.Errorf("downloading %s %s failed %d times (last: %w): check your connection and install again; the download resumes where it stopped", g.Slug, dl.Version, failures, err)
		}
		in.cfg.Logger.Info("download interrupted, resuming", "game", g.Slug, "err", err, "wait", wait)
		select {
		case <-ctx.Done():
			return resumed, fetched, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 30*time.Second)
	}
	if got := hs.sum(); hs.size() != dl.Size || got != dl.SHA256 {
		os.Remove(zipPath)
		return resumed, fetched, fmt.Errorf("%w: the download of %s %s does not match what the server published (sha256 %s, expected %s); the file was deleted: install again, and tell the developer if it keeps happening",
			ErrVerify, g.Slug, dl.Version, got, dl.SHA256)
	}
	return resumed, fetched, nil
}

// fetch runs one grab transfer of url into zipPath, reporting progress until it ends.
func (in *Installer) fetch(ctx context.Context, g Game, dl Download, url, zipPath string, hs *hashState, resumed int64, progress func(Progress)) error {
	req, err := grab.NewRequest(zipPath, url)
	if err != nil {
		return err
	}
	req = req.WithContext(ctx)
	req.Size = dl.Size
	req.BufferSize = 256 << 10
	req.IgnoreRemoteTime = true
	req.NoCreateDirectories = true
	hc := &hashingClient{hc: in.cfg.HTTP, hs: hs, throttle: in.throttle, onRead: func(n int64) { in.hook("download", n, dl.Size) }}
	c := &grab.Client{HTTPClient: hc, UserAgent: "satchel-launcher", BufferSize: 256 << 10}
	resp := c.Do(req)
	t := time.NewTicker(in.cfg.ProgressEvery)
	defer t.Stop()
	var m meter
	report := func() {
		p := Progress{Slug: g.Slug, Version: dl.Version, Phase: PhaseDownloading, Done: resp.BytesComplete(), Total: dl.Size, Resumed: resumed}
		m.measure(&p, time.Now())
		progress(p)
	}
	report()
	for {
		select {
		case <-t.C:
			report()
		case <-resp.Done:
			report()
			return resp.Err()
		}
	}
}

// errNoResume: the server did not send the range asked for; the download starts over.
var errNoResume = errors.New("the server did not resume the download")

// hashState is the running sha256 of the first n bytes of the zip on disk.
type hashState struct {
	mu sync.Mutex
	h  hash.Hash
	n  int64
}

// syncWith makes the hash cover exactly the file at p (truncating a file longer than size),
// re-reading the file when the hash and the file disagree (after a restart, or a write that
// failed). It returns the file's length.
func (hs *hashState) syncWith(p string, size int64) (int64, error) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	fi, err := os.Stat(p)
	if os.IsNotExist(err) {
		hs.h.Reset()
		hs.n = 0
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if fi.Size() > size {
		if err := os.Remove(p); err != nil {
			return 0, err
		}
		hs.h.Reset()
		hs.n = 0
		return 0, nil
	}
	if fi.Size() == hs.n {
		return hs.n, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	hs.h.Reset()
	n, err := io.CopyBuffer(hs.h, io.LimitReader(f, fi.Size()), make([]byte, 1<<20))
	hs.n = n
	return n, err
}

func (hs *hashState) size() int64 {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.n
}

func (hs *hashState) sum() string {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hex.EncodeToString(hs.h.Sum(nil))
}

// hashingClient sends grab's requests and feeds every downloaded byte to the hash as grab
// reads it, at the speed limit (throttle.reader). It also makes resuming safe and possible
// where grab alone is not:
//
//   - grab probes a partial download with HEAD, which a presigned GET URL (S3) refuses; the
//     probe is sent as a GET of the first byte instead, and answered as a HEAD would be;
//   - grab does not check that a ranged GET got the range it asked for; a server that ignores
//     Range (200) or answers another range is refused, so the file is never corrupted.
type hashingClient struct {
	hc       *http.Client
	hs       *hashState
	throttle *throttle
	onRead   func(n int64)
}

func (c *hashingClient) Do(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodHead {
		return c.probe(req)
	}
	from := int64(0)
	if r := req.Header.Get("Range"); r != "" {
		v, ok := strings.CutPrefix(r, "bytes=")
		n, err := strconv.ParseInt(strings.TrimSuffix(v, "-"), 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("unexpected range %q", r)
		}
		from = n
	}
	res, err := c.hc.Do(req)
	if err != nil || res.StatusCode/100 != 2 {
		return res, err
	}
	if from > 0 {
		start, ok := contentRangeStart(res)
		if res.StatusCode != http.StatusPartialContent || !ok || start != from {
			res.Body.Close()
			return nil, fmt.Errorf("%w at byte %d (HTTP %d, Content-Range %q)", errNoResume, from, res.StatusCode, res.Header.Get("Content-Range"))
		}
	}
	c.hs.mu.Lock()
	if c.hs.n != from {
		// grab restarts the file from the beginning (no Range): so does the hash.
		c.hs.h.Reset()
		c.hs.n = 0
	}
	c.hs.mu.Unlock()
	if from > 0 && c.hs.size() != from {
		res.Body.Close()
		return nil, fmt.Errorf("internal: the hash covers %d bytes, the resume starts at %d", c.hs.size(), from)
	}
	limited := struct {
		io.Reader
		io.Closer
	}{c.throttle.reader(req.Context(), res.Body), res.Body}
	res.Body = &hashingBody{ReadCloser: limited, hs: c.hs, onRead: c.onRead}
	return res, nil
}

// probe answers a HEAD with a one-byte ranged GET.
func (c *hashingClient) probe(head *http.Request) (*http.Response, error) {
	get := head.Clone(head.Context())
	get.Method = http.MethodGet
	get.Header.Set("Range", "bytes=0-0")
	res, err := c.hc.Do(get)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 1<<10))
	res.Body.Close()
	out := &http.Response{Status: res.Status, StatusCode: res.StatusCode, Proto: res.Proto, ProtoMajor: res.ProtoMajor,
		ProtoMinor: res.ProtoMinor, Header: http.Header{}, Body: http.NoBody, ContentLength: res.ContentLength, Request: head}
	if res.StatusCode == http.StatusPartialContent {
		if total, ok := contentRangeTotal(res); ok {
			out.StatusCode, out.Status, out.ContentLength = http.StatusOK, "200 OK", total
			out.Header.Set("Accept-Ranges", "bytes")
		}
	}
	return out, nil
}

func contentRangeStart(res *http.Response) (int64, bool) {
	v, ok := strings.CutPrefix(res.Header.Get("Content-Range"), "bytes ")
	if !ok {
		return 0, false
	}
	a, _, ok := strings.Cut(v, "-")
	n, err := strconv.ParseInt(a, 10, 64)
	return n, ok && err == nil
}

func contentRangeTotal(res *http.Response) (int64, bool) {
	_, total, ok := strings.Cut(res.Header.Get("Content-Range"), "/")
	n, err := strconv.ParseInt(total, 10, 64)
	return n, ok && err == nil
}

type hashingBody struct {
	io.ReadCloser
	hs     *hashState
	onRead func(n int64)
}

func (b *hashingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.hs.mu.Lock()
		b.hs.h.Write(p[:n])
		b.hs.n += int64(n)
		total := b.hs.n
		b.hs.mu.Unlock()
		b.onRead(total)
	}
	return n, err
}

// throttle is the global download speed limit, shared by every download and changeable while
// they run: bytes pass it in steps of at most a tenth of a second of traffic, so a new limit
// applies within that time, and a download that counts its bytes as they pass (reader) never
// counts them ahead of the limit.
type throttle struct {
	mu  sync.Mutex
	lim *rate.Limiter // nil: unlimited
	// now and sleep are the clock the waits follow; tests give a fake one.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

func newThrottle(bps int64) *throttle {
	t := &throttle{now: time.Now, sleep: sleep}
	t.set(bps)
	return t
}

// sleep waits for d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// set changes the limit to bps bytes per second (0 or less: none). The new limit starts with a
// bucket of one step: what passed under the old one gives no burst under the new one.
func (t *throttle) set(bps int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lim = nil
	if bps > 0 {
		t.lim = rate.NewLimiter(rate.Limit(bps), int(min(max(bps/10, 4<<10), 1<<20)))
	}
}

// step is the most bytes one wait lets pass: a tenth of a second of traffic under a limit,
// chunkSize without one.
func (t *throttle) step() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lim == nil {
		return chunkSize
	}
	return t.lim.Burst()
}

// reserve takes one step of n bytes (or all n, if fewer) from the limit at time now, and says
// how many it took and how long they must wait before they pass.
func (t *throttle) reserve(now time.Time, n int) (int, time.Duration) {
	t.mu.Lock()
	lim := t.lim
	t.mu.Unlock()
	if lim == nil {
		return n, 0
	}
	n = min(n, lim.Burst())
	return n, lim.ReserveN(now, n).DelayFrom(now)
}

// WaitN waits until the limit lets n bytes pass, or ctx ends.
func (t *throttle) WaitN(ctx context.Context, n int) error {
	for n > 0 {
		took, wait := t.reserve(t.now(), n)
		if wait > 0 {
			if err := t.sleep(ctx, wait); err != nil {
				return err
			}
		}
		n -= took
	}
	return nil
}

// reader returns r read at the limit: each Read returns at most one step, once the limit lets
// its bytes pass (none, with ctx's error, if ctx ends first). The bytes a download counts as it
// reads them are then never ahead of the limit, so its rate (meter) shows the limit, not the
// bursts of large reads.
func (t *throttle) reader(ctx context.Context, r io.Reader) io.Reader {
	return &throttledReader{ctx: ctx, r: r, t: t}
}

type throttledReader struct {
	ctx context.Context
	r   io.Reader
	t   *throttle
}

func (r *throttledReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p[:min(len(p), r.t.step())])
	if n > 0 {
		if werr := r.t.WaitN(r.ctx, n); werr != nil {
			return 0, werr
		}
	}
	return n, err
}

// rateWindow is how far back a download's rate looks.
const rateWindow = 3 * time.Second

// meter measures a download's rate over its last rateWindow of progress, for the streamed and
// the whole-zip downloads alike: a burst (the first bytes of a resumed download) weighs on the
// rate for rateWindow at most, not for the rest of the download, and under a speed limit the
// rate shown is the limit's. A meter is used by one goroutine at a time.
type meter struct {
	// samples are the progress reported, oldest first: the first is the newest at or before
	// the window's start, once the download has run that long.
	samples []sample
}

type sample struct {
	at   time.Time
	done int64
}

// measure records that p.Done bytes were done at time at, and sets p's BytesPerSecond and
// ETA (to p.Total) from the bytes done over the last rateWindow (over what there is, before
// the download has run that long). A Done lower than the last one starts a new measure: the
// download started over.
func (m *meter) measure(p *Progress, at time.Time) {
	if n := len(m.samples); n > 0 && p.Done < m.samples[n-1].done {
		m.samples = nil
	}
	m.samples = append(m.samples, sample{at: at, done: p.Done})
	start := at.Add(-rateWindow)
	for len(m.samples) > 1 && !m.samples[1].at.After(start) {
		m.samples = m.samples[1:]
	}
	first := m.samples[0]
	if s := at.Sub(first.at).Seconds(); s > 0 && p.Done > first.done {
		p.BytesPerSecond = float64(p.Done-first.done) / s
		p.ETA = time.Duration(float64(p.Total-p.Done) / p.BytesPerSecond * float64(time.Second)).Round(time.Second)
	}
}

// slots lets a bounded number of downloads run at once, first come first served.
type slots struct {
	mu      sync.Mutex
	max     int
	active  int
	waiting []chan struct{}
}

func newSlots(n int) *slots { return &slots{max: n} }

// acquire waits for a slot and returns its release function, or nil if ctx ends first.
func (s *slots) acquire(ctx context.Context) func() {
	s.mu.Lock()
	if s.active < s.max && len(s.waiting) == 0 {
		s.active++
		s.mu.Unlock()
		return s.releaser()
	}
	ch := make(chan struct{})
	s.waiting = append(s.waiting, ch)
	s.mu.Unlock()
	select {
	case <-ch:
		return s.releaser()
	case <-ctx.Done():
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, w := range s.waiting {
			if w == ch {
				s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
				return nil
			}
		}
		// Granted meanwhile: give it back.
		s.active--
		s.grant()
		return nil
	}
}

func (s *slots) releaser() func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.active--
			s.grant()
		})
	}
}

// grant hands free slots to waiters; s.mu is held.
func (s *slots) grant() {
	for s.active < s.max && len(s.waiting) > 0 {
		ch := s.waiting[0]
		s.waiting = s.waiting[1:]
		s.active++
		close(ch)
	}
}

func (s *slots) resize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.max = n
	s.grant()
}
