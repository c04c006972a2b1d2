package nostr_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/bech32"

	"satchel.dev/shared/nostr"
)

// NIP-19 "Examples" and the worked example in its text.
func TestNIP19Examples(t *testing.T) {
	pubs := []struct{ npub, hex string }{
		{"npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg", "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"},
		{"npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6w6", "3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d"},
	}
	for _, tc := range pubs {
		p, err := nostr.ParsePublicKey(tc.npub)
		if err != nil {
			t.Fatalf("ParsePublicKey(%s): %v", tc.npub, err)
		}
		if p.Hex() != tc.hex || p.String() != tc.hex {
			t.Errorf("ParsePublicKey(%s) = %s, want %s", tc.npub, p.Hex(), tc.hex)
		}
		q, err := nostr.ParsePublicKey(tc.hex)
		if err != nil {
			t.Fatalf("ParsePublicKey(%s): %v", tc.hex, err)
		}
		if q != p || q.Npub() != tc.npub {
			t.Errorf("ParsePublicKey(%s).Npub() = %s, want %s", tc.hex, q.Npub(), tc.npub)
		}
		// Bech32 allows an all upper-case string.
		if u, err := nostr.ParsePublicKey(strings.ToUpper(tc.npub)); err != nil || u != p {
			t.Errorf("upper-case npub: %v", err)
		}
	}

	const nsec = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"
	const skHex = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa"
	k, err := nostr.ParseSecretKey(nsec)
	if err != nil {
		t.Fatal(err)
	}
	if k.Hex() != skHex {
		t.Errorf("ParseSecretKey(nsec).Hex() = %s, want %s", k.Hex(), skHex)
	}
	k2, err := nostr.ParseSecretKey(skHex)
	if err != nil {
		t.Fatal(err)
	}
	if k2 != k || k2.Nsec() != nsec {
		t.Errorf("ParseSecretKey(hex).Nsec() = %s, want %s", k2.Nsec(), nsec)
	}
	if k3, err := nostr.ParseSecretKey(strings.ToUpper(skHex)); err != nil || k3 != k {
		t.Errorf("upper-case hex secret key: %v", err)
	}
}

func TestParseSecretKeyErrors(t *testing.T) {
	const skHex = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa"
	const nsec = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"
	cases := []struct {
		name, in, wantMsg string
	}{
		{"empty", "", "got 0 characters"},
		{"short hex", skHex[:62], "got 62 characters"},
		{"trailing newline", skHex + "\n", "whitespace"},
		{"not hex", "zz" + skHex[2:], "not hexadecimal"},
		{"zero", strings.Repeat("0", 64), "zero or not below"},
		{"group order", "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", "zero or not below"},
		{"above order", strings.Repeat("f", 64), "zero or not below"},
		{"bad checksum", nsec[:len(nsec)-1] + "6", "checksum"},
		{"npub given", "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg", "want nsec1"},
		{"nsec with bad char", nsec[:10] + "b" + nsec[11:], "invalid data character"},
		{"nsec with a changed character", "nsec1x" + nsec[6:], "not a valid nsec: bech32: invalid checksum"},
		{"bech32 with another prefix", mustEncode(t, bech32.Encode, "nsec1x", skHex), "wrong bech32 prefix"},
		{"nsec of 31 bytes", mustEncode(t, bech32.Encode, "nsec", skHex[:62]), "wrong data length"},
		{"nsec with a Bech32m checksum", mustEncode(t, bech32.EncodeM, "nsec", skHex), "not a valid nsec: bech32: invalid checksum"},
		{"nsec longer than 90 characters", mustEncode(t, bech32.Encode, "nsec", skHex+skHex), "bech32: malformed"},
	}
	for _, tc := range cases {
		_, err := nostr.ParseSecretKey(tc.in)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if !errors.Is(err, nostr.ErrInvalidSecretKey) {
			t.Errorf("%s: %v does not wrap ErrInvalidSecretKey", tc.name, err)
		}
		if !strings.Contains(err.Error(), tc.wantMsg) {
			t.Errorf("%s: error %q does not mention %q", tc.name, err, tc.wantMsg)
		}
		// The error must not quote the secret, whole or in part.
		for _, part := range []string{skHex[:16], nsec[5:21], "x" + nsec[5:10]} {
			if strings.Contains(err.Error(), part) {
				t.Errorf("%s: error %q quotes the input", tc.name, err)
			}
		}
	}
}

