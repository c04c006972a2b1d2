// Package nip98 implements NIP-98 HTTP authentication as Satchel uses it.
//
// A client signs, for every request, a kind 27235 event with tags "u" (the
// absolute request URL, query included), "method" and "payload" (the hex
// sha256 of the request body, present even for an empty body), and sends it
// as "Authorization: Nostr <base64(event JSON)>". Header makes that value
// and Transport adds it to every request of an http.Client.
//
// Verify checks a header against the request the server received. It does
// not detect replays: the caller must refuse an event id it has already
// accepted (NIP-98 has no replay rule; Satchel stores seen ids), using the
// event Verify returns.
package nip98

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"satchel.dev/shared/nostr"
)

// Kind is the event kind of NIP-98 authorization events.
const Kind = 27235

// Window is how far an event's created_at may be from the server's clock, in
// either direction.
const Window = 60 * time.Second

// Scheme is the HTTP authorization scheme of NIP-98.
const Scheme = "Nostr"

// MaxHeaderLength is the longest Authorization header value Verify decodes.
const MaxHeaderLength = 16 << 10

// Names of the checks Verify makes, in order, as found in CheckError.Check.
const (
	CheckHeader    = "header"
	CheckEncoding  = "encoding"
	CheckKind      = "kind"
	CheckID        = "id"
	CheckSignature = "signature"
	CheckCreatedAt = "created_at"
	CheckURL       = "u"
	CheckMethod    = "method"
	CheckPayload   = "payload"
)

// CheckError reports which check of Verify failed and why, in words meant
// for the person who has to fix the client (or the clock).
type CheckError struct {
	// Check is one of the Check* constants.
	Check string
	// Reason says what was wrong and, where it can, what to do.
	Reason string
}

// Error returns a message such as
//
//	NIP-98 "u" check failed: the event signs https://a/x but this request is https://b/x
func (e *CheckError) Error() string {
	return fmt.Sprintf("NIP-98 %q check failed: %s", e.Check, e.Reason)
}

func fail(check, format string, args ...any) *CheckError {
	return &CheckError{Check: check, Reason: fmt.Sprintf(format, args...)}
}

// PayloadHash returns the lowercase hex sha256 of body: the value of the
// "payload" tag and of Request.PayloadSHA256.
func PayloadHash(body []byte) string {
	h := sha256.Sum256(body)
	return hex.EncodeToString(h[:])
}

// Header signs a NIP-98 event for a request and returns the whole
// Authorization header value, "Nostr " followed by the standard base64 of
// the event's JSON.
//
// url must be the absolute URL the request is sent to, exactly as the server
// will compare it (scheme, host, path and query). The event has created_at =
// now, empty content, and tags u = url, method = method and payload = the hex
// sha256 of body (included even when body is empty), plus a random "nonce"
// tag: servers refuse an event id they have seen, and two identical requests
// signed in the same second would otherwise get the same id.
func Header(s nostr.Signer, method, url string, body []byte, now time.Time) (string, error) {
	if s == nil {
		return "", errors.New("nip98: no signer")
	}
	if method == "" {
		return "", errors.New("nip98: empty method")
	}
	if url == "" {
		return "", errors.New("nip98: empty url")
	}
	var n [16]byte
	if _, err := rand.Read(n[:]); err != nil {
		return "", fmt.Errorf("nip98: nonce: %w", err)
	}
	nonce := hex.EncodeToString(n[:])
	e := &nostr.Event{
		CreatedAt: now.Unix(),
		Kind:      Kind,
		Tags: [][]string{
			{"u", url},
			{"method", method},
			{"payload", PayloadHash(body)},
			{"nonce", nonce},
		},
		Content: "",
	}
	if err := s.SignEvent(e); err != nil {
		return "", fmt.Errorf("nip98: signing the authorization event: %w", err)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("nip98: encoding the authorization event: %w", err)
	}
	return Scheme + " " + base64.StdEncoding.EncodeToString(b), nil
}

// Request describes the request a server received, for Verify.
type Request struct {
	// Method is the HTTP method, such as "POST".
	Method string
	// URL is the absolute URL of the request as the client must have
	// signed it, query included. Behind a proxy, build it from the
	// configured public base URL and the request URI, not from the Host
	// header.
	URL string
	// PayloadSHA256 is PayloadHash of the exact request body received
	// (of an empty body if there was none).
	PayloadSHA256 string
	// Now is the server's current time; zero means time.Now().
	Now time.Time
}

