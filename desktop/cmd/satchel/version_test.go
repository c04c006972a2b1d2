package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"satchel.dev/shared/buildinfo"
)

// TestVersion: `satchel --version` needs no folder, keyring or server, and `satchel help` says
// so.
func TestVersion(t *testing.T) {
	want := "satchel " + buildinfo.Read().String() + "\n"
	for _, args := range [][]string{{"--version"}, {"--server", "http://x", "--version"}} {
		if code, out, errOut := runCLI(args...); code != exitOK || out != want || errOut != "" {
			t.Errorf("satchel %s: exit %d, stdout %q, stderr %q; want %q", strings.Join(args, " "), code, out, errOut, want)
		}
	}
	code, out, _ := runCLI("--json", "--version")
	var got buildinfo.Info
	if err := json.Unmarshal([]byte(out), &got); code != exitOK || err != nil {
		t.Fatalf("satchel --json --version: exit %d, %v: %s", code, err, out)
	}
	if diff := cmp.Diff(buildinfo.Read(), got); diff != "" {
		t.Errorf("satchel --json --version (-want +got):\n%s", diff)
	}
	if _, out, _ := runCLI("help"); !strings.Contains(out, "satchel --version prints the version") {
		t.Errorf("satchel help does not mention --version:\n%s", out)
	}
}
