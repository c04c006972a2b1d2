// Package zipsafe holds the rules a game build zip must meet, shared by the
// server, which checks an upload with Scan before accepting it, and the
// desktop launcher, which installs a build with Extract.
//
// Both sides run the same checks on the same bytes, so a zip the server
// accepted installs the same files on every player's machine, whatever its
// operating system, and a zip that breaks a rule cannot be installed at all.
// Every refusal is an *Error naming the entry and the rule it broke, in words
// meant for the developer who has to fix the build.
//
// The rules, by the name found in Error.Rule:
//
//   - "format": the file is not a zip, is truncated, spans several disks, has
//     data before the archive, is encrypted, uses a compression method other
//     than Store or Deflate, or has a central directory that can be read in
//     more than one way (local and central headers disagree).
//   - "empty": the zip holds no files (directories alone do not count).
//   - "path": a name is absolute (/x, C:\x, C:x, \\server\share), has a ".."
//     or "." or empty component, is not cleaned (a//b, ./a), contains a
//     backslash, a colon, a NUL or other control character, is not valid
//     UTF-8, or would not be a valid file name on Windows (characters
//     < > " | ? *, a component ending in a dot or space, a device name such
//     as CON or COM1, a component in the form of a short 8.3 name such as
//     GAMEDA~1, which Windows may take for another file's long name, a
//     component over 255 bytes), or is over 1024 bytes.
//   - "duplicate": two entries name the same file or directory, also when
//     they differ only in case (Unicode simple case folding, as
//     strings.EqualFold: Windows and macOS ignore case) or in Unicode
//     normalization (an accent as one code point or as a combining mark:
//     macOS takes both for one name), or an entry is a file while another
//     entry needs a directory of that name. So a build that installs on one
//     operating system installs the same files on every other.
//   - "type": an entry is a symbolic link, device, named pipe, socket or
//     Windows reparse point, or its attributes contradict its name (a
//     directory whose name lacks the trailing "/", or the reverse).
//   - "entries", "size", "total", "ratio": the zip exceeds the limit of
//     Limits of that name: MaxEntries, MaxFileBytes, MaxTotalBytes,
//     MaxRatio (for a zip bomb, most often).
//   - "overlap": two entries share bytes of the archive, or an entry's data
//     runs into the central directory (the trick of overlapping-file zip
//     bombs).
//   - "data": an entry's data does not match its declared uncompressed size
//     or CRC-32, or its compressed stream is corrupt.
//
// Scan and Extract enforce the limits on the declared sizes before reading
// any data, then again while streaming: no entry is read past its declared
// size, and no entry is ever held in memory whole. They hold at most
// Limits.MaxEntries central directory records, so memory is bounded by the
// limits and the size of the central directory, never by what the entries
// claim to hold.
package zipsafe

import (
	"fmt"
	"io/fs"
)

// Names of the rules, as found in Error.Rule.
const (
	RuleFormat    = "format"
	RuleEmpty     = "empty"
	RulePath      = "path"
	RuleDuplicate = "duplicate"
	RuleType      = "type"
	RuleEntries   = "entries"
	RuleSize      = "size"
	RuleTotal     = "total"
	RuleRatio     = "ratio"
	RuleOverlap   = "overlap"
	RuleData      = "data"
)

// RatioFloor is the uncompressed size up to which an entry, or a whole
// archive, is exempt from Limits.MaxRatio: small files of repeated bytes
// compress far better than 200:1 and are harmless.
const RatioFloor = 1 << 20

// Limits bound what a zip may contain. A field that is zero or negative (or
// a MaxRatio that is not a positive number) takes its value from
// DefaultLimits.
type Limits struct {
	// MaxEntries bounds the number of entries (files + dirs). It also
	// bounds what Extract creates: files plus directories, counting those
	// the names only imply (a/b/c implies a and a/b).
	MaxEntries int
	// MaxFileBytes bounds the uncompressed size of one file.
	MaxFileBytes int64
	// MaxTotalBytes bounds the sum of the files' uncompressed sizes.
	MaxTotalBytes int64
	// MaxRatio bounds uncompressed/compressed size, per entry (only for
	// entries over RatioFloor uncompressed) and for the whole archive (only
	// when its files add up to over RatioFloor).
	MaxRatio float64
}

// DefaultLimits returns the limits for a game build: 10000 entries, 4 GiB
// per file, 16 GiB in all, and a compression ratio of at most 200.
func DefaultLimits() Limits {
	return Limits{
		MaxEntries:    10000,
		MaxFileBytes:  4 << 30,
		MaxTotalBytes: 16 << 30,
		MaxRatio:      200,
	}
}

// withDefaults returns l with every unset field taken from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = d.MaxFileBytes
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = d.MaxTotalBytes
	}
	if !(l.MaxRatio > 0) {
		l.MaxRatio = d.MaxRatio
	}
	return l
}

// Entry is one file of a build's manifest.
type Entry struct {
	Path   string      // slash-separated, relative, cleaned, as in the zip
	Size   int64       // uncompressed bytes
	Mode   fs.FileMode // permission bits only (0644, 0755); directories are not listed
	SHA256 string      // lowercase hex of the uncompressed bytes

	// Where the file lies in the archive, so that a reader can stream it or fetch it alone
	// (an HTTP Range of [HeaderOffset, DataOffset+CompressedSize)). All zero when unknown.
	HeaderOffset   int64  // of its local header
	DataOffset     int64  // of its compressed data, after the local header
	CompressedSize int64  // bytes of compressed data
	Method         uint16 // zip.Store or zip.Deflate
	CRC32          uint32 // of the uncompressed bytes
}

// Located reports whether e says where it lies in the archive.
func (e Entry) Located() bool { return e.DataOffset > 0 }

// Error says which entry broke which rule, in words a developer can act on.
// Scan and Extract return it as *Error; any other error they return is a
// bad argument, an I/O error of the reader or, for Extract, a file system
// error (a symbolic link in the way, a full disk).
type Error struct {
	// Entry is the entry's name exactly as stored in the zip (a directory's
	// with its trailing "/"). It is empty for rules about the whole archive
	// ("format" before any entry is read, "empty", "entries", "total", the
	// archive's "ratio") and for an entry whose name is empty.
	Entry string
	// Rule is one of the Rule* constants.
	Rule string
	// Reason says what is wrong and, where it can, what to do.
	Reason string
}

// Error returns a message such as
//
//	zip entry "a/../../x": rule "path": the name has a ".." component, which would climb out of the install directory
//
// or, without an entry, `zip: rule "empty": ...`.
func (e *Error) Error() string {
	if e.Entry == "" {
		return fmt.Sprintf("zip: rule %q: %s", e.Rule, e.Reason)
	}
	return fmt.Sprintf("zip entry %q: rule %q: %s", e.Entry, e.Rule, e.Reason)
}

func fail(entry, rule, format string, args ...any) *Error {
	return &Error{Entry: entry, Rule: rule, Reason: fmt.Sprintf(format, args...)}
}
