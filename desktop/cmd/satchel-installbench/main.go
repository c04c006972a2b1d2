// Command satchel-installbench measures the launcher's install of a large build over
// loopback (the zip extracted as it streams in: each file inflated, written and checked
// against the manifest while the next arrive, the whole zip hashed on the same pass, then
// rename and switch) beside the plain `curl -o f.zip URL && sha256sum f.zip && unzip -q
// f.zip -d dir` on the same build in the same run, and beside the slower of the wire alone
// (`curl -o /dev/null`) and the extraction alone (`unzip -q` of a local copy), and prints
// the ratios. It then updates the install to a build with -changed files changed and reports
// the bytes the update fetched against those files' compressed size and the whole zip, and
// its time against the full install's. It also runs all this on a small build, to show that
// the installer's memory does not grow with the build's size.
//
//	satchel-installbench [-size 1024] [-small 64] [-files 300] [-changed 6] [-dir DIR]
//
// -size and -small are the zip sizes in MiB, -files how many files the large build has (the
// small one has files of the same size). Both runs start after a sync(2) (not on Windows, where
// only an administrator can flush a volume), so neither pays
// for the other's writeback; both end with their files in the page cache, not on disk. The builds are made of files of random
// data with about 4 bits of entropy per byte (so deflate halves them), as game assets often
// are. It needs sh, curl, sha256sum and unzip (on Windows, from MSYS2 or Git for Windows), and
// about 7 times -size of free disk. It measures,
// it does not assert: compare ratios between runs, not raw times.
package main

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"satchel.dev/desktop/install"
	"satchel.dev/desktop/state"
	"satchel.dev/shared/zipsafe"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "satchel-installbench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("satchel-installbench", flag.ContinueOnError)
	size := fs.Int("size", 1024, "zip size of the large build, MiB")
	small := fs.Int("small", 64, "zip size of the small build, MiB")
	dir := fs.String("dir", "", "work folder (default: a temporary folder, removed after)")
	files := fs.Int("files", 300, "files in the large build")
	changed := fs.Int("changed", 6, "files that differ between the build and its update")
	child := fs.String("child", "", "internal: install the build described by this JSON file and report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *child != "" {
		return runChild(*child)
	}
	work := *dir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "satchel-installbench"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	for _, tool := range []string{"curl", "sha256sum", "unzip"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is needed (apt-get install %s)", tool, tool)
		}
	}
	if *files < 1 || *size < 1 {
		return errors.New("-files and -size must be at least 1")
	}
	// Deflate halves the files: the zip of -size MiB holds twice that in -files files.
	fileSize := max(int64(*size)<<21/int64(*files)&^(64<<10-1), 64<<10)
	for _, b := range []struct {
		name string
		mib  int
	}{{"small", *small}, {"large", *size}} {
		if err := bench(work, b.name, b.mib, fileSize, *changed); err != nil {
			return err
		}
	}
	return nil
}

// build is a build zip the benchmark serves.
type build struct {
	ReleaseID, URL, SHA256 string
	Size                   int64
	Files                  []state.File
}

// job is what the child installs: Build, then Update over it.
type job struct {
	Build, Update build
	Data          string
}

type report struct {
	Seconds, UpdateSeconds float64
	UpdateFetched          int64
	MaxRSSKiB              int64
	// Phases are the seconds the install spent downloading (and extracting) and switching.
	Phases map[install.Phase]float64
}

