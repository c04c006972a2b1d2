package ratelimit_test

import (
	"strconv"
	"testing"
	"time"

	"satchel.dev/backend/ratelimit"
)

func TestAllow(t *testing.T) {
	l := ratelimit.New(time.Hour, 3)
	for i := range 3 {
		if !l.Allow("a") {
			t.Fatalf("event %d of the burst refused", i+1)
		}
	}
	if l.Allow("a") {
		t.Error("the fourth event within the hour was allowed")
	}
	if !l.Allow("b") {
		t.Error("another key shares a's bucket")
	}
	if !l.Exhausted("a") || l.Exhausted("b") || l.Exhausted("c") {
		t.Error("Exhausted does not tell an empty bucket from others")
	}
}

// clock is a settable clock for limiters.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestRefillFollowsTheClock(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := ratelimit.NewWith(time.Minute, 2, ratelimit.Options{Now: c.now})
	if !l.Allow("a") || !l.Allow("a") || l.Allow("a") {
		t.Fatal("a burst of 2 did not allow exactly 2 events")
	}
	c.t = c.t.Add(59 * time.Second)
	if !l.Exhausted("a") || l.Allow("a") {
		t.Error("an event was allowed before a minute had passed")
	}
	c.t = c.t.Add(time.Second)
	if l.Exhausted("a") || !l.Allow("a") || l.Allow("a") {
		t.Error("after a minute, not exactly one more event was allowed")
	}
}

// TestForgetsLeastRecentlyUsed: past MaxKeys the limiter forgets the key used least recently,
// not the oldest one nor a random one, and never holds more than MaxKeys.
func TestForgetsLeastRecentlyUsed(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := ratelimit.NewWith(time.Hour, 1, ratelimit.Options{MaxKeys: 3, Now: c.now})
	for _, k := range []string{"a", "b", "c"} {
		if !l.Allow(k) {
			t.Fatalf("the first event of %s was refused", k)
		}
	}
	if l.Allow("a") { // refused, but a is now the most recently used
		t.Fatal("a's second event was allowed")
	}
	l.Allow("d") // forgets b, the least recently used
	if got := l.Len(); got != 3 {
		t.Errorf("Len() = %d, want 3 (MaxKeys)", got)
	}
	if !l.Exhausted("a") || !l.Exhausted("c") || !l.Exhausted("d") {
		t.Error("a key used more recently than b was forgotten")
	}
	if l.Exhausted("b") {
		t.Error("b, the least recently used key, is still remembered")
	}
	for i := range 10_000 {
		l.Allow("flood-" + strconv.Itoa(i))
	}
	if got := l.Len(); got != 3 {
		t.Errorf("after a flood of keys, Len() = %d, want 3 (MaxKeys)", got)
	}
}

func TestClientKey(t *testing.T) {
	tests := []struct{ ip, want string }{
		{"203.0.113.9", "203.0.113.9"},
		{"::ffff:203.0.113.9", "203.0.113.9"},
		{"203.0.113.9:443", "203.0.113.9"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:DB8:1:2::1", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2::1]", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2::1]:443", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"::1", "::/64"},
		{"not an address", "not an address"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ratelimit.ClientKey(tt.ip); got != tt.want {
			t.Errorf("ClientKey(%q) = %q, want %q", tt.ip, got, tt.want)
		}
	}
}
