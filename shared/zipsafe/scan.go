package zipsafe

import (
	"archive/zip"
	"cmp"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// Scan checks the zip in r (size bytes): first its central directory and
// local headers against every rule but "data", then every file's data,
// which it decompresses and hashes while checking its size and CRC-32. It
// never reads an entry past its declared size plus one byte, and holds no
// entry in memory whole.
//
// It returns the manifest of the files (directories are not listed), sorted
// by Path in byte order. A zip that breaks a rule gets an *Error naming the
// rule and, where there is one, the entry; any other error is r's.
func Scan(r io.ReaderAt, size int64, lim Limits) ([]Entry, error) {
	return run(r, size, lim, nil)
}

// Extract does what Scan does and writes the files under dir, which must
// exist and should be empty: it creates directories (0755) as needed and
// every file with mode 0644, or 0755 when the zip gives it an executable
// bit, and returns the same manifest Scan would.
//
// It writes nothing before the whole central directory has passed the
// rules. It never creates symbolic links and never writes through one,
// even if dir holds links planted by someone else: it refuses any path
// component that is not a plain directory, opens each directory relative to
// the one above it (os.Root), and creates each file exclusively, so that an
// existing file (or link) of that name is an error rather than overwritten.
//
// On error it returns the error and leaves whatever it wrote: the caller
// extracts into a fresh temporary directory and removes it on error.
func Extract(r io.ReaderAt, size int64, dir string, lim Limits) ([]Entry, error) {
	root, err := openRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.close()
	return run(r, size, lim, root)
}

// item is an entry that passed the central directory checks.
type item struct {
	rec   *record
	file  *zip.File
	path  string // the name without the trailing "/" of a directory
	dir   bool
	start int64 // of the local header
	data  int64 // of the data
	end   int64 // after the data and its data descriptor
	// local says how the local header disagrees with the central
	// directory record, or is "".
	local string
}

// run checks the zip and streams every file through sha256 and, when out
// is not nil, into out.
func run(r io.ReaderAt, size int64, lim Limits, out *dest) ([]Entry, error) {
	items, err := check(r, size, lim.withDefaults())
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 64<<10)
	var entries []Entry
	for _, it := range items {
		if it.dir {
			if out != nil {
				if err := out.mkdir(it.rec.name, it.path); err != nil {
					return nil, err
				}
			}
			continue
		}
		e, err := it.stream(buf, out)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	return entries, nil
}

// check applies every rule but "data" to the zip, reading only its central
// directory and local headers, and returns its entries in the order of
// their data in the file.
func check(r io.ReaderAt, size int64, lim Limits) ([]item, error) {
	if size < 0 {
		return nil, fmt.Errorf("zipsafe: negative size %d", size)
	}
	r = io.NewSectionReader(r, 0, size) // never read past size, whatever r holds
	cd, err := readCentralDir(r, size, lim.MaxEntries)
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // names are judged below
		return nil, fail("", RuleFormat, "the zip cannot be read: %v", err)
	}
	if len(zr.File) != len(cd.records) {
		return nil, fail("", RuleFormat, "the central directory can be read in two ways (%d or %d entries)", len(cd.records), len(zr.File))
	}

	items := make([]item, len(cd.records))
	var files int
	var total, compressed uint64
	for i := range cd.records {
		rec := &cd.records[i]
		f := zr.File[i]
		if f.Name != rec.name || f.CreatorVersion != rec.creator || f.Flags != rec.flags ||
			f.Method != rec.method || f.CRC32 != rec.crc || f.CompressedSize64 != rec.csize ||
			f.UncompressedSize64 != rec.usize || f.ExternalAttrs != rec.attrs {
			return nil, fail(rec.name, RuleFormat, "the central directory record can be read in two ways")
		}
		p, dir := strings.CutSuffix(rec.name, "/")
		it := &items[i]
		*it = item{rec: rec, file: f, path: p, dir: dir}
		if why := checkName(rec.name); why != "" {
			if rec.name == "" {
				why = fmt.Sprintf("entry %d of the central directory: %s", i+1, why)
			}
			return nil, fail(rec.name, RulePath, "%s", why)
		}
		if why := checkType(rec.attrs, dir); why != "" {
			return nil, fail(rec.name, RuleType, "%s", why)
		}
		if rec.flags&flagsEncrypted != 0 {
			return nil, fail(rec.name, RuleFormat, "the entry is encrypted; upload a zip without a password")
		}
		if rec.method != zip.Store && rec.method != zip.Deflate {
			return nil, fail(rec.name, RuleFormat, "the entry uses compression method %s; re-create the zip with Deflate (or Store)", methodName(rec.method))
		}
		if dir {
			if rec.usize != 0 {
				return nil, fail(rec.name, RuleType, "the directory entry holds %d bytes of data", rec.usize)
			}
		} else {
			files++
			if rec.method == zip.Store && rec.csize != rec.usize {
				return nil, fail(rec.name, RuleData, "the entry is stored uncompressed but declares %d bytes stored and %d bytes of data", rec.csize, rec.usize)
			}
			if rec.usize > uint64(lim.MaxFileBytes) {
				return nil, fail(rec.name, RuleSize, "the file is %d bytes; the limit is %d", rec.usize, lim.MaxFileBytes)
			}
			if over(rec.usize, rec.csize, lim.MaxRatio) {
				return nil, fail(rec.name, RuleRatio, "the file expands from %d to %d bytes, more than %g times (a zip bomb?)", rec.csize, rec.usize, lim.MaxRatio)
			}
		}
		total = addSat(total, rec.usize)
		compressed = addSat(compressed, rec.csize)
	}
	dirs, clash := layout(items)
	if clash != nil {
		return nil, clash
	}
	if files+dirs > lim.MaxEntries {
		return nil, fail("", RuleEntries, "the zip holds %d files and %d directories (counting those its names imply); the limit is %d entries", files, dirs, lim.MaxEntries)
	}
	if files == 0 {
		return nil, fail("", RuleEmpty, "the zip holds only directories, no files")
	}
	if total > uint64(lim.MaxTotalBytes) {
		return nil, fail("", RuleTotal, "the files add up to %d bytes; the limit is %d", total, lim.MaxTotalBytes)
	}
	if over(total, compressed, lim.MaxRatio) {
		return nil, fail("", RuleRatio, "the files expand from %d to %d bytes, more than %g times (a zip bomb?)", compressed, total, lim.MaxRatio)
	}

	for i := range items {
		if err := items[i].locate(r, size, cd.start); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(a.start, b.start) })
	for i := 1; i < len(items); i++ {
		if a, b := &items[i-1], &items[i]; b.start < a.end {
			return nil, fail(b.rec.name, RuleOverlap, "its bytes in the archive (from offset %d) overlap those of entry %q (offsets %d to %d); the zip reuses data, as zip bombs do", b.start, a.rec.name, a.start, a.end)
		}
	}
	for i := range items {
		if why := items[i].local; why != "" {
			return nil, fail(items[i].rec.name, RuleFormat, "%s", why)
		}
	}
	return items, nil
}

