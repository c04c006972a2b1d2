package market

import (
	"regexp"
	"time"
)

// Release is a version of a game.
type Release struct {
	ID          string
	GameID      string
	Version     string
	NotesMD     string
	PublishedAt *time.Time // nil while unpublished
	CreatedAt   time.Time
	Build       *Build // nil until a build is uploaded; without its manifest
}

// Published reports whether the release has been published.
func (r Release) Published() bool { return r.PublishedAt != nil }

// semverPattern is the regular expression semver.org suggests for Semantic Versioning 2.0.0.
var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

const (
	maxVersion = 64
	maxNotesMD = 20_000
)

// ValidateVersion checks that v is a semantic version (semver.org), such as 1.0.0 or 2.1.0-beta.1.
func ValidateVersion(v string) error {
	if len(v) > maxVersion || !semverPattern.MatchString(v) {
		return Errorf(CodeInvalid, "version %q is not a semantic version: use MAJOR.MINOR.PATCH, as in 1.0.0 or 1.2.0-beta.1", Clip(v))
	}
	return nil
}

// ValidateNotes checks release notes against their limit.
func ValidateNotes(notes string) error {
	return checkText("release_notes_md", notes, 0, maxNotesMD, true)
}

// CheckReleaseOwner is CheckOwner for a call that names a release of g by its id: a release of
// a game hidden from a (see Hidden) is ReleaseNotFound, exactly as for an id that does not exist.
func CheckReleaseOwner(a Actor, g Game, releaseID string) error {
	if err := RequireUser(a); err != nil {
		return err
	}
	if Hidden(a, g) {
		return ReleaseNotFound(releaseID)
	}
	return CheckOwner(a, g)
}

// ReleaseUpdate changes a release; nil fields stay unchanged.
type ReleaseUpdate struct {
	Version *string
	NotesMD *string
}

// Check validates the update and refuses a version change on a published release.
func (u ReleaseUpdate) Check(r Release) error {
	if u.Version != nil {
		if err := ValidateVersion(*u.Version); err != nil {
			return err
		}
		if r.Published() && *u.Version != r.Version {
			return Errorf(CodeFailedPrecondition, "release %s is published and its version cannot change: create a new release", r.Version)
		}
	}
	if u.NotesMD != nil {
		return ValidateNotes(*u.NotesMD)
	}
	return nil
}
