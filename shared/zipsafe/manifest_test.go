package zipsafe_test

import (
	"archive/zip"
	"bytes"
	"io"
	"testing"

	"satchel.dev/shared/zipsafe"
)

// tailOnly is a zip of which only the bytes from start on are known: reads before start get
// zeros, as a reader that streamed the entries elsewhere has them.
type tailOnly struct {
	z     []byte
	start int64
}

func (r tailOnly) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(r.z)) {
		return 0, io.EOF
	}
	n := copy(p, r.z[off:])
	for i := range n {
		if off+int64(i) < r.start {
			p[i] = 0
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestLocations checks that Scan says where every entry lies, that CheckManifest,
// CheckLocalHeader and ReadDirectory accept every good zip by its manifest (the directory read
// from the zip's tail alone), and that each refuses a manifest or archive that disagrees.
func TestLocations(t *testing.T) {
	for _, c := range goodCorpus() {
		t.Run(c.name, func(t *testing.T) {
			z := c.zip(t)
			m, err := scan(z, c.lim)
			if err != nil {
				t.Fatal(err)
			}
			zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]*zip.File{}
			for _, f := range zr.File {
				byName[f.Name] = f
			}
			var end int64
			for _, e := range m {
				f := byName[e.Path]
				off, _ := f.DataOffset()
				if !e.Located() || e.DataOffset != off || e.CompressedSize != int64(f.CompressedSize64) || e.Method != f.Method || e.CRC32 != f.CRC32 {
					t.Errorf("%s: located at %+v, archive/zip says data at %d, %d bytes, method %d, crc %x", e.Path, e, off, f.CompressedSize64, f.Method, f.CRC32)
				}
				if err := zipsafe.CheckLocalHeader(z[e.HeaderOffset:e.DataOffset], e); err != nil {
					t.Errorf("CheckLocalHeader: %v", err)
				}
				end = max(end, e.DataOffset+e.CompressedSize)
			}
			sorted, err := zipsafe.CheckManifest(m, int64(len(z)), c.lim)
			if err != nil || len(sorted) != len(m) {
				t.Fatalf("CheckManifest = %d entries, %v", len(sorted), err)
			}
			dir, err := zipsafe.ReadDirectory(tailOnly{z, end}, int64(len(z)), c.lim)
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range m {
				e.DataOffset, e.SHA256 = 0, ""
				if dir[i] != e {
					t.Errorf("directory gives %+v, the manifest %+v", dir[i], e)
				}
			}
		})
	}
}

func TestCheckManifestRefuses(t *testing.T) {
	z := zipOf(t, zfile{name: "a.txt", body: []byte("aaaa")}, zfile{name: "b/c.txt", body: []byte("cccc"), store: true})
	good, err := scan(z, zipsafe.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(z))
	for _, tc := range []struct {
		name, rule, entry string
		edit              func(m []zipsafe.Entry) []zipsafe.Entry
	}{
		{"climbs out", zipsafe.RulePath, "../x", func(m []zipsafe.Entry) []zipsafe.Entry { m[0].Path = "../x"; return m }},
		{"absolute", zipsafe.RulePath, "/etc/x", func(m []zipsafe.Entry) []zipsafe.Entry { m[0].Path = "/etc/x"; return m }},
		{"case clash", zipsafe.RuleDuplicate, "B/C.txt", func(m []zipsafe.Entry) []zipsafe.Entry {
			e := m[1]
			e.Path, e.HeaderOffset, e.DataOffset = "B/C.txt", size-200, size-100
			e.CompressedSize, e.Size = 0, 0
			return append(m, e)
		}},
		{"file over a directory", zipsafe.RuleDuplicate, "b/c.txt", func(m []zipsafe.Entry) []zipsafe.Entry { m[0].Path = "b"; return m }},
		{"not located", zipsafe.RuleFormat, "a.txt", func(m []zipsafe.Entry) []zipsafe.Entry { m[0].DataOffset = 0; return m }},
		{"past the end", zipsafe.RuleFormat, "a.txt", func(m []zipsafe.Entry) []zipsafe.Entry { m[0].CompressedSize = size; return m }},
		{"overlap", zipsafe.RuleOverlap, "b/c.txt", func(m []zipsafe.Entry) []zipsafe.Entry {
			m[1].HeaderOffset = m[0].DataOffset
			m[1].DataOffset = m[1].HeaderOffset + 30 + int64(len(m[1].Path))
			return m
		}},
		{"bomb", zipsafe.RuleRatio, "a.txt", func(m []zipsafe.Entry) []zipsafe.Entry { m[0].Size = 1 << 30; return m }},
		{"other method", zipsafe.RuleFormat, "a.txt", func(m []zipsafe.Entry) []zipsafe.Entry { m[0].Method = 12; return m }},
		{"mode", zipsafe.RuleType, "a.txt", func(m []zipsafe.Entry) []zipsafe.Entry { m[0].Mode = 0o4755; return m }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := append([]zipsafe.Entry(nil), good...)
			_, err := zipsafe.CheckManifest(tc.edit(m), size, zipsafe.Limits{})
			wantRule(t, err, tc.rule, tc.entry)
		})
	}
	// A local header that names another file, or another method, is not the manifest's.
	e := good[0]
	h := bytes.Clone(z[e.HeaderOffset:e.DataOffset])
	h[30] = 'x'
	wantRule(t, zipsafe.CheckLocalHeader(h, e), zipsafe.RuleFormat, e.Path)
	e.Method = zip.Store
	wantRule(t, zipsafe.CheckLocalHeader(z[e.HeaderOffset:e.DataOffset], e), zipsafe.RuleFormat, e.Path)
}
