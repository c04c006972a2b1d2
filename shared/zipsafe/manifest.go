package zipsafe

import (
	"archive/zip"
	"cmp"
	"encoding/binary"
	"io"
	"slices"
	"strings"
)

// CheckManifest applies the rules to a build's manifest alone, as a reader that streams the
// archive (and never holds it whole) must before it writes the first byte. The manifest must
// be one Scan could have returned for an archive of size bytes: every entry Located, its name
// a clean relative file name ("path"), no two names one file on some system ("duplicate"),
// the limits kept ("entries", "size", "total", "ratio"), mode 0644 or 0755 ("type"), Store or
// Deflate with consistent sizes ("format", "data"), and every entry's local header and data
// inside the archive, before room for its end record, and apart from every other entry's
// ("format", "overlap"). The entries' data and the archive's own records are not checked:
// the reader checks each entry's data (CRC-32, size, sha256) and local header
// (CheckLocalHeader) as they arrive, and the central directory (ReadDirectory) at the end.
//
// It returns the entries sorted by HeaderOffset, the order their bytes arrive in.
func CheckManifest(entries []Entry, size int64, lim Limits) ([]Entry, error) {
	lim = lim.withDefaults()
	if len(entries) == 0 {
		return nil, fail("", RuleEmpty, "the manifest lists no files")
	}
	if len(entries) > lim.MaxEntries {
		return nil, fail("", RuleEntries, "the manifest lists %d files; the limit is %d", len(entries), lim.MaxEntries)
	}
	items := make([]item, len(entries))
	var total, compressed uint64
	for i, e := range entries {
		items[i] = item{rec: &record{name: e.Path}, path: e.Path}
		switch why := checkName(e.Path); {
		case why != "":
			return nil, fail(e.Path, RulePath, "%s", why)
		case strings.HasSuffix(e.Path, "/"):
			return nil, fail(e.Path, RulePath, `a file's name ends in "/"`)
		case e.Mode != 0o644 && e.Mode != 0o755:
			return nil, fail(e.Path, RuleType, "the manifest gives the file mode %#o; files are 0644 or 0755", e.Mode)
		case !e.Located():
			return nil, fail(e.Path, RuleFormat, "the manifest does not say where the file lies in the archive")
		case e.Method != zip.Store && e.Method != zip.Deflate:
			return nil, fail(e.Path, RuleFormat, "the entry uses compression method %s; only Store and Deflate are allowed", methodName(e.Method))
		case e.Size < 0 || e.CompressedSize < 0:
			return nil, fail(e.Path, RuleFormat, "the manifest gives negative sizes")
		case e.Method == zip.Store && e.CompressedSize != e.Size:
			return nil, fail(e.Path, RuleData, "the entry is stored uncompressed but declares %d bytes stored and %d bytes of data", e.CompressedSize, e.Size)
		case e.Size > lim.MaxFileBytes:
			return nil, fail(e.Path, RuleSize, "the file is %d bytes; the limit is %d", e.Size, lim.MaxFileBytes)
		case over(uint64(e.Size), uint64(e.CompressedSize), lim.MaxRatio):
			return nil, fail(e.Path, RuleRatio, "the file expands from %d to %d bytes, more than %g times (a zip bomb?)", e.CompressedSize, e.Size, lim.MaxRatio)
		case e.HeaderOffset < 0 || e.DataOffset < e.HeaderOffset+localLen+int64(len(e.Path)) ||
			e.DataOffset > size || e.CompressedSize > size-e.DataOffset-endLen:
			return nil, fail(e.Path, RuleFormat, "the manifest places the entry (local header at %d, %d bytes of data at %d) outside an archive of %d bytes", e.HeaderOffset, e.CompressedSize, e.DataOffset, size)
		}
		total = addSat(total, uint64(e.Size))
		compressed = addSat(compressed, uint64(e.CompressedSize))
	}
	dirs, clash := layout(items)
	if clash != nil {
		return nil, clash
	}
	switch {
	case len(entries)+dirs > lim.MaxEntries:
		return nil, fail("", RuleEntries, "the manifest holds %d files and %d directories (counting those its names imply); the limit is %d entries", len(entries), dirs, lim.MaxEntries)
	case total > uint64(lim.MaxTotalBytes):
		return nil, fail("", RuleTotal, "the files add up to %d bytes; the limit is %d", total, lim.MaxTotalBytes)
	case over(total, compressed, lim.MaxRatio):
		return nil, fail("", RuleRatio, "the files expand from %d to %d bytes, more than %g times (a zip bomb?)", compressed, total, lim.MaxRatio)
	}
	sorted := slices.SortedFunc(slices.Values(entries), func(a, b Entry) int { return cmp.Compare(a.HeaderOffset, b.HeaderOffset) })
	for i := 1; i < len(sorted); i++ {
		if a, b := sorted[i-1], sorted[i]; b.HeaderOffset < a.DataOffset+a.CompressedSize {
			return nil, fail(b.Path, RuleOverlap, "its bytes in the archive (from offset %d) overlap those of entry %q (offsets %d to %d)", b.HeaderOffset, a.Path, a.HeaderOffset, a.DataOffset+a.CompressedSize)
		}
	}
	return sorted, nil
}

