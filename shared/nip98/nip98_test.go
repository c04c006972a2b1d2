package nip98_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"satchel.dev/shared/nip98"
	"satchel.dev/shared/nostr"
)

var (
	testNow = time.Unix(1_750_000_000, 0)
	testURL = "https://api.satchel.dev/satchel.v1.StoreService/Buy?x=1&y=%20"
)

func testKey(t *testing.T) nostr.SecretKey {
	t.Helper()
	k, err := nostr.ParseSecretKey("67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func wantFor(body []byte) nip98.Request {
	return nip98.Request{Method: "POST", URL: testURL, PayloadSHA256: nip98.PayloadHash(body), Now: testNow}
}

func TestHeaderVerifyRoundTrip(t *testing.T) {
	k := testKey(t)
	for _, body := range [][]byte{[]byte(`{"game":"x"}`), nil, {}} {
		h, err := nip98.Header(k, "POST", testURL, body, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h, "Nostr ") {
			t.Fatalf("header %q lacks the scheme", h)
		}
		e, err := nip98.Verify(h, wantFor(body))
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if e.PubKey != k.PublicKey().Hex() || e.Kind != nip98.Kind || e.CreatedAt != testNow.Unix() || len(e.ID) != 64 {
			t.Errorf("event = %+v", e)
		}
		if v, _ := e.Tag("payload"); v != nip98.PayloadHash(body) {
			t.Errorf("payload tag = %q", v)
		}
		if v, _ := e.Tag("u"); v != testURL {
			t.Errorf("u tag = %q", v)
		}
	}
}

func TestPayloadHash(t *testing.T) {
	if got := nip98.PayloadHash(nil); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("PayloadHash(nil) = %s", got)
	}
	if got := nip98.PayloadHash([]byte("abc")); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("PayloadHash(abc) = %s", got)
	}
}

func TestVerifyAcceptsWithinWindow(t *testing.T) {
	k := testKey(t)
	for _, skew := range []time.Duration{-nip98.Window, -time.Second, 0, time.Second, nip98.Window} {
		h, err := nip98.Header(k, "post", testURL, nil, testNow.Add(skew))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nip98.Verify(h, wantFor(nil)); err != nil {
			t.Errorf("skew %v: %v", skew, err)
		}
	}
	// The scheme is case-insensitive (RFC 9110) and extra spaces are allowed.
	h, _ := nip98.Header(k, "POST", testURL, nil, testNow)
	if _, err := nip98.Verify("nostr   "+strings.TrimPrefix(h, "Nostr "), wantFor(nil)); err != nil {
		t.Errorf("lower-case scheme: %v", err)
	}
}

// signedEvent makes a valid authorization event that the caller may alter;
// encode re-signs it (unless told not to) and builds the header.
func signedEvent(t *testing.T) *nostr.Event {
	t.Helper()
	return &nostr.Event{
		CreatedAt: testNow.Unix(),
		Kind:      nip98.Kind,
		Tags: [][]string{
			{"u", testURL},
			{"method", "POST"},
			{"payload", nip98.PayloadHash(nil)},
		},
	}
}