// Verify checks the Authorization header value header against the request
// want, and returns the verified event (whose ID the caller must check for
// replay and whose PubKey is the authenticated user).
//
// The checks, in order, each failing with a *CheckError of that name:
// "header" (the value is at most MaxHeaderLength bytes and uses the Nostr
// scheme), "encoding" (standard base64 of a JSON event), "kind" (27235),
// "id", "signature", "created_at" (within ±Window of want.Now), "u" (equal to
// want.URL exactly), "method" (equal to want.Method ignoring case) and
// "payload" (equal to want.PayloadSHA256). Each of the u, method and payload
// tags must appear exactly once. Empty want.URL, want.Method or
// want.PayloadSHA256 fail their check: the server must say what it expects.
func Verify(header string, want Request) (*nostr.Event, error) {
	// header
	if len(header) > MaxHeaderLength {
		return nil, fail(CheckHeader, "the Authorization header is %d bytes; the limit is %d (a NIP-98 event has empty content and three tags)", len(header), MaxHeaderLength)
	}
	if strings.TrimSpace(header) == "" {
		return nil, fail(CheckHeader, "the request has no Authorization header; send %q with a signed kind %d event", Scheme+" <base64 event JSON>", Kind)
	}
	scheme, token, _ := strings.Cut(strings.TrimLeft(header, " "), " ")
	if !strings.EqualFold(scheme, Scheme) {
		return nil, fail(CheckHeader, "the Authorization header uses the scheme %s; this server wants %q", show(scheme, 32), Scheme+" <base64 event JSON>")
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, fail(CheckHeader, "nothing follows %q in the Authorization header; put the base64 of the signed event there", Scheme)
	}

	// encoding
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return nil, fail(CheckEncoding, "the token after %q is not standard base64 (RFC 4648 section 4, with padding): %v", Scheme, err)
	}
	var e nostr.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fail(CheckEncoding, "the base64 token does not decode to a JSON Nostr event: %v", err)
	}

	// kind
	if e.Kind != Kind {
		return nil, fail(CheckKind, "the event is kind %d; NIP-98 authorization events are kind %d", e.Kind, Kind)
	}

	// id, signature
	if err := e.Verify(); err != nil {
		if errors.Is(err, nostr.ErrBadID) {
			return nil, fail(CheckID, "the event's id is not the sha256 of its NIP-01 serialization (%v); compute the id after setting every other field", err)
		}
		return nil, fail(CheckSignature, "%v; sign the event id with the key named in pubkey", err)
	}

	// created_at
	now := want.Now
	if now.IsZero() {
		now = time.Now()
	}
	if r := checkTime(e.CreatedAt, now); r != "" {
		return nil, fail(CheckCreatedAt, "%s", r)
	}

	// u
	if got, r := findTag(&e, "u", want.URL, "the absolute request URL"); r != "" {
		return nil, fail(CheckURL, "%s", r)
	} else if got != want.URL {
		return nil, fail(CheckURL, "the event signs %s but this request is %s; sign the exact absolute URL, scheme, host, path and query included",
			show(got, 256), show(want.URL, 256))
	}

	// method
	if got, r := findTag(&e, "method", want.Method, "the HTTP method"); r != "" {
		return nil, fail(CheckMethod, "%s", r)
	} else if !strings.EqualFold(got, want.Method) {
		return nil, fail(CheckMethod, "the event signs method %s but this request is %s", show(got, 32), show(want.Method, 32))
	}

	// payload
	if got, r := findTag(&e, "payload", want.PayloadSHA256, "the hex sha256 of the body"); r != "" {
		return nil, fail(CheckPayload, "%s", r)
	} else if got != want.PayloadSHA256 {
		return nil, fail(CheckPayload, "the event signs a body with sha256 %s but this request's body hashes to %s; hash the exact bytes sent (an empty body hashes to %s)",
			show(got, 80), show(want.PayloadSHA256, 80), PayloadHash(nil))
	}

	return &e, nil
}

// findTag returns the value of e's only tag called name. If the server
// expects nothing (want is empty), or the tag is missing, repeated or has no
// value, it returns the reason to refuse instead.
func findTag(e *nostr.Event, name, want, what string) (value, reason string) {
	if want == "" {
		return "", fmt.Sprintf("the server has no %s to compare the %q tag with (a server bug: Request.%s is empty)", what, name, requestField(name))
	}
	var values []string
	for _, t := range e.Tags {
		if len(t) > 0 && t[0] == name {
			if len(t) < 2 {
				return "", fmt.Sprintf("the event's %q tag has no value; it must be [%q, <%s>]", name, name, what)
			}
			values = append(values, t[1])
		}
	}
	switch len(values) {
	case 0:
		return "", fmt.Sprintf("the event has no %q tag; add [%q, <%s>]", name, name, what)
	case 1:
		return values[0], ""
	default:
		return "", fmt.Sprintf("the event has %d %q tags; it must have exactly one", len(values), name)
	}
}

func requestField(tag string) string {
	switch tag {
	case "u":
		return "URL"
	case "method":
		return "Method"
	default:
		return "PayloadSHA256"
	}
}

// checkTime returns "" if createdAt (Unix seconds) is within ±Window of now,
// otherwise a reason naming the difference and what to fix.
func checkTime(createdAt int64, now time.Time) string {
	nowS := now.Unix()
	var ahead bool
	var diff uint64 // |createdAt - nowS|, exact even for extreme values
	if createdAt > nowS {
		ahead, diff = true, uint64(createdAt)-uint64(nowS)
	} else {
		diff = uint64(nowS) - uint64(createdAt)
	}
	limit := uint64(Window / time.Second)
	if diff <= limit {
		return ""
	}
	if ahead {
		return fmt.Sprintf("the event was created %s after the server's time (created_at %d, server %d): your clock is %s ahead of the server; the server allows ±%ds, so set your clock (enable NTP)",
			seconds(diff), createdAt, nowS, seconds(diff), limit)
	}
	return fmt.Sprintf("the event was created %s before the server's time (created_at %d, server %d), more than the ±%ds allowed: sign each request just before sending it, and check that your clock is not %s behind the server",
		seconds(diff), createdAt, nowS, limit, seconds(diff))
}

// seconds formats a number of seconds for people: "93s", "1h2m3s".
func seconds(s uint64) string {
	if s < 120 || s > 1<<32 {
		return strconv.FormatUint(s, 10) + "s"
	}
	return (time.Duration(s) * time.Second).String()
}

// show prepares an untrusted string for an error message: shortened to
// about limit bytes, and quoted if it is empty or holds anything but
// printable characters, so it cannot forge lines in a log.
func show(s string, limit int) string {
	cut := ""
	if len(s) > limit {
		for limit > 0 && !utf8.RuneStart(s[limit]) {
			limit--
		}
		s, cut = s[:limit], "..."
	}
	if s == "" || !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || r == '"' }) >= 0 {
		return strconv.Quote(s) + cut
	}
	return s + cut
}
