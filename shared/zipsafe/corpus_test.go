package zipsafe_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"satchel.dev/shared/zipsafe"
)

// zfile is one entry to put in a test zip. A name ending in "/" is a
// directory.
type zfile struct {
	name  string
	body  []byte
	mode  fs.FileMode // 0 means 0644 (0755 for a directory)
	store bool        // Store instead of Deflate
}

// zipOf writes files into a zip with archive/zip, as a developer's tool would.
func zipOf(t testing.TB, files ...zfile) []byte {
	t.Helper()
	return writeZip(t, func(w *zip.Writer) {
		for _, f := range files {
			fh := &zip.FileHeader{Name: f.name, Method: zip.Deflate}
			if f.store {
				fh.Method = zip.Store
			}
			mode := f.mode
			if mode == 0 {
				mode = 0o644
				if strings.HasSuffix(f.name, "/") {
					mode = fs.ModeDir | 0o755
				}
			}
			fh.SetMode(mode)
			add(t, w, fh, f.body)
		}
	})
}

// writeZip returns the zip that fill writes.
func writeZip(t testing.TB, fill func(w *zip.Writer)) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	fill(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func add(t testing.TB, w *zip.Writer, fh *zip.FileHeader, body []byte) {
	t.Helper()
	fw, err := w.CreateHeader(fh)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > 0 {
		if _, err := fw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
}

// addRaw adds an entry whose header fields and stored bytes are exactly
// fh's and raw, with sizes in the local header and no data descriptor.
func addRaw(t testing.TB, w *zip.Writer, fh *zip.FileHeader, raw []byte) {
	t.Helper()
	fh.CompressedSize64 = uint64(len(raw))
	fw, err := w.CreateRaw(fh)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(raw); err != nil {
		t.Fatal(err)
	}
}

// deflate returns body compressed as a zip's Deflate method stores it.
func deflate(body []byte) []byte {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.DefaultCompression) // fails only for a bad level
	fw.Write(body)
	fw.Close()
	return b.Bytes()
}

// dataAt returns the offset of the data of the entry name.
func dataAt(t testing.TB, z []byte, name string) int {
	t.Helper()
	h := local(t, z, name)
	return h + 30 + int(binary.LittleEndian.Uint16(z[h+26:])) + int(binary.LittleEndian.Uint16(z[h+28:]))
}

// noise returns n pseudo-random bytes, the same for the same seed.
func noise(seed uint64, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}).Read(b)
	return b
}

// text returns n bytes of pseudo-random hex digits: they deflate about 2:1.
func text(seed uint64, n int) []byte {
	b := noise(seed, n)
	for i := range b {
		b[i] = "0123456789abcdef"[b[i]&15]
	}
	return b
}

// find returns the offset of the record with signature sig (a local header
// or a central directory record) that names name.
func find(t testing.TB, z []byte, sig uint32, name string) int {
	t.Helper()
	fixed, nameAt := 30, 26
	if sig == 0x02014b50 {
		fixed, nameAt = 46, 28
	}
	for i := 0; i+fixed <= len(z); i++ {
		if binary.LittleEndian.Uint32(z[i:]) != sig {
			continue
		}
		n := int(binary.LittleEndian.Uint16(z[i+nameAt:]))
		if i+fixed+n <= len(z) && string(z[i+fixed:i+fixed+n]) == name {
			return i
		}
	}
	t.Fatalf("no record %#x for %q", sig, name)
	return 0
}

func local(t testing.TB, z []byte, name string) int   { return find(t, z, 0x04034b50, name) }
func central(t testing.TB, z []byte, name string) int { return find(t, z, 0x02014b50, name) }

func put32(z []byte, off int, v uint32) { binary.LittleEndian.PutUint32(z[off:], v) }