func encode(t *testing.T, e *nostr.Event, sign bool) string {
	t.Helper()
	if sign {
		if err := testKey(t).SignEvent(e); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return "Nostr " + base64.StdEncoding.EncodeToString(b)
}

func TestVerifyChecks(t *testing.T) {
	k := testKey(t)
	good, err := nip98.Header(k, "POST", testURL, nil, testNow)
	if err != nil {
		t.Fatal(err)
	}
	other, err := nostr.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		header func() string
		want   nip98.Request
		check  string
		reason string // a fragment the reason must contain
	}{
		{"header: empty", func() string { return "" }, wantFor(nil), "header", "no Authorization header"},
		{"header: other scheme", func() string { return "Bearer abc.def" }, wantFor(nil), "header", "uses the scheme Bearer"},
		{"header: no token", func() string { return "Nostr " }, wantFor(nil), "header", "nothing follows"},
		{"header: too long", func() string { return "Nostr " + strings.Repeat("A", nip98.MaxHeaderLength) }, wantFor(nil), "header", "the limit is 16384"},
		{"encoding: not base64", func() string { return "Nostr !!!" }, wantFor(nil), "encoding", "not standard base64"},
		{"encoding: url-safe base64", func() string {
			return "Nostr " + strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString([]byte(`{"kind":27235,"content":"???>>>"}`)))
		}, wantFor(nil), "encoding", "not standard base64"},
		{"encoding: not JSON", func() string { return "Nostr " + base64.StdEncoding.EncodeToString([]byte("hello")) }, wantFor(nil), "encoding", "JSON Nostr event"},
		{"encoding: JSON array", func() string { return "Nostr " + base64.StdEncoding.EncodeToString([]byte("[1,2]")) }, wantFor(nil), "encoding", "JSON Nostr event"},
		{"kind", func() string { e := signedEvent(t); e.Kind = 1; return encode(t, e, true) }, wantFor(nil), "kind", "kind 1;"},
		{"id: content changed after signing", func() string {
			e := signedEvent(t)
			_ = k.SignEvent(e)
			e.Content = "x"
			return encode(t, e, false)
		}, wantFor(nil), "id", "id does not match the event"},
		{"id: missing", func() string { e := signedEvent(t); _ = k.SignEvent(e); e.ID = ""; return encode(t, e, false) }, wantFor(nil), "id", "id does not match the event"},
		{"signature: wrong key", func() string {
			e := signedEvent(t)
			_ = k.SignEvent(e)
			e.PubKey = other.PublicKey().Hex()
			e.ID = e.ComputeID()
			return encode(t, e, false)
		}, wantFor(nil), "signature", "bad signature"},
		{"signature: missing", func() string { e := signedEvent(t); _ = k.SignEvent(e); e.Sig = ""; return encode(t, e, false) }, wantFor(nil), "signature", "bad signature"},
		{"signature: bad pubkey", func() string {
			e := signedEvent(t)
			_ = k.SignEvent(e)
			e.PubKey = strings.ToUpper(e.PubKey)
			e.ID = e.ComputeID()
			return encode(t, e, false)
		}, wantFor(nil), "signature", "bad pubkey"},
		{"created_at: client ahead", func() string {
			e := signedEvent(t)
			e.CreatedAt += 93
			return encode(t, e, true)
		}, wantFor(nil), "created_at", "your clock is 93s ahead of the server"},
		{"created_at: too old", func() string {
			e := signedEvent(t)
			e.CreatedAt -= 61
			return encode(t, e, true)
		}, wantFor(nil), "created_at", "61s before the server's time"},
		{"created_at: far future", func() string {
			e := signedEvent(t)
			e.CreatedAt = 1<<63 - 1
			return encode(t, e, true)
		}, wantFor(nil), "created_at", "ahead of the server"},
		{"created_at: far past", func() string {
			e := signedEvent(t)
			e.CreatedAt = -1 << 63
			return encode(t, e, true)
		}, wantFor(nil), "created_at", "before the server's time"},
		{"created_at: an hour ahead", func() string {
			e := signedEvent(t)
			e.CreatedAt += 3600
			return encode(t, e, true)
		}, wantFor(nil), "created_at", "your clock is 1h0m0s ahead"},
		{"u: other URL", func() string { return good }, nip98.Request{Method: "POST", URL: "https://b/x", PayloadSHA256: nip98.PayloadHash(nil), Now: testNow},
			"u", "the event signs " + testURL + " but this request is https://b/x"},
		{"u: query differs", func() string { return good }, nip98.Request{Method: "POST", URL: strings.TrimSuffix(testURL, "&y=%20"), PayloadSHA256: nip98.PayloadHash(nil), Now: testNow},
			"u", "but this request is"},
		{"u: missing", func() string { e := signedEvent(t); e.Tags = e.Tags[1:]; return encode(t, e, true) }, wantFor(nil), "u", `no "u" tag`},
		{"u: twice", func() string {
			e := signedEvent(t)
			e.Tags = append(e.Tags, []string{"u", "https://evil/"})
			return encode(t, e, true)
		}, wantFor(nil), "u", `2 "u" tags`},
		{"u: no value", func() string { e := signedEvent(t); e.Tags[0] = []string{"u"}; return encode(t, e, true) }, wantFor(nil), "u", "has no value"},
		{"u: server forgot the URL", func() string { return good }, nip98.Request{Method: "POST", PayloadSHA256: nip98.PayloadHash(nil), Now: testNow},
			"u", "Request.URL is empty"},
		{"u: newline in URL is quoted", func() string {
			e := signedEvent(t)
			e.Tags[0][1] = "https://a/\nFAKE LOG LINE"
			return encode(t, e, true)
		}, wantFor(nil), "u", `"https://a/\nFAKE LOG LINE"`},
		{"method", func() string { return good }, nip98.Request{Method: "GET", URL: testURL, PayloadSHA256: nip98.PayloadHash(nil), Now: testNow},
			"method", "the event signs method POST but this request is GET"},
		{"method: missing", func() string {
			e := signedEvent(t)
			e.Tags = [][]string{e.Tags[0], e.Tags[2]}
			return encode(t, e, true)
		}, wantFor(nil), "method", `no "method" tag`},
		{"payload: other body", func() string { return good }, wantFor([]byte("{}")), "payload", "hash the exact bytes sent"},
		{"payload: missing", func() string { e := signedEvent(t); e.Tags = e.Tags[:2]; return encode(t, e, true) }, wantFor(nil), "payload", `no "payload" tag`},
		{"payload: upper-case hex", func() string {
			e := signedEvent(t)
			e.Tags[2][1] = strings.ToUpper(e.Tags[2][1])
			return encode(t, e, true)
		}, wantFor(nil), "payload", "but this request's body hashes to"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := nip98.Verify(tc.header(), tc.want)
			if err == nil {
				t.Fatalf("Verify succeeded: %+v", ev)
			}
			if ev != nil {
				t.Errorf("Verify returned an event with an error")
			}
			var ce *nip98.CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v is not a *CheckError", err, err)
			}
			if ce.Check != tc.check {
				t.Errorf("Check = %q, want %q (%v)", ce.Check, tc.check, err)
			}
			if !strings.Contains(ce.Reason, tc.reason) {
				t.Errorf("Reason %q does not contain %q", ce.Reason, tc.reason)
			}
			if want := `NIP-98 "` + tc.check + `" check failed: `; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Error() = %q, want prefix %q", err.Error(), want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Error() has a raw newline: %q", err.Error())
			}
		})
	}
}

