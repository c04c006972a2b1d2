package install

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"satchel.dev/desktop/internal/testenv"
	"satchel.dev/desktop/launch"
	"satchel.dev/desktop/state"
)

// crashEnv names, in a child process of this test binary, the crashJob it runs.
const crashEnv = "SATCHEL_INSTALL_CRASH_JOB"

// crashJob is an install a child process runs until it kills itself (kill -9) at Step of the
// installer's Hook (when Half, once the step is half done).
type crashJob struct {
	Data     string
	Game     Game
	Download Download
	Step     string
	Half     bool
}

func TestMain(m *testing.M) {
	if job := os.Getenv(crashEnv); job != "" {
		runCrashJob(job)
	}
	os.Exit(m.Run())
}

// runCrashJob runs the crashJob in the file job and never returns: the process is killed at
// the job's step, or exits 3 if the install ended before it.
func runCrashJob(job string) {
	var j crashJob
	raw, err := os.ReadFile(job)
	if err == nil {
		err = json.Unmarshal(raw, &j)
	}
	var st *state.Store
	if err == nil {
		st, err = state.Open(j.Data)
	}
	var in *Installer
	if err == nil {
		in, err = New(Config{State: st, Source: fixedSource{j.Download}, ProgressEvery: 5 * time.Millisecond,
			Hook: func(step string, done, total int64) {
				if step == j.Step && (!j.Half || done*2 >= total) {
					if self, err := os.FindProcess(os.Getpid()); err == nil {
						_ = self.Kill() // SIGKILL; TerminateProcess on Windows
					}
					select {} // until the kill arrives
				}
			}})
	}
	if err == nil {
		_, err = in.Install(context.Background(), j.Game, "", nil)
	}
	fmt.Fprintf(os.Stderr, "the install ended before %s: %v\n", j.Step, err)
	os.Exit(3)
}

// fixedSource gives one download.
type fixedSource struct{ dl Download }

func (s fixedSource) GetDownload(context.Context, string, string) (Download, error) { return s.dl, nil }

func (s fixedSource) Manifest(context.Context, string, string) (Download, error) {
	dl := s.dl
	dl.URL, dl.ExpiresAt = "", time.Time{}
	return dl, nil
}

// crash runs the install of the latest build in a child process that kills itself (kill -9)
// at step (when half, once the step is half done), and fails the test unless it died so.
func (b *bundle) crash(step string, half bool) {
	b.t.Helper()
	dl, err := b.src.GetDownload(context.Background(), b.game.ID, "")
	if err != nil {
		b.t.Fatal(err)
	}
	job := filepath.Join(b.dir, "crash-job.json")
	raw, _ := json.Marshal(crashJob{Data: b.state.Dir(), Game: b.game, Download: dl, Step: step, Half: half})
	if err := os.WriteFile(job, raw, 0o600); err != nil {
		b.t.Fatal(err)
	}
	cmd := exec.CommandContext(b.t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+job)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
		b.t.Fatalf("the install was not killed at %s: %v: %s", step, err, stderr.String())
	}
}

// play launches the current version as the launcher does and returns its version, or "" when
// no version is installed.
func (b *bundle) play() string {
	b.t.Helper()
	st := b.load()
	g := st.Games[b.game.Slug]
	if g == nil || g.Current == nil {
		return ""
	}
	cur := g.Current
	spec, err := launch.Resolve(st.Path(b.game.Slug, cur.Dir), runtime.GOOS, runtime.GOARCH)
	if err != nil {
		b.t.Fatal(err)
	}
	var out bytes.Buffer
	proc, err := launch.Start(spec, launch.Options{Stdout: &out})
	if err != nil {
		b.t.Fatal(err)
	}
	if e := proc.Wait(); !e.Success() {
		b.t.Fatalf("%s: %s", cur.Version, e)
	}
	if got := strings.TrimSpace(out.String()); got != cur.Version {
		b.t.Fatalf("version %s printed %q", cur.Version, got)
	}
	if rep, err := b.inst.Verify(context.Background(), b.game, false, nil); err != nil || !rep.OK() {
		b.t.Fatalf("verify %s: %+v, %v", cur.Version, rep, err)
	}
	return cur.Version
}

// TestCrashAtEachStep kills (kill -9) the process installing at each step of a streamed
// install and of an update that fetches only what changed, starts again as the launcher does
// (Recover), and checks that the game plays: right after the crash, the version it had (the
// new one once the switch is recorded); after installing again, the new one, with no
// temporary folder left.
func TestCrashAtEachStep(t *testing.T) {
	steps := []struct {
		step string
		half bool
	}{
		{"stream", true},      // mid-way through the zip
		{"checkpoint", false}, // a resume point recorded, the stream stalled in the middle of a file
		{"reuse", true},       // an update: half the unchanged files put in the new folder
		{"extracted", false},
		{"renamed", false},
		{"switched", false},
	}
	for _, update := range []bool{false, true} {
		for _, s := range steps {
			kind := map[bool]string{false: "install", true: "update"}[update]
			if s.step == "reuse" && !update || s.step == "checkpoint" && update {
				continue // an install reuses nothing; an update that stops starts over
			}
			t.Run(kind+"/"+s.step, func(t *testing.T) {
				b := streamed(t)
				v1 := manyFiles("1.0.0", 12, 128<<10)
				b.addBuild("1.0.0", v1...)
				want := "1.0.0"
				if update {
					if _, err := b.inst.Install(context.Background(), b.game, "", nil); err != nil {
						t.Fatal(err)
					}
					v2 := append([]testenv.File(nil), v1...)
					for i := range v2 {
						switch v2[i].Name {
						case "run.sh":
							v2[i].Body = []byte("#!/bin/sh\necho 1.1.0\n")
						case "assets/pack-04.bin", "assets/pack-09.bin":
							v2[i].Body = randomBytes(128 << 10)
						}
					}
					b.addBuild("1.1.0", v2...)
					want = "1.1.0"
				}
				before := b.play()
				if s.step == "checkpoint" {
					f := fileOf(t, b.srv.builds[b.src.latest], "assets/pack-06.bin")
					b.srv.stallAfter, b.srv.stall = f.DataOffset+10, make(chan struct{})
					defer close(b.srv.stall)
				}
				b.crash(s.step, s.half)
				if _, err := b.inst.Recover(); err != nil {
					t.Fatal(err)
				}
				if s.step == "switched" {
					before = want
				}
				if got := b.play(); got != before {
					t.Fatalf("after the crash %q plays, want %q", got, before)
				}
				res, err := b.inst.Install(context.Background(), b.game, "", nil)
				if err != nil {
					t.Fatal(err)
				}
				if got := b.play(); got != want || res.Version != want {
					t.Fatalf("after installing again %q plays (%+v), want %q", got, res, want)
				}
				noTemp(t, b)
			})
		}
	}
}
