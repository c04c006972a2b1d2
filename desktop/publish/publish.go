// Package publish is the developer's side of the launcher: pushing a build zip as a release
// of one of their games, the way CI pipelines call `satchel push`.
package publish

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	catalogv1 "satchel.dev/shared/api/satchel/catalog/v1"
	developerv1 "satchel.dev/shared/api/satchel/developer/v1"
	"satchel.dev/shared/zipsafe"

	"satchel.dev/desktop/client"
	"satchel.dev/desktop/launch"
)

// PushOptions say what to push.
type PushOptions struct {
	Slug    string
	Version string
	// Zip is the build zip's path.
	Zip string
	// Notes are the release notes (Markdown); empty leaves existing notes alone.
	Notes string
	// Publish publishes the release once its build is in place.
	Publish bool
}

// PushResult says what Push did.
type PushResult struct {
	Slug      string `json:"slug"`
	GameID    string `json:"game_id"`
	ReleaseID string `json:"release_id"`
	Version   string `json:"version"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	// Created is true when the release was created by this push.
	Created bool `json:"created"`
	// Uploaded is false when the release already had this very build.
	Uploaded bool `json:"uploaded"`
	// Published is true when the release is published (by this push or before).
	Published bool `json:"published"`
	// Gaps are the platforms the build cannot be launched on, with why (launch.Gaps): a
	// warning, as the Developer tab's change preview shows.
	Gaps []launch.Gap `json:"gaps,omitempty"`
}

// Progress reports an upload: bytes sent of total.
type Progress struct {
	Phase string `json:"phase"` // "checking", "uploading", "finishing", "publishing"
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
}

// Pusher pushes builds for the developer c signs as.
type Pusher struct {
	// Client is signed by the developer's identity.
	Client *client.Client
	// HTTP sends the upload (a plain PUT to a signed URL; never through the NIP-98
	// transport, which would hold the whole body in memory).
	HTTP *http.Client
}

// Push makes opts.Zip the build of release opts.Version of game opts.Slug: it checks the zip
// locally with the same safety rules as the server, creates the release if it does not exist
// (or updates its notes), uploads the zip unless the release already has that exact build,
// asks the server to check it (size, sha256, zip rules), and publishes the release if asked.
// Pushing the same build again is a no-op, so a retried CI job is safe. A published release
// with another build is refused: publish a new version instead. The platforms the build
// cannot be launched on are in the result's Gaps; a satchel.toml that does not parse is
// refused before anything is sent.
func (p *Pusher) Push(ctx context.Context, opts PushOptions, progress func(Progress)) (PushResult, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	res := PushResult{Slug: opts.Slug, Version: opts.Version}
	f, err := os.Open(opts.Zip)
	if err != nil {
		return res, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return res, err
	}
	res.Size = fi.Size()
	progress(Progress{Phase: "checking", Total: res.Size})
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 1<<20)); err != nil {
		return res, err
	}
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	if _, err := zipsafe.Scan(f, res.Size, zipsafe.Limits{}); err != nil {
		return res, fmt.Errorf("%s cannot be a build: %w", opts.Zip, err)
	}
	zr, err := zip.NewReader(f, res.Size)
	if err == nil {
		res.Gaps, err = launch.Gaps(zr)
	}
	if err != nil {
		return res, fmt.Errorf("%s cannot be launched anywhere: %w", opts.Zip, err)
	}

	gg, err := p.Client.Catalog.GetGame(ctx, &catalogv1.GetGameRequest{Slug: opts.Slug})
	if errors.Is(err, client.ErrNotFound) {
		return res, fmt.Errorf("there is no game %q you can see: create it first (or check that SATCHEL_NSEC / your identity is its developer's)", opts.Slug)
	}
	if err != nil {
		return res, err
	}
	game := gg.GetGame()
	res.GameID = game.GetId()
	if p.Client.Signer() == nil || game.GetDeveloperPubkey() != p.Client.Signer().PublicKey().Hex() {
		return res, fmt.Errorf("you are not the developer of %q: push with the developer's identity (SATCHEL_NSEC in CI)", opts.Slug)
	}
	var rel *catalogv1.Release
	for _, r := range gg.GetReleases() {
		if r.GetVersion() == opts.Version {
			rel = r
		}
	}
	published := func(r *catalogv1.Release) bool { return r.GetPublishedAt() != nil }
	sameBuild := func(r *catalogv1.Release) bool { return r.GetBuild() != nil && r.GetBuild().GetSha256() == res.SHA256 }
	switch {
	case rel == nil:
		cr, err := p.Client.Developer.CreateRelease(ctx, &developerv1.CreateReleaseRequest{GameId: res.GameID, Version: opts.Version, ReleaseNotesMd: opts.Notes})
		if err != nil {
			return res, err
		}
		rel, res.Created = cr.GetRelease(), true
	case published(rel) && !sameBuild(rel):
		return res, fmt.Errorf("version %s of %s is already published with another build: a published build cannot change, push a new version", opts.Version, opts.Slug)
	case !published(rel) && opts.Notes != "" && opts.Notes != rel.GetReleaseNotesMd():
		notes := opts.Notes
		if _, err := p.Client.Developer.UpdateRelease(ctx, &developerv1.UpdateReleaseRequest{ReleaseId: rel.GetId(), ReleaseNotesMd: &notes}); err != nil {
			return res, err
		}
	}
	res.ReleaseID = rel.GetId()
	if !sameBuild(rel) {
		if err := p.upload(ctx, f, &res, progress); err != nil {
			return res, err
		}
		res.Uploaded = true
	}
	res.Published = published(rel)
	if opts.Publish && !res.Published {
		progress(Progress{Phase: "publishing", Done: res.Size, Total: res.Size})
		if _, err := p.Client.Developer.PublishRelease(ctx, &developerv1.PublishReleaseRequest{ReleaseId: res.ReleaseID}); err != nil {
			return res, err
		}
		res.Published = true
	}
	return res, nil
}

// upload streams the zip to a fresh upload slot and has the server check it.
func (p *Pusher) upload(ctx context.Context, f *os.File, res *PushResult, progress func(Progress)) error {
	slot, err := p.Client.Developer.CreateUpload(ctx, &developerv1.CreateUploadRequest{ReleaseId: res.ReleaseID, SizeBytes: res.Size, Sha256: res.SHA256})
	if err != nil {
		return err
	}
	body := &countingReader{r: io.NewSectionReader(f, 0, res.Size)}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			progress(Progress{Phase: "uploading", Done: body.n.Load(), Total: res.Size})
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, slot.GetUrl(), body)
	if err != nil {
		return err
	}
	req.ContentLength = res.Size
	for k, v := range slot.GetHeaders() {
		req.Header.Set(k, v)
	}
	hres, err := p.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("uploading the build: %w (push again to retry)", err)
	}
	msg, _ := io.ReadAll(io.LimitReader(hres.Body, 1<<10))
	hres.Body.Close()
	if hres.StatusCode/100 != 2 {
		return fmt.Errorf("uploading the build: the storage answered %s: %s", hres.Status, strings.TrimSpace(string(msg)))
	}
	progress(Progress{Phase: "finishing", Done: res.Size, Total: res.Size})
	if _, err := p.Client.Developer.FinishUpload(ctx, &developerv1.FinishUploadRequest{UploadId: slot.GetUploadId()}); err != nil {
		var ce *client.Error
		if errors.Is(err, client.ErrFailedPrecondition) && errors.As(err, &ce) {
			return fmt.Errorf("the server refused the build: %s", ce.Message)
		}
		return err
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