// addSat returns a+b, or the largest uint64 if that overflows.
func addSat(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}

// over reports whether expanding c bytes to u bytes breaks the ratio limit.
func over(u, c uint64, maxRatio float64) bool {
	return u > RatioFloor && (c == 0 || float64(u)/float64(c) > maxRatio)
}

// locate reads the entry's local header to find the bytes of the archive the
// entry occupies, and refuses an entry that runs past the end of the file or
// into the central directory at dirStart. A local header that names another
// file or compression method than the central directory (tools that read
// local headers would see another archive) is noted in it.local, to be
// refused once overlaps, the likelier cause, have been ruled out.
func (it *item) locate(r io.ReaderAt, size, dirStart int64) error {
	var h [localLen]byte
	it.start = it.rec.offset
	if err := readAt(r, h[:], it.start, "the entry's local header"); err != nil {
		return named(err, it.rec.name)
	}
	if binary.LittleEndian.Uint32(h[0:]) != sigLocal {
		return fail(it.rec.name, RuleFormat, "the central directory points at offset %d, where there is no local header", it.start)
	}
	nameLen := int64(binary.LittleEndian.Uint16(h[26:]))
	it.data = it.start + localLen + nameLen + int64(binary.LittleEndian.Uint16(h[28:]))
	off, err := it.file.DataOffset()
	if err != nil {
		return fmt.Errorf("zipsafe: reading %q: %w", it.rec.name, err)
	}
	if off != it.data {
		return fail(it.rec.name, RuleFormat, "the local header can be read in two ways")
	}
	it.end = it.data + int64(it.rec.csize)
	if it.end > size || it.end < it.data {
		return fail(it.rec.name, RuleFormat, "the entry's data runs past the end of the file: the zip is truncated")
	}
	if it.rec.flags&0x8 != 0 && !it.dir {
		// archive/zip reads a data descriptor after the data: 16 bytes if
		// it starts with its signature, 12 if not.
		var sig [4]byte
		if err := readAt(r, sig[:], it.end, "the entry's data descriptor"); err != nil {
			return named(err, it.rec.name)
		}
		it.end += 12
		if binary.LittleEndian.Uint32(sig[:]) == sigDescriptor {
			it.end += 4
		}
	}
	if it.end > dirStart {
		return fail(it.rec.name, RuleOverlap, "the entry's data runs into the central directory")
	}
	if m := binary.LittleEndian.Uint16(h[8:]); m != it.rec.method {
		it.local = fmt.Sprintf("the local header gives compression method %s, the central directory %s", methodName(m), methodName(it.rec.method))
		return nil
	}
	name := make([]byte, nameLen)
	if err := readAt(r, name, it.start+localLen, "the entry's local header"); err != nil {
		return named(err, it.rec.name)
	}
	if string(name) != it.rec.name {
		it.local = fmt.Sprintf("the local header names the entry %q: tools would disagree on what this zip holds", name)
	}
	return nil
}