// mustEncode returns dataHex's bytes regrouped in 5-bit values and encoded with encode
// (bech32.Encode or bech32.EncodeM) under the given HRP.
func mustEncode(t *testing.T, encode func(string, []byte) (string, error), hrp, dataHex string) string {
	b, err := hex.DecodeString(dataHex)
	if err != nil {
		t.Fatal(err)
	}
	data5, err := bech32.ConvertBits(b, 8, 5, true)
	if err != nil {
		t.Fatal(err)
	}
	s, err := encode(hrp, data5)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParsePublicKeyErrors(t *testing.T) {
	cases := []struct{ name, in string }{
		{"empty", ""},
		{"upper-case hex", "7E7E9C42A91BFEF19FA929E5FDA1B72E0EBC1A4C1141673E2794234D86ADDF4E"},
		{"not hex", "xx7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"},
		{"63 chars", "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4"},
		{"not on curve", "eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34"},
		{"x >= p", "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30"},
		{"nsec given", "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"},
		{"npub bad checksum", "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjpth"},
		{"npub of 20 bytes", mustNpubOf(t, 20)},
		{"npub with a Bech32m checksum", mustEncode(t, bech32.EncodeM, "npub", "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e")},
	}
	for _, tc := range cases {
		if _, err := nostr.ParsePublicKey(tc.in); !errors.Is(err, nostr.ErrBadPubKey) {
			t.Errorf("%s: ParsePublicKey(%q) err = %v, want ErrBadPubKey", tc.name, tc.in, err)
		}
	}
}

// mustNpubOf returns a valid bech32 string with the npub prefix holding n
// zero bytes.
func mustNpubOf(t *testing.T, n int) string {
	s, err := bech32.EncodeFromBase256("npub", make([]byte, n))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPublicKeyText(t *testing.T) {
	p, err := nostr.ParsePublicKey("3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]nostr.PublicKey{"k": p})
	if err != nil || string(b) != `{"k":"3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d"}` {
		t.Fatalf("json.Marshal = %s, %v", b, err)
	}
	var back map[string]nostr.PublicKey
	if err := json.Unmarshal(b, &back); err != nil || back["k"] != p {
		t.Fatalf("json.Unmarshal = %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"k":"00"}`), &back); !errors.Is(err, nostr.ErrBadPubKey) {
		t.Errorf("unmarshal of a bad key: %v", err)
	}
	if got := fmt.Sprint(p); got != p.Hex() {
		t.Errorf("fmt.Sprint(PublicKey) = %s", got)
	}
}

func TestGenerateKey(t *testing.T) {
	a, err := nostr.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := nostr.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two generated keys are equal")
	}
	for _, k := range []nostr.SecretKey{a, b} {
		if _, err := nostr.ParseSecretKey(k.Hex()); err != nil {
			t.Errorf("generated key does not parse: %v", err)
		}
		if _, err := nostr.ParsePublicKey(k.PublicKey().Hex()); err != nil {
			t.Errorf("generated key's public key does not parse: %v", err)
		}
	}
}

type withKey struct {
	Name string
	Key  nostr.SecretKey
	Ptr  *nostr.SecretKey
}

func TestSecretKeyIsRedacted(t *testing.T) {
	k, err := nostr.ParseSecretKey("67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa")
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{k.Hex(), strings.ToUpper(k.Hex()), k.Nsec(), "103 222 162", "0x67", "[103", "67 de"}
	var signer nostr.Signer = k
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "% x", "%d", "%o", "%b", "%08v", "%10.3s"} {
		outputs = append(outputs,
			fmt.Sprintf(verb, k),
			fmt.Sprintf(verb, &k),
			fmt.Sprintf(verb, signer),
			fmt.Sprintf(verb, withKey{"n", k, &k}),
			fmt.Sprintf(verb, []nostr.SecretKey{k}),
			fmt.Sprintf(verb, map[string]nostr.SecretKey{"k": k}),
		)
	}
	outputs = append(outputs, fmt.Sprint(k), fmt.Sprintln(k), k.String(), k.GoString(), fmt.Errorf("wrapped: %v", k).Error())

	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("key", "k", k, "p", &k, "s", withKey{"n", k, &k})
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("key", "k", k, "p", &k)
	outputs = append(outputs, buf.String())

	for _, out := range outputs {
		if !strings.Contains(out, "REDACTED") {
			t.Errorf("output %q does not say REDACTED", out)
		}
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("output %q leaks the secret key (%q)", out, s)
			}
		}
	}

	if b, err := json.Marshal(k); err == nil {
		t.Errorf("json.Marshal(SecretKey) = %s, want an error", b)
	}
	if b, err := json.Marshal(withKey{Key: k}); err == nil {
		t.Errorf("json.Marshal(struct with SecretKey) = %s, want an error", b)
	}
}

