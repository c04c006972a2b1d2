package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"

	catalogv1 "satchel.dev/shared/api/satchel/catalog/v1"

	"satchel.dev/desktop/client"
	"satchel.dev/desktop/core"
	"satchel.dev/desktop/install"
	"satchel.dev/desktop/library"
	"satchel.dev/desktop/publish"
)

func (a *app) pushCmd(args []string) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	notesFile := fs.String("notes", "", "a file with the release notes (Markdown)")
	publishIt := fs.Bool("publish", false, "publish the release once the build is in")
	pos, err := parse(fs, args, 3, 3, "push SLUG VERSION BUILD.zip [--notes FILE] [--publish]")
	if err != nil {
		return err
	}
	notes := ""
	if *notesFile != "" {
		b, err := os.ReadFile(*notesFile)
		if err != nil {
			return usagef("--notes: %v", err)
		}
		notes = string(b)
	}
	c, err := a.openCore(true, true)
	if err != nil {
		return err
	}
	p := &publish.Pusher{Client: c.Client(), HTTP: &http.Client{Transport: client.NewTransport()}}
	pp := a.progress()
	res, err := p.Push(a.ctx, publish.PushOptions{Slug: pos[0], Version: pos[1], Zip: pos[2], Notes: notes, Publish: *publishIt},
		func(pr publish.Progress) { pp.show(pr.Phase, pos[0]+" "+pos[1], pr.Done, pr.Total, 0, 0, pr) })
	pp.done()
	if err != nil {
		return err
	}
	a.out(res, func(w io.Writer) {
		for _, g := range res.Gaps {
			fmt.Fprintf(w, "warning: no launch entry for %s: %s\n", g.Platform, g.Reason)
		}
		what := "uploaded"
		if !res.Uploaded {
			what = "already had this build"
		}
		fmt.Fprintf(w, "%s %s: %s (%s, sha256 %s)", res.Slug, res.Version, what, install.Bytes(res.Size), res.SHA256)
		if res.Published {
			fmt.Fprint(w, ", published")
		} else {
			fmt.Fprint(w, ", not published (push again with --publish)")
		}
		fmt.Fprintln(w)
	})
	return nil
}

type releaseJSON struct {
	ID          string    `json:"id"`
	Version     string    `json:"version"`
	Published   bool      `json:"published"`
	PublishedAt time.Time `json:"published_at,omitzero"`
	SHA256      string    `json:"sha256,omitempty"`
	Size        int64     `json:"size,omitempty"`
	Files       int64     `json:"files,omitempty"`
	Installed   int64     `json:"installed_bytes,omitempty"`
}

func (a *app) statusCmd(args []string) error {
	pos, err := parse(flag.NewFlagSet("status", flag.ContinueOnError), args, 1, 1, "status SLUG")
	if err != nil {
		return err
	}
	c, err := a.openCore(true, false)
	if err != nil {
		return err
	}
	out := map[string]any{}
	gg, err := c.Client().Catalog.GetGame(a.ctx, &catalogv1.GetGameRequest{Slug: pos[0]})
	if connect.CodeOf(err) == connect.CodeNotFound {
		return fmt.Errorf("%w: there is no game %q you can see", core.ErrUnknownGame, pos[0])
	}
	if err != nil {
		return err
	}
	g := gg.GetGame()
	out["game"] = map[string]any{"id": g.GetId(), "slug": g.GetSlug(), "title": g.GetTitle(), "status": strings.TrimPrefix(g.GetStatus().String(), "GAME_STATUS_"),
		"price_msat": g.GetPriceMsat(), "developer": g.GetDeveloperDisplayName()}
	var rels []releaseJSON
	for _, r := range gg.GetReleases() {
		rj := releaseJSON{ID: r.GetId(), Version: r.GetVersion(), Published: r.GetPublishedAt() != nil}
		if r.GetPublishedAt() != nil {
			rj.PublishedAt = r.GetPublishedAt().AsTime()
		}
		if b := r.GetBuild(); b != nil {
			rj.SHA256, rj.Size, rj.Files, rj.Installed = b.GetSha256(), b.GetSizeBytes(), b.GetFileCount(), b.GetInstalledBytes()
		}
		rels = append(rels, rj)
	}
	out["releases"] = rels
	var local *library.Entry
	if e, err := c.Game(pos[0]); err == nil {
		local = &e
		out["local"] = e
	}
	pending, err := c.Installer().PendingSize(pos[0])
	if err == nil {
		out["pending"] = pending
	} else if local != nil && local.Status == library.StatusUpdateAvailable {
		// The update has not started: its size needs the new release's manifest.
		if pending, err = c.UpdateSize(a.ctx, pos[0]); err != nil {
			return err
		}
		out["update"] = pending
	}
	a.out(out, func(w io.Writer) {
		fmt.Fprintf(w, "%s (%s): %s, %d sats\n", g.GetTitle(), g.GetSlug(), strings.TrimPrefix(g.GetStatus().String(), "GAME_STATUS_"), g.GetPriceMsat()/1000)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tPUBLISHED\tBUILD\tSIZE\tFILES")
		for _, r := range rels {
			pub, build := "no", "none"
			if r.Published {
				pub = r.PublishedAt.Local().Format("2006-01-02 15:04")
			}
			if r.SHA256 != "" {
				build = r.SHA256[:12]
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", r.Version, pub, build, install.Bytes(r.Size), r.Files)
		}
		tw.Flush()
		if local != nil {
			fmt.Fprintf(w, "on this machine: %s", local.Status)
			if local.Installed != "" {
				fmt.Fprintf(w, ", %s installed in %s", local.Installed, local.Dir)
			}
			fmt.Fprintln(w)
			if pending.Version != "" {
				what := "Install"
				if local.Installed != "" {
					what = "Update"
				}
				fmt.Fprintf(w, "%s %s: %s of %s", what, pending.Version, install.Bytes(pending.Fetch), install.Bytes(pending.BuildSize))
				if pending.Done > 0 {
					fmt.Fprintf(w, " (%s downloaded)", install.Bytes(pending.Done))
				}
				fmt.Fprintln(w)
			}
			if local.Failed != nil {
				fmt.Fprintf(w, "%s failed: %s\n", local.Failed.Version, local.Failed.Reason)
			}
		}
	})
	return nil
}