// named sets the entry of a rule error that has none.
func named(err error, entry string) error {
	var e *Error
	if errors.As(err, &e) && e.Entry == "" {
		e.Entry = entry
	}
	return err
}

// stream decompresses the file's data, hashes it and writes it to out if
// out is not nil, checking its size and CRC-32 as it goes.
func (it *item) stream(buf []byte, out *dest) (Entry, error) {
	rec := it.rec
	e := Entry{Path: it.path, Size: int64(rec.usize), Mode: fileMode(rec.attrs), HeaderOffset: it.start,
		DataOffset: it.data, CompressedSize: int64(rec.csize), Method: rec.method, CRC32: rec.crc}
	rc, err := it.file.Open() // cannot fail for want of a header or a decompressor: check has made sure
	if err != nil {
		return e, fmt.Errorf("zipsafe: reading %q: %w", rec.name, err)
	}
	defer rc.Close()
	var w *os.File
	if out != nil {
		if w, err = out.create(rec.name, it.path, e.Mode); err != nil {
			return e, err
		}
		defer w.Close() // a no-op after the Close below
	}
	sum, crc := sha256.New(), crc32.NewIEEE()
	src := io.LimitReader(rc, int64(rec.usize)+1)
	var n uint64
	for {
		k, rerr := src.Read(buf)
		if k > 0 {
			n += uint64(k)
			if n > rec.usize {
				return e, fail(rec.name, RuleData, "the entry holds more than its declared %d bytes", rec.usize)
			}
			sum.Write(buf[:k])
			crc.Write(buf[:k])
			if w != nil {
				if _, err := w.Write(buf[:k]); err != nil {
					return e, fmt.Errorf("zipsafe: writing %q: %w", rec.name, err)
				}
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return e, it.readError(rerr)
		}
	}
	if n != rec.usize {
		return e, fail(rec.name, RuleData, "the entry holds %d bytes but declares %d", n, rec.usize)
	}
	if crc.Sum32() != rec.crc {
		return e, fail(rec.name, RuleData, "the CRC-32 of the data does not match the one declared: the entry is corrupt")
	}
	if w != nil {
		if err := w.Close(); err != nil {
			return e, fmt.Errorf("zipsafe: writing %q: %w", rec.name, err)
		}
	}
	e.SHA256 = hex.EncodeToString(sum.Sum(nil))
	return e, nil
}

// readError turns what archive/zip and compress/flate report about bad
// entry data into a "data" error, and passes I/O errors through.
func (it *item) readError(err error) error {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, zip.ErrChecksum):
		return fail(it.rec.name, RuleData, "the CRC-32 of the data does not match the one declared: the entry is corrupt")
	case errors.Is(err, zip.ErrFormat):
		return fail(it.rec.name, RuleData, "the entry holds more than its declared %d bytes", it.rec.usize)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fail(it.rec.name, RuleData, "the entry's data ends before its declared %d bytes (the entry is truncated or its compressed data cut short)", it.rec.usize)
	case errors.As(err, &corrupt):
		return fail(it.rec.name, RuleData, "the compressed data is corrupt (%v)", err)
	}
	return fmt.Errorf("zipsafe: reading %q: %w", it.rec.name, err)
}