// timed runs the shell script in dir after a sync(2), so that it does not pay for the
// writeback of what ran before, and returns how long it took.
func timed(dir, script string, args ...string) (time.Duration, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	flushWrites()
	start := time.Now()
	cmd := exec.Command("sh", append([]string{"-c", script, "sh"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("%s: %v: %s", script, err, out)
	}
	return time.Since(start), nil
}

// serve makes the zip of about mib MiB of files of fileSize bytes (with the files in changed
// made from other bytes), serves it over loopback, and describes it as the server would.
func serve(work, name string, mib int, fileSize int64, changed map[int]bool) (build, string, func(), error) {
	zipPath := filepath.Join(work, name+".zip")
	if err := makeZip(zipPath, int64(mib)<<20, fileSize, changed); err != nil {
		return build{}, "", nil, err
	}
	sha, size, err := hashFile(zipPath) // also warms the page cache for every run
	if err != nil {
		return build{}, "", nil, err
	}
	f, err := os.Open(zipPath)
	if err != nil {
		return build{}, "", nil, err
	}
	entries, err := zipsafe.Scan(f, size, zipsafe.Limits{})
	f.Close()
	if err != nil {
		return build{}, "", nil, err
	}
	b := build{ReleaseID: name, SHA256: sha, Size: size}
	for _, e := range entries {
		b.Files = append(b.Files, state.File{Path: e.Path, Size: e.Size, Mode: uint32(e.Mode.Perm()), SHA256: e.SHA256,
			HeaderOffset: e.HeaderOffset, DataOffset: e.DataOffset, CompressedSize: e.CompressedSize, Method: e.Method, CRC32: e.CRC32})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return build{}, "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, zipPath)
	})}
	go srv.Serve(ln)
	b.URL = "http://" + ln.Addr().String() + "/build.zip"
	return b, zipPath, func() { srv.Close(); os.Remove(zipPath) }, nil
}

func bench(work, name string, mib int, fileSize int64, nchanged int) error {
	full, zipPath, stop, err := serve(work, name, mib, fileSize, nil)
	if err != nil {
		return err
	}
	defer stop()
	nfiles := int(int64(mib) << 21 / fileSize)
	changed := map[int]bool{}
	for i := range nchanged {
		changed[(i*2+1)*nfiles/(2*nchanged)] = true // spread over the zip
	}
	next, _, stopNext, err := serve(work, name+"-update", mib, fileSize, changed)
	if err != nil {
		return err
	}
	defer stopNext()
	var installed, changedCompressed int64
	nchanged = 0
	for i, f := range full.Files {
		installed += f.Size
		if f.SHA256 != next.Files[i].SHA256 {
			changedCompressed += next.Files[i].CompressedSize
			nchanged++
		}
	}

	// The baselines.
	baseline, err := timed(filepath.Join(work, "curl"), `curl -s -f -o f.zip "$1" && sha256sum f.zip >/dev/null && unzip -q f.zip -d dir`, full.URL)
	if err != nil {
		return err
	}
	wire, err := timed(filepath.Join(work, "wire"), `curl -s -f -o /dev/null "$1"`, full.URL)
	if err != nil {
		return err
	}
	extract, err := timed(filepath.Join(work, "unzip"), `unzip -q "$1" -d dir`, zipPath)
	if err != nil {
		return err
	}

	// The launcher's install and update, in a child process so its peak memory is its own.
	data := filepath.Join(work, "satchel")
	spec := filepath.Join(work, "job.json")
	b, _ := json.Marshal(job{Build: full, Update: next, Data: data})
	if err := os.WriteFile(spec, b, 0o600); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	flushWrites()
	out, err := exec.Command(self, "-child", spec).Output()
	if err != nil {
		return fmt.Errorf("install: %v: %s", err, out)
	}
	os.RemoveAll(data)
	var rep report
	if err := json.Unmarshal(out, &rep); err != nil {
		return fmt.Errorf("install report %q: %v", out, err)
	}
	slower := max(wire, extract)
	fmt.Printf("%s build: zip %s, %s installed, %d files\n", name, install.Bytes(full.Size), install.Bytes(installed), len(full.Files))
	fmt.Printf("  install  satchel %.2fs (stream %.2fs, switch %.2fs), max RSS %d MiB\n", rep.Seconds,
		rep.Phases[install.PhaseDownloading], rep.Phases[install.PhaseSwitching], rep.MaxRSSKiB>>10)
	fmt.Printf("           vs curl && sha256sum && unzip %.2fs: %.2fx\n", baseline.Seconds(), rep.Seconds/baseline.Seconds())
	fmt.Printf("           vs max(curl -o /dev/null %.2fs, unzip of a local copy %.2fs): %.2fx\n", wire.Seconds(), extract.Seconds(), rep.Seconds/slower.Seconds())
	fmt.Printf("  update   %d files changed (%s compressed of a %s zip): fetched %s, %.2fx the changed files, %.4f of the zip; %.2fs, %.2fx the full install\n",
		nchanged, install.Bytes(changedCompressed), install.Bytes(next.Size), install.Bytes(rep.UpdateFetched),
		float64(rep.UpdateFetched)/float64(changedCompressed), float64(rep.UpdateFetched)/float64(next.Size), rep.UpdateSeconds, rep.UpdateSeconds/rep.Seconds)
	return nil
}

