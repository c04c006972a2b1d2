// Package ratelimit keeps a token bucket per key (an identity, a client address) in this
// server's memory. Each instance limits on its own: behind N instances a client gets up to N
// times the rate, which still bounds what anyone can ask of the Lightning node.
package ratelimit

import (
	"container/list"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxKeys is how many keys a Limiter remembers unless Options say otherwise.
const DefaultMaxKeys = 100_000

// Options tune a Limiter; the zero value gives the defaults.
type Options struct {
	// MaxKeys bounds the keys remembered, and so the memory a flood of distinct keys can take
	// (DefaultMaxKeys when 0). Past it the key used least recently is forgotten.
	MaxKeys int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Limiter allows each key a rate of events with bursts. It is safe for concurrent use.
type Limiter struct {
	limit   rate.Limit
	burst   int
	maxKeys int
	now     func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // each holding an *entry of lru
	lru  list.List                // entries, the most recently used first
}

type entry struct {
	key    string
	bucket *rate.Limiter
}

// New returns a limiter allowing each key burst events at once and one more every per.
func New(per time.Duration, burst int) *Limiter { return NewWith(per, burst, Options{}) }

// NewWith is New with options.
func NewWith(per time.Duration, burst int, o Options) *Limiter {
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Limiter{limit: rate.Every(per), burst: burst, maxKeys: o.MaxKeys, now: o.Now,
		keys: map[string]*list.Element{}}
}

// Allow takes one event for key and reports whether it is within the limit.
//
// Each call costs constant time, however many keys are remembered: when a new key would pass
// MaxKeys, the key used least recently is forgotten (its next event starts a full bucket). A
// key is forgotten while still limited only if MaxKeys other keys were used after it, which a
// client can do only from as many addresses, each limited in its own right.
func (l *Limiter) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if el := l.keys[key]; el != nil {
		l.lru.MoveToFront(el)
		return el.Value.(*entry).bucket.AllowN(now, 1)
	}
	if l.lru.Len() >= l.maxKeys {
		oldest := l.lru.Back()
		delete(l.keys, oldest.Value.(*entry).key)
		l.lru.Remove(oldest)
	}
	e := &entry{key: key, bucket: rate.NewLimiter(l.limit, l.burst)}
	l.keys[key] = l.lru.PushFront(e)
	return e.bucket.AllowN(now, 1)
}

// Exhausted reports whether key has no event left right now, without taking one: for limits
// that only count failures (take one with Allow when an attempt fails).
func (l *Limiter) Exhausted(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	el := l.keys[key]
	return el != nil && el.Value.(*entry).bucket.TokensAt(l.now()) < 1
}

// Len returns how many keys the limiter remembers.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// ClientKey returns the key that limits a client by its address ip (as a connection's peer or
// a proxy's X-Forwarded-For gives it). An IPv4 address is its own key. An IPv6 address counts
// with its whole /64: one subscriber usually holds at least a /64, and could otherwise take a
// fresh bucket for every request. An IPv4-mapped IPv6 address counts as the IPv4 address;
// brackets, a port and a zone are dropped. A string that is not an address is its own key.
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]"))
	if err != nil {
		ap, perr := netip.ParseAddrPort(ip)
		if perr != nil {
			return ip
		}
		a = ap.Addr()
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
