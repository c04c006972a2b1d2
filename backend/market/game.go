package market

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// GameStatus is a game's listing status.
type GameStatus string

const (
	StatusDraft    GameStatus = "DRAFT"    // visible to its developer only
	StatusUnlisted GameStatus = "UNLISTED" // reachable by slug, not in the store list
	StatusListed   GameStatus = "LISTED"   // in the store list
	StatusFeatured GameStatus = "FEATURED" // listed and shown first; admins only
	StatusBanned   GameStatus = "BANNED"   // hidden, not purchasable, not downloadable; admins only
)

// Game is a listing owned by a developer.
type Game struct {
	ID              string
	DeveloperUserID string
	DeveloperPubkey string
	DeveloperName   string
	// DeveloperStudio is the developer's studio name, "" when unset: the game is shown "by"
	// it, else by DeveloperName.
	DeveloperStudio string
	Slug            string
	Title           string
	Summary         string
	DescriptionMD   string
	PriceMsat       int64
	Status          GameStatus
	LatestRelease   *Release // newest published release; nil when none is published
	Cover           *Media   // nil when none; loaded only where the store shows it
	Screenshots     []Media  // in order; loaded with Cover
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Limits of a game's fields.
const (
	MaxPriceMsat = 100_000_000_000 // one bitcoin
	// DefaultMinPriceMsat is the lowest price of a paid game unless the operator sets another:
	// 1,000 sats, so that the developer's net is an amount Lightning Addresses accept.
	DefaultMinPriceMsat = 1_000_000
	maxTitle            = 100
	maxSummary          = 280
	maxDescriptionMD    = 20_000
)

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$`)

// NewGame is what a developer gives to create a game.
type NewGame struct {
	Slug          string
	Title         string
	Summary       string
	DescriptionMD string
	PriceMsat     int64
}

// Validate checks every field of the new game; a paid game costs at least minPaidMsat.
func (g NewGame) Validate(minPaidMsat int64) error {
	if !slugPattern.MatchString(g.Slug) {
		return Errorf(CodeInvalid, "slug %q is not valid: use 3 to 64 lowercase letters, digits and dashes, not starting or ending with a dash", Clip(g.Slug))
	}
	return GameUpdate{Title: &g.Title, Summary: &g.Summary, DescriptionMD: &g.DescriptionMD, PriceMsat: &g.PriceMsat}.Validate(minPaidMsat)
}

// GameUpdate changes a game's details; nil fields stay unchanged.
type GameUpdate struct {
	Title         *string
	Summary       *string
	DescriptionMD *string
	PriceMsat     *int64
}

// Validate checks the fields that are set; a paid game costs at least minPaidMsat.
func (u GameUpdate) Validate(minPaidMsat int64) error {
	if u.Title != nil {
		if err := checkText("title", *u.Title, 1, maxTitle, false); err != nil {
			return err
		}
		if strings.TrimSpace(*u.Title) == "" {
			return Errorf(CodeInvalid, "title is required")
		}
	}
	if u.Summary != nil {
		if err := checkText("summary", *u.Summary, 0, maxSummary, false); err != nil {
			return err
		}
	}
	if u.DescriptionMD != nil {
		if err := checkText("description_md", *u.DescriptionMD, 0, maxDescriptionMD, true); err != nil {
			return err
		}
	}
	if u.PriceMsat != nil {
		return CheckPrice(*u.PriceMsat, minPaidMsat)
	}
	return nil
}

// CheckPrice refuses a price that is not 0 (free) or from minPaidMsat to MaxPriceMsat, naming
// the range in sats, as people type prices.
func CheckPrice(priceMsat, minPaidMsat int64) error {
	if priceMsat == 0 || priceMsat >= minPaidMsat && priceMsat <= MaxPriceMsat {
		return nil
	}
	return Errorf(CodeInvalid, "a price of %s sats is not allowed: a game is free (0) or costs %s to %s sats, so the developer's share can be paid out",
		FormatSats(priceMsat), FormatSats(minPaidMsat), FormatSats(MaxPriceMsat))
}

// FormatSats writes an amount in millisatoshi as sats with thousands separators ("1,000",
// "0.5").
func FormatSats(msat int64) string {
	sign := ""
	if msat < 0 {
		sign, msat = "-", -msat
	}
	whole := fmt.Sprint(msat / 1000)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	if frac := msat % 1000; frac != 0 {
		return sign + whole + strings.TrimRight(fmt.Sprintf(".%03d", frac), "0")
	}
	return sign + whole
}

// Apply returns g with the update's set fields applied.
func (u GameUpdate) Apply(g Game) Game {
	if u.Title != nil {
		g.Title = *u.Title
	}
	if u.Summary != nil {
		g.Summary = *u.Summary
	}
	if u.DescriptionMD != nil {
		g.DescriptionMD = *u.DescriptionMD
	}
	if u.PriceMsat != nil {
		g.PriceMsat = *u.PriceMsat
	}
	return g
}

// Public reports whether anyone may see the game by its slug.
func (s GameStatus) Public() bool {
	return s == StatusUnlisted || s == StatusListed || s == StatusFeatured
}

// InStore reports whether the game appears in the store list.
func (s GameStatus) InStore() bool { return s == StatusListed || s == StatusFeatured }

// Valid reports whether s is one of the five statuses.
func (s GameStatus) Valid() bool {
	switch s {
	case StatusDraft, StatusUnlisted, StatusListed, StatusFeatured, StatusBanned:
		return true
	}
	return false
}

// CanView reports whether a may see g: public games to anyone, a DRAFT game to its developer,
// a BANNED game to admins only.
func CanView(a Actor, g Game) bool {
	switch {
	case g.Status.Public():
		return true
	case g.Status == StatusDraft:
		return a.Admin || (!a.Anonymous() && a.UserID == g.DeveloperUserID)
	default:
		return a.Admin
	}
}

// Hidden reports whether a may not learn that g exists: a DRAFT game is hidden from everyone
// but its developer and admins. Whoever asks about a hidden game by id gets GameNotFound,
// exactly as for an id that does not exist. (A BANNED game was public once: answers about it
// say it is banned.)
func Hidden(a Actor, g Game) bool {
	return g.Status == StatusDraft && !CanView(a, g)
}

// CheckOwner refuses anyone but the game's developer: unauthenticated when a did not sign,
// GameNotFound when g is hidden from a (see Hidden), permission denied otherwise.
func CheckOwner(a Actor, g Game) error {
	if err := RequireUser(a); err != nil {
		return err
	}
	if Hidden(a, g) {
		return GameNotFound(g.ID)
	}
	if a.UserID != g.DeveloperUserID {
		return Errorf(CodePermissionDenied, "game %q belongs to another developer", g.Slug)
	}
	return nil
}

// CheckDeveloperStatus decides whether g's developer may move it to status to.
// hasPublished says whether the game has a published release.
func CheckDeveloperStatus(a Actor, g Game, to GameStatus, hasPublished bool) error {
	if err := CheckOwner(a, g); err != nil {
		return err
	}
	switch to {
	case StatusDraft, StatusUnlisted, StatusListed:
	case StatusFeatured, StatusBanned:
		return Errorf(CodePermissionDenied, "only admins can set a game %s; use DRAFT, UNLISTED or LISTED", to)
	default:
		return Errorf(CodeInvalid, "status is required: DRAFT, UNLISTED or LISTED")
	}
	if g.Status == StatusBanned {
		return Errorf(CodePermissionDenied, "game %q is banned; contact the operators of this server", g.Slug)
	}
	return checkListable(g, to, hasPublished)
}

// CheckAdminStatus decides whether an admin may move g to status to.
func CheckAdminStatus(a Actor, g Game, to GameStatus, hasPublished bool) error {
	if err := RequireAdmin(a); err != nil {
		return err
	}
	if !to.Valid() {
		return Errorf(CodeInvalid, "status is required: DRAFT, UNLISTED, LISTED, FEATURED or BANNED")
	}
	return checkListable(g, to, hasPublished)
}

func checkListable(g Game, to GameStatus, hasPublished bool) error {
	if to.InStore() && !hasPublished {
		return Errorf(CodeFailedPrecondition, "game %q has no published release: publish one before setting it %s", g.Slug, to)
	}
	return nil
}

// RequireDeveloper refuses a user who has no developer profile.
func RequireDeveloper(a Actor, isDeveloper bool) error {
	if err := RequireUser(a); err != nil {
		return err
	}
	if !isDeveloper {
		return Errorf(CodePermissionDenied, "become a developer first: set a payout Lightning Address")
	}
	return nil
}

// By names who the game is by: the developer's studio, else their display name, else "an
// independent developer".
func (g Game) By() string {
	switch {
	case g.DeveloperStudio != "":
		return g.DeveloperStudio
	case g.DeveloperName != "":
		return g.DeveloperName
	}
	return "an independent developer"
}
