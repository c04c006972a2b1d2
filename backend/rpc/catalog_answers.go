package rpc

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"satchel.dev/backend/metrics"
	"satchel.dev/shared/api/satchel/catalog/v1/catalogv1connect"
)

const (
	// maxAnswerRequestBytes bounds the request body, and the GET query, an answer is kept for:
	// the catalog's requests are a slug, or a query and a page token.
	maxAnswerRequestBytes = 2 << 10
	// maxAnswerBytes bounds one kept answer's body, and maxAnswersBytes all of them with their
	// requests.
	maxAnswerBytes  = 1 << 20
	maxAnswersBytes = 64 << 20
)

// answerKey names a catalog call by everything of its request the Connect handler's answer to
// an anonymous caller depends on: the procedure, the method, the GET query (message, encoding,
// compression), the body, and the headers that choose the codec, the compressions and the
// protocol version. Header values are joined by newlines, which no header value holds.
type answerKey struct {
	method, procedure, query, body                               string
	contentType, contentEncoding, acceptEncoding, connectVersion string
}

// keptAnswer is the Connect handler's 200 answer to a call: the headers it set and the body.
type keptAnswer struct {
	header http.Header
	body   []byte
}

// replay serves the public catalog's calls from the bytes of earlier answers. A catalog call
// with no Authorization header, whose request (answerKey) is the same as that of a call this
// cache answered with 200 at the current catalog version, gets that answer again (the same
// status, headers and body) without reaching next, and is counted in m as next's interceptors
// would count it. Every other call, and any call while the catalog version is unknown, goes to
// next, which must be the catalog's Connect handler; its 200 answers to anonymous Connect
// unary calls are kept. Requests that Connect would refuse, or that it reads differently from
// their bytes (an unknown Content-Type, a malformed Connect-Timeout-Ms), are never kept, as
// only what next answered 200 is. A nil cache serves everything with next.
func (c *catalogCache) replay(next http.Handler, m *metrics.Metrics) http.Handler {
	if c == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		key, ok := answerKeyOf(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		version, current := c.current()
		if current {
			c.mu.RLock()
			a, hit := c.answers[key]
			hit = hit && c.at == version
			c.mu.RUnlock()
			if hit {
				h := w.Header()
				for k, v := range a.header {
					h[k] = v // never changed in place: a.header's slices are full (a Clone)
				}
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write(a.body)
				m.ObserveRPC(key.procedure, code(nil), time.Since(start))
				return
			}
		}
		rec := &answerRecorder{w: w, header: http.Header{}}
		r.Body = io.NopCloser(strings.NewReader(key.body))
		next.ServeHTTP(rec, r)
		rec.WriteHeader(http.StatusOK) // as net/http does when the handler wrote nothing (an empty message)
		if current && rec.status == http.StatusOK && !rec.tooLarge {
			// Replayed with its length: net/http then sends the body as it is, never chunked.
			rec.kept["Content-Length"] = []string{strconv.Itoa(rec.body.Len())}
			c.keep(key, version, keptAnswer{header: rec.kept, body: rec.body.Bytes()})
		}
	})
}

// answerKeyOf returns the key of r if it is a call replay may serve: an anonymous Connect
// unary call of the catalog (GET, or POST in JSON or binary protobuf) whose timeout, if any, is
// one Connect accepts. It reads a POST's body, which the key then holds; when it is not such a
// call r's body is left to be read whole from the start.
func answerKeyOf(r *http.Request) (answerKey, bool) {
	h := r.Header
	key := answerKey{method: r.Method, procedure: r.URL.Path, query: r.URL.RawQuery,
		contentType: headerValues(h, "Content-Type"), contentEncoding: headerValues(h, "Content-Encoding"),
		acceptEncoding: headerValues(h, "Accept-Encoding"), connectVersion: headerValues(h, "Connect-Protocol-Version")}
	switch {
	case key.procedure != catalogv1connect.CatalogServiceGetGameProcedure && key.procedure != catalogv1connect.CatalogServiceListGamesProcedure,
		h.Get("Authorization") != "", !validTimeout(h.Values("Connect-Timeout-Ms")), len(key.query) > maxAnswerRequestBytes:
		return answerKey{}, false
	}
	switch r.Method {
	case http.MethodGet:
		return key, r.ContentLength == 0
	case http.MethodPost:
		switch key.contentType {
		case "application/json", "application/json; charset=utf-8", "application/proto":
		default:
			return answerKey{}, false
		}
		if r.ContentLength > maxAnswerRequestBytes {
			return answerKey{}, false
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxAnswerRequestBytes+1))
		if err != nil || len(body) > maxAnswerRequestBytes {
			r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
			return answerKey{}, false
		}
		key.body = string(body)
		return key, true
	}
	return answerKey{}, false
}

// headerValues is every value of the header k, joined by newlines.
func headerValues(h http.Header, k string) string {
	if v := h[k]; len(v) == 1 {
		return v[0]
	}
	return strings.Join(h[k], "\n")
}

// validTimeout reports whether v, the Connect-Timeout-Ms values of a request, is none or one
// that Connect sets as the call's deadline: up to 10 digits, more than zero.
func validTimeout(v []string) bool {
	switch {
	case len(v) == 0:
		return true
	case len(v) > 1 || len(v[0]) > 10:
		return false
	}
	ms, err := strconv.ParseInt(v[0], 10, 64)
	return err == nil && ms > 0
}

// readCloser reads from Reader and closes Closer.
type readCloser struct {
	io.Reader
	io.Closer
}

// answerRecorder passes an answer on to w and keeps a copy of it: the status, the headers set
// before the status was written, and the body up to maxAnswerBytes (tooLarge beyond). Its
// headers reach w when the status is written: its user writes it even when there is no body.
type answerRecorder struct {
	w        http.ResponseWriter
	header   http.Header // what the handler sets; copied to w's when the status is written
	kept     http.Header
	status   int
	body     bytes.Buffer
	tooLarge bool
}

func (a *answerRecorder) Header() http.Header { return a.header }

func (a *answerRecorder) WriteHeader(code int) {
	if a.status != 0 {
		return
	}
	a.status = code
	a.kept = a.header.Clone()
	h := a.w.Header()
	for k, v := range a.kept {
		h[k] = v
	}
	a.w.WriteHeader(code)
}

func (a *answerRecorder) Write(b []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	if a.body.Len()+len(b) > maxAnswerBytes {
		a.tooLarge = true
	} else if !a.tooLarge {
		a.body.Write(b)
	}
	return a.w.Write(b)
}

// keep keeps a, the answer to key read at version, unless the catalog has moved on since.
func (c *catalogCache) keep(key answerKey, version uint64, a keptAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.at {
		return // read before a change this cache has heard of
	}
	size := len(key.query) + len(key.body) + len(a.body)
	if version > c.at || len(c.answers) >= maxCatalogEntries || c.answersBytes+size > maxAnswersBytes {
		c.reset(version)
	}
	c.answers[key] = a
	c.answersBytes += size
}
