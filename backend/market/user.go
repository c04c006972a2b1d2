package market

import (
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// User is a person identified by their Nostr key.
type User struct {
	ID          string
	Pubkey      string // x-only public key, hex
	DisplayName string
	AvatarURL   string
	Developer   *DeveloperProfile // nil until the user becomes a developer
	CreatedAt   time.Time
}

// DeveloperProfile makes a user a developer: where their payouts go, and the studio their
// games are shown "by" ("" when unset).
type DeveloperProfile struct {
	PayoutLNAddress string
	StudioName      string
}

// ProfileUpdate changes a user's profile; nil fields stay unchanged, empty strings clear.
// StudioName is a developer's only.
type ProfileUpdate struct {
	DisplayName *string
	AvatarURL   *string
	StudioName  *string
}

const (
	maxDisplayName = 64
	maxAvatarURL   = 512
	maxLNAddress   = 320
)

// Validate checks the update's fields against their limits; isDeveloper says whether the user
// has a developer profile, which a studio name needs.
func (u ProfileUpdate) Validate(isDeveloper bool) error {
	if u.StudioName != nil && *u.StudioName != "" && !isDeveloper {
		return Errorf(CodeFailedPrecondition, "only developers have a studio name: set a payout Lightning Address first")
	}
	if u.DisplayName != nil {
		if err := checkText("display_name", *u.DisplayName, 0, maxDisplayName, false); err != nil {
			return err
		}
	}
	if u.StudioName != nil {
		if err := checkText("studio_name", *u.StudioName, 0, maxDisplayName, false); err != nil {
			return err
		}
	}
	if u.AvatarURL != nil && *u.AvatarURL != "" {
		a := *u.AvatarURL
		if len(a) > maxAvatarURL {
			return Errorf(CodeInvalid, "avatar_url is %d characters; the limit is %d", len(a), maxAvatarURL)
		}
		p, err := url.Parse(a)
		if err != nil || p.Scheme != "https" || p.Host == "" {
			return Errorf(CodeInvalid, "avatar_url must be an https:// URL")
		}
	}
	return nil
}

var (
	lnName = regexp.MustCompile(`^[a-z0-9\-_.+]+$`)
	// A domain name with a dot, "localhost" or an IPv4 address, with an optional port (local
	// test servers have one). Whether the address may be reached is the payout resolver's call.
	lnDomain = regexp.MustCompile(`^(([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?|localhost|\d{1,3}(\.\d{1,3}){3})(:\d{1,5})?$`)
)

// NormalizeLNAddress checks a Lightning Address (LUD-16, name@domain) for syntax and returns it
// in lowercase. It does not contact the domain, nor judge whether it may be contacted.
func NormalizeLNAddress(addr string) (string, error) {
	a := strings.ToLower(strings.TrimSpace(addr))
	bad := func() (string, error) {
		return "", Errorf(CodeInvalid, "%q is not a Lightning Address: use name@domain, as in alice@example.com", Clip(addr))
	}
	if a == "" {
		return "", Errorf(CodeInvalid, "ln_address is required: a Lightning Address such as alice@example.com")
	}
	if len(a) > maxLNAddress {
		return "", Errorf(CodeInvalid, "ln_address is %d characters; the limit is %d", len(a), maxLNAddress)
	}
	name, domain, ok := strings.Cut(a, "@")
	if !ok || !lnName.MatchString(name) || !lnDomain.MatchString(domain) || len(domain) > 253 {
		return bad()
	}
	return a, nil
}

// checkText checks a free-text field that other people will see: valid UTF-8, between min and
// max characters, no control characters (C0, DEL, C1; newline and tab are allowed only when
// multiline) and no bidirectional embeddings, overrides or isolates (U+202A to U+202E, U+2066
// to U+2069), which can show text in another order than it reads. A single-line field (a title,
// a name) also refuses the invisible direction marks (U+200E, U+200F, U+061C) and the line and
// paragraph separators (U+2028, U+2029).
func checkText(field, s string, min, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return Errorf(CodeInvalid, "%s is not valid UTF-8", field)
	}
	n := utf8.RuneCountInString(s)
	if n > max {
		return Errorf(CodeInvalid, "%s is %d characters; the limit is %d", field, n, max)
	}
	if n < min {
		if min == 1 {
			return Errorf(CodeInvalid, "%s is required", field)
		}
		return Errorf(CodeInvalid, "%s is %d characters; it needs at least %d", field, n, min)
	}
	for _, r := range s {
		switch {
		case (r < 0x20 || r == 0x7f) && !(multiline && (r == '\n' || r == '\t')), r >= 0x80 && r <= 0x9f:
			return Errorf(CodeInvalid, "%s contains a control character (%U): remove it", field, r)
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return Errorf(CodeInvalid, "%s contains a bidirectional override (%U), which can show text in another order than it reads: remove it", field, r)
		case !multiline && (r == 0x200e || r == 0x200f || r == 0x061c):
			return Errorf(CodeInvalid, "%s contains an invisible direction mark (%U): remove it", field, r)
		case !multiline && (r == 0x2028 || r == 0x2029):
			return Errorf(CodeInvalid, "%s contains a line break (%U): it must be one line", field, r)
		}
	}
	return nil
}
