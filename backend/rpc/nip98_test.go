package rpc_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"satchel.dev/shared/nip98"
	"satchel.dev/shared/nostr"
)

const getMe = "satchel.account.v1.AccountService/GetMe"

// header builds a NIP-98 header for GetMe with body "{}", letting edit change the event before
// it is signed and after (to tamper with id or signature).
func (b *bundle) header(before, after func(*nostr.Event)) string {
	b.t.Helper()
	sum := sha256.Sum256([]byte("{}"))
	ev := nostr.Event{
		Kind:      nip98.Kind,
		CreatedAt: time.Now().Unix(),
		Tags: [][]string{
			{"u", b.srv.URL + "/" + getMe},
			{"method", "POST"},
			{"payload", hex.EncodeToString(sum[:])},
		},
	}
	if before != nil {
		before(&ev)
	}
	if err := b.keys[player].SignEvent(&ev); err != nil {
		b.t.Fatal(err)
	}
	if after != nil {
		after(&ev)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		b.t.Fatal(err)
	}
	return "Nostr " + base64.StdEncoding.EncodeToString(raw)
}

func setTag(name, value string) func(*nostr.Event) {
	return func(e *nostr.Event) {
		for _, t := range e.Tags {
			if t[0] == name {
				t[1] = value
			}
		}
	}
}

// TestNIP98EveryCheck sends a header failing each of the server's checks in turn. Each is
// refused with Unauthenticated and a message that names the check.
func TestNIP98EveryCheck(t *testing.T) {
	b := setup(t)
	tests := []struct {
		check  string
		header string
	}{
		{"header", "Bearer abc"},
		{"encoding", "Nostr !!!not-base64!!!"},
		{"encoding", "Nostr " + base64.StdEncoding.EncodeToString([]byte("{not json"))},
		{"kind", b.header(func(e *nostr.Event) { e.Kind = 1 }, nil)},
		{"id", b.header(nil, func(e *nostr.Event) { e.Content = "tampered after signing" })},
		{"signature", b.header(nil, func(e *nostr.Event) { e.Sig = strings.Repeat("0", 128) })},
		{"created_at", b.header(func(e *nostr.Event) { e.CreatedAt -= 120 }, nil)},
		{"created_at", b.header(func(e *nostr.Event) { e.CreatedAt += 120 }, nil)},
		{"u", b.header(setTag("u", "http://evil.example/"+getMe), nil)},
		{"u", b.header(setTag("u", b.srv.URL+"/satchel.account.v1.AccountService/UpdateProfile"), nil)},
		{"method", b.header(setTag("method", "GET"), nil)},
		{"payload", b.header(setTag("payload", strings.Repeat("ab", 32)), nil)},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			got := b.do(http.DefaultClient, getMe, "{}", http.Header{"Authorization": {tt.header}})
			if got.code != "unauthenticated" || !strings.Contains(got.message, `"`+tt.check+`"`) {
				t.Errorf("got %s %q, want unauthenticated naming the %q check", got.code, got.message, tt.check)
			}
		})
	}

	// A valid header works once, and is refused when replayed.
	h := http.Header{"Authorization": {b.header(nil, nil)}}
	if got := b.do(http.DefaultClient, getMe, "{}", h); got.code != "ok" {
		t.Fatalf("valid header: %s %s", got.code, got.message)
	}
	if got := b.do(http.DefaultClient, getMe, "{}", h); got.code != "unauthenticated" || !strings.Contains(got.message, "replay") {
		t.Fatalf("replayed header: %s %q, want unauthenticated naming the replay check", got.code, got.message)
	}
	// The body is what the signature covers: the same header with another body fails.
	h = http.Header{"Authorization": {b.header(nil, nil)}}
	if got := b.do(http.DefaultClient, getMe, `{ }`, h); got.code != "unauthenticated" || !strings.Contains(got.message, "payload") {
		t.Fatalf("changed body: %s %q", got.code, got.message)
	}
}

// TestFirstSignedCallCreatesTheUser shows the user row appears on the first signed call, once.
func TestFirstSignedCallCreatesTheUser(t *testing.T) {
	b := setup(t)
	k, _ := nostr.GenerateKey()
	c := &http.Client{Transport: &nip98.Transport{Signer: k}}
	for range 2 {
		got := b.do(c, getMe, "{}", nil)
		u, _ := got.body["user"].(map[string]any)
		if got.code != "ok" || u["pubkey"] != k.PublicKey().Hex() || u["npub"] != k.PublicKey().Npub() {
			t.Fatalf("GetMe = %s %v", got.code, got.body)
		}
	}
	id, err := b.users.EnsureUser(context.Background(), k.PublicKey().Hex())
	if err != nil || id == "" {
		t.Fatalf("user missing after sign-in: %v", err)
	}
	got := b.call(admin, getMe, "{}")
	if u := got.body["user"].(map[string]any); u["isAdmin"] != true {
		t.Errorf("admin's GetMe = %v, want isAdmin", u)
	}
}

// TestOversizedBodyIsRefusedUnread sends a body over the limit, signed and unsigned.
func TestOversizedBodyIsRefusedUnread(t *testing.T) {
	b := setup(t)
	big := `{"displayName":"` + strings.Repeat("a", 70<<10) + `"}`
	for _, r := range []role{anonymous, player} {
		got := b.call(r, "satchel.account.v1.AccountService/UpdateProfile", big)
		if got.code != "resource_exhausted" {
			t.Errorf("as %s: %s %q, want resource_exhausted", r, got.code, got.message)
		}
	}
}
