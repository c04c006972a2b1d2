package zipsafe

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Signatures and fixed lengths of the zip records zipsafe reads (APPNOTE.TXT).
const (
	sigLocal      = 0x04034b50
	sigCentral    = 0x02014b50
	sigEnd        = 0x06054b50
	sigEnd64Loc   = 0x07064b50
	sigEnd64      = 0x06064b50
	sigDescriptor = 0x08074b50

	localLen    = 30
	centralLen  = 46
	endLen      = 22
	end64Len    = 56
	end64LocLen = 20

	zip64ExtraID = 0x0001
)

// record is one central directory record, as zipsafe reads it.
type record struct {
	name    string
	creator uint16 // "version made by": host system in the high byte
	flags   uint16
	method  uint16
	crc     uint32
	csize   uint64
	usize   uint64
	attrs   uint32 // external attributes: Unix mode in the high 16 bits, MS-DOS attributes in the low
	offset  int64  // of the local header
}

// centralDir is the central directory: where it lies and what it lists.
type centralDir struct {
	start, end int64 // the records fill [start, end); the end of central directory records follow
	records    []record
}

// readCentralDir reads the central directory of the zip in r (size bytes)
// on its own, without archive/zip, so that zipsafe knows each entry's local
// header offset and never holds more than maxEntries records in memory. It
// finds the directory the way archive/zip does, except that it reads the
// zip64 end record whenever a zip64 locator names one, then refuses what
// archive/zip would guess its way around: data before the archive, an end
// record that disagrees with the zip64 end record, a directory whose size
// or record count disagrees with the end record, several disks. Errors are *Error (rules "format", "empty" or "entries")
// or I/O errors of r.
func readCentralDir(r io.ReaderAt, size int64, maxEntries int) (*centralDir, error) {
	endOff, buf, err := findEnd(r, size)
	if err != nil {
		return nil, err
	}
	b := buf[4:]
	disk := uint32(binary.LittleEndian.Uint16(b[0:]))
	dirDisk := uint32(binary.LittleEndian.Uint16(b[2:]))
	recordsHere := uint64(binary.LittleEndian.Uint16(b[4:]))
	records := uint64(binary.LittleEndian.Uint16(b[6:]))
	dirSize := uint64(binary.LittleEndian.Uint32(b[8:]))
	dirOff := uint64(binary.LittleEndian.Uint32(b[12:]))

	// A zip64 locator just before the end record names a zip64 end record, which holds the true
	// values. Writers differ in what they leave in the end record then: archive/zip saturates
	// every field (0xffff, 0xffffffff), Python keeps each value that fits (a 2-4 GiB archive has a
	// zip64 end record and its real offset in the end record). archive/zip reads the zip64 record
	// only when a field is saturated, so a field that is not must agree with the zip64 record's,
	// or the two readers would see different directories.
	p, err := findEnd64(r, endOff)
	if err != nil {
		return nil, err
	}
	if p >= 0 {
		var e [end64Len]byte
		if err := readAt(r, e[:], p, "the zip64 end of central directory record"); err != nil {
			return nil, err
		}
		if binary.LittleEndian.Uint32(e[0:]) != sigEnd64 {
			return nil, fail("", RuleFormat, "the zip64 end of central directory record is missing or damaged")
		}
		z64 := [...]uint64{
			uint64(binary.LittleEndian.Uint32(e[16:])), uint64(binary.LittleEndian.Uint32(e[20:])),
			binary.LittleEndian.Uint64(e[24:]), binary.LittleEndian.Uint64(e[32:]),
			binary.LittleEndian.Uint64(e[40:]), binary.LittleEndian.Uint64(e[48:]),
		}
		plain := [...]uint64{uint64(disk), uint64(dirDisk), recordsHere, records, dirSize, dirOff}
		saturated := [...]uint64{0xffff, 0xffff, 0xffff, 0xffff, math.MaxUint32, math.MaxUint32}
		for i := range plain {
			if plain[i] != saturated[i] && plain[i] != z64[i] {
				return nil, fail("", RuleFormat, "the end record and the zip64 end record disagree (%d and %d); the zip is damaged", plain[i], z64[i])
			}
		}
		endOff = p
		disk, dirDisk = uint32(z64[0]), uint32(z64[1])
		recordsHere, records, dirSize, dirOff = z64[2], z64[3], z64[4], z64[5]
	}
	if disk != 0 || dirDisk != 0 || recordsHere != records {
		return nil, fail("", RuleFormat, "the zip spans several disks (a split archive); upload it as one zip file")
	}
	if dirOff > uint64(endOff) || uint64(endOff)-dirOff != dirSize {
		return nil, fail("", RuleFormat, "the central directory is not where the end record says it is: the file has data before the zip (a self-extracting archive?) or a damaged end record; upload a plain zip")
	}
	if records == 0 {
		if dirSize != 0 {
			return nil, fail("", RuleFormat, "the end record lists no entries but a %d-byte central directory", dirSize)
		}
		return nil, fail("", RuleEmpty, "the zip holds no files")
	}
	if records > uint64(maxEntries) {
		return nil, fail("", RuleEntries, "the zip lists %d entries; the limit is %d", records, maxEntries)
	}
	if records > dirSize/centralLen {
		return nil, fail("", RuleFormat, "the end record lists %d entries, more than its %d-byte central directory can hold", records, dirSize)
	}

	d := &centralDir{start: int64(dirOff), end: endOff, records: make([]record, 0, records)}
	br := bufio.NewReaderSize(io.NewSectionReader(r, d.start, int64(dirSize)), 64<<10)
	var fixed [centralLen]byte
	var varPart []byte
	read := uint64(0)
	for i := uint64(0); i < records; i++ {
		if _, err := io.ReadFull(br, fixed[:]); err != nil {
			return nil, truncated(err, "the central directory ends before its %d records (after %d)", records, i)
		}
		f := fixed[:]
		if binary.LittleEndian.Uint32(f[0:]) != sigCentral {
			return nil, fail("", RuleFormat, "central directory record %d is damaged (bad signature)", i+1)
		}
		rec := record{
			creator: binary.LittleEndian.Uint16(f[4:]),
			flags:   binary.LittleEndian.Uint16(f[8:]),
			method:  binary.LittleEndian.Uint16(f[10:]),
			crc:     binary.LittleEndian.Uint32(f[16:]),
			csize:   uint64(binary.LittleEndian.Uint32(f[20:])),
			usize:   uint64(binary.LittleEndian.Uint32(f[24:])),
			attrs:   binary.LittleEndian.Uint32(f[38:]),
			offset:  int64(binary.LittleEndian.Uint32(f[42:])),
		}
		nameLen := int(binary.LittleEndian.Uint16(f[28:]))
		extraLen := int(binary.LittleEndian.Uint16(f[30:]))
		commentLen := int(binary.LittleEndian.Uint16(f[32:]))
		n := nameLen + extraLen + commentLen
		if cap(varPart) < n {
			varPart = make([]byte, n)
		}
		varPart = varPart[:n]
		if _, err := io.ReadFull(br, varPart); err != nil {
			return nil, truncated(err, "the central directory ends inside record %d", i+1)
		}
		rec.name = string(varPart[:nameLen])
		if err := rec.applyZip64(varPart[nameLen : nameLen+extraLen]); err != nil {
			return nil, err
		}
		read += uint64(centralLen + n)
		d.records = append(d.records, rec)
	}
	if read != dirSize {
		return nil, fail("", RuleFormat, "the central directory is %d bytes but its %d records fill %d", dirSize, records, read)
	}
	return d, nil
}

