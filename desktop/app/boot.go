package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"satchel.dev/desktop/core"
)

// The window's first screen needs the status and the store's first page. Rather than have it
// ask through the bridge once its script runs (a round trip, then a second render), the
// bridge writes what it already has into the page itself: a small script at the top of
// index.html sets window.__satchelBoot (read by frontend/src/preload.ts). It holds nothing
// secret (public keys, the public catalog). Without it, the window asks as usual.

// DefaultBootWait is how long index.html waits, at most, for the engine and the store's first
// page (Config.BootWait).
const DefaultBootWait = 400 * time.Millisecond

// boot is what the page is handed.
type boot struct {
	Status *Status        `json:"status,omitempty"`
	Games  *core.GamePage `json:"games,omitempty"`
}

// firstPage is the store's first page, fetched once when the window opens.
type firstPage struct {
	once sync.Once
	done chan struct{}
	page *core.GamePage
}

// prefetch fetches the store's first page for the page.
func (a *App) prefetch() {
	a.first.once.Do(func() {
		defer close(a.first.done)
		c, ctx, err := a.current()
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if p, err := c.Games(ctx, "", ""); err == nil {
			a.first.page = &p
		}
	})
}

// bootData is what the bridge has for the first screen, waiting at most Config.BootWait for it.
func (a *App) bootData() boot {
	var b boot
	deadline := time.NewTimer(a.cfg.BootWait)
	defer deadline.Stop()
	select {
	case <-a.opened:
	case <-deadline.C:
		return b
	}
	st := a.Status()
	b.Status = &st
	select {
	case <-a.first.done:
		b.Games = a.first.page
	case <-deadline.C:
	}
	return b
}

// bootMiddleware writes the boot script into index.html as it is served (from the embedded
// assets, or from Vite under `wails dev`), and hands every other request on unchanged.
func (a *App) bootMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || (r.URL.Path != "/" && r.URL.Path != "/index.html") {
			next.ServeHTTP(w, r)
			return
		}
		rec := &recorder{header: http.Header{}, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		body := rec.body.Bytes()
		if i := bytes.Index(body, []byte("<head>")); rec.code == http.StatusOK && i >= 0 {
			if js, err := json.Marshal(a.bootData()); err == nil { // escapes <, > and &: safe in a script
				at := i + len("<head>")
				script := append(append([]byte("<script>window.__satchelBoot = "), js...), ";</script>"...)
				body = append(body[:at:at], append(script, body[at:]...)...)
			}
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(rec.code)
		_, _ = w.Write(body)
	})
}

// recorder keeps a response to change it before it is sent.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(code int)        { r.code = code }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }
