package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"satchel.dev/desktop/core"
	"satchel.dev/desktop/install"
	"satchel.dev/desktop/signer"
	"satchel.dev/shared/nostr"
)

// parse parses flags anywhere among the arguments and returns the positional ones, checking
// their number against min and max (max < 0: no limit).
func parse(fs *flag.FlagSet, args []string, minArgs, maxArgs int, usage string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%s: %v (usage: satchel %s)", fs.Name(), err, usage)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) < minArgs || (maxArgs >= 0 && len(pos) > maxArgs) {
		return nil, usagef("usage: satchel %s", usage)
	}
	return pos, nil
}

func (a *app) printJSON(v any) {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// out prints v as JSON in --json mode, else the text of human.
func (a *app) out(v any, human func(w io.Writer)) {
	if a.json {
		a.printJSON(v)
		return
	}
	human(a.stdout)
}

// identities is the keyring-backed identity store.
func (a *app) identities() *signer.Store {
	return signer.NewStore(a.dirs.Config, signer.OSKeyring{})
}

// signer returns the identity to sign with: SATCHEL_NSEC when set (CI), else the active (or
// --identity) identity from the keyring. Without any identity it returns nil and, when
// required, an error saying how to get one.
func (a *app) signer(required bool) (nostr.Signer, error) {
	if v := a.getenv("SATCHEL_NSEC"); v != "" {
		s, err := signer.NewSigner(v)
		if err != nil {
			return nil, fmt.Errorf("%w: SATCHEL_NSEC: %v", signer.ErrNoIdentity, err)
		}
		return s, nil
	}
	s, err := a.identities().Signer(a.identity)
	if err != nil {
		if !required && errors.Is(err, signer.ErrNoIdentity) && a.identity == "" {
			return nil, nil
		}
		return nil, err
	}
	return s, nil
}

// openCore opens the launcher engine, with the identity when withSigner; without it, the
// engine reads no identity and its library is every identity's (core.Config.AllIdentities).
func (a *app) openCore(withSigner, required bool) (*core.Core, error) {
	var sg nostr.Signer
	if withSigner {
		var err error
		if sg, err = a.signer(required); err != nil {
			return nil, err
		}
	}
	logLevel := slog.LevelWarn
	if a.getenv("SATCHEL_DEBUG") != "" {
		logLevel = slog.LevelDebug
	}
	c, err := core.Open(core.Config{
		Dirs: a.dirs, Signer: sg, AllIdentities: !withSigner, Server: a.server, Hook: crashHook(a.getenv("SATCHEL_TEST_CRASH_AT")),
		Logger: slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: logLevel})),
	})
	if err != nil {
		return nil, err
	}
	if rec := c.Recovery(); len(rec.Actions) > 0 && !a.json {
		for _, act := range rec.Actions {
			fmt.Fprintln(a.stderr, "recovered:", act)
		}
	}
	return c, nil
}

// crashHook is the SATCHEL_TEST_CRASH_AT test hook: it kills the process at the named step.
func crashHook(at string) func(step string, done, total int64) {
	if at == "" {
		return nil
	}
	return func(step string, done, total int64) {
		hit := false
		switch at {
		case "mid-download": // a streamed install: once it has recorded where to resume past half
			hit = (step == "download" || step == "checkpoint") && done*2 >= total
		case "mid-extract":
			hit = step == "extract" && done*2 >= total
		case "after-download":
			hit = step == "downloaded"
		case "after-extract":
			hit = step == "extracted"
		case "after-rename":
			hit = step == "renamed"
		}
		if hit {
			if self, err := os.FindProcess(os.Getpid()); err == nil {
				_ = self.Kill() // SIGKILL; TerminateProcess on Windows
			}
			time.Sleep(time.Minute) // never returns
		}
	}
}

// progressPrinter shows progress on standard error: a bar redrawn in place on a terminal,
// else a line per phase and per tenth; JSON lines in --json mode.
type progressPrinter struct {
	a        *app
	mu       sync.Mutex
	tty      bool
	phase    string
	lastTen  int64
	lastDraw time.Time
	drawn    bool
}

func (a *app) progress() *progressPrinter {
	tty := false
	if f, ok := a.stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progressPrinter{a: a, tty: tty}
}

func (p *progressPrinter) install(pr install.Progress) {
	p.show(string(pr.Phase), pr.Slug+" "+pr.Version, pr.Done, pr.Total, pr.BytesPerSecond, pr.ETA, pr)
}

func (p *progressPrinter) show(phase, what string, done, total int64, rate float64, eta time.Duration, raw any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.a.json {
		b, _ := json.Marshal(raw)
		fmt.Fprintln(p.a.stderr, string(b))
		return
	}
	line := fmt.Sprintf("%-11s %s", phase, what)
	if total > 0 {
		pct := done * 100 / total
		const width = 30
		fill := int(done * width / total)
		line += fmt.Sprintf(" [%s%s] %3d%% %s/%s", strings.Repeat("#", fill), strings.Repeat(".", width-fill), pct,
			install.Bytes(done), install.Bytes(total))
		if rate > 0 {
			line += fmt.Sprintf(" %s/s", install.Bytes(int64(rate)))
		}
		if eta > 0 {
			line += " ETA " + eta.String()
		}
	}
	if p.tty {
		if time.Since(p.lastDraw) < 100*time.Millisecond && phase == p.phase && done < total {
			return
		}
		fmt.Fprintf(p.a.stderr, "\r\033[K%s", line)
		p.drawn, p.lastDraw, p.phase = true, time.Now(), phase
		return
	}
	ten := int64(-1)
	if total > 0 {
		ten = done * 10 / total
	}
	if phase != p.phase || ten > p.lastTen {
		fmt.Fprintln(p.a.stderr, line)
		p.phase, p.lastTen = phase, ten
	}
}

// done ends the bar's line on a terminal.
func (p *progressPrinter) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		fmt.Fprintln(p.a.stderr)
		p.drawn = false
	}
}

// parseSize reads a byte count: 500000, 500K, 1.5M, 2G (powers of 1024); "off" is 0.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(strings.ToUpper(s))
	if s == "OFF" || s == "NONE" || s == "0" {
		return 0, nil
	}
	mult := int64(1)
	s = strings.TrimSuffix(strings.TrimSuffix(s, "B"), "I")
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, s[:len(s)-1]
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%q is not a size like 500K, 2M or off", s)
	}
	return int64(f * float64(mult)), nil
}

// jsonLine encodes one compact JSON document per line.
func jsonLine(w io.Writer) *json.Encoder { return json.NewEncoder(w) }