// applyZip64 replaces the sizes and offset that rec's fixed fields mark as
// "in the zip64 extra field" by the values there, exactly as archive/zip
// does (an uncompressed size of 0xffffffff without a zip64 field is kept).
func (rec *record) applyZip64(extra []byte) error {
	needU := rec.usize == math.MaxUint32
	needC := rec.csize == math.MaxUint32
	needO := rec.offset == math.MaxUint32
	for len(extra) >= 4 {
		tag := binary.LittleEndian.Uint16(extra[0:])
		n := int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if len(extra) < n {
			break
		}
		field := extra[:n]
		extra = extra[n:]
		if tag != zip64ExtraID {
			continue
		}
		take := func(need *bool) (uint64, bool) {
			*need = false
			if len(field) < 8 {
				return 0, false
			}
			x := binary.LittleEndian.Uint64(field)
			field = field[8:]
			return x, true
		}
		ok := true
		if needU {
			rec.usize, ok = take(&needU)
		}
		if needC && ok {
			rec.csize, ok = take(&needC)
		}
		if needO && ok {
			var o uint64
			o, ok = take(&needO)
			rec.offset = int64(o)
		}
		if !ok {
			return fail(rec.name, RuleFormat, "the zip64 extra field is too short")
		}
	}
	if needC || needO {
		return fail(rec.name, RuleFormat, "the central directory record needs a zip64 extra field but has none")
	}
	if rec.offset < 0 || rec.csize > math.MaxInt64 || rec.usize > math.MaxInt64 {
		return fail(rec.name, RuleFormat, "the central directory record has impossible sizes or offset")
	}
	return nil
}

