// Package buildinfo says which build of Satchel is running, for `--version` and the server's
// satchel_build_info metric: the version `make dist` stamps in, the commit and the Go version.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is stamped by the linker: `make dist` passes
// -ldflags "-X satchel.dev/shared/buildinfo.version=$(git describe --tags --always --dirty)".
// It is the only variable the linker sets; nothing else writes it.
var version string

// Info is a build's identity.
type Info struct {
	// Version is what `git describe` said when `make dist` built it; "devel" for a build
	// made any other way (go build, go run, make run).
	Version string `json:"version"`
	// Commit is the git commit the binary was built from, with "-dirty" when the work tree
	// had changes; "unknown" when the go command recorded none (a build outside a checkout,
	// or with -buildvcs=false).
	Commit string `json:"commit"`
	// GoVersion is the Go toolchain that built it: go1.26.8.
	GoVersion string `json:"go_version"`
}

// Read returns this binary's Info. It never fails: what it cannot know, it says so.
func Read() Info {
	return fromBuild(version, runtime.Version(), readBuild())
}

func readBuild() []debug.BuildSetting {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.Settings
	}
	return nil
}

// fromBuild is Read's rule on its inputs: the stamped version, the Go version and the build
// settings the go command recorded.
func fromBuild(stamped, goVersion string, settings []debug.BuildSetting) Info {
	i := Info{Version: stamped, Commit: "unknown", GoVersion: goVersion}
	if i.Version == "" {
		i.Version = "devel"
	}
	dirty := false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			i.Commit = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && i.Commit != "unknown" {
		i.Commit += "-dirty"
	}
	return i
}

// String is what `--version` prints after the program's name: "v1.2.0 (commit 1a2b3c,
// go1.26.8)".
func (i Info) String() string {
	return fmt.Sprintf("%s (commit %s, %s)", i.Version, i.Commit, i.GoVersion)
}