func TestCheckErrorMessage(t *testing.T) {
	err := &nip98.CheckError{Check: "u", Reason: "the event signs https://a/x but this request is https://b/x"}
	if got, want := err.Error(), `NIP-98 "u" check failed: the event signs https://a/x but this request is https://b/x`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// The example event in NIP-98 uses a "url" tag (an older draft); it passes
// the id and signature checks and fails the "u" check.
func TestVerifyNIP98Example(t *testing.T) {
	const header = "Nostr eyJpZCI6ImZlOTY0ZTc1ODkwMzM2MGYyOGQ4NDI0ZDA5MmRhODQ5NGVkMjA3Y2JhODIzMTEwYmUzYTU3ZGZlNGI1Nzg3MzQiLCJwdWJrZXkiOiI2M2ZlNjMxOGRjNTg1ODNjZmUxNjgxMGY4NmRkMDllMThiZmQ3NmFhYmMyNGEwMDgxY2UyODU2ZjMzMDUwNGVkIiwiY29udGVudCI6IiIsImtpbmQiOjI3MjM1LCJjcmVhdGVkX2F0IjoxNjgyMzI3ODUyLCJ0YWdzIjpbWyJ1cmwiLCJodHRwczovL2FwaS5zbm9ydC5zb2NpYWwvYXBpL3YxL241c3AvbGlzdCJdLFsibWV0aG9kIiwiR0VUIl1dLCJzaWciOiI1ZWQ5ZDhlYzk1OGJjODU0Zjk5N2JkYzI0YWMzMzdkMDA1YWYzNzIzMjQ3NDdlZmU0YTAwZTI0ZjRjMzA0MzdmZjRkZDgzMDg2ODRiZWQ0NjdkOWQ2YmUzZTVhNTE3YmI0M2IxNzMyY2M3ZDMzOTQ5YTNhYWY4NjcwNWMyMjE4NCJ9"
	want := nip98.Request{Method: "GET", URL: "https://api.snort.social/api/v1/n5sp/list", PayloadSHA256: nip98.PayloadHash(nil), Now: time.Unix(1682327852+30, 0)}
	_, err := nip98.Verify(header, want)
	var ce *nip98.CheckError
	if !errors.As(err, &ce) || ce.Check != "u" {
		t.Fatalf("Verify = %v, want the u check to fail", err)
	}
	want.Now = time.Unix(1682327852+61, 0)
	if _, err := nip98.Verify(header, want); !errors.As(err, &ce) || ce.Check != "created_at" {
		t.Fatalf("Verify = %v, want the created_at check to fail", err)
	}
}

type failingSigner struct{ nostr.SecretKey }

func (failingSigner) SignEvent(*nostr.Event) error { return errors.New("keyring locked") }

func TestHeaderErrors(t *testing.T) {
	k := testKey(t)
	if _, err := nip98.Header(nil, "GET", testURL, nil, testNow); err == nil {
		t.Error("nil signer: no error")
	}
	if _, err := nip98.Header(k, "", testURL, nil, testNow); err == nil {
		t.Error("empty method: no error")
	}
	if _, err := nip98.Header(k, "GET", "", nil, testNow); err == nil {
		t.Error("empty url: no error")
	}
	if _, err := nip98.Header(failingSigner{k}, "GET", testURL, nil, testNow); err == nil || !strings.Contains(err.Error(), "keyring locked") {
		t.Errorf("failing signer: err = %v", err)
	}
}
