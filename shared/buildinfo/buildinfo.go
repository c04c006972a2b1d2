// Package buildinfo says which build of Satchel is running, for `--version` and the server's
// satchel_build_info metric: the version `make dist` stamps in, the commit and the Go version.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version and commit are stamped by the linker: `make dist` passes -ldflags
// "-X satchel.dev/shared/buildinfo.version=$(git describe --tags --always --dirty)
// -X satchel.dev/shared/buildinfo.commit=<commit>[-dirty]" (the go command records no commit
// for a build in workspace mode). Nothing else writes them.
var version, commit string

// Info is a build's identity.
type Info struct {
	// Version is what `git describe` said when `make dist` built it; "devel" for a build
	// made any other way (go build, go run, make run).
	Version string `json:"version"`
	// Commit is the git commit the binary was built from, with "-dirty" when the work tree
	// had changes: the one `make dist` stamped, else the one the go command recorded (it
	// records none in workspace mode, outside a checkout or with -buildvcs=false), else
	// "unknown".
	Commit string `json:"commit"`
	// GoVersion is the Go toolchain that built it: go1.26.8.
	GoVersion string `json:"go_version"`
}

// Read returns this binary's Info. It never fails: what it cannot know, it says so.
func Read() Info {
	return fromBuild(version, commit, runtime.Version(), readBuild())
}

func readBuild() []debug.BuildSetting {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.Settings
	}
	return nil
}

// fromBuild is Read's rule on its inputs: the stamped version and commit, the Go version and
// the build settings the go command recorded.
func fromBuild(stampedVersion, stampedCommit, goVersion string, settings []debug.BuildSetting) Info {
	i := Info{Version: stampedVersion, Commit: stampedCommit, GoVersion: goVersion}
	if i.Version == "" {
		i.Version = "devel"
	}
	if i.Commit != "" {
		return i
	}
	i.Commit = "unknown"
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
