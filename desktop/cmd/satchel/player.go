package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"satchel.dev/desktop/client"
	"satchel.dev/desktop/core"
	"satchel.dev/desktop/install"
	"satchel.dev/desktop/library"
	"satchel.dev/desktop/settings"
)

func (a *app) libraryCmd(args []string) error {
	fs := flag.NewFlagSet("library", flag.ContinueOnError)
	offline := fs.Bool("offline", false, "show the local state without asking the server")
	if _, err := parse(fs, args, 0, 0, "library [--offline]"); err != nil {
		return err
	}
	c, err := a.openCore(!*offline, !*offline)
	if err != nil {
		return err
	}
	var lib []library.Entry
	var note string
	if *offline {
		lib, err = c.Library()
	} else {
		lib, err = c.Refresh(a.ctx)
		if err != nil && client.Offline(err) && lib != nil {
			note, err = err.Error(), nil
		}
	}
	if err != nil {
		return err
	}
	a.out(map[string]any{"games": lib, "offline": note != "" || *offline, "note": note, "server": c.Server()}, func(w io.Writer) {
		if note != "" {
			fmt.Fprintf(a.stderr, "offline: %s; showing what is installed\n", note)
		}
		if len(lib) == 0 {
			fmt.Fprintln(w, "your library is empty: `satchel buy SLUG` buys a game")
			return
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "GAME\tTITLE\tINSTALLED\tLATEST\tSTATUS")
		for _, e := range lib {
			status := string(e.Status)
			if e.Failed != nil && e.Failed.Version == e.Latest {
				status += " (" + e.Failed.Version + " failed: `satchel status " + e.Slug + "`)"
			}
			if !e.Owned {
				status += " (no longer owned)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Slug, e.Title, dash(e.Installed), dash(e.Latest), status)
		}
		tw.Flush()
	})
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (a *app) moveCmd(args []string) error {
	pos, err := parse(flag.NewFlagSet("library move", flag.ContinueOnError), args, 1, 1, "library move DIR")
	if err != nil {
		return err
	}
	c, err := a.openCore(false, false)
	if err != nil {
		return err
	}
	pp := a.progress()
	err = c.MoveLibrary(a.ctx, pos[0], func(p install.Progress) {
		pp.show("moving", p.Slug, p.Done, p.Total, 0, 0, p)
	})
	pp.done()
	if err != nil {
		return err
	}
	dir, _ := c.Installer().Library()
	a.out(map[string]string{"library": dir}, func(w io.Writer) { fmt.Fprintln(w, "the library is now in", dir) })
	return nil
}

func (a *app) buyCmd(args []string) error {
	fs := flag.NewFlagSet("buy", flag.ContinueOnError)
	guest := fs.Bool("guest", false, "buy without an identity: you get a receipt code")
	pay := fs.Bool("pay-test-money", false, "pay the invoice with test money (servers with the dev invoice provider only)")
	noWait := fs.Bool("no-wait", false, "print the invoice and exit")
	pos, err := parse(fs, args, 1, 1, "buy SLUG [--guest] [--pay-test-money] [--no-wait]")
	if err != nil {
		return err
	}
	c, err := a.openCore(!*guest, !*guest)
	if err != nil {
		return err
	}
	p, err := c.Buy(a.ctx, pos[0], *guest)
	if err != nil {
		return err
	}
	if !a.json {
		money := ""
		if p.TestMoney {
			money = " (TEST MONEY: nothing real is paid)"
		}
		fmt.Fprintf(a.stdout, "%s: %d sats%s\n", p.Title, p.AmountMsat/1000, money)
		if p.ReceiptCode != "" {
			fmt.Fprintf(a.stdout, "receipt code (keep it, it is shown only once): %s\n", p.ReceiptCode)
		}
		if p.Invoice != "" && p.Status == "PENDING" {
			fmt.Fprintf(a.stdout, "pay this Lightning invoice:\n%s\n", p.Invoice)
		}
	}
	if p.Status == "PENDING" && *pay {
		if !p.TestMoney {
			return errors.New("this server takes real money: pay the invoice with a Lightning wallet")
		}
		if err := c.PayTestMoney(a.ctx, p.Invoice); err != nil {
			return err
		}
	}
	if p.Status == "PENDING" && !*noWait {
		if !a.json {
			fmt.Fprintf(a.stderr, "waiting for the payment (the invoice expires at %s; Ctrl-C stops waiting)...\n", p.ExpiresAt.Local().Format("15:04"))
		}
		if p, err = c.WaitPurchase(a.ctx, p, nil); err != nil {
			return err
		}
	} else if p.Status == "PAID" && !p.Guest {
		_, _ = c.Refresh(a.ctx)
	}
	a.out(p, func(w io.Writer) {
		switch p.Status {
		case "PAID":
			fmt.Fprintf(w, "paid: %s is yours. `satchel install %s` installs it\n", p.Title, p.Slug)
		case "PENDING":
			fmt.Fprintln(w, "not paid yet")
		default:
			fmt.Fprintf(w, "the purchase is %s %s\n", strings.ToLower(string(p.Status)), p.FailureReason)
		}
	})
	if p.Final() && p.Status != "PAID" {
		return fmt.Errorf("the purchase of %s is %s", p.Slug, strings.ToLower(string(p.Status)))
	}
	return nil
}

func (a *app) claimCmd(args []string) error {
	pos, err := parse(flag.NewFlagSet("claim", flag.ContinueOnError), args, 1, 1, "claim RECEIPT-CODE")
	if err != nil {
		return err
	}
	c, err := a.openCore(true, true)
	if err != nil {
		return err
	}
	p, err := c.ClaimReceipt(a.ctx, pos[0])
	if err != nil {
		return err
	}
	a.out(p, func(w io.Writer) { fmt.Fprintf(w, "%s is now in your library\n", p.Title) })
	return nil
}

func (a *app) installCmd(args []string) error {
	fs := flag.NewFlagSet("install", flag.ContinueOnError)
	version := fs.String("version", "", "install this version instead of the latest")
	receipt := fs.String("receipt", "", "a guest purchase's receipt code")
	pos, err := parse(fs, args, 1, 1, "install SLUG [--version V] [--receipt CODE]")
	if err != nil {
		return err
	}
	c, err := a.openCore(*receipt == "", *receipt == "")
	if err != nil {
		return err
	}
	pp := a.progress()
	res, err := c.Install(a.ctx, pos[0], core.InstallOptions{Version: *version, ReceiptCode: *receipt}, pp.install)
	pp.done()
	if err != nil {
		return err
	}
	a.out(res, func(w io.Writer) {
		if res.AlreadyInstalled {
			fmt.Fprintf(w, "%s %s is already installed in %s\n", res.Slug, res.Version, res.Dir)
			return
		}
		fmt.Fprintf(w, "installed %s %s in %s", res.Slug, res.Version, res.Dir)
		if res.Resumed > 0 {
			fmt.Fprintf(w, " (resumed a download at %s)", install.Bytes(res.Resumed))
		}
		fmt.Fprintf(w, ": fetched %s", install.Bytes(res.Fetched))
		if res.Reused > 0 {
			fmt.Fprintf(w, ", reused %s of the installed version", install.Bytes(res.Reused))
		}
		fmt.Fprintln(w)
		if res.Previous != "" {
			fmt.Fprintf(w, "%s stays until %s has launched once\n", res.Previous, res.Version)
		}
	})
	return nil
}

func (a *app) launchCmd(args []string) error {
	fs := flag.NewFlagSet("launch", flag.ContinueOnError)
	detach := fs.Bool("detach", false, "return once the game has started")
	pos, err := parse(fs, args, 1, 1, "launch SLUG [--detach]")
	if err != nil {
		return err
	}
	// Launching needs no identity and no server: the local state says what to run.
	var out, errOut io.Writer = os.Stdout, os.Stderr
	if a.json {
		out = os.Stderr
	}
	if *detach {
		out, errOut = nil, nil
	}
	c, err := a.openCoreForGames(out, errOut)
	if err != nil {
		return err
	}
	s, err := c.Launch(a.ctx, pos[0])
	if err != nil {
		return err
	}
	if !a.json {
		if s.RolledBack != nil {
			fmt.Fprintf(a.stderr, "%s %s failed to launch (%s): rolled back to %s\n", s.Slug, s.RolledBack.From, s.RolledBack.Reason, s.RolledBack.To)
		}
		fmt.Fprintf(a.stderr, "launched %s %s (pid %d)\n", s.Slug, s.Version, s.PID)
	}
	result := map[string]any{"slug": s.Slug, "version": s.Version, "pid": s.PID, "dir": s.Dir, "rolled_back": s.RolledBack}
	if *detach {
		a.out(result, func(io.Writer) {})
		return nil
	}
	var e = s.Wait()
	result["exit_code"], result["ran_seconds"] = e.Code, e.Ran.Seconds()
	a.out(result, func(w io.Writer) {})
	if !e.Success() {
		return gameExit{fmt.Sprintf("%s %s ended with %s", s.Slug, s.Version, e)}
	}
	return nil
}

// openCoreForGames opens the engine to run games: it reads no identity (any identity's
// installed game runs), and the game's output goes to out.
func (a *app) openCoreForGames(out, errOut io.Writer) (*core.Core, error) {
	return core.Open(core.Config{Dirs: a.dirs, AllIdentities: true, Server: a.server, GameStdout: out, GameStderr: errOut})
}

func (a *app) uninstallCmd(args []string) error {
	pos, err := parse(flag.NewFlagSet("uninstall", flag.ContinueOnError), args, 1, 1, "uninstall SLUG")
	if err != nil {
		return err
	}
	c, err := a.openCore(false, false)
	if err != nil {
		return err
	}
	if err := c.Uninstall(pos[0]); err != nil {
		return err
	}
	a.out(map[string]string{"uninstalled": pos[0]}, func(w io.Writer) { fmt.Fprintf(w, "uninstalled %s\n", pos[0]) })
	return nil
}

func (a *app) verifyCmd(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	repair := fs.Bool("repair", false, "restore damaged or missing files from the server")
	pos, err := parse(fs, args, 1, 1, "verify SLUG [--repair]")
	if err != nil {
		return err
	}
	c, err := a.openCore(*repair, *repair)
	if err != nil {
		return err
	}
	pp := a.progress()
	rep, err := c.Verify(a.ctx, pos[0], *repair, pp.install)
	pp.done()
	if err != nil && rep.Slug == "" {
		return err
	}
	a.out(rep, func(w io.Writer) {
		fmt.Fprintf(w, "%s %s: %d files checked, %d damaged, %d repaired\n", rep.Slug, rep.Version, rep.Checked, len(rep.Damaged), len(rep.Repaired))
		repaired := map[string]bool{}
		for _, p := range rep.Repaired {
			repaired[p] = true
		}
		for _, d := range rep.Damaged {
			fix := "damaged"
			if repaired[d.Path] {
				fix = "repaired"
			}
			fmt.Fprintf(w, "  %s: %s (%s)\n", d.Path, d.Problem, fix)
		}
		for _, x := range rep.Extra {
			fmt.Fprintf(w, "  %s: not part of the build (left alone)\n", x)
		}
	})
	if err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("%w: %d files of %s are damaged: `satchel verify %s --repair` restores them", install.ErrVerify, len(rep.Damaged), rep.Slug, rep.Slug)
	}
	return nil
}

func (a *app) syncCmd(args []string) error {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	once := fs.Bool("once", false, "refresh, install what auto-update would, then exit")
	if _, err := parse(fs, args, 0, 0, "sync [--once]"); err != nil {
		return err
	}
	c, err := a.openCore(true, true)
	if err != nil {
		return err
	}
	if *once {
		return a.syncOnce(c)
	}
	events, stop := c.Subscribe()
	defer stop()
	done := make(chan error, 1)
	go func() { done <- c.Run(a.ctx) }()
	for {
		select {
		case err := <-done:
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		case e := <-events:
			a.showEvent(e)
		}
	}
}

func (a *app) showEvent(e core.Event) {
	if a.json {
		a.printJSONLine(e)
		return
	}
	switch e.Kind {
	case core.EventProgress:
		if p := e.Progress; p.Phase != install.PhaseDownloading && p.Phase != install.PhaseExtracting {
			fmt.Fprintf(a.stdout, "%s %s: %s %s\n", time.Now().Format("15:04:05"), e.Slug, p.Phase, p.Version)
		}
	case core.EventSync:
		state := "disconnected"
		if e.Sync.Connected {
			state = "connected"
		}
		msg := ""
		if e.Sync.LastError != "" && !e.Sync.Connected {
			msg = ": " + e.Sync.LastError
		}
		fmt.Fprintf(a.stdout, "%s library stream %s%s\n", time.Now().Format("15:04:05"), state, msg)
	case core.EventLibrary:
	default:
		fmt.Fprintf(a.stdout, "%s %s: %s %s %s\n", time.Now().Format("15:04:05"), e.Slug, e.Kind, e.Version, e.Message)
	}
}

func (a *app) printJSONLine(v any) {
	enc := jsonLine(a.stdout)
	_ = enc.Encode(v)
}

func (a *app) syncOnce(c *core.Core) error {
	lib, err := c.Refresh(a.ctx)
	if err != nil {
		return err
	}
	set, err := c.Settings()
	if err != nil {
		return err
	}
	pp := a.progress()
	var results []install.Result
	var failed []string
	for _, e := range lib {
		if e.Status != library.StatusNotInstalled && e.Status != library.StatusUpdateAvailable && e.Status != library.StatusInstalling {
			continue
		}
		if !set.AutoUpdateFor(e.Slug) || (e.Failed != nil && e.Failed.Version == e.Latest) {
			continue
		}
		res, err := c.Install(a.ctx, e.Slug, core.InstallOptions{}, pp.install)
		pp.done()
		if err != nil {
			failed = append(failed, e.Slug+": "+err.Error())
			continue
		}
		results = append(results, res)
	}
	a.out(map[string]any{"installed": results, "failed": failed}, func(w io.Writer) {
		for _, r := range results {
			fmt.Fprintf(w, "installed %s %s\n", r.Slug, r.Version)
		}
		if len(results) == 0 && len(failed) == 0 {
			fmt.Fprintln(w, "everything is up to date")
		}
	})
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

func (a *app) configCmd(args []string) error {
	st := settings.NewStore(a.dirs.Config)
	if len(args) == 0 {
		set, err := st.Load()
		if err != nil {
			return err
		}
		a.out(set, func(w io.Writer) {
			fmt.Fprintf(w, "server          %s\nauto-update     %s\nspeed-limit     %s\nmax-downloads   %d\nkeep-downloads  %s\n",
				set.Server, onOff(*set.AutoUpdate), speed(set.SpeedLimit), set.MaxDownloads, onOff(set.KeepDownloads))
			keys := make([]string, 0, len(set.GameAutoUpdate))
			for k := range set.GameAutoUpdate {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(w, "auto-update %s: %s\n", k, onOff(set.GameAutoUpdate[k]))
			}
		})
		return nil
	}
	if len(args) != 3 || args[0] != "set" {
		return usagef("usage: satchel config [set KEY VALUE]")
	}
	key, val := args[1], args[2]
	c, err := a.openCore(false, false)
	if err != nil {
		return err
	}
	set, err := c.UpdateSettings(func(s *settings.Settings) error {
		switch key {
		case "server":
			s.Server = val
		case "auto-update":
			on, err := parseOnOff(val)
			if err != nil {
				return err
			}
			s.AutoUpdate = &on
		case "speed-limit":
			n, err := parseSize(val)
			if err != nil {
				return usagef("%v", err)
			}
			s.SpeedLimit = n
		case "max-downloads":
			var n int
			if _, err := fmt.Sscan(val, &n); err != nil || n < 1 {
				return usagef("max-downloads is a number from 1 to 8")
			}
			s.MaxDownloads = n
		case "keep-downloads":
			on, err := parseOnOff(val)
			if err != nil {
				return err
			}
			s.KeepDownloads = on
		default:
			return usagef("unknown setting %q (server, auto-update, speed-limit, max-downloads, keep-downloads)", key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.out(set, func(w io.Writer) { fmt.Fprintf(w, "%s set to %s\n", key, val) })
	return nil
}

func (a *app) autoUpdateCmd(args []string) error {
	if len(args) != 2 {
		return usagef("usage: satchel auto-update SLUG on|off|default")
	}
	var on *bool
	if args[1] != "default" {
		v, err := parseOnOff(args[1])
		if err != nil {
			return err
		}
		on = &v
	}
	c, err := a.openCore(false, false)
	if err != nil {
		return err
	}
	if err := c.SetAutoUpdate(args[0], on); err != nil {
		return err
	}
	a.out(map[string]any{"slug": args[0], "auto_update": on}, func(w io.Writer) {
		fmt.Fprintf(w, "auto-update for %s: %s\n", args[0], args[1])
	})
	return nil
}

func parseOnOff(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "on", "true", "yes", "1":
		return true, nil
	case "off", "false", "no", "0":
		return false, nil
	}
	return false, usagef("say on or off, not %q", s)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func speed(bps int64) string {
	if bps == 0 {
		return "unlimited"
	}
	return install.Bytes(bps) + "/s"
}