// findEnd locates the end of central directory record the way archive/zip
// does (the last signature in the final 1 KiB, then 65 KiB, whose comment
// fits in the file) and returns its offset and bytes.
func findEnd(r io.ReaderAt, size int64) (int64, []byte, error) {
	for i, n := range []int64{1024, 65 * 1024} {
		n = min(n, size)
		buf := make([]byte, n)
		if err := readAt(r, buf, size-n, "the end of the file"); err != nil {
			return 0, nil, err
		}
		for p := len(buf) - endLen; p >= 0; p-- {
			if binary.LittleEndian.Uint32(buf[p:]) != sigEnd {
				continue
			}
			comment := int(binary.LittleEndian.Uint16(buf[p+endLen-2:]))
			if p+endLen+comment > len(buf) {
				break // as archive/zip: a truncated comment ends the search
			}
			return size - n + int64(p), buf[p : p+endLen], nil
		}
		if i == 1 || n == size {
			break
		}
	}
	return 0, nil, fail("", RuleFormat, "the file is not a zip archive, or it is truncated: it has no end of central directory record")
}

// findEnd64 returns the offset of the zip64 end of central directory record
// named by the zip64 locator just before endOff, or -1 if there is no
// locator archive/zip would use.
func findEnd64(r io.ReaderAt, endOff int64) (int64, error) {
	locOff := endOff - end64LocLen
	if locOff < 0 {
		return -1, nil
	}
	var b [end64LocLen]byte
	if err := readAt(r, b[:], locOff, "the zip64 locator"); err != nil {
		return 0, err
	}
	if binary.LittleEndian.Uint32(b[0:]) != sigEnd64Loc ||
		binary.LittleEndian.Uint32(b[4:]) != 0 ||
		binary.LittleEndian.Uint32(b[16:]) != 1 {
		return -1, nil
	}
	p := int64(binary.LittleEndian.Uint64(b[8:]))
	if p < 0 {
		return -1, nil
	}
	return p, nil
}

// readAt fills buf from r at off. Running out of file is a "format" error
// (the zip is truncated or an offset in it is wrong); what says where is
// the structure being read.
func readAt(r io.ReaderAt, buf []byte, off int64, what string) error {
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	return truncated(err, "the file ends inside %s (at offset %d): it is truncated or damaged", what, off)
}

// truncated turns a short read into a "format" error and passes any other
// error through.
func truncated(err error, format string, args ...any) error {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fail("", RuleFormat, format, args...)
	}
	return fmt.Errorf("zipsafe: reading the zip: %w", err)
}