// CheckLocalHeader checks h, the bytes of the archive from e.HeaderOffset to e.DataOffset,
// against e (an entry CheckManifest accepted): a local header that names e.Path, with e's
// compression method, not encrypted, whose name and extra field end where e's data starts.
// A mismatch is a "format" error: the archive is not the one the manifest describes.
func CheckLocalHeader(h []byte, e Entry) error {
	if len(h) < localLen || binary.LittleEndian.Uint32(h) != sigLocal {
		return fail(e.Path, RuleFormat, "there is no local header at offset %d, where the manifest places one", e.HeaderOffset)
	}
	nameLen := int(binary.LittleEndian.Uint16(h[26:]))
	extraLen := int(binary.LittleEndian.Uint16(h[28:]))
	switch {
	case localLen+nameLen+extraLen != len(h):
		return fail(e.Path, RuleFormat, "the local header ends at offset %d, the manifest places the data at %d", e.HeaderOffset+int64(localLen+nameLen+extraLen), e.DataOffset)
	case string(h[localLen:localLen+nameLen]) != e.Path:
		return fail(e.Path, RuleFormat, "the local header names the entry %q", h[localLen:localLen+nameLen])
	case binary.LittleEndian.Uint16(h[6:])&flagsEncrypted != 0:
		return fail(e.Path, RuleFormat, "the entry is encrypted")
	case binary.LittleEndian.Uint16(h[8:]) != e.Method:
		return fail(e.Path, RuleFormat, "the local header gives compression method %s, the manifest %s", methodName(binary.LittleEndian.Uint16(h[8:])), methodName(e.Method))
	}
	return nil
}

// ReadDirectory reads the central directory of the zip in r (size bytes) alone, applying
// the rules each record must meet by itself ("format", "path", "type", "entries", "empty"),
// and returns its files sorted by Path, with what the directory says of each: Size, Mode,
// HeaderOffset, CompressedSize, Method and CRC32 (not DataOffset nor SHA256, which need the
// entry's local header and data). It reads only the end of r: the end records (within the
// last 65 KiB) and the directory they point to, so r may hold nothing before the directory
// (zeros, say) when the entries were streamed elsewhere. The reader compares the result with
// the manifest it extracted by.
func ReadDirectory(r io.ReaderAt, size int64, lim Limits) ([]Entry, error) {
	lim = lim.withDefaults()
	cd, err := readCentralDir(io.NewSectionReader(r, 0, size), size, lim.MaxEntries)
	if err != nil {
		return nil, err
	}
	var files []Entry
	for i := range cd.records {
		rec := &cd.records[i]
		p, dir := strings.CutSuffix(rec.name, "/")
		switch {
		case checkName(rec.name) != "":
			return nil, fail(rec.name, RulePath, "%s", checkName(rec.name))
		case checkType(rec.attrs, dir) != "":
			return nil, fail(rec.name, RuleType, "%s", checkType(rec.attrs, dir))
		case rec.flags&flagsEncrypted != 0:
			return nil, fail(rec.name, RuleFormat, "the entry is encrypted")
		case rec.method != zip.Store && rec.method != zip.Deflate:
			return nil, fail(rec.name, RuleFormat, "the entry uses compression method %s", methodName(rec.method))
		case dir && rec.usize != 0:
			return nil, fail(rec.name, RuleType, "the directory entry holds %d bytes of data", rec.usize)
		case dir:
			continue
		}
		files = append(files, Entry{Path: p, Size: int64(rec.usize), Mode: fileMode(rec.attrs), HeaderOffset: rec.offset,
			CompressedSize: int64(rec.csize), Method: rec.method, CRC32: rec.crc})
	}
	if len(files) == 0 {
		return nil, fail("", RuleEmpty, "the zip holds only directories, no files")
	}
	slices.SortFunc(files, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}
