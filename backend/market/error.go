// Package market holds Satchel's domain: users, developers, games and releases, the rules that
// govern them, and the services the adapters implement. It does no I/O: no SQL, no HTTP.
package market

import (
	"errors"
	"fmt"
)

// Code classifies an error so that each transport maps it once (the rpc package maps it to a
// Connect code).
type Code string

const (
	CodeInvalid            Code = "invalid"             // the request is malformed; fix the input
	CodeNotFound           Code = "not_found"           // no such thing, or the caller may not see it
	CodeAlreadyExists      Code = "already_exists"      // a unique thing already exists
	CodePermissionDenied   Code = "permission_denied"   // the caller is known but not allowed
	CodeUnauthenticated    Code = "unauthenticated"     // the caller must sign the request
	CodeFailedPrecondition Code = "failed_precondition" // the state does not allow it yet
	CodeResourceExhausted  Code = "resource_exhausted"  // a limit was hit
	CodeUnavailable        Code = "unavailable"         // a dependency is down; retry later
	CodeInternal           Code = "internal"            // a bug or an unexpected failure
)

// Error is a domain error: a code and a message a person can act on.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// maxQuoted is how many characters of user input an error message quotes.
const maxQuoted = 64

// Clip cuts user input to 64 characters, ending it with "…" when it cut, for an error message
// to quote (with %q, which also escapes invisible characters). A message quoting what a user
// sent stays readable however much they sent.
func Clip(s string) string {
	n := 0
	for i := range s {
		if n == maxQuoted {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// GameNotFound is the error for a game id that names no game the caller may know of. Services
// return it both for an id that does not exist and for a game hidden from the caller (see
// Hidden), so that the answer tells a stranger nothing.
func GameNotFound(id string) *Error {
	return Errorf(CodeNotFound, "no game with id %s", Clip(id))
}

// ReleaseNotFound is GameNotFound for a release id: also the answer for a release of a game
// hidden from the caller.
func ReleaseNotFound(id string) *Error {
	return Errorf(CodeNotFound, "no release with id %s", Clip(id))
}

// ErrorCode returns the code of the first *Error in err's chain, CodeInternal for any other
// non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
