package client

import (
	"context"
	"errors"
	"io"

	"connectrpc.com/connect"
)

// The server's refusals, one per Connect code its domain errors map to (backend/rpc/errors.go).
// Every error of a call is an *Error, which errors.Is matches against the sentinel of its code:
// callers test errors.Is(err, client.ErrNotFound) and never look at Connect codes themselves.
// A server that cannot be reached is not a refusal: Offline says so.
var (
	ErrInvalid            = errors.New("the server refused the request as invalid")    // connect.CodeInvalidArgument
	ErrNotFound           = errors.New("the server has no such thing")                 // connect.CodeNotFound
	ErrAlreadyExists      = errors.New("the server already has it")                    // connect.CodeAlreadyExists
	ErrPermissionDenied   = errors.New("the server does not allow it")                 // connect.CodePermissionDenied
	ErrUnauthenticated    = errors.New("the server did not accept the signature")      // connect.CodeUnauthenticated
	ErrFailedPrecondition = errors.New("the server cannot do it in the current state") // connect.CodeFailedPrecondition
	ErrResourceExhausted  = errors.New("the server's limit was reached")               // connect.CodeResourceExhausted
)

// sentinels maps the Connect codes of refusals to their sentinel errors: with Offline and
// explain, the one place the launcher reads the server's codes.
var sentinels = map[connect.Code]error{
	connect.CodeInvalidArgument:    ErrInvalid,
	connect.CodeNotFound:           ErrNotFound,
	connect.CodeAlreadyExists:      ErrAlreadyExists,
	connect.CodePermissionDenied:   ErrPermissionDenied,
	connect.CodeUnauthenticated:    ErrUnauthenticated,
	connect.CodeFailedPrecondition: ErrFailedPrecondition,
	connect.CodeResourceExhausted:  ErrResourceExhausted,
}

// Error is a failed call, explained for the player.
type Error struct {
	// Procedure is the RPC, such as /satchel.library.v1.LibraryService/GetDownload.
	Procedure string
	// Code is the server's code; a connection that broke under the call is CodeUnavailable.
	Code connect.Code
	// Message is the server's message, or what went wrong on the way.
	Message string
	// Hint says what the player can do; it may be empty when Message already does.
	Hint string
	err  error
}

// Error returns Message and Hint.
func (e *Error) Error() string {
	if e.Hint == "" {
		return e.Message
	}
	return e.Message + ": " + e.Hint
}

// Unwrap returns the underlying *connect.Error, so connect.CodeOf works.
func (e *Error) Unwrap() error { return e.err }

// Is reports whether target is the sentinel error of e's code (ErrNotFound for NotFound...).
func (e *Error) Is(target error) bool {
	s, ok := sentinels[e.Code]
	return ok && s == target
}

// Offline reports whether err means the server could not be reached: it did not answer, or
// the connection to it broke in the middle of a call (a stream cut short when the server
// stopped or the network dropped). Calling again later may work; nothing was refused.
func Offline(err error) bool {
	var e *Error
	ce := new(connect.Error)
	switch {
	case errors.As(err, &e):
		return e.Code == connect.CodeUnavailable || e.Code == connect.CodeDeadlineExceeded
	case errors.As(err, &ce):
		return ce.Code() == connect.CodeUnavailable || ce.Code() == connect.CodeDeadlineExceeded || broken(ce)
	}
	return false
}

// broken reports whether ce is a connection that broke under a call: an Internal or Unknown
// error the server never sent (a reply cut short, such as connect's "protocol error:
// incomplete envelope"), as opposed to one it sent, which is a server failure.
func broken(ce *connect.Error) bool {
	return (ce.Code() == connect.CodeInternal || ce.Code() == connect.CodeUnknown) && !connect.IsWireError(ce)
}

// explain wraps a call's error in an *Error. Context cancellation and io.EOF pass unchanged.
func explain(base, procedure string, err error) error {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
		return err
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	ce := new(connect.Error)
	if !errors.As(err, &ce) {
		ce = connect.NewError(connect.CodeUnknown, err)
	}
	e := &Error{Procedure: procedure, Code: ce.Code(), Message: ce.Message(), err: err}
	if broken(ce) {
		e.Code = connect.CodeUnavailable
		e.Message = "the connection to the Satchel server at " + base + " broke (" + ce.Message() + ")"
		e.Hint = "check your network connection if it keeps happening (installed games still launch offline)"
		return e
	}
	switch ce.Code() {
	case connect.CodeUnavailable:
		e.Message = "cannot reach the Satchel server at " + base
		e.Hint = "check your network connection (installed games still launch offline)"
		if ce.Message() != "" && connect.IsWireError(ce) {
			e.Message = "the Satchel server at " + base + " is unavailable (" + ce.Message() + ")"
			e.Hint = "try again in a moment"
		}
	case connect.CodeDeadlineExceeded:
		e.Message = "the Satchel server at " + base + " did not answer in time"
		e.Hint = "check your connection and try again"
	case connect.CodeUnauthenticated:
		e.Hint = "the server did not accept your identity's signature; check that your computer's clock is right"
	case connect.CodeInternal, connect.CodeUnknown, connect.CodeDataLoss, connect.CodeUnimplemented:
		e.Message = "the Satchel server failed (" + ce.Message() + ")"
		e.Hint = "try again later; if it keeps failing, tell the server's operators"
	}
	return e
}
