package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestBrokenServerFailsTheSoak shows that the soak catches a broken store: a short run, without
// faults, on servers built with -tags soakbroken (a settlement that commits the sale without its
// ledger entries, backend/postgres/soakbroken.go) must fail, on check-ledger and on the payments
// check. The soak passing on the real build is `make soak` (and its short run in `make test`).
func TestBrokenServerFailsTheSoak(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-tags", "soak,soakbroken", "-o", bin+"/",
		"satchel.dev/backend/cmd/satchel-server", "satchel.dev/desktop/cmd/satchel")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the broken server and the satchel CLI: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var out strings.Builder
	err := run(ctx, config{Duration: 20 * time.Second, Seed: 17, Instances: 2, Players: 2, Developers: 1,
		BuyEvery: 2 * time.Second, ReleaseEvery: time.Minute, AdminEvery: time.Hour, Dir: t.TempDir(), BinDir: bin}, &out)
	t.Logf("the soak's output:\n%s", out.String())
	if err == nil {
		t.Fatal("the soak passed on a server whose settlements leave out the ledger")
	}
	for _, want := range []string{"FAIL check-ledger", "FAIL buyer payments ↔ PAID purchases"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report does not say %q (the soak failed with: %v)", want, err)
		}
	}
}

// TestProgressWatchKillsMidDownload: the mid-download kill waits on the CLI's own progress (a
// download with some bytes in and not all), however the lines are split, and fires once; the
// soak's first version killed after a random delay, which on a loaded machine could land
// before the download began or after the install ended.
func TestProgressWatchKillsMidDownload(t *testing.T) {
	var out strings.Builder
	fired := 0
	w := &progressWatch{w: &out, hit: func() { fired++ }}
	lines := `{"slug":"a","phase":"queued","done":0,"total":0}
{"slug":"a","phase":"downloading","done":0,"total":100}
{"slug":"a","phase":"downloading","done":40,"total":100}
{"slug":"a","phase":"downloading","done":80,"total":100}
`
	for i := 0; i < len(lines); i += 7 { // in pieces that split lines
		if _, err := w.Write([]byte(lines[i:min(i+7, len(lines))])); err != nil {
			t.Fatal(err)
		}
	}
	if fired != 1 {
		t.Errorf("fired %d times, want once", fired)
	}
	if out.String() != lines {
		t.Errorf("standard error passed on as %q", out.String())
	}
}