// fixture reads a zip from testdata.
func fixture(name string) func(testing.TB) []byte {
	return func(t testing.TB) []byte {
		t.Helper()
		z, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
}

// pythonFiles are the files of the zips in testdata that Python's zipfile wrote, with zip64
// extra fields forced on every entry; python-zip64-end.zip also has a zip64 end record whose
// values the plain end record repeats, as Python writes any zip of 2 to 4 GiB. Python 3.11
// wrote them with:
//
//	import zipfile
//	def write(path):
//	    with zipfile.ZipFile(path, "w", allowZip64=True) as zf:
//	        for name, body, mode in [("satchel.toml", b"[launch]\n", 0o644), ("bin/game", b"play " * 40, 0o755), ("data/level1.txt", b"#####", 0o644)]:
//	            zi = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
//	            zi.compress_type, zi.external_attr = zipfile.ZIP_DEFLATED, (0o100000 | mode) << 16
//	            with zf.open(zi, "w", force_zip64=True) as f:
//	                f.write(body)
//	write("python-force-zip64.zip")
//	zipfile.ZIP64_LIMIT = 64  # as if the zip were over 2 GiB: a zip64 end record, real values in the end record
//	write("python-zip64-end.zip")
var pythonFiles = []zfile{
	{name: "satchel.toml", body: []byte("[launch]\n")},
	{name: "bin/game", body: bytes.Repeat([]byte("play "), 40), mode: 0o755},
	{name: "data/level1.txt", body: []byte("#####")},
}

// zip64End returns the offset of the zip64 end of central directory record of z.
func zip64End(t testing.TB, z []byte) int {
	t.Helper()
	loc := len(z) - 22 - 20
	if loc < 0 || binary.LittleEndian.Uint32(z[loc:]) != 0x07064b50 {
		t.Fatal("no zip64 locator before the end record")
	}
	return int(binary.LittleEndian.Uint64(z[loc+8:]))
}

// zip64Of hand-writes a zip64 archive of files (Store), with every size and
// offset in zip64 extra fields and a zip64 end of central directory record:
// archive/zip only writes those for entries over 4 GiB.
func zip64Of(files ...zfile) []byte {
	var out, dir []byte
	le := binary.LittleEndian
	for _, f := range files {
		off := uint64(len(out))
		crc := crc32.ChecksumIEEE(f.body)
		size := uint64(len(f.body))
		out = le.AppendUint32(out, 0x04034b50)
		out = le.AppendUint16(out, 45)
		out = le.AppendUint16(out, 0x800)
		out = le.AppendUint16(out, 0) // Store
		out = le.AppendUint32(out, 0) // time, date
		out = le.AppendUint32(out, crc)
		out = le.AppendUint32(out, 0xffffffff)
		out = le.AppendUint32(out, 0xffffffff)
		out = le.AppendUint16(out, uint16(len(f.name)))
		out = le.AppendUint16(out, 20)
		out = append(out, f.name...)
		out = le.AppendUint16(out, 1)
		out = le.AppendUint16(out, 16)
		out = le.AppendUint64(out, size)
		out = le.AppendUint64(out, size)
		out = append(out, f.body...)

		mode := uint32(0o100644)
		if f.mode&0o111 != 0 {
			mode = 0o100755
		}
		dir = le.AppendUint32(dir, 0x02014b50)
		dir = le.AppendUint16(dir, 3<<8|45)
		dir = le.AppendUint16(dir, 45)
		dir = le.AppendUint16(dir, 0x800)
		dir = le.AppendUint16(dir, 0)
		dir = le.AppendUint32(dir, 0)
		dir = le.AppendUint32(dir, crc)
		dir = le.AppendUint32(dir, 0xffffffff)
		dir = le.AppendUint32(dir, 0xffffffff)
		dir = le.AppendUint16(dir, uint16(len(f.name)))
		dir = le.AppendUint16(dir, 28)
		dir = le.AppendUint16(dir, 0) // comment
		dir = le.AppendUint16(dir, 0) // disk
		dir = le.AppendUint16(dir, 0) // internal attributes
		dir = le.AppendUint32(dir, mode<<16)
		dir = le.AppendUint32(dir, 0xffffffff)
		dir = append(dir, f.name...)
		dir = le.AppendUint16(dir, 1)
		dir = le.AppendUint16(dir, 24)
		dir = le.AppendUint64(dir, size)
		dir = le.AppendUint64(dir, size)
		dir = le.AppendUint64(dir, off)
	}
	dirOff := uint64(len(out))
	out = append(out, dir...)
	end64 := uint64(len(out))
	n := uint64(len(files))
	out = le.AppendUint32(out, 0x06064b50)
	out = le.AppendUint64(out, 44)
	out = le.AppendUint16(out, 3<<8|45)
	out = le.AppendUint16(out, 45)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint64(out, n)
	out = le.AppendUint64(out, n)
	out = le.AppendUint64(out, uint64(len(dir)))
	out = le.AppendUint64(out, dirOff)
	out = le.AppendUint32(out, 0x07064b50)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint64(out, end64)
	out = le.AppendUint32(out, 1)
	out = le.AppendUint32(out, 0x06054b50)
	out = le.AppendUint32(out, 0) // disks
	out = le.AppendUint16(out, 0xffff)
	out = le.AppendUint16(out, 0xffff)
	out = le.AppendUint32(out, 0xffffffff)
	out = le.AppendUint32(out, 0xffffffff)
	out = le.AppendUint16(out, 0)
	return out
}

// hostile is a zip that must be refused with rule, naming entry.
type hostile struct {
	name  string
	zip   func(t testing.TB) []byte
	lim   zipsafe.Limits // zero: DefaultLimits
	rule  string
	entry string
}

func one(name string, body []byte) func(testing.TB) []byte {
	if strings.HasSuffix(name, "/") {
		body = nil
	}
	return func(t testing.TB) []byte { return zipOf(t, zfile{name: name, body: body}) }
}

func many(files ...zfile) func(testing.TB) []byte {
	return func(t testing.TB) []byte { return zipOf(t, files...) }
}

// hostileCorpus returns every zip the rules must refuse.
func hostileCorpus() []hostile {
	var cases []hostile
	// Names: zip-slip, absolute (Unix and Windows forms), backslashes,
	// control characters, unclean paths, names Windows cannot hold.
	for _, name := range []string{
		"../../etc/passwd", "a/../../x", "..", "../", "a/..", "./a", "a/./b", ".", "a//b", "a/b//",
		"/etc/passwd", "/", `C:\Windows\evil.dll`, "C:/Windows/evil.dll", "C:evil.dll", `\\server\share\x`, "//server/share/x", `\evil`,
		`a\..\..\x`, `dir\file.txt`,
		"a\x00b", "a\nb", "a\x7fb", "a\u0085b", "bad\xffutf8",
		"game.exe:hidden", "a.", "a /b", "CON", "aux.txt", "dir/com1.log", "what?.txt", "a*b", `a"b`, "a|b", "a<b>",
		"GAMEDA~1/run.exe", "progr~12.txt", "data/LEVEL~3", "ab12cd~1.bin",
		strings.Repeat("x", 256), strings.Repeat("abcdefg/", 128) + "x",
	} {
		cases = append(cases, hostile{name: "path " + name, zip: one(name, []byte("x")), rule: zipsafe.RulePath, entry: name})
	}
	cases = append(cases, hostile{name: "path empty", zip: one("", []byte("x")), rule: zipsafe.RulePath, entry: ""})

	// Types.
	for _, c := range []struct {
		name string
		mode fs.FileMode
	}{
		{"symlink", fs.ModeSymlink | 0o777},
		{"chardev", fs.ModeDevice | fs.ModeCharDevice | 0o666},
		{"blockdev", fs.ModeDevice | 0o666},
		{"fifo", fs.ModeNamedPipe | 0o644},
		{"socket", fs.ModeSocket | 0o644},
		{"dir-without-slash", fs.ModeDir | 0o755},
	} {
		cases = append(cases, hostile{
			name:  "type " + c.name,
			zip:   many(zfile{name: "ok.txt", body: []byte("ok")}, zfile{name: c.name, body: []byte("/etc/passwd"), mode: c.mode}),
			rule:  zipsafe.RuleType,
			entry: c.name,
		})
	}
	cases = append(cases,
		hostile{name: "type windows reparse point", zip: func(t testing.TB) []byte {
			return writeZip(t, func(w *zip.Writer) {
				add(t, w, &zip.FileHeader{Name: "link", Method: zip.Store, CreatorVersion: 11 << 8, ExternalAttrs: 0x400 | 0x20}, []byte(`C:\Windows`))
			})
		}, rule: zipsafe.RuleType, entry: "link"},
		hostile{name: "type directory holding data", zip: func(t testing.TB) []byte {
			z := zipOf(t, zfile{name: "ok.txt", body: []byte("ok")}, zfile{name: "d_", body: []byte("data"), mode: fs.ModeDir | 0o755})
			z[local(t, z, "d_")+30+1] = '/'
			z[central(t, z, "d_")+46+1] = '/'
			return z
		}, rule: zipsafe.RuleType, entry: "d/"},
	)

	// Duplicates.
	for _, c := range []struct {
		name  string
		names []string
	}{
		{"same name", []string{"a.txt", "a.txt"}},
		{"case", []string{"Game.exe", "game.EXE"}},
		{"case in directory", []string{"Data/x", "data/X"}},
		{"unicode sigma", []string{"ς.txt", "Σ.txt"}},
		{"unicode kelvin", []string{"kelvin.txt", "\u212Aelvin.txt"}},
		{"unicode normalization", []string{"caf\u00e9.txt", "cafe\u0301.txt"}},
		{"normalization and case in directory", []string{"\u00c9t\u00e9/a", "e\u0301te\u0301/A"}},
		{"file then deeper", []string{"a", "a/b"}},
		{"deeper then file", []string{"a/b/c", "A/b"}},
		{"file then directory", []string{"a", "a/"}},
		{"directory then file", []string{"a/", "a"}},
		{"directory twice", []string{"a/", "A/"}},
	} {
		var fs []zfile
		for _, n := range c.names {
			var body []byte
			if !strings.HasSuffix(n, "/") {
				body = []byte(n)
			}
			fs = append(fs, zfile{name: n, body: body})
		}
		cases = append(cases, hostile{name: "duplicate " + c.name, zip: many(fs...), rule: zipsafe.RuleDuplicate, entry: c.names[len(c.names)-1]})
	}

	// Bombs.
	zeros := make([]byte, 8<<20)
	cases = append(cases,
		hostile{name: "ratio zeros", zip: many(zfile{name: "readme.txt", body: []byte("hi")}, zfile{name: "zeros.bin", body: zeros}), rule: zipsafe.RuleRatio, entry: "zeros.bin"},
		hostile{name: "ratio archive", zip: func(t testing.TB) []byte {
			var fs []zfile
			for i := range 16 {
				fs = append(fs, zfile{name: "part" + string(rune('a'+i)), body: zeros[:768<<10]})
			}
			return zipOf(t, fs...)
		}, rule: zipsafe.RuleRatio},
		hostile{name: "ratio nested zip", zip: func(t testing.TB) []byte {
			inner := zipOf(t, zfile{name: "zeros.bin", body: zeros, store: true})
			return zipOf(t, zfile{name: "inner.zip", body: inner})
		}, rule: zipsafe.RuleRatio, entry: "inner.zip"},
		hostile{name: "overlap same local header", zip: func(t testing.TB) []byte {
			z := zipOf(t, zfile{name: "a", body: text(1, 1000)}, zfile{name: "b", body: text(2, 1000)})
			put32(z, central(t, z, "b")+42, 0)
			return z
		}, rule: zipsafe.RuleOverlap, entry: "b"},
		hostile{name: "overlap data covers next header", zip: func(t testing.TB) []byte {
			z := zipOf(t, zfile{name: "a", body: text(1, 100), store: true}, zfile{name: "b", body: text(2, 100), store: true})
			c := central(t, z, "a")
			put32(z, c+20, 200)
			put32(z, c+24, 200)
			return z
		}, rule: zipsafe.RuleOverlap, entry: "b"},
	)

	// Data.
	body := text(3, 4096)
	raw := deflate(body)
	rawZip := func(t testing.TB, fh zip.FileHeader, raw []byte) []byte {
		return writeZip(t, func(w *zip.Writer) { addRaw(t, w, &fh, raw) })
	}
	cases = append(cases,
		hostile{name: "data past declared size", zip: func(t testing.TB) []byte {
			z := rawZip(t, zip.FileHeader{Name: "big.bin", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(body), UncompressedSize64: uint64(len(body))}, raw)
			put32(z, local(t, z, "big.bin")+22, 100)
			put32(z, central(t, z, "big.bin")+24, 100)
			return z
		}, rule: zipsafe.RuleData, entry: "big.bin"},
		hostile{name: "data short of declared size", zip: func(t testing.TB) []byte {
			return rawZip(t, zip.FileHeader{Name: "short.bin", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(body), UncompressedSize64: uint64(len(body)) + 1}, raw)
		}, rule: zipsafe.RuleData, entry: "short.bin"},
		hostile{name: "data crc mismatch", zip: func(t testing.TB) []byte {
			return rawZip(t, zip.FileHeader{Name: "crc.bin", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(body) ^ 1, UncompressedSize64: uint64(len(body))}, raw)
		}, rule: zipsafe.RuleData, entry: "crc.bin"},
		hostile{name: "data crc zeroed", zip: func(t testing.TB) []byte {
			return rawZip(t, zip.FileHeader{Name: "crc0.bin", Method: zip.Deflate, UncompressedSize64: uint64(len(body))}, raw)
		}, rule: zipsafe.RuleData, entry: "crc0.bin"},
		hostile{name: "data crc mismatch stored", zip: func(t testing.TB) []byte {
			z := zipOf(t, zfile{name: "s.bin", body: text(4, 100), store: true})
			z[dataAt(t, z, "s.bin")+10] ^= 1
			return z
		}, rule: zipsafe.RuleData, entry: "s.bin"},
		hostile{name: "data corrupt deflate", zip: func(t testing.TB) []byte {
			return rawZip(t, zip.FileHeader{Name: "junk.bin", Method: zip.Deflate, CRC32: 1, UncompressedSize64: 1000}, noise(5, 600))
		}, rule: zipsafe.RuleData, entry: "junk.bin"},
		hostile{name: "data stored sizes differ", zip: func(t testing.TB) []byte {
			return rawZip(t, zip.FileHeader{Name: "s.bin", Method: zip.Store, UncompressedSize64: 10}, []byte("12345"))
		}, rule: zipsafe.RuleData, entry: "s.bin"},
	)

	// Format.
	good := func(t testing.TB) []byte {
		return zipOf(t, zfile{name: "a.txt", body: text(6, 5000)}, zfile{name: "b/c.txt", body: text(7, 5000)})
	}
	cases = append(cases,
		hostile{name: "format truncated", zip: func(t testing.TB) []byte { z := good(t); return z[:len(z)/2] }, rule: zipsafe.RuleFormat},
		hostile{name: "format truncated end record", zip: func(t testing.TB) []byte { z := good(t); return z[:len(z)-5] }, rule: zipsafe.RuleFormat},
		hostile{name: "format random bytes", zip: func(testing.TB) []byte { return noise(7, 4096) }, rule: zipsafe.RuleFormat},
		hostile{name: "format no bytes", zip: func(testing.TB) []byte { return nil }, rule: zipsafe.RuleFormat},
		hostile{name: "format data before zip", zip: func(t testing.TB) []byte { return append([]byte("#!/bin/sh\nexit 0\n"), good(t)...) }, rule: zipsafe.RuleFormat},
		hostile{name: "format method bzip2", zip: func(t testing.TB) []byte {
			return rawZip(t, zip.FileHeader{Name: "b.bz2", Method: 12, UncompressedSize64: 3}, []byte("BZh"))
		}, rule: zipsafe.RuleFormat, entry: "b.bz2"},
		hostile{name: "format encrypted", zip: func(t testing.TB) []byte {
			return rawZip(t, zip.FileHeader{Name: "secret", Method: zip.Store, Flags: 1, UncompressedSize64: 12}, noise(8, 12))
		}, rule: zipsafe.RuleFormat, entry: "secret"},
		// The end record and the zip64 end record must not give two readings: archive/zip reads
		// the plain one when none of its values is saturated.
		hostile{name: "format zip64 end record disagrees on entries", zip: func(t testing.TB) []byte {
			z := fixture("python-zip64-end.zip")(t)
			binary.LittleEndian.PutUint64(z[zip64End(t, z)+32:], 2)
			return z
		}, rule: zipsafe.RuleFormat},
		hostile{name: "format zip64 end record disagrees on offset", zip: func(t testing.TB) []byte {
			z := fixture("python-zip64-end.zip")(t)
			p := zip64End(t, z) + 48
			binary.LittleEndian.PutUint64(z[p:], binary.LittleEndian.Uint64(z[p:])+1)
			return z
		}, rule: zipsafe.RuleFormat},
		hostile{name: "format local name differs", zip: func(t testing.TB) []byte {
			z := good(t)
			copy(z[local(t, z, "a.txt")+30:], "x.txt")
			return z
		}, rule: zipsafe.RuleFormat, entry: "a.txt"},
	)

	// Empty and limits.
	var eleven []zfile
	for i := range 11 {
		eleven = append(eleven, zfile{name: string(rune('a' + i)), body: []byte{byte(i)}})
	}
	cases = append(cases,
		hostile{name: "empty", zip: many(), rule: zipsafe.RuleEmpty},
		hostile{name: "empty directories only", zip: many(zfile{name: "a/"}, zfile{name: "a/b/"}), rule: zipsafe.RuleEmpty},
		hostile{name: "entries", zip: many(eleven...), lim: zipsafe.Limits{MaxEntries: 10}, rule: zipsafe.RuleEntries},
		hostile{name: "entries implied directories", zip: many(zfile{name: "a/b/c/d/x"}, zfile{name: "a/b/c/d/y"}, zfile{name: "a/b/"}), lim: zipsafe.Limits{MaxEntries: 5}, rule: zipsafe.RuleEntries},
		hostile{name: "size", zip: many(zfile{name: "small", body: noise(9, 100)}, zfile{name: "big", body: noise(10, 101)}), lim: zipsafe.Limits{MaxFileBytes: 100}, rule: zipsafe.RuleSize, entry: "big"},
		hostile{name: "total", zip: many(zfile{name: "a", body: noise(11, 600)}, zfile{name: "b", body: noise(12, 600)}), lim: zipsafe.Limits{MaxTotalBytes: 1000}, rule: zipsafe.RuleTotal},
	)
	return cases
}

// good is a zip Scan must accept, and the files it holds ("/"-ended names
// are directories, which Extract must create but the manifest omits).
type good struct {
	name  string
	zip   func(t testing.TB) []byte
	files []zfile
	lim   zipsafe.Limits
}

func goodOf(name string, files ...zfile) good {
	return good{name: name, zip: many(files...), files: files}
}

// goodCorpus returns zips the rules must accept.
func goodCorpus() []good {
	inner := func(i int) []byte {
		var b bytes.Buffer
		w := zip.NewWriter(&b)
		fw, _ := w.Create("level.dat")
		fw.Write(text(uint64(100+i), 2000))
		w.Close()
		return b.Bytes()
	}
	var nested []zfile
	for i := range 16 {
		nested = append(nested, zfile{name: "packs/" + string(rune('a'+i)) + ".zip", body: inner(i)})
	}
	z64 := []zfile{
		{name: "hello.txt", body: []byte("hello, zip64\n")},
		{name: "bin/run", body: text(20, 3000), mode: 0o755},
	}
	return []good{
		goodOf("one file", zfile{name: "game.txt", body: []byte("hello")}),
		goodOf("nested dirs",
			zfile{name: "bin/"},
			zfile{name: "bin/game", body: text(1, 10000), mode: 0o755},
			zfile{name: "data/levels/1/map.dat", body: noise(2, 3000)},
			zfile{name: "data/levels/2/"},
			zfile{name: "data/readme.md", body: text(3, 300)},
			zfile{name: "a/b/c/d/e/f/g/h/deep.txt", body: []byte("deep")},
			zfile{name: strings.Repeat("abcdefg/", 95) + strings.Repeat("x", 255), body: []byte("long")},
		),
		goodOf("modes",
			zfile{name: "x755", body: []byte("a"), mode: 0o755},
			zfile{name: "x700", body: []byte("b"), mode: 0o700},
			zfile{name: "x644", body: []byte("c"), mode: 0o644},
			zfile{name: "x600", body: []byte("d"), mode: 0o600},
			zfile{name: "x4755", body: []byte("e"), mode: 0o755 | fs.ModeSetuid},
		),
		goodOf("empty files", zfile{name: "empty"}, zfile{name: "empty-stored", store: true}, zfile{name: "dir/empty"}),
		goodOf("tildes that are not short names",
			zfile{name: "~1.txt", body: []byte("a")}, zfile{name: "save~.dat", body: []byte("b")},
			zfile{name: "backup~old.sav", body: []byte("c")}, zfile{name: "longername~1.txt", body: []byte("d")},
			zfile{name: "save~1.data", body: []byte("e")}),
		goodOf("stored and deflated",
			zfile{name: "stored.bin", body: noise(4, 70000), store: true},
			zfile{name: "deflated.txt", body: text(5, 70000)},
		),
		goodOf("unicode names",
			zfile{name: "données/niveau 1.txt", body: []byte("é")},
			zfile{name: "日本語/ファイル.txt", body: []byte("ja")},
			zfile{name: "emoji 🎮.txt", body: []byte("🎮")},
			zfile{name: "straße.txt", body: []byte("ß")},
		),
		goodOf("similar but distinct names", zfile{name: "a"}, zfile{name: "a.txt"}, zfile{name: "ab/a"}, zfile{name: "a b"}, zfile{name: ".hidden"}, zfile{name: "..a"}),
		{name: "entries at the limit", zip: many(zfile{name: "a/b/c/d/x"}, zfile{name: "a/b/c/d/y"}, zfile{name: "a/b/"}),
			files: []zfile{{name: "a/b/c/d/x"}, {name: "a/b/c/d/y"}, {name: "a/b/"}}, lim: zipsafe.Limits{MaxEntries: 6}},
		goodOf("compressible under the floor", zfile{name: "zeros", body: make([]byte, 1<<20)}),
		goodOf("nested zips within the ratio", nested...),
		{name: "zip64 records", zip: func(testing.TB) []byte { return zip64Of(z64...) }, files: z64},
		{name: "python forced zip64", zip: fixture("python-force-zip64.zip"), files: pythonFiles},
		{name: "python zip64 end record", zip: fixture("python-zip64-end.zip"), files: pythonFiles},
		{name: "windows tool", zip: func(t testing.TB) []byte {
			return writeZip(t, func(w *zip.Writer) {
				add(t, w, &zip.FileHeader{Name: "Game/", CreatorVersion: 0, ExternalAttrs: 0x10}, nil)
				add(t, w, &zip.FileHeader{Name: "Game/Game.exe", Method: zip.Deflate, CreatorVersion: 0, ExternalAttrs: 0x20}, text(6, 5000))
				add(t, w, &zip.FileHeader{Name: "Game/ro.txt", Method: zip.Deflate, CreatorVersion: 11 << 8, ExternalAttrs: 0x21}, []byte("ro"))
			})
		}, files: []zfile{{name: "Game/"}, {name: "Game/Game.exe", body: text(6, 5000)}, {name: "Game/ro.txt", body: []byte("ro")}}},
	}
}
