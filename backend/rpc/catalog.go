package rpc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"satchel.dev/backend/market"
	catalogv1 "satchel.dev/shared/api/satchel/catalog/v1"
	"satchel.dev/shared/api/satchel/catalog/v1/catalogv1connect"
)

// catalogHandler answers the public catalog, from its cache when it has one. Every answer
// carries an ETag of its content, and GET answers (Connect's GET for side-effect-free RPCs)
// Cache-Control "public, no-cache": browsers, the launcher and CDNs keep them and revalidate
// each use, and notModified answers a matching If-None-Match with 304.
type catalogHandler struct {
	games market.GameService
	cache *catalogCache // nil: every call reads games
}

func (h catalogHandler) ListGames(ctx context.Context, req *catalogv1.ListGamesRequest) (*catalogv1.ListGamesResponse, error) {
	// The store's list is the same for every caller.
	f := market.GameFilter{Query: req.GetQuery(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()}
	e, err := h.cache.read(catalogKey{list: true, filter: f}, func() (catalogEntry, error) {
		page, err := h.games.ListGames(ctx, market.Actor{}, f)
		if err != nil {
			return catalogEntry{}, err
		}
		out := &catalogv1.ListGamesResponse{NextPageToken: page.NextPageToken}
		for _, g := range page.Games {
			out.Games = append(out.Games, gameToProto(g))
		}
		return catalogEntry{msg: out}, nil
	})
	if err != nil {
		return nil, err
	}
	setCacheHeaders(ctx, e.etag)
	return e.msg.(*catalogv1.ListGamesResponse), nil
}

func (h catalogHandler) GetGame(ctx context.Context, req *catalogv1.GetGameRequest) (*catalogv1.GetGameResponse, error) {
	slug := req.GetSlug()
	public := func() (catalogEntry, error) {
		g, releases, err := h.games.GameBySlug(ctx, market.Actor{}, slug)
		if err != nil {
			return catalogEntry{}, err
		}
		return catalogEntry{msg: &catalogv1.GetGameResponse{Game: gameToProto(g), Releases: releasesToProto(releases)},
			developer: g.DeveloperUserID}, nil
	}
	a := actor(ctx)
	e, err := h.cache.read(catalogKey{slug: slug}, public)
	// The public view is everyone's but the game's developer's and the admins' (who also see
	// what is not published); a game the public cannot see may be theirs.
	if a.Admin || (a.UserID != "" && (err != nil || a.UserID == e.developer)) {
		g, releases, err := h.games.GameBySlug(ctx, a, slug)
		if err != nil {
			return nil, err
		}
		return &catalogv1.GetGameResponse{Game: gameToProto(g), Releases: releasesToProto(releases)}, nil
	}
	if err != nil {
		return nil, err
	}
	setCacheHeaders(ctx, e.etag)
	return e.msg.(*catalogv1.GetGameResponse), nil
}

var _ catalogv1connect.CatalogServiceHandler = catalogHandler{}

// setCacheHeaders gives a public answer its ETag and, asked with GET, its Cache-Control.
func setCacheHeaders(ctx context.Context, etag string) {
	call, ok := connect.CallInfoForHandlerContext(ctx)
	if !ok {
		return
	}
	h := call.ResponseHeader()
	h.Set("ETag", etag)
	if call.HTTPMethod() == http.MethodGet {
		h.Set("Cache-Control", "public, no-cache")
	}
}

// CatalogVersion tells whether the catalog may have changed: version moves on whenever it may
// have, and ok is false while a change could go unheard. postgres.Notifier.CatalogVersion
// implements it from the database's change notifications.
type CatalogVersion func() (version uint64, ok bool)

// maxCatalogEntries bounds the cache: queries and slugs are the callers' to choose.
const maxCatalogEntries = 10_000

// catalogCache keeps the public catalog's answers (and not-found errors) for as long as the
// catalog version they were read at is the current one, so an answer is never served after
// this instance has heard of a change, from any instance. Its zero value (nil) keeps nothing.
type catalogCache struct {
	version CatalogVersion
	// local counts the calls this instance served that may have changed the catalog (see
	// writes): their callers read their own changes at once, before the notification arrives.
	local   atomic.Uint64
	mu      sync.RWMutex
	at      uint64 // the version of every entry and answer
	entries map[catalogKey]catalogEntry
	json    map[proto.Message][]byte // each entry's message in JSON, as the JSON codec sends it
	// answers are whole HTTP answers to anonymous calls (see replay), answersBytes their
	// bodies' size with their requests'.
	answers      map[answerKey]keptAnswer
	answersBytes int
}

// current is the cache's version: the catalog's, moved on by this instance's own changes too
// (both only grow, so their sum changes whenever either does).
func (c *catalogCache) current() (uint64, bool) {
	v, ok := c.version()
	return v + c.local.Load(), ok
}

// writes is the interceptor of the services that change the catalog (developer, admin,
// account): once a call returns, before its answer is sent, the cache's version moves on.
func (c *catalogCache) writes() connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			defer c.local.Add(1)
			return next(ctx, req)
		}
	})
}

// catalogKey names a cached answer: a ListGames page, or a GetGame slug.
type catalogKey struct {
	list   bool
	filter market.GameFilter
	slug   string
}

// catalogEntry is a cached answer: the message and its ETag, or the error; with the game's
// developer for GetGame.
type catalogEntry struct {
	msg       proto.Message
	etag      string
	err       error
	developer string
}

