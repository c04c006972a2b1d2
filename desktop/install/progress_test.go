package install

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"satchel.dev/desktop/internal/testenv"
)

// zeros is an endless, instant network.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestRateUnderSpeedLimit downloads through the speed limit on a fake clock, reading as the
// downloads do (throttle.reader, large reads from a fast network) and measuring the rate as
// they report it (meter, every 250 ms): after the first window the rate never exceeds the
// limit by more than 10%, nor falls under it by more.
func TestRateUnderSpeedLimit(t *testing.T) {
	for _, limit := range []int64{64 << 10, 1 << 20, 20 << 20} {
		clock := time.Unix(1e9, 0)
		start := clock
		th := newThrottle(limit)
		th.now = func() time.Time { return clock }
		th.sleep = func(_ context.Context, d time.Duration) error { clock = clock.Add(d); return nil }
		total := 20 * limit
		r := th.reader(context.Background(), io.LimitReader(zeros{}, total))
		buf := make([]byte, chunkSize)
		var m meter
		var done int64
		tick := start
		for {
			n, err := r.Read(buf)
			// The reports made while this read waited saw the bytes before it.
			for ; tick.Before(clock); tick = tick.Add(250 * time.Millisecond) {
				p := Progress{Done: done, Total: total}
				m.measure(&p, tick)
				if tick.Sub(start) > rateWindow && (p.BytesPerSecond > 1.1*float64(limit) || p.BytesPerSecond < 0.9*float64(limit)) {
					t.Fatalf("limit %d B/s: rate %.0f B/s at %s", limit, p.BytesPerSecond, tick.Sub(start))
				}
			}
			done += int64(n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if took := clock.Sub(start); took < 19*time.Second {
			t.Errorf("limit %d B/s: %d bytes passed in %s", limit, total, took)
		}
	}
}

// TestMeterForgetsBursts feeds recorded progress: a resumed download whose first report
// jumps by 1 MiB (a full buffer, a filled bucket), then 64 KiB/s. The rate since the start
// would show 99 KiB/s and more for long; the window's shows the burst only in its first
// seconds.
func TestMeterForgetsBursts(t *testing.T) {
	const bps = 64 << 10
	var m meter
	t0 := time.Unix(1e9, 0)
	p := Progress{Done: 5 << 20, Total: 100 << 20}
	m.measure(&p, t0)
	if p.BytesPerSecond != 0 {
		t.Errorf("a first report has a rate: %v", p.BytesPerSecond)
	}
	for i := 1; i <= 80; i++ {
		at := t0.Add(time.Duration(i) * 250 * time.Millisecond)
		p := Progress{Done: 6<<20 + int64(i)*bps/4, Total: 100 << 20}
		m.measure(&p, at)
		if at.Sub(t0) > rateWindow+250*time.Millisecond && (p.BytesPerSecond < 0.99*bps || p.BytesPerSecond > 1.01*bps) {
			t.Fatalf("rate %.0f B/s at %s, want %d", p.BytesPerSecond, at.Sub(t0), bps)
		}
		if want := time.Duration(float64(p.Total-p.Done) / p.BytesPerSecond * float64(time.Second)).Round(time.Second); p.ETA != want {
			t.Fatalf("ETA %s, want %s", p.ETA, want)
		}
	}
	// A download that starts over is measured from there.
	p = Progress{Done: 0, Total: 100 << 20}
	m.measure(&p, t0.Add(30*time.Second))
	if p.BytesPerSecond != 0 || len(m.samples) != 1 {
		t.Errorf("after a restart: rate %v, %d samples", p.BytesPerSecond, len(m.samples))
	}
}

// TestNewLimitHasNoBurst: a limit set where there was none lets no more than one step pass
// at once (the token bucket of "none" held a megabyte).
func TestNewLimitHasNoBurst(t *testing.T) {
	const limit = 64 << 10
	clock := time.Unix(1e9, 0)
	th := newThrottle(0)
	th.now = func() time.Time { return clock }
	th.reserve(clock, chunkSize)
	th.set(limit)
	took, wait := th.reserve(clock, chunkSize)
	if took > limit/10+1 || wait != 0 {
		t.Errorf("the first reservation took %d bytes with a wait of %s", took, wait)
	}
	if _, wait := th.reserve(clock, chunkSize); wait < 90*time.Millisecond {
		t.Errorf("the second step waits %s, want a tenth of a second", wait)
	}
}

// TestPausedSizeSaysWhereItStopped stops installs mid-way, as a pause does: PendingSize says
// how much of the download is kept, which is where the next install resumes.
func TestPausedSizeSaysWhereItStopped(t *testing.T) {
	for _, streams := range []bool{true, false} {
		b := setup(t)
		b.located = streams
		bd := b.addBuild("1.0.0", manyFiles("1.0.0", 6, 200<<10)...)
		ctx, cancel := context.WithCancel(context.Background())
		inst, err := New(Config{State: b.state, Source: b.src, FreeSpace: b.inst.cfg.FreeSpace, ProgressEvery: b.inst.cfg.ProgressEvery,
			Hook: func(step string, done, total int64) {
				if (step == "checkpoint" || step == "download") && done*2 >= total {
					cancel()
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		inst.SetSpeedLimit(4 << 20) // slow enough for the cancel to land mid-way
		if _, err := inst.Install(ctx, b.game, "", nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("Install = %v, want it paused", err)
		}
		sz, err := b.inst.PendingSize(b.game.Slug)
		if err != nil || sz.Done < bd.size/2 || sz.Done >= bd.size || sz.Fetch != bd.size || sz.BuildSize != bd.size {
			t.Errorf("streams %v: PendingSize = %+v, %v; want half or more of %d done", streams, sz, err, bd.size)
		}
		res, err := b.inst.Install(context.Background(), b.game, "", nil)
		if err != nil || res.Resumed != sz.Done {
			t.Errorf("streams %v: the resumed install = %+v, %v; want it resumed at %d", streams, res, err, sz.Done)
		}
	}
}

// TestSizeOfUpdateBeforeItStarts: before an update starts, SizeOf says what it fetches (the
// changed file) of the whole build, as it does once it is pending.
func TestSizeOfUpdateBeforeItStarts(t *testing.T) {
	b := streamed(t)
	v1files := manyFiles("1.0.0", 6, 64<<10)
	b.addBuild("1.0.0", v1files...)
	if _, err := b.inst.Install(context.Background(), b.game, "", nil); err != nil {
		t.Fatal(err)
	}
	files := append([]testenv.File(nil), v1files...)
	files[5].Body = randomBytes(64 << 10)
	v2 := b.addBuild("1.1.0", files...)
	want := Size{Version: "1.1.0", Fetch: fileOf(t, v2, files[5].Name).CompressedSize, BuildSize: v2.size, Update: true}
	downloads := b.src.calls
	sz, err := b.inst.SizeOf(context.Background(), b.game, "")
	if err != nil || sz != want {
		t.Errorf("SizeOf = %+v, %v; want %+v", sz, err, want)
	}
	// Sizing asks for the manifest only: the server counts no download (issue 13).
	if b.src.calls != downloads || b.src.manifests != 1 {
		t.Errorf("SizeOf asked for %d downloads and %d manifests, want 0 and 1", b.src.calls-downloads, b.src.manifests)
	}
	if _, err := b.inst.PendingSize(b.game.Slug); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("SizeOf started an install: PendingSize = %v", err)
	}
	// While it downloads, the update reports the bytes it fetches of the whole build.
	var last Progress
	res, err := b.inst.Install(context.Background(), b.game, "", func(p Progress) {
		if p.Phase == PhaseDownloading {
			last = p
		}
	})
	if err != nil || res.Reused == 0 {
		t.Fatalf("the update = %+v, %v", res, err)
	}
	if last.BuildSize != v2.size || last.Total < want.Fetch || last.Total >= v2.size/2 || last.Done != last.Total {
		t.Errorf("the update's last progress = %+v, want all of its %d bytes or so done, of %d", last, want.Fetch, v2.size)
	}
}

// sha256Of returns the sha256 (hex) of the file at p.
func sha256Of(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// downloads lists the files of the library's downloads folder.
func downloads(t *testing.T, b *bundle) []string {
	return tree(t, filepath.Join(b.load().Library, ".downloads"))
}

// TestKeepDownloads installs with keep downloads on: a streamed install (through a dropped
// connection) and a whole-zip one keep the build's zip, whole and verified; an update that
// fetches only what changed has none to keep, and the old version's goes when it does. Off,
// no zip stays, and Recover removes those kept before.
func TestKeepDownloads(t *testing.T) {
	for _, streams := range []bool{true, false} {
		b := setup(t, func(c *Config) { c.KeepDownloads = true })
		b.located = streams
		v1files := manyFiles("1.0.0", 6, 200<<10)
		v1 := b.addBuild("1.0.0", v1files...)
		f := fileOf(t, v1, "assets/pack-03.bin")
		b.srv.cutAfter = f.DataOffset + f.CompressedSize/2
		res, err := b.inst.Install(context.Background(), b.game, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		zip := filepath.Join(b.load().Library, filepath.FromSlash(KeptZip(b.game.Slug, v1.id)))
		if res.Kept != zip || sha256Of(t, zip) != v1.sha {
			t.Fatalf("streams %v: kept %q (want %q) with sha256 %s, want %s", streams, res.Kept, zip, sha256Of(t, zip), v1.sha)
		}
		if _, err := b.inst.Recover(); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-2 * time.Hour)
		os.Chtimes(zip, old, old)
		if _, err := b.inst.Recover(); err != nil || sha256Of(t, zip) != v1.sha {
			t.Errorf("streams %v: Recover removed the kept zip (%v)", streams, err)
		}
		if !streams {
			b.inst.SetKeepDownloads(false)
			if _, err := b.inst.Recover(); err != nil {
				t.Fatal(err)
			}
			if got := downloads(t, b); len(got) != 0 {
				t.Errorf("keeping turned off: Recover left %v", got)
			}
			continue
		}
		v2files := append([]testenv.File(nil), v1files...)
		v2files[5].Body = randomBytes(200 << 10)
		v2 := b.addBuild("1.1.0", v2files...)
		res, err = b.inst.Install(context.Background(), b.game, "", nil)
		if err != nil || res.Reused == 0 || res.Kept != "" {
			t.Fatalf("the update = %+v, %v; want it to fetch only what changed and keep no zip", res, err)
		}
		if err := b.inst.Launched(b.game.Slug, v2.id); err != nil {
			t.Fatal(err)
		}
		if got := downloads(t, b); len(got) != 0 {
			t.Errorf("1.0.0's zip stays after 1.0.0 went: %v", got)
		}
	}
	b := streamed(t)
	b.addBuild("1.0.0", manyFiles("1.0.0", 3, 100<<10)...)
	if res, err := b.inst.Install(context.Background(), b.game, "", nil); err != nil || res.Kept != "" {
		t.Fatalf("install with keep off = %+v, %v", res, err)
	}
	if got := downloads(t, b); len(got) != 0 {
		t.Errorf("keep off: a zip stays: %v", got)
	}
}
