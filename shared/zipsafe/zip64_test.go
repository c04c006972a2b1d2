package zipsafe_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"satchel.dev/shared/zipsafe"
)

// sparseZip is a zip held in memory except for one run of zero bytes, the
// data of a file too big to keep: it is written with archive/zip and read
// back through ReadAt.
type sparseZip struct {
	head, tail []byte
	zeros      int64 // between head and tail
	inZeros    bool  // while true, writes are the zeros (not stored)
}

func (s *sparseZip) Write(p []byte) (int, error) {
	switch {
	case s.inZeros:
		s.zeros += int64(len(p))
	case s.zeros == 0:
		s.head = append(s.head, p...)
	default:
		s.tail = append(s.tail, p...)
	}
	return len(p), nil
}

func (s *sparseZip) size() int64 { return int64(len(s.head)) + s.zeros + int64(len(s.tail)) }

func (s *sparseZip) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		o := off + int64(n)
		switch {
		case o < int64(len(s.head)):
			n += copy(p[n:], s.head[o:])
		case o < int64(len(s.head))+s.zeros:
			k := min(int64(len(p)-n), int64(len(s.head))+s.zeros-o)
			clear(p[n : n+int(k)])
			n += int(k)
		case o < s.size():
			n += copy(p[n:], s.tail[o-int64(len(s.head))-s.zeros:])
		default:
			return n, io.EOF
		}
	}
	return n, nil
}

// zeroReader reads zeros without writing them: the buffer io.Copy passes
// is zero already.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { return len(p), nil }

// TestZip64BigFile checks a file of 2³²-1 bytes, which archive/zip stores
// with zip64 sizes and a zip64 data descriptor.
func TestZip64BigFile(t *testing.T) {
	const (
		n = 1<<32 - 1
		// The sha256 of n zero bytes (head -c 4294967295 /dev/zero | sha256sum).
		sum = "318eea1453f3a536e42d9637db593982c5c297220b2019bd4b7ad08e88d91e4b"
	)
	s := &sparseZip{}
	w := zip.NewWriter(s)
	add(t, w, &zip.FileHeader{Name: "small.txt", Method: zip.Deflate}, []byte("small"))
	fw, err := w.CreateHeader(&zip.FileHeader{Name: "big.pak", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	must(t, w.Flush()) // the zip.Writer buffers what it writes
	s.inZeros = true
	if _, err := io.CopyN(fw, zeroReader{}, n); err != nil {
		t.Fatal(err)
	}
	must(t, w.Flush())
	s.inZeros = false
	add(t, w, &zip.FileHeader{Name: "after.txt", Method: zip.Deflate}, []byte("after"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(s.tail, []byte{0x50, 0x4b, 0x06, 0x06}) {
		t.Fatal("no zip64 end record")
	}
	m, err := zipsafe.Scan(s, s.size(), zipsafe.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	want := manifest([]zfile{{name: "small.txt", body: []byte("small")}, {name: "after.txt", body: []byte("after")}})
	want = append(want, zipsafe.Entry{Path: "big.pak", Size: n, Mode: 0o644, SHA256: sum})
	slices.SortFunc(want, func(a, b zipsafe.Entry) int { return strings.Compare(a.Path, b.Path) })
	diffManifest(t, "manifest", m, want)

	_, err = zipsafe.Scan(s, s.size(), zipsafe.Limits{MaxFileBytes: n - 1})
	wantRule(t, err, zipsafe.RuleSize, "big.pak")
	_, err = zipsafe.Scan(s, s.size(), zipsafe.Limits{MaxTotalBytes: n})
	wantRule(t, err, zipsafe.RuleTotal, "")
}

// TestZip64EndRecords reads the zip64 end record as two writers leave it. Python's zipfile
// writes one once the central directory starts past 2 GiB and keeps the values that fit in the
// plain end record (python-zip64-end.zip, see pythonFiles); archive/zip writes one from 65535
// entries (or 4 GiB) on and saturates the plain end record. archive/zip writes zip64 records
// for nothing smaller, so its archive is made here rather than kept in testdata.
func TestZip64EndRecords(t *testing.T) {
	python := fixture("python-zip64-end.zip")(t)
	end := len(python) - 22
	if p := zip64End(t, python); binary.LittleEndian.Uint32(python[p:]) != 0x06064b50 ||
		binary.LittleEndian.Uint16(python[end+10:]) != uint16(len(pythonFiles)) ||
		binary.LittleEndian.Uint32(python[end+16:]) == 0xffffffff {
		t.Fatal("python-zip64-end.zip lacks a zip64 end record with the real values repeated in the end record")
	}
	m, err := scan(python, zipsafe.DefaultLimits())
	if err != nil {
		t.Fatalf("Scan of Python's zip64 archive: %v", err)
	}
	diffManifest(t, "manifest", m, manifest(pythonFiles))

	const n = 0xffff
	goZip := writeZip(t, func(w *zip.Writer) {
		for i := range n {
			add(t, w, &zip.FileHeader{Name: fmt.Sprintf("%04x", i), Method: zip.Store}, nil)
		}
	})
	end = len(goZip) - 22
	if p := zip64End(t, goZip); binary.LittleEndian.Uint32(goZip[p:]) != 0x06064b50 ||
		binary.LittleEndian.Uint32(goZip[end+16:]) != 0xffffffff {
		t.Fatal("archive/zip wrote no zip64 end record, or did not saturate the end record")
	}
	m, err = scan(goZip, zipsafe.Limits{MaxEntries: n})
	if err != nil {
		t.Fatalf("Scan of archive/zip's zip64 archive: %v", err)
	}
	if len(m) != n || m[0].Path != "0000" || m[n-1].Path != "fffe" {
		t.Errorf("manifest has %d entries, from %v to %v", len(m), m[0], m[len(m)-1])
	}
}