func newCatalogCache(version CatalogVersion) *catalogCache {
	if version == nil {
		return nil
	}
	c := &catalogCache{version: version}
	c.reset(0)
	return c
}

// reset empties the cache and sets its version. The caller holds mu (or is newCatalogCache).
func (c *catalogCache) reset(version uint64) {
	c.at, c.entries, c.json = version, map[catalogKey]catalogEntry{}, map[proto.Message][]byte{}
	c.answers, c.answersBytes = map[answerKey]keptAnswer{}, 0
}

// read returns the answer for key: the cached one if it is current, else load's (given its
// ETag), kept when its catalog version is still current. Only not-found errors are kept.
func (c *catalogCache) read(key catalogKey, load func() (catalogEntry, error)) (catalogEntry, error) {
	var version uint64
	var ok bool
	if c != nil {
		if version, ok = c.current(); ok {
			c.mu.RLock()
			e, hit := c.entries[key]
			hit = hit && c.at == version
			c.mu.RUnlock()
			if hit {
				return e, e.err
			}
		}
	}
	e, err := load()
	if err == nil {
		e.etag = etag(e.msg)
	} else if market.ErrorCode(err) == market.CodeNotFound {
		e.err = err
	} else {
		return e, err
	}
	if ok {
		c.put(key, version, e)
	}
	return e, e.err
}

// put keeps e, read at version, unless the catalog has moved on since.
func (c *catalogCache) put(key catalogKey, version uint64, e catalogEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.at {
		return // read before a change this cache has heard of
	}
	if version > c.at || len(c.entries) >= maxCatalogEntries {
		c.reset(version)
	}
	c.entries[key] = e
	if e.msg != nil {
		if b, err := (protojson.MarshalOptions{}).Marshal(e.msg); err == nil {
			c.json[e.msg] = b
		}
	}
}

// jsonOf returns msg in JSON if it is a cached answer.
func (c *catalogCache) jsonOf(msg any) ([]byte, bool) {
	m, ok := msg.(proto.Message)
	if c == nil || !ok {
		return nil, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	b, ok := c.json[m]
	return b, ok
}

// catalogJSON is the catalog service's JSON codec: connect's own (protojson; unknown fields
// ignored), but a cached answer is sent as the bytes kept with it rather than encoded again.
type catalogJSON struct {
	name  string // "json", or "json; charset=utf-8"
	cache *catalogCache
}

func (c catalogJSON) Name() string { return c.name }

func (c catalogJSON) Marshal(msg any) ([]byte, error) { return c.MarshalAppend(nil, msg) }

func (c catalogJSON) MarshalAppend(dst []byte, msg any) ([]byte, error) {
	if b, ok := c.cache.jsonOf(msg); ok {
		return append(dst, b...), nil
	}
	m, ok := msg.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%T is not a protobuf message", msg)
	}
	return protojson.MarshalOptions{}.MarshalAppend(dst, m)
}

func (c catalogJSON) Unmarshal(b []byte, msg any) error {
	m, ok := msg.(proto.Message)
	if !ok {
		return fmt.Errorf("%T is not a protobuf message", msg)
	}
	if len(b) == 0 {
		return errors.New("zero-length payload is not a valid JSON object")
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, m)
}

// codecs are the handler options that make connect use catalogJSON.
func (c *catalogCache) codecs() []connect.HandlerOption {
	if c == nil {
		return nil
	}
	return []connect.HandlerOption{connect.WithCodec(catalogJSON{"json", c}), connect.WithCodec(catalogJSON{"json; charset=utf-8", c})}
}

// etag is a weak ETag of msg's content (weak: the bytes sent vary with the codec and compression
// the client asks for).
func etag(msg proto.Message) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
	sum := sha256.Sum256(b)
	return `W/"` + hex.EncodeToString(sum[:16]) + `"`
}

// notModified answers a GET whose If-None-Match names the ETag the handler gave its answer with
// 304 Not Modified and no body, as RFC 9110 section 13.1.2 asks.
func notModified(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		match := r.Header.Get("If-None-Match")
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || match == "" {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&conditionalWriter{ResponseWriter: w, match: match}, r)
	})
}

// conditionalWriter turns a 200 whose ETag matches into a 304 without a body.
type conditionalWriter struct {
	http.ResponseWriter
	match       string
	wroteHeader bool
	dropBody    bool
}

func (c *conditionalWriter) WriteHeader(code int) {
	if c.wroteHeader {
		return
	}
	c.wroteHeader = true
	h := c.Header()
	if code == http.StatusOK && etagMatches(c.match, h.Get("ETag")) {
		c.dropBody = true
		for _, k := range []string{"Content-Length", "Content-Type", "Content-Encoding"} {
			h.Del(k)
		}
		code = http.StatusNotModified
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *conditionalWriter) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	if c.dropBody {
		return len(b), nil
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *conditionalWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// etagMatches is If-None-Match's weak comparison of a list of ETags (or "*") with etag.
func etagMatches(list, etag string) bool {
	if etag == "" {
		return false
	}
	weak := func(t string) string { return strings.TrimPrefix(strings.TrimSpace(t), "W/") }
	for _, t := range strings.Split(list, ",") {
		if strings.TrimSpace(t) == "*" || weak(t) == weak(etag) {
			return true
		}
	}
	return false
}
