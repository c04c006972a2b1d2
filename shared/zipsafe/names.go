package zipsafe

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxComponent is the longest path component, in bytes, that every file
// system a player may use accepts.
const maxComponent = 255

// maxName is the longest name, in bytes: macOS refuses longer paths (its
// PATH_MAX), and it bounds the directories Extract walks per file.
const maxName = 1024

// windowsDevice reports whether base, a file name without its extension,
// is one Windows resolves to a device in any directory, and which.
func windowsDevice(base string) (string, bool) {
	switch d := strings.ToUpper(strings.TrimRight(base, " ")); d {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
		"COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³",
		"LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³":
		return d, true
	}
	return "", false
}

// checkName returns why name, an entry's name as stored (a directory's
// ends in "/"), is not a clean relative path that is safe to create on
// every operating system, or "" if it is.
func checkName(name string) string {
	p := name
	switch {
	case p == "":
		return "the name is empty"
	case !utf8.ValidString(p):
		return "the name is not valid UTF-8; re-create the zip with a tool that stores UTF-8 names"
	case len(p) > maxName:
		return fmt.Sprintf("the name is %d bytes long; the limit is %d", len(p), maxName)
	}
	for _, r := range p {
		if r == 0 {
			return "the name contains a NUL byte"
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Sprintf("the name contains the control character U+%04X", r)
		}
	}
	switch {
	case strings.HasPrefix(p, `\\`) || strings.HasPrefix(p, "//"):
		return "the name is a network (UNC) path; names must be relative to the build's root"
	case p[0] == '/' || p[0] == '\\':
		return "the name is an absolute path; names must be relative to the build's root"
	case len(p) >= 2 && p[1] == ':' && ('a' <= p[0]|0x20 && p[0]|0x20 <= 'z'):
		return "the name starts with a drive letter; names must be relative to the build's root"
	case strings.Contains(p, `\`):
		return `the name contains a backslash; zip names must separate directories with "/"`
	case strings.Contains(p, ":"):
		return `the name contains ":", which Windows reserves for drive letters and alternate data streams`
	}
	for c := range strings.SplitSeq(strings.TrimSuffix(p, "/"), "/") {
		switch {
		case c == "":
			return `the name has an empty component ("//", or "/" at the end of a file's name); store the cleaned path`
		case c == ".":
			return `the name has a "." component; store the cleaned path`
		case c == "..":
			return `the name has a ".." component, which would climb out of the install directory`
		case len(c) > maxComponent:
			return fmt.Sprintf("the name has a component of %d bytes; file systems allow %d", len(c), maxComponent)
		case strings.HasSuffix(c, ".") || strings.HasSuffix(c, " "):
			return fmt.Sprintf("the component %q ends in a dot or space, which Windows drops (it would name a different file there)", c)
		case strings.ContainsAny(c, `<>"|?*`):
			return fmt.Sprintf(`the component %q contains one of < > " | ? *, which Windows does not allow in file names`, c)
		}
		base, _, _ := strings.Cut(c, ".")
		if d, ok := windowsDevice(base); ok {
			return fmt.Sprintf("the component %q is named like the Windows device %s, which cannot be a file there", c, d)
		}
		if shortName(c) {
			return fmt.Sprintf("the component %q has the form of a Windows short name (8.3, as PROGRA~1), which Windows may take for another file's long name", c)
		}
	}
	return ""
}

// shortName reports whether the path component c has the form of a short name Windows makes
// for a long one (8.3: "GAMEDA~1", "PROGRA~2.TXT"): up to 8 characters before an optional
// dot and up to 3 after it, the first part ending in "~" and digits. Opening such a name
// where a file with that short name exists opens that file.
func shortName(c string) bool {
	base, ext, dotted := strings.Cut(c, ".")
	if len(base) > 8 || (dotted && (len(ext) > 3 || strings.Contains(ext, "."))) {
		return false
	}
	i := strings.LastIndexByte(base, '~')
	if i < 1 || i == len(base)-1 {
		return false
	}
	for _, r := range base[i+1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// nameKey maps a path to a key equal for two paths exactly when some
// operating system may take them for one file: equal once both are in
// Unicode canonical decomposition (macOS does not tell "é" as one code
// point from "e" and a combining accent) and case is ignored (Windows, and
// macOS by default), as foldKey.
func nameKey(s string) string { return foldKey(norm.NFD.String(s)) }

// foldKey maps s to a key equal for two strings exactly when
// strings.EqualFold holds for them: each rune becomes the smallest rune of
// its simple case folding orbit.
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		// The smallest rune of each ASCII letter's orbit is its upper
		// case, also for k and s, whose orbits hold non-ASCII runes.
		return strings.ToUpper(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

// layout checks how items (in central directory order) lay out as a tree
// of files and directories. It returns a "duplicate" error if two entries
// would land on the same file or directory: the same nameKey, or
// a file where another entry needs a directory. Of the clashing pairs it
// finds, it reports the one whose later entry comes first, naming that
// entry. Otherwise it returns the number of directories the tree has,
// counting those that names only imply (a/b/c implies a and a/b).
//
// It sorts case-folded names with "/" mapped to the lowest byte (NUL,
// which checkName refuses) and a directory entry's name ending in it, so
// that a name is directly followed by the names below it: time
// O(n log n), memory one folded name per entry.
func layout(items []item) (dirs int, _ *Error) {
	type key struct {
		k string
		i int
	}
	keys := make([]key, len(items))
	for i, it := range items {
		k := strings.ReplaceAll(nameKey(it.path), "/", "\x00")
		if it.dir {
			k += "\x00"
		}
		keys[i] = key{k, i}
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(strings.Compare(a.k, b.k), cmp.Compare(a.i, b.i)) })
	var first *Error
	firstAt := len(items)
	prev := ""
	for j, b := range keys {
		// The directories of b not already counted are those below the
		// part it shares with the previous name.
		common := 0
		for common < min(len(prev), len(b.k)) && prev[common] == b.k[common] {
			common++
		}
		dirs += strings.Count(b.k[common:], "\x00")
		prev = b.k
		if j == 0 {
			continue
		}
		a := keys[j-1]
		if a.k != b.k && (items[a.i].dir || !strings.HasPrefix(b.k, a.k+"\x00")) {
			continue
		}
		if max(a.i, b.i) >= firstAt {
			continue
		}
		firstAt = max(a.i, b.i)
		later, earlier := &items[firstAt], &items[min(a.i, b.i)]
		var why string
		switch file, deeper := &items[a.i], &items[b.i]; {
		case a.k == b.k && later.rec.name == earlier.rec.name:
			why = "the zip lists this name twice"
		case a.k == b.k:
			why = fmt.Sprintf("it has the same name as entry %q when case (or the Unicode form of accents) is ignored; Windows or macOS would write both to one file", earlier.rec.name)
		case later == file && deeper.dir && b.k == a.k+"\x00":
			why = fmt.Sprintf("it is a file, but entry %q is a directory of that name", deeper.rec.name)
		case later == file:
			why = fmt.Sprintf("it is a file, but entry %q needs a directory of that name", deeper.rec.name)
		case deeper.dir && b.k == a.k+"\x00":
			why = fmt.Sprintf("it is a directory, but entry %q is a file of that name", file.rec.name)
		default:
			n := strings.Count(file.path, "/") + 1
			dir := strings.Join(strings.SplitN(deeper.path, "/", n+1)[:n], "/")
			why = fmt.Sprintf("it needs %q to be a directory, but entry %q is a file of that name", dir, file.rec.name)
		}
		first = fail(later.rec.name, RuleDuplicate, "%s", why)
	}
	return dirs, first
}