// source gives the child's installer the build to install: current.
type source struct{ current *build }

func (s source) GetDownload(context.Context, string, string) (install.Download, error) {
	b := s.current
	return install.Download{ReleaseID: b.ReleaseID, Version: b.ReleaseID, URL: b.URL, SHA256: b.SHA256, Size: b.Size,
		Files: b.Files, ExpiresAt: time.Now().Add(time.Hour)}, nil
}

func (s source) Manifest(ctx context.Context, gameID, releaseID string) (install.Download, error) {
	dl, err := s.GetDownload(ctx, gameID, releaseID)
	dl.URL, dl.ExpiresAt = "", time.Time{}
	return dl, err
}

func runChild(spec string) error {
	b, err := os.ReadFile(spec)
	if err != nil {
		return err
	}
	var j job
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	st, err := state.Open(j.Data)
	if err != nil {
		return err
	}
	src := source{current: &j.Build}
	inst, err := install.New(install.Config{State: st, Source: src})
	if err != nil {
		return err
	}
	start := time.Now()
	phases := map[install.Phase]float64{}
	last, lastAt := install.Phase(""), start
	res, err := inst.Install(context.Background(), install.Game{ID: "bench", Slug: "bench-game"}, "", func(p install.Progress) {
		if p.Phase != last {
			if last != "" {
				phases[last] += time.Since(lastAt).Seconds()
			}
			last, lastAt = p.Phase, time.Now()
		}
	})
	if err != nil {
		return err
	}
	took := time.Since(start)
	if res.Fetched != j.Build.Size {
		return errors.New("the install did not download the whole build")
	}
	*src.current = j.Update
	flushWrites()
	start = time.Now()
	upd, err := inst.Install(context.Background(), install.Game{ID: "bench", Slug: "bench-game"}, "", nil)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(report{Seconds: took.Seconds(), UpdateSeconds: time.Since(start).Seconds(),
		UpdateFetched: upd.Fetched, MaxRSSKiB: peakRSSKiB(), Phases: phases})
}

// makeZip writes a zip of about size bytes: files of fileSize bytes of 4-bit random data,
// deflated. The files numbered in changed get other random data.
func makeZip(path string, size, fileSize int64, changed map[int]bool) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	cw := &countingWriter{w: bufio.NewWriterSize(out, 1<<20)}
	zw := zip.NewWriter(cw)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	rng, other := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 1<<20)
	for i := 0; cw.n < size; i++ {
		hdr := &zip.FileHeader{Name: fmt.Sprintf("assets/pack-%04d.bin", i), Method: zip.Deflate}
		hdr.SetMode(0o644)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		for left := fileSize; left > 0; left -= int64(len(buf)) {
			buf := buf[:min(left, int64(len(buf)))]
			for k := 0; k < len(buf); k += 8 {
				v := rng.Uint64() & 0x0f0f0f0f0f0f0f0f
				if changed[i] { // the same draws from rng, so the files after stay the same
					v = other.Uint64() & 0x0f0f0f0f0f0f0f0f
				}
				for s := range 8 {
					buf[k+s] = byte(v >> (8 * s))
				}
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := cw.w.(*bufio.Writer).Flush(); err != nil {
		return err
	}
	return out.Close()
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, f, make([]byte, 1<<20))
	return hex.EncodeToString(h.Sum(nil)), n, err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