func TestSerializeEscaping(t *testing.T) {
	e := &nostr.Event{
		PubKey:    "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
		CreatedAt: 1700000000,
		Kind:      1,
		Tags: [][]string{
			{"e", "5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36", "wss://nostr.example.com"},
			{"alt", `a "quoted" <tag> & 'more'`},
			{"t"},
			{},
		},
		Content: "line1\nline2\r\n\ttab \"q\" back\\slash \b\f <b>&amp;</b> café 日本 🎮 \u2028\u2029 ctrl\x01\x1f del\x7f /slash",
	}
	// Written out by hand from NIP-01's rules: only \n \" \\ \r \t \b \f are
	// escaped; other C0 controls as \u00xx; <, >, &, /, U+2028, U+2029, DEL
	// and non-ASCII verbatim.
	want := `[0,"79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",1700000000,1,` +
		`[["e","5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36","wss://nostr.example.com"],` +
		`["alt","a \"quoted\" <tag> & 'more'"],["t"],[]],` +
		`"line1\nline2\r\n\ttab \"q\" back\\slash \b\f <b>&amp;</b> café 日本 🎮 ` + "\u2028\u2029" + ` ctrl\u0001\u001f del` + "\x7f" + ` /slash"]`
	if got := string(e.Serialize()); got != want {
		t.Fatalf("Serialize:\n got %q\nwant %q", got, want)
	}
	sum := sha256.Sum256([]byte(want))
	if got := e.ComputeID(); got != hex.EncodeToString(sum[:]) {
		t.Errorf("ComputeID = %s, want %x", got, sum)
	}
	// The same id computed independently (Python: json.dumps(..., ensure_ascii=False, separators=(',',':'))).
	if got := e.ComputeID(); got != "ebc68a54d166db36448e112d673409739f212266ae2f9d78fdf8d0df9357c4bd" {
		t.Errorf("ComputeID = %s, want the independently computed id", got)
	}
}

func TestSerializeNilTags(t *testing.T) {
	e := &nostr.Event{PubKey: "ab", CreatedAt: -5, Kind: 27235}
	if got, want := string(e.Serialize()), `[0,"ab",-5,27235,[],""]`; got != want {
		t.Errorf("Serialize = %s, want %s", got, want)
	}
	e.Tags = [][]string{nil, {"x", ""}}
	if got, want := string(e.Serialize()), `[0,"ab",-5,27235,[[],["x",""]],""]`; got != want {
		t.Errorf("Serialize = %s, want %s", got, want)
	}
}

// The example Authorization header in NIP-98 (98.md) carries a real signed
// event; its id and signature must check out.
func TestVerifyNIP98Example(t *testing.T) {
	const token = "eyJpZCI6ImZlOTY0ZTc1ODkwMzM2MGYyOGQ4NDI0ZDA5MmRhODQ5NGVkMjA3Y2JhODIzMTEwYmUzYTU3ZGZlNGI1Nzg3MzQiLCJwdWJrZXkiOiI2M2ZlNjMxOGRjNTg1ODNjZmUxNjgxMGY4NmRkMDllMThiZmQ3NmFhYmMyNGEwMDgxY2UyODU2ZjMzMDUwNGVkIiwiY29udGVudCI6IiIsImtpbmQiOjI3MjM1LCJjcmVhdGVkX2F0IjoxNjgyMzI3ODUyLCJ0YWdzIjpbWyJ1cmwiLCJodHRwczovL2FwaS5zbm9ydC5zb2NpYWwvYXBpL3YxL241c3AvbGlzdCJdLFsibWV0aG9kIiwiR0VUIl1dLCJzaWciOiI1ZWQ5ZDhlYzk1OGJjODU0Zjk5N2JkYzI0YWMzMzdkMDA1YWYzNzIzMjQ3NDdlZmU0YTAwZTI0ZjRjMzA0MzdmZjRkZDgzMDg2ODRiZWQ0NjdkOWQ2YmUzZTVhNTE3YmI0M2IxNzMyY2M3ZDMzOTQ5YTNhYWY4NjcwNWMyMjE4NCJ9"
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		t.Fatal(err)
	}
	var e nostr.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	if e.ID != "fe964e758903360f28d8424d092da8494ed207cba823110be3a57dfe4b578734" {
		t.Fatalf("id = %s", e.ID)
	}
	if err := e.Verify(); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if v, ok := e.Tag("method"); !ok || v != "GET" {
		t.Errorf(`Tag("method") = %q, %v`, v, ok)
	}
}