// fileMode is 0755 if the Unix mode in attrs has any executable bit, else
// 0644.
func fileMode(attrs uint32) fs.FileMode {
	if (attrs>>16)&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

// flagsEncrypted are the general purpose flags of an encrypted entry:
// encrypted, strongly encrypted, local header values masked.
const flagsEncrypted = 0x1 | 0x40 | 0x2000

// Unix file types (the S_IFMT bits of a Unix mode) and MS-DOS/Windows
// attributes found in a zip's external attributes.
const (
	unixTypeMask = 0o170000
	unixFIFO     = 0o010000
	unixChar     = 0o020000
	unixDir      = 0o040000
	unixBlock    = 0o060000
	unixRegular  = 0o100000
	unixSymlink  = 0o120000
	unixSocket   = 0o140000

	dosVolume  = 0x08
	dosDir     = 0x10
	dosDevice  = 0x40
	dosReparse = 0x400
)

// checkType returns why an entry with external attributes attrs is not a
// plain file (or, if dir, a plain directory), or "" if it is. The Unix mode
// is checked whenever it is set, whatever system made the zip.
func checkType(attrs uint32, dir bool) string {
	switch t := (attrs >> 16) & unixTypeMask; t {
	case 0:
	case unixRegular:
		if dir {
			return `the name ends in "/" but its Unix mode marks a regular file`
		}
	case unixDir:
		if !dir {
			return `its Unix mode marks a directory but its name does not end in "/"`
		}
	case unixSymlink:
		return "the entry is a symbolic link; put the file it points to in the zip instead"
	case unixChar, unixBlock:
		return "the entry is a device file"
	case unixFIFO:
		return "the entry is a named pipe (FIFO)"
	case unixSocket:
		return "the entry is a socket"
	default:
		return fmt.Sprintf("the entry has the unknown Unix file type %#o", t)
	}
	switch dos := attrs & 0xffff; {
	case dos&dosReparse != 0:
		return "the entry is a Windows reparse point (a symbolic link or junction); put the file it points to in the zip instead"
	case dos&dosDevice != 0:
		return "the entry is marked as a Windows device"
	case dos&dosVolume != 0:
		return "the entry is a volume label"
	case dos&dosDir != 0 && !dir:
		return `its Windows attributes mark a directory but its name does not end in "/"`
	}
	return ""
}

// methodName names a zip compression method for a developer.
func methodName(m uint16) string {
	names := map[uint16]string{
		0: "Store", 1: "Shrink", 6: "Implode", 8: "Deflate", 9: "Deflate64", 12: "BZIP2",
		14: "LZMA", 93: "Zstandard", 95: "XZ", 96: "JPEG", 97: "WavPack", 98: "PPMd", 99: "AES encryption",
	}
	if n, ok := names[m]; ok {
		return fmt.Sprintf("%d (%s)", m, n)
	}
	return fmt.Sprint(m)
}
