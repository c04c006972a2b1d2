package zipsafe_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"satchel.dev/shared/zipsafe"
)

// manifest is what Scan must return for files.
func manifest(files []zfile) []zipsafe.Entry {
	var m []zipsafe.Entry
	for _, f := range files {
		if strings.HasSuffix(f.name, "/") {
			continue
		}
		mode := fs.FileMode(0o644)
		if f.mode&0o111 != 0 {
			mode = 0o755
		}
		sum := sha256.Sum256(f.body)
		m = append(m, zipsafe.Entry{Path: f.name, Size: int64(len(f.body)), Mode: mode, SHA256: hex.EncodeToString(sum[:])})
	}
	slices.SortFunc(m, func(a, b zipsafe.Entry) int { return strings.Compare(a.Path, b.Path) })
	return m
}

// onDisk lists the files and directories under dir as a manifest and a
// list of "/"-ended directory names, and fails on anything else.
func onDisk(t testing.TB, dir string) ([]zipsafe.Entry, []string) {
	t.Helper()
	var files []zipsafe.Entry
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel := filepath.ToSlash(p[len(dir)+1:])
		switch d.Type() {
		case fs.ModeDir:
			dirs = append(dirs, rel+"/")
			return nil
		case 0:
		default:
			t.Errorf("%s is a %v, not a file or directory", rel, d.Type())
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files = append(files, zipsafe.Entry{Path: rel, Size: int64(len(b)), Mode: fi.Mode().Perm(), SHA256: hex.EncodeToString(sum[:])})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(files, func(a, b zipsafe.Entry) int { return strings.Compare(a.Path, b.Path) })
	return files, dirs
}

// diffManifest compares the manifest fields of got and want (not where the files lie in the
// archive: TestLocations checks those).
func diffManifest(t testing.TB, what string, got, want []zipsafe.Entry) {
	t.Helper()
	got, want = unlocated(got), unlocated(want)
	if slices.Equal(got, want) {
		return
	}
	var b strings.Builder
	for _, e := range got {
		fmt.Fprintf(&b, "\n  got  %+v", e)
	}
	for _, e := range want {
		fmt.Fprintf(&b, "\n  want %+v", e)
	}
	t.Errorf("%s differs:%s", what, b.String())
}

// unlocated returns m without where its files lie in the archive.
func unlocated(m []zipsafe.Entry) []zipsafe.Entry {
	out := make([]zipsafe.Entry, len(m))
	for i, e := range m {
		out[i] = zipsafe.Entry{Path: e.Path, Size: e.Size, Mode: e.Mode, SHA256: e.SHA256}
	}
	return out
}

// wantRule fails unless err is a *zipsafe.Error with rule and entry.
func wantRule(t testing.TB, err error, rule, entry string) {
	t.Helper()
	var ze *zipsafe.Error
	if !errors.As(err, &ze) {
		t.Fatalf("error = %v (%T), want rule %q", err, err, rule)
	}
	if ze.Rule != rule || ze.Entry != entry {
		t.Fatalf("error = %v, want rule %q for entry %q", err, rule, entry)
	}
	if ze.Reason == "" {
		t.Fatalf("error %v has no reason", err)
	}
}

func scan(z []byte, lim zipsafe.Limits) ([]zipsafe.Entry, error) {
	return zipsafe.Scan(bytes.NewReader(z), int64(len(z)), lim)
}

func TestScanRefusesHostileZips(t *testing.T) {
	for _, c := range hostileCorpus() {
		t.Run(c.name, func(t *testing.T) {
			m, err := scan(c.zip(t), c.lim)
			wantRule(t, err, c.rule, c.entry)
			t.Log(err)
			if m != nil {
				t.Errorf("manifest = %v alongside the error", m)
			}
			if c.entry != "" && !strings.Contains(err.Error(), fmt.Sprintf("%q", c.entry)) {
				t.Errorf("message %q does not name the entry", err)
			}
		})
	}
}

func TestExtractRefusesHostileZipsWithoutEscaping(t *testing.T) {
	for _, c := range hostileCorpus() {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, "1", "2", "3", "root")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			z := c.zip(t)
			_, err := zipsafe.Extract(bytes.NewReader(z), int64(len(z)), dir, c.lim)
			wantRule(t, err, c.rule, c.entry)
			err = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel := filepath.ToSlash(p[len(base):])
				if !strings.HasPrefix("/1/2/3/root", rel) && !strings.HasPrefix(rel, "/1/2/3/root/") {
					t.Errorf("%s was written outside the extraction directory", rel)
				}
				if strings.HasPrefix(rel, "/1/2/3/root/") && c.rule != zipsafe.RuleData {
					t.Errorf("%s was written although the central directory breaks a rule", rel)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestScanAcceptsGoodZips(t *testing.T) {
	for _, c := range goodCorpus() {
		t.Run(c.name, func(t *testing.T) {
			m, err := scan(c.zip(t), c.lim)
			if err != nil {
				t.Fatal(err)
			}
			diffManifest(t, "manifest", m, manifest(c.files))
		})
	}
}

func TestExtractWritesGoodZips(t *testing.T) {
	for _, c := range goodCorpus() {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			z := c.zip(t)
			m, err := zipsafe.Extract(bytes.NewReader(z), int64(len(z)), dir, c.lim)
			if err != nil {
				t.Fatal(err)
			}
			want := manifest(c.files)
			diffManifest(t, "manifest", m, want)
			files, dirs := onDisk(t, dir)
			diffManifest(t, "files on disk", files, want)
			for _, f := range c.files {
				if strings.HasSuffix(f.name, "/") && !slices.Contains(dirs, f.name) {
					t.Errorf("directory %s was not created; have %v", f.name, dirs)
				}
			}
		})
	}
}

// TestManyEntries checks a zip of over 65535 entries, which archive/zip
// writes with a zip64 end of central directory: only MaxEntries decides.
func TestManyEntries(t *testing.T) {
	const n = 70000
	z := writeZip(t, func(w *zip.Writer) {
		for i := range n {
			add(t, w, &zip.FileHeader{Name: fmt.Sprintf("d%02d/%05d", i/1000, i), Method: zip.Store}, nil)
		}
	})
	if !bytes.Contains(z, []byte{0x50, 0x4b, 0x06, 0x06}) {
		t.Fatal("the zip has no zip64 end of central directory record")
	}
	_, err := scan(z, zipsafe.DefaultLimits())
	wantRule(t, err, zipsafe.RuleEntries, "")
	const dirs = n / 1000
	m, err := scan(z, zipsafe.Limits{MaxEntries: n + dirs})
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != n || m[0].Path != "d00/00000" || m[n-1].Path != "d69/69999" || !slices.IsSortedFunc(m, func(a, b zipsafe.Entry) int { return strings.Compare(a.Path, b.Path) }) {
		t.Errorf("manifest has %d entries, from %v to %v", len(m), m[0], m[len(m)-1])
	}
	_, err = scan(z, zipsafe.Limits{MaxEntries: n + dirs - 1}) // the directories count
	wantRule(t, err, zipsafe.RuleEntries, "")
}

// TestExtractRefusesPlantedLinks plants links in the extraction directory,
// as another program on the player's machine could, and checks that
// nothing is written through them.
func TestExtractRefusesPlantedLinks(t *testing.T) {
	for _, c := range []struct {
		name  string
		entry string
		plant func(t *testing.T, dir, outside string)
	}{
		{"absolute link to a directory", "a/x", func(t *testing.T, dir, outside string) {
			must(t, os.Symlink(outside, filepath.Join(dir, "a")))
		}},
		{"relative link escaping", "a/x", func(t *testing.T, dir, outside string) {
			rel, err := filepath.Rel(dir, outside)
			must(t, err)
			must(t, os.Symlink(rel, filepath.Join(dir, "a")))
		}},
		{"link deeper down", "a/b/x", func(t *testing.T, dir, outside string) {
			must(t, os.Mkdir(filepath.Join(dir, "a"), 0o755))
			must(t, os.Symlink(outside, filepath.Join(dir, "a", "b")))
		}},
		{"link to a directory inside", "a/x", func(t *testing.T, dir, outside string) {
			must(t, os.Mkdir(filepath.Join(dir, "inside"), 0o755))
			must(t, os.Symlink("inside", filepath.Join(dir, "a")))
		}},
		{"link as the file", "x", func(t *testing.T, dir, outside string) {
			must(t, os.Symlink(filepath.Join(outside, "x"), filepath.Join(dir, "x")))
		}},
		{"hard link as the file", "x", func(t *testing.T, dir, outside string) {
			must(t, os.WriteFile(filepath.Join(outside, "x"), []byte("keep"), 0o644))
			must(t, os.Link(filepath.Join(outside, "x"), filepath.Join(dir, "x")))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, outside := t.TempDir(), t.TempDir()
			c.plant(t, dir, outside)
			before, _ := onDisk(t, outside)
			z := zipOf(t, zfile{name: "ok.txt", body: []byte("ok")}, zfile{name: c.entry, body: []byte("pwned")})
			_, err := zipsafe.Extract(bytes.NewReader(z), int64(len(z)), dir, zipsafe.DefaultLimits())
			if err == nil {
				t.Fatal("Extract wrote through a planted link")
			}
			t.Log(err)
			after, dirs := onDisk(t, outside)
			diffManifest(t, "files outside", after, before)
			if len(dirs) != 0 {
				t.Errorf("directories created outside: %v", dirs)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "inside", "x")); err == nil {
				t.Errorf("wrote %q through a link inside the directory", b)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestExtractNeedsDirectory(t *testing.T) {
	z := zipOf(t, zfile{name: "a", body: []byte("a")})
	_, err := zipsafe.Extract(bytes.NewReader(z), int64(len(z)), filepath.Join(t.TempDir(), "missing"), zipsafe.Limits{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error = %v, want one for the missing directory", err)
	}
}

func TestErrorMessage(t *testing.T) {
	for _, c := range []struct {
		err  *zipsafe.Error
		want string
	}{
		{&zipsafe.Error{Entry: "a/../../x", Rule: "path", Reason: "why"}, `zip entry "a/../../x": rule "path": why`},
		{&zipsafe.Error{Rule: "empty", Reason: "why"}, `zip: rule "empty": why`},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
}

// TestLimitsDefaults checks that unset limits take the defaults rather than
// refusing everything.
func TestLimitsDefaults(t *testing.T) {
	want := zipsafe.Limits{MaxEntries: 10000, MaxFileBytes: 4 << 30, MaxTotalBytes: 16 << 30, MaxRatio: 200}
	if got := zipsafe.DefaultLimits(); got != want {
		t.Errorf("DefaultLimits() = %+v, want %+v", got, want)
	}
	z := zipOf(t, zfile{name: "a", body: []byte("a")})
	if _, err := scan(z, zipsafe.Limits{}); err != nil {
		t.Errorf("zero Limits: %v", err)
	}
}

// TestScanReaderErrors checks that an I/O error of the reader is returned
// as it is, not blamed on the zip.
func TestScanReaderErrors(t *testing.T) {
	z := zipOf(t, zfile{name: "a", body: text(1, 100000)})
	boom := errors.New("disk on fire")
	for _, at := range []int64{0, int64(len(z)) - 100, 100, 50000} {
		r := failingReader{bytes.NewReader(z), at, boom}
		_, err := zipsafe.Scan(r, int64(len(z)), zipsafe.DefaultLimits())
		if !errors.Is(err, boom) {
			t.Errorf("reading fails at %d: error = %v, want %v", at, err, boom)
		}
	}
}

// failingReader fails every read that reaches offset at.
type failingReader struct {
	r   io.ReaderAt
	at  int64
	err error
}

func (f failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off <= f.at && f.at < off+int64(len(p)) {
		return 0, f.err
	}
	return f.r.ReadAt(p, off)
}

// BenchmarkScan scans a 64 MiB build: half incompressible stored files,
// half deflated text.
func BenchmarkScan(b *testing.B) {
	var size int64
	z := writeZip(b, func(w *zip.Writer) {
		w.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(out, flate.BestSpeed)
		})
		for i := range 64 {
			fh := &zip.FileHeader{Name: fmt.Sprintf("data/%02d.bin", i), Method: zip.Store}
			body := noise(uint64(i), 1<<20)
			if i%2 == 1 {
				fh.Method = zip.Deflate
				body = text(uint64(i), 1<<20)
			}
			add(b, w, fh, body)
			size += int64(len(body))
		}
	})
	b.SetBytes(size)
	for b.Loop() {
		if _, err := scan(z, zipsafe.DefaultLimits()); err != nil {
			b.Fatal(err)
		}
	}
}
