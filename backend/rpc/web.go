package rpc

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"

	"satchel.dev/backend/builds"
	"satchel.dev/backend/market"
	"satchel.dev/backend/purchases"
	"satchel.dev/shared/nip98"
)

// The links that announcements on Nostr point at, under the public URL:
//
//	GET /games/{slug}                                 the game's page: what it is, its latest build
//	GET /games/{slug}/releases/{version}/build.zip    the build, for those entitled to it
//
// The build link answers 302 to a signed, expiring download URL (as GetDownload does) for a
// request signed with NIP-98 by an owner, the developer or an admin, or one that gives a guest's
// receipt code as ?receipt=; anyone else gets 401 saying where to buy the game.
type webHandler struct {
	games     market.GameService
	builds    *builds.Service
	purchases *purchases.Service
	auth      *authInterceptor
	publicURL string
	log       *slog.Logger
}

var gamePage = template.Must(template.New("game").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} on Satchel</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto; padding: 0 1em">
<h1>{{.Title}}</h1>
<p>{{.Summary}}</p>
<p>By {{.Developer}}. {{if .Free}}Free.{{else}}{{.Sats}} sats, paid over Lightning.{{end}}</p>
{{with .Latest}}<p>Latest version: {{.Version}}, a {{.Size}}-byte zip with sha256 <code>{{.SHA256}}</code>.</p>{{end}}
<p>Buy and install it with the Satchel launcher: search the store for “{{.Title}}”.</p>
</body></html>
`))

func (h webHandler) page(w http.ResponseWriter, r *http.Request) {
	g, releases, err := h.games.GameBySlug(r.Context(), market.Actor{}, r.PathValue("slug"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	type latest struct {
		Version, SHA256 string
		Size            int64
	}
	data := struct {
		Title, Summary, Developer string
		Free                      bool
		Sats                      int64
		Latest                    *latest
	}{Title: g.Title, Summary: g.Summary, Developer: g.By(), Free: g.PriceMsat == 0, Sats: g.PriceMsat / 1000}
	for _, rel := range releases {
		if rel.Published() && rel.Build != nil {
			data.Latest = &latest{Version: rel.Version, SHA256: rel.Build.SHA256, Size: rel.Build.SizeBytes}
			break
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = gamePage.Execute(w, data)
}

func (h webHandler) build(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	slug, version := r.PathValue("slug"), r.PathValue("version")
	g, releases, err := h.games.GameBySlug(ctx, market.Actor{}, slug)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	releaseID := ""
	for _, rel := range releases {
		if rel.Version == version && rel.Published() {
			releaseID = rel.ID
		}
	}
	if releaseID == "" {
		h.fail(w, r, market.Errorf(market.CodeNotFound, "game %q has no published release %q", slug, market.Clip(version)))
		return
	}
	a := market.Actor{}
	if r.Header.Get("Authorization") != "" {
		sctx := context.WithValue(ctx, signedRequestKey, signedRequest{
			url: h.publicURL + r.URL.RequestURI(), method: r.Method, payloadSHA256: nip98.PayloadHash(nil)})
		if sctx, err = h.auth.authenticate(sctx, r.Header); err != nil {
			h.fail(w, r, err)
			return
		}
		a = actor(sctx)
	}
	guest := ""
	if code := r.URL.Query().Get("receipt"); code != "" {
		if guest, err = h.purchases.EntitlementByReceipt(ctx, code, g.ID, client(ctx)); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	d, err := h.builds.GetDownload(ctx, a, g.ID, releaseID, builds.DownloadOptions{GuestEntitlement: guest}, client(ctx))
	if market.ErrorCode(err) == market.CodeUnauthenticated {
		err = market.Errorf(market.CodeUnauthenticated, "%s %s is for its owners: buy it in the Satchel launcher (%s/games/%s), "+
			"then download it there, or here with a NIP-98 signed GET or ?receipt=<your receipt code>", g.Title, version, h.publicURL, slug)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, d.URL, http.StatusFound)
}

// fail answers err as toHTTP translates it.
func (h webHandler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := toHTTP(r.Context(), h.log, r.URL.Path, err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Nostr")
	}
	http.Error(w, msg, status)
}
