package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFromBuild(t *testing.T) {
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "1a2b3c"}
	tests := []struct {
		name     string
		stamped  string
		settings []debug.BuildSetting
		want     Info
	}{
		{"make dist", "v1.2.0", []debug.BuildSetting{rev, {Key: "vcs.modified", Value: "false"}}, Info{"v1.2.0", "1a2b3c", "go1.26.8"}},
		{"dirty tree", "v1.2.0-3-g1a2b3c-dirty", []debug.BuildSetting{rev, {Key: "vcs.modified", Value: "true"}}, Info{"v1.2.0-3-g1a2b3c-dirty", "1a2b3c-dirty", "go1.26.8"}},
		{"go build", "", []debug.BuildSetting{rev}, Info{"devel", "1a2b3c", "go1.26.8"}},
		{"no vcs", "", nil, Info{"devel", "unknown", "go1.26.8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fromBuild(tt.stamped, "go1.26.8", tt.settings); got != tt.want {
				t.Errorf("fromBuild = %+v, want %+v", got, tt.want)
			}
		})
	}
	if got := (Info{"v1.2.0", "1a2b3c", "go1.26.8"}).String(); got != "v1.2.0 (commit 1a2b3c, go1.26.8)" {
		t.Errorf("String = %q", got)
	}
}
