package ratelimit_test

import (
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
