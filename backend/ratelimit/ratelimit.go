// Package ratelimit keeps a token bucket per key (an identity, a client address) in this
// server's memory. Each instance limits on its own: behind N instances a client gets up to N
// times the rate, which still bounds what anyone can ask of the Lightning node.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter allows each key a rate of events with bursts.
type Limiter struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	keys  map[string]*rate.Limiter
}

// New returns a limiter allowing each key burst events at once and one more every per.
func New(per time.Duration, burst int) *Limiter {
	return &Limiter{limit: rate.Every(per), burst: burst, keys: map[string]*rate.Limiter{}}
}

// maxKeys bounds the memory a flood of distinct keys can take.
const maxKeys = 100_000

// Allow takes one event for key and reports whether it is within the limit.
func (l *Limiter) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.keys[key]
	if b == nil {
		if len(l.keys) >= maxKeys {
			l.forgetIdle()
		}
		b = rate.NewLimiter(l.limit, l.burst)
		l.keys[key] = b
	}
	return b.Allow()
}

// Exhausted reports whether key has no event left right now, without taking one: for limits
// that only count failures (take one with Allow when an attempt fails).
func (l *Limiter) Exhausted(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.keys[key]
	return b != nil && b.Tokens() < 1
}

// forgetIdle drops the keys whose buckets are full again: forgetting them changes nothing.
func (l *Limiter) forgetIdle() {
	now := time.Now()
	for k, b := range l.keys {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.keys, k)
		}
	}
}
