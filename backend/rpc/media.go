package rpc

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"satchel.dev/backend/builds"
)

// mediaHandler serves games' images to anyone, at the paths market.Media.Path makes:
//
//	GET /media/{game id}/{sha256}.{png|jpg|webp}
//
// while the game is UNLISTED, LISTED or FEATURED (404 otherwise). A path names its content,
// so answers are cacheable for a year (immutable), with the sha256 as a strong ETag; Range and
// If-None-Match are honoured.
type mediaHandler struct {
	media *builds.Media
	log   *slog.Logger
}

func (h mediaHandler) serve(w http.ResponseWriter, r *http.Request) {
	m, obj, err := h.media.Open(r.Context(), r.PathValue("game"), r.PathValue("file"))
	if err != nil {
		status, msg := toHTTP(r.Context(), h.log, r.URL.Path, err)
		http.Error(w, msg, status)
		return
	}
	defer obj.Close()
	hd := w.Header()
	hd.Set("Content-Type", m.ContentType)
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	hd.Set("ETag", `"`+m.SHA256+`"`)
	hd.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, io.NewSectionReader(obj, 0, obj.Size()))
}
