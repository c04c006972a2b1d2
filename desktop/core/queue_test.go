package core_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	"satchel.dev/shared/nostr"

	"satchel.dev/desktop/client"
	"satchel.dev/desktop/core"
	"satchel.dev/desktop/install"
	"satchel.dev/desktop/internal/fsutil"
	"satchel.dev/desktop/settings"
)

// TestProblem classifies the errors of installs for the window.
func TestProblem(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{fmt.Errorf("downloading: %w", context.Canceled), core.ProblemCancelled},
		{connect.NewError(connect.CodeUnavailable, errors.New("dial tcp: refused")), core.ProblemOffline},
		{fmt.Errorf("%w: sha256 differs", install.ErrVerify), core.ProblemVerify},
		{fmt.Errorf("%w in /games", install.ErrDiskSpace), core.ProblemDiskSpace},
		{fmt.Errorf("writing: %w", syscall.ENOSPC), core.ProblemDiskSpace},
		{fmt.Errorf("%w: lantern-drift", install.ErrBusy), core.ProblemBusy},
		{install.ErrMoving, core.ProblemMoving},
		{&client.Error{Code: connect.CodePermissionDenied, Message: "you do not own this game"}, core.ProblemRefused},
		{errors.New("something else"), core.ProblemOther},
	} {
		if got := core.Problem(tc.err); got != tc.want {
			t.Errorf("Problem(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// pausedSlug is the game pausedInstall buys and pauses.
const pausedSlug = "moss-and-mortar"

// pausedInstall opens a Core in a new folder (its data folder is returned), buys pausedSlug,
// and pauses its install, slowed down, once it has recorded a checkpoint; with keep, the
// player keeps downloads.
func pausedInstall(t *testing.T, keep bool) (*core.Core, string) {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	data := filepath.Join(root, "data")
	key, _ := nostr.GenerateKey()
	checkpoint := make(chan struct{}, 1)
	c, err := core.Open(core.Config{Dirs: settings.Dirs{Data: data, Config: filepath.Join(root, "config")},
		Signer: key, Server: env.server.URL, Hook: func(step string, done, _ int64) {
			if step == "checkpoint" && done > 0 {
				select {
				case checkpoint <- struct{}{}:
				default:
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if keep {
		if err := c.SetKeepDownloads(true); err != nil {
			t.Fatal(err)
		}
		if set, err := c.Settings(); err != nil || !set.KeepDownloads {
			t.Fatalf("settings = %+v, %v", set, err)
		}
	}
	if p, err := c.Buy(ctx, pausedSlug, false); err != nil || p.Status != core.PurchasePaid {
		t.Fatalf("Buy = %+v, %v", p, err)
	}
	if _, err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSpeedLimit(128 << 10); err != nil { // slow enough to pause mid-way, even on a loaded machine
		t.Fatal(err)
	}
	if _, err := c.Enqueue(ctx, pausedSlug); err != nil {
		t.Fatal(err)
	}
	select {
	case <-checkpoint:
	case <-time.After(time.Minute):
		t.Fatal("the install recorded no checkpoint")
	}
	if err := c.PauseInstall(pausedSlug); err != nil {
		t.Fatal(err)
	}
	return c, data
}

// TestPausedDownloadKeepsItsPlace pauses a streamed install with keep downloads on: the
// paused game says how much is downloaded (where it stopped, not 0), the install resumes
// there, and the build's zip is kept whole.
func TestPausedDownloadKeepsItsPlace(t *testing.T) {
	ctx := context.Background()
	c, _ := pausedInstall(t, true)
	const slug = pausedSlug
	e, err := c.Game(slug)
	if err != nil {
		t.Fatal(err)
	}
	act := c.Activity(e)
	if !act.Paused || act.Job != nil || act.Size == nil || act.Size.Done <= 0 || act.Size.Done >= act.Size.Fetch {
		t.Fatalf("the paused game: %+v (size %+v), want part of it downloaded", act, act.Size)
	}
	stopped := act.Size.Done
	if err := c.SetSpeedLimit(0); err != nil {
		t.Fatal(err)
	}
	res, err := c.Install(ctx, slug, core.InstallOptions{}, nil)
	if err != nil || res.Resumed != stopped {
		t.Fatalf("the resumed install = %+v, %v; want it resumed at %d", res, err, stopped)
	}
	if fi, err := os.Stat(res.Kept); err != nil || fi.Size() != act.Size.BuildSize {
		t.Errorf("kept zip %q: %v, %v; want %d bytes", res.Kept, fi, err, act.Size.BuildSize)
	}
}

// TestCancelWhileAnotherProcessInstalls cancels a paused install while another Satchel
// process holds the game (its lock): nothing of the install is deleted, and the cancel says
// to wait; once the other process is done, the cancel deletes what was downloaded.
func TestCancelWhileAnotherProcessInstalls(t *testing.T) {
	c, data := pausedInstall(t, false)
	const slug = pausedSlug
	lib := filepath.Join(data, "library") // the default
	files := func() int {
		n := 0
		filepath.WalkDir(filepath.Join(lib, slug), func(_ string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
		return n
	}
	if files() == 0 {
		t.Fatal("the paused install left no file to cancel")
	}

	other, err := fsutil.TryLock(filepath.Join(data, "locks", slug+".lock"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CancelInstall(slug); !errors.Is(err, install.ErrBusy) {
		t.Errorf("CancelInstall while another process holds the game = %v, want ErrBusy", err)
	}
	if n := files(); n == 0 {
		t.Error("the cancel deleted the files another process holds")
	}
	other.Unlock()
	if err := c.CancelInstall(slug); err != nil {
		t.Fatal(err)
	}
	if n := files(); n != 0 {
		t.Errorf("%d files are left after the cancel", n)
	}
}
