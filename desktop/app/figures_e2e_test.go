//go:build e2e

package app

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"satchel.dev/desktop/settings"
)

// BenchmarkWindow measures the launcher window beside the bare Wails react-ts template, both
// built with `wails build -tags webkit2_41` in this run and started the same way on the same
// display: the cold start to an interactive store (from starting the process to the store
// showing the server's games; for the template, to its first screen), and the idle memory
// (mean of two idle measures, RSS summed over the app's processes: the app, WebKit's web and network processes). Run by
// `make bench` with -benchtime=1x; each iteration starts both apps several times and reports
// the medians and the ratios (goal: at most 1.2 on both).
func BenchmarkWindow(b *testing.B) {
	ours := buildLauncher(b)
	template := buildTemplate(b)
	d := startDisplay(b)
	root := b.TempDir()
	player := settings.Dirs{Data: filepath.Join(root, "data"), Config: filepath.Join(root, "config")}
	if _, err := identity(player, ""); err != nil {
		b.Fatal(err)
	}
	const rounds = 7
	for b.Loop() {
		var starts, tstarts, rss, trss []float64
		for i := range rounds {
			measure := i >= rounds-2 // memory: the last two rounds
			s, m := coldStart(b, d, root, player, ours, measure)
			starts = append(starts, s)
			if measure {
				rss = append(rss, m)
			}
			s, m = coldStart(b, d, root, player, template, measure)
			tstarts = append(tstarts, s)
			if measure {
				trss = append(trss, m)
			}
		}
		start, tstart := median(starts), median(tstarts)
		mem, tmem := mean(rss), mean(trss)
		b.ReportMetric(start, "start-ms")
		b.ReportMetric(tstart, "template-start-ms")
		b.ReportMetric(start/tstart, "start-ratio")
		b.ReportMetric(mem, "idle-RSS-MiB")
		b.ReportMetric(tmem, "template-idle-RSS-MiB")
		b.ReportMetric(mem/tmem, "RSS-ratio")
		b.Logf("\n%-28s %12s %12s %7s\n%-28s %10.0f ms %10.0f ms %7.2f\n%-28s %8.0f MiB %8.0f MiB %7.2f\n(cold starts: ours %v ms, template %v ms)",
			"", "launcher", "template", "ratio",
			"cold start to the store", start, tstart, start/tstart,
			"idle memory (RSS, all procs)", mem, tmem, mem/tmem, rounded(starts), rounded(tstarts))
	}
}

// coldStart starts bin, waits for its ready line and returns the time that took (ms); with
// measure, it also waits for the app to idle and returns its memory (MiB), else 0.
func coldStart(b *testing.B, d *display, root string, player settings.Dirs, bin string, measure bool) (float64, float64) {
	p := spawn(b, root, windowEnv(d, player.Data, player.Config), bin)
	defer p.stop()
	at := p.waitLine(b, "satchel-launcher: ready store", 60*time.Second)
	ms := float64(at.Sub(p.started).Microseconds()) / 1000
	if !measure {
		return ms, 0
	}
	// A measurement, not a wait for an event: idle memory is what the app holds after some
	// seconds of idling (the first paint's garbage collected, sync connected).
	time.Sleep(8 * time.Second)
	return ms, float64(p.rss(b)) / (1 << 20)
}

// buildTemplate generates the bare react-ts template with the Wails CLI, makes it print the
// same ready line once its first screen has rendered, and builds it as the launcher is built.
func buildTemplate(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "bare")
	wails := wailsCLI(b)
	run := func(name string, args ...string) {
		cmd := exec.Command(name, args...)
		cmd.Dir = filepath.Dir(dir)
		if _, err := os.Stat(dir); err == nil {
			cmd.Dir = dir
		}
		cmd.Env = append(os.Environ(), "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	run(wails, "init", "-n", "bare", "-t", "react-ts", "-d", dir)
	patch := func(file, old, new string) {
		p := filepath.Join(dir, file)
		src, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		if !strings.Contains(string(src), old) {
			b.Fatalf("the template's %s changed: no %q in it", file, old)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(src), old, new, 1)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	err := os.WriteFile(filepath.Join(dir, "ready.go"), []byte(`package main

import "fmt"

// Ready prints the line the benchmark waits for, as the launcher does.
func (a *App) Ready(screen string) { fmt.Println("satchel-launcher: ready " + screen) }
`), 0o644)
	if err != nil {
		b.Fatal(err)
	}
	patch("frontend/src/App.tsx", "import {useState} from 'react';", "import {useEffect, useState} from 'react';")
	patch("frontend/src/App.tsx", `import {Greet} from "../wailsjs/go/main/App";`, `import {Greet, Ready} from "../wailsjs/go/main/App";`)
	patch("frontend/src/App.tsx", "function App() {\n", "function App() {\n    useEffect(() => { const id = requestAnimationFrame(() => { Ready('store') }); return () => cancelAnimationFrame(id) }, []);\n")
	run(wails, "build", "-m", "-nosyncgomod", "-trimpath", "-nocolour", "-tags", "webkit2_41")
	return filepath.Join(dir, "build", "bin", "bare")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func mean(v []float64) float64 {
	var sum float64
	for _, x := range v {
		sum += x
	}
	return sum / float64(len(v))
}

func rounded(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.0f", x)
	}
	return strings.Join(parts, " ")
}
