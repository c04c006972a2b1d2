package launch

import (
	"errors"
	"io/fs"
	"path"
	"strings"
)

// Platforms returns the platforms the launcher runs on, as "<os>-<arch>" in Go's names: the
// keys a satchel.toml section may name (or their "<os>" alone).
func Platforms() []string {
	return []string{"linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64", "windows-amd64", "windows-arm64"}
}

// Gap is a platform a build cannot be launched on.
type Gap struct {
	Platform string `json:"platform"` // as in Platforms: "windows-arm64"
	Reason   string `json:"reason"`   // what Resolve would say there
}

// Gaps returns, in the order of Platforms, each platform the build cannot be launched on, with
// the reason Resolve would give there: satchel.toml has no section for it, or its exec is
// missing, outside the build or (on Windows) not an .exe; without satchel.toml, the top level
// has no program for that system (an executable bit on Linux and macOS, an .exe on Windows),
// or several. It reads only satchel.toml and the top level of build: a build zip
// (*zip.Reader) before it is uploaded, or an installed folder (os.DirFS). A satchel.toml that
// does not parse is an *Error, as no platform can launch the build; nil means every platform
// can.
func Gaps(build fs.FS) ([]Gap, error) {
	var m *Manifest
	data, err := fs.ReadFile(build, ManifestName)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		parsed, err := ParseManifest(string(data))
		if err != nil {
			return nil, err
		}
		m = &parsed
	}
	var top []fs.DirEntry
	if m == nil {
		if top, err = fs.ReadDir(build, "."); err != nil {
			return nil, err
		}
	}
	var gaps []Gap
	for _, p := range Platforms() {
		goos, goarch, _ := strings.Cut(p, "-")
		var why error
		if m == nil {
			_, why = onlyExecutable(top, goos)
		} else {
			why = launchable(build, *m, goos, goarch)
		}
		if why != nil {
			var le *Error
			if !errors.As(why, &le) {
				return nil, why
			}
			gaps = append(gaps, Gap{Platform: p, Reason: le.Reason})
		}
	}
	return gaps, nil
}

// launchable checks what Resolve checks of m's target for goos/goarch, on the build's files:
// an *Error when it cannot be launched there.
func launchable(build fs.FS, m Manifest, goos, goarch string) error {
	where, t, err := m.target(goos, goarch)
	if err != nil {
		return err
	}
	name := path.Clean(t.Exec)
	if !fs.ValidPath(name) || name == "." {
		return leaves(where+" exec", t.Exec)
	}
	fi, err := fs.Stat(build, name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return failf("%s exec %q is not in the build", where, t.Exec)
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return failf("%s exec %q is not a regular file", where, t.Exec)
	}
	return runnable(goos, where, t.Exec)
}
