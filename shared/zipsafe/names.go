package zipsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxComponent is the longest path component, in bytes, that every file
// system a player may use accepts.
const maxComponent = 255

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
	}
	return ""
}

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

// names finds entries that would land on the same file or directory: the
// same name ignoring case, or a file where another entry needs a directory.
// It is a tree of case-folded path components.
type names struct {
	nodes    []nameNode
	children map[nameKey]int // (parent node, folded component) -> node
}

type nameKey struct {
	parent int
	name   string
}

type nameNode struct {
	file     bool   // a file entry; otherwise a directory
	explicit bool   // listed by an entry of its own (not only implied by a deeper one)
	entry    string // the entry that listed or first implied it
}

func newNames() *names {
	return &names{nodes: make([]nameNode, 1), children: make(map[nameKey]int)}
}

// add records entry (its name as stored; p without the trailing "/" of a
// directory) and returns a "duplicate" error if it clashes with an entry
// added before.
func (t *names) add(entry, p string, dir bool) *Error {
	parent := 0
	rest := p
	for done := 0; rest != ""; {
		c, tail, more := strings.Cut(rest, "/")
		done += len(c)
		last := !more
		k := nameKey{parent, foldKey(c)}
		id, ok := t.children[k]
		if !ok {
			id = len(t.nodes)
			t.nodes = append(t.nodes, nameNode{file: last && !dir, explicit: last, entry: entry})
			t.children[k] = id
		} else {
			n := &t.nodes[id]
			switch {
			case !last && n.file:
				return fail(entry, RuleDuplicate, "it needs %q to be a directory, but entry %q is a file of that name", p[:done], n.entry)
			case !last:
			case n.file && dir:
				return fail(entry, RuleDuplicate, "it is a directory, but entry %q is a file of that name", n.entry)
			case n.file || (dir && n.explicit):
				return fail(entry, RuleDuplicate, "%s", sameName(entry, n.entry))
			case !dir:
				return fail(entry, RuleDuplicate, "it is a file, but entry %q needs a directory of that name", n.entry)
			default:
				n.explicit = true
			}
		}
		parent = id
		rest = tail
		done++ // the "/"
	}
	return nil
}

func sameName(entry, other string) string {
	if entry == other {
		return "the zip lists this name twice"
	}
	return fmt.Sprintf("it has the same name as entry %q when case is ignored; Windows and macOS would write both to one file", other)
}