func newSignedEvent(t *testing.T) (*nostr.Event, nostr.SecretKey) {
	t.Helper()
	k, err := nostr.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	e := &nostr.Event{
		CreatedAt: 1700000000,
		Kind:      1,
		Tags:      [][]string{{"t", "games"}, {"alt", "<script>&\u2028"}},
		Content:   "hello \"world\"\n<b>&</b> \u2028 🎮",
	}
	if err := k.SignEvent(e); err != nil {
		t.Fatal(err)
	}
	return e, k
}

func TestSignAndVerify(t *testing.T) {
	e, k := newSignedEvent(t)
	if e.PubKey != k.PublicKey().Hex() {
		t.Errorf("PubKey = %s, want %s", e.PubKey, k.PublicKey().Hex())
	}
	if e.ID != e.ComputeID() {
		t.Errorf("ID = %s, want %s", e.ID, e.ComputeID())
	}
	if len(e.Sig) != 128 {
		t.Errorf("Sig = %q", e.Sig)
	}
	if err := e.Verify(); err != nil {
		t.Fatalf("Verify: %v", err)
	}

	// Through JSON (Go escapes <, >, & and U+2028 on the wire; the id is
	// over the decoded strings, so it still verifies).
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back nostr.Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Verify(); err != nil {
		t.Errorf("Verify after JSON round trip: %v", err)
	}

	// Signing again uses fresh randomness: a different, also valid, signature.
	e2 := *e
	if err := k.SignEvent(&e2); err != nil {
		t.Fatal(err)
	}
	if e2.ID != e.ID || e2.Sig == e.Sig {
		t.Errorf("re-signing: id %s vs %s, sig equal: %v", e2.ID, e.ID, e2.Sig == e.Sig)
	}
	if err := e2.Verify(); err != nil {
		t.Errorf("Verify of re-signed event: %v", err)
	}

	// Through the Signer interface.
	var s nostr.Signer = k
	e3 := &nostr.Event{Kind: 27235, CreatedAt: 1}
	if err := s.SignEvent(e3); err != nil || e3.Verify() != nil || s.PublicKey() != k.PublicKey() {
		t.Errorf("Signer: %v / %v", err, e3.Verify())
	}
}

