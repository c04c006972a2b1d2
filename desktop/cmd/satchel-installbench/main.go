// Command satchel-installbench measures the launcher's install of a large build over
// loopback (download with grab, sha256 while downloading, extraction with the zip safety
// rules, check of every file against the manifest, rename and switch) beside the plain
// `curl -o f.zip URL && sha256sum f.zip && unzip -q f.zip -d dir` on the same build in the
// same run, and prints the ratio. It also runs the install on a small build, to show that the
// installer's memory does not grow with the build's size.
//
//	satchel-installbench [-size 1024] [-small 64] [-dir DIR] [-zip build.zip]
//
// -size and -small are the zip sizes in MiB. Both runs start after a sync(2) (not on Windows, where
// only an administrator can flush a volume), so neither pays
// for the other's writeback; both end with their files in the page cache, not on disk. The builds are made of 16 MiB files of random
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
	zipPath := fs.String("zip", "", "use this zip as the large build instead of making one")
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
	fmt.Printf("%-9s %9s %10s  %10s  %12s  %6s  %14s\n", "build", "zip", "installed", "satchel", "curl+sha+unzip", "ratio", "satchel maxRSS")
	for _, b := range []struct {
		name string
		mib  int
		zip  string
	}{{"small", *small, ""}, {"large", *size, *zipPath}} {
		if err := bench(work, b.name, b.mib, b.zip); err != nil {
			return err
		}
	}
	return nil
}

// job is what the child installs.
type job struct {
	URL, SHA256 string
	Size        int64
	Files       []state.File
	Data        string
}

type report struct {
	Seconds   float64
	MaxRSSKiB int64
	// Phases are the seconds spent downloading, extracting and switching.
	Phases map[install.Phase]float64
}

func bench(work, name string, mib int, zipPath string) error {
	if zipPath == "" {
		zipPath = filepath.Join(work, name+".zip")
		if err := makeZip(zipPath, int64(mib)<<20); err != nil {
			return err
		}
		defer os.Remove(zipPath)
	}
	sha, size, err := hashFile(zipPath) // also warms the page cache for both runs
	if err != nil {
		return err
	}
	f, err := os.Open(zipPath)
	if err != nil {
		return err
	}
	entries, err := zipsafe.Scan(f, size, zipsafe.Limits{})
	f.Close()
	if err != nil {
		return err
	}
	var files []state.File
	var installed int64
	for _, e := range entries {
		files = append(files, state.File{Path: e.Path, Size: e.Size, Mode: uint32(e.Mode.Perm()), SHA256: e.SHA256})
		installed += e.Size
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, zipPath)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/build.zip"

	// The baseline. Each run starts with no dirty pages left by the one before (sync), so
	// neither pays for the other's writeback.
	base := filepath.Join(work, "curl")
	os.MkdirAll(base, 0o755)
	flushWrites()
	start := time.Now()
	cmd := exec.Command("sh", "-c", `curl -s -f -o f.zip "$1" && sha256sum f.zip >/dev/null && unzip -q f.zip -d dir`, "sh", url)
	cmd.Dir = base
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("baseline: %v: %s", err, out)
	}
	baseline := time.Since(start)
	os.RemoveAll(base)

	// The launcher's install, in a child process so its peak memory is its own.
	data := filepath.Join(work, "satchel")
	spec := filepath.Join(work, "job.json")
	b, _ := json.Marshal(job{URL: url, SHA256: sha, Size: size, Files: files, Data: data})
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
	fmt.Printf("%-9s %9s %10s  %9.2fs  %13.2fs  %6.2f  %10d MiB   (download %.2fs, extract %.2fs, switch %.2fs)\n",
		name, install.Bytes(size), install.Bytes(installed), rep.Seconds, baseline.Seconds(), rep.Seconds/baseline.Seconds(),
		rep.MaxRSSKiB>>10, rep.Phases[install.PhaseDownloading], rep.Phases[install.PhaseExtracting], rep.Phases[install.PhaseSwitching])
	return nil
}

type source struct{ j job }

func (s source) GetDownload(context.Context, string, string) (install.Download, error) {
	return install.Download{ReleaseID: "bench-release", Version: "1.0.0", URL: s.j.URL, SHA256: s.j.SHA256, Size: s.j.Size,
		Files: s.j.Files, ExpiresAt: time.Now().Add(time.Hour)}, nil
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
	inst, err := install.New(install.Config{State: st, Source: source{j}})
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
	if res.Fetched != j.Size {
		return errors.New("the install did not download the whole build")
	}
	return json.NewEncoder(os.Stdout).Encode(report{Seconds: took.Seconds(), MaxRSSKiB: peakRSSKiB(), Phases: phases})
}

// makeZip writes a zip of about size bytes: 16 MiB files of 4-bit random data, deflated.
func makeZip(path string, size int64) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	cw := &countingWriter{w: bufio.NewWriterSize(out, 1<<20)}
	zw := zip.NewWriter(cw)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 1<<20)
	for i := 0; cw.n < size; i++ {
		hdr := &zip.FileHeader{Name: fmt.Sprintf("assets/pack-%04d.bin", i), Method: zip.Deflate}
		hdr.SetMode(0o644)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		for range 16 {
			for k := 0; k < len(buf); k += 8 {
				v := rng.Uint64() & 0x0f0f0f0f0f0f0f0f
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
