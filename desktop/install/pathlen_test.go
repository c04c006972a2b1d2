package install

import (
	"strings"
	"testing"

	"satchel.dev/desktop/state"
)

// TestCheckPathLengths runs Windows' rule (fsutil.MaxPath there) on any OS: the same function
// the installer calls before downloading.
func TestCheckPathLengths(t *testing.T) {
	p := &state.Pending{Release: state.Release{Version: "1.0.0"}, Dir: "game/1.0.0"}
	lib := "/lib"                                                                     // "/lib/game/1.0.0/" is 16 characters
	files := []state.File{{Path: "a.exe"}, {Path: "data/" + strings.Repeat("é", 10)}} // 16+15
	tests := []struct {
		name    string
		limit   int
		wantErr string
	}{
		{"no limit (Unix)", 0, ""},
		{"exactly at the limit", 31, ""},
		{"one over", 30, "its file /lib/game/1.0.0/data/éééééééééé would have a path of 31 characters, and Windows games open at most 30: move the library"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkPathLengths(lib, p, files, tt.limit)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("checkPathLengths = %v, want %q", err, tt.wantErr)
			}
		})
	}
	// A character outside the BMP counts twice, as Windows counts it.
	if err := checkPathLengths(lib, p, []state.File{{Path: "😀"}}, 17); err == nil {
		t.Error("a path of 18 UTF-16 units passed a limit of 17")
	}
}