func TestVerifyTampered(t *testing.T) {
	other, _ := newSignedEvent(t)
	flipHex := func(s string, i int) string {
		b := []byte(s)
		if b[i] == '0' {
			b[i] = '1'
		} else {
			b[i] = '0'
		}
		return string(b)
	}
	cases := []struct {
		name   string
		tamper func(e *nostr.Event)
		want   error
		msg    string
	}{
		{"content", func(e *nostr.Event) { e.Content += "!" }, nostr.ErrBadID, "id does not match the event"},
		{"created_at", func(e *nostr.Event) { e.CreatedAt++ }, nostr.ErrBadID, "id does not match the event"},
		{"kind", func(e *nostr.Event) { e.Kind = 7 }, nostr.ErrBadID, "id does not match the event"},
		{"tag", func(e *nostr.Event) { e.Tags[0][1] = "Games" }, nostr.ErrBadID, "id does not match the event"},
		{"tag added", func(e *nostr.Event) { e.Tags = append(e.Tags, []string{"p", "x"}) }, nostr.ErrBadID, "id does not match the event"},
		{"id", func(e *nostr.Event) { e.ID = flipHex(e.ID, 10) }, nostr.ErrBadID, "id does not match the event"},
		{"id upper case", func(e *nostr.Event) { e.ID = strings.ToUpper(e.ID) }, nostr.ErrBadID, "id does not match the event"},
		{"id empty", func(e *nostr.Event) { e.ID = "" }, nostr.ErrBadID, "id does not match the event"},
		{"sig", func(e *nostr.Event) { e.Sig = flipHex(e.Sig, 100) }, nostr.ErrBadSignature, "bad signature"},
		{"sig R", func(e *nostr.Event) { e.Sig = flipHex(e.Sig, 3) }, nostr.ErrBadSignature, "bad signature"},
		{"sig from another event", func(e *nostr.Event) { e.Sig = other.Sig }, nostr.ErrBadSignature, "bad signature"},
		{"sig short", func(e *nostr.Event) { e.Sig = e.Sig[:126] }, nostr.ErrBadSignature, "bad signature"},
		{"sig upper case", func(e *nostr.Event) { e.Sig = strings.ToUpper(e.Sig) }, nostr.ErrBadSignature, "bad signature"},
		{"sig empty", func(e *nostr.Event) { e.Sig = "" }, nostr.ErrBadSignature, "bad signature"},
		{"pubkey swapped, id recomputed", func(e *nostr.Event) { e.PubKey = other.PubKey; e.ID = e.ComputeID() }, nostr.ErrBadSignature, "bad signature"},
		{"pubkey not hex", func(e *nostr.Event) { e.PubKey = "zz" + e.PubKey[2:]; e.ID = e.ComputeID() }, nostr.ErrBadPubKey, "bad pubkey"},
		{"pubkey upper case", func(e *nostr.Event) { e.PubKey = strings.ToUpper(e.PubKey); e.ID = e.ComputeID() }, nostr.ErrBadPubKey, "bad pubkey"},
		{"pubkey npub", func(e *nostr.Event) {
			p, _ := nostr.ParsePublicKey(e.PubKey)
			e.PubKey = p.Npub()
			e.ID = e.ComputeID()
		}, nostr.ErrBadPubKey, "bad pubkey"},
		{"pubkey not on curve", func(e *nostr.Event) {
			e.PubKey = "eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34"
			e.ID = e.ComputeID()
		}, nostr.ErrBadPubKey, "bad pubkey"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newSignedEvent(t)
			tc.tamper(e)
			err := e.Verify()
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			for _, other := range []error{nostr.ErrBadID, nostr.ErrBadSignature, nostr.ErrBadPubKey} {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("Verify error %v also matches %v", err, other)
				}
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
		})
	}
}

func TestSignEventErrors(t *testing.T) {
	var zero nostr.SecretKey
	if err := zero.SignEvent(&nostr.Event{}); !errors.Is(err, nostr.ErrInvalidSecretKey) {
		t.Errorf("zero key: err = %v", err)
	}
	if zero.PublicKey() != (nostr.PublicKey{}) {
		t.Error("zero key has a non-zero public key")
	}
	k, err := nostr.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	e := &nostr.Event{Content: "bad \xff utf-8"}
	if err := k.SignEvent(e); err == nil || e.Sig != "" || e.ID != "" {
		t.Errorf("invalid UTF-8 content: err = %v, event modified: %+v", err, e)
	}
	e = &nostr.Event{Tags: [][]string{{"t", "\xc3"}}}
	if err := k.SignEvent(e); err == nil {
		t.Error("invalid UTF-8 tag: no error")
	}
}

func TestTag(t *testing.T) {
	e := &nostr.Event{Tags: [][]string{{}, {"u"}, {"method", "GET", "extra"}, {"method", "POST"}, {"u", "https://x"}}}
	cases := []struct {
		name, value string
		ok          bool
	}{
		{"method", "GET", true},
		{"u", "", true},
		{"payload", "", false},
		{"", "", false},
	}
	for _, tc := range cases {
		v, ok := e.Tag(tc.name)
		if v != tc.value || ok != tc.ok {
			t.Errorf("Tag(%q) = %q, %v; want %q, %v", tc.name, v, ok, tc.value, tc.ok)
		}
	}
	if _, ok := (&nostr.Event{}).Tag("u"); ok {
		t.Error("Tag on an event without tags: ok")
	}
}
