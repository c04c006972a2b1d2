package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFromBuild(t *testing.T) {
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "1a2b3c"}
	tests := []struct {
		name     string
		version  string
		commit   string
		settings []debug.BuildSetting
		want     Info
	}{
		{"make dist", "v1.2.0", "1a2b3c", nil, Info{"v1.2.0", "1a2b3c", "go1.26.8"}},
		{"make dist, dirty", "v1.2.0-3-g1a2b3c-dirty", "1a2b3c-dirty", nil, Info{"v1.2.0-3-g1a2b3c-dirty", "1a2b3c-dirty", "go1.26.8"}},
		{"the stamp wins", "v1.2.0", "1a2b3c", []debug.BuildSetting{{Key: "vcs.revision", Value: "ffff"}}, Info{"v1.2.0", "1a2b3c", "go1.26.8"}},
		{"go build in a module", "", "", []debug.BuildSetting{rev, {Key: "vcs.modified", Value: "false"}}, Info{"devel", "1a2b3c", "go1.26.8"}},
		{"go build, dirty", "", "", []debug.BuildSetting{rev, {Key: "vcs.modified", Value: "true"}}, Info{"devel", "1a2b3c-dirty", "go1.26.8"}},
		{"no vcs", "", "", nil, Info{"devel", "unknown", "go1.26.8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fromBuild(tt.version, tt.commit, "go1.26.8", tt.settings); got != tt.want {
				t.Errorf("fromBuild = %+v, want %+v", got, tt.want)
			}
		})
	}
	if got := (Info{"v1.2.0", "1a2b3c", "go1.26.8"}).String(); got != "v1.2.0 (commit 1a2b3c, go1.26.8)" {
		t.Errorf("String = %q", got)
	}
}
