package core_test

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"connectrpc.com/connect"

	"satchel.dev/desktop/client"
	"satchel.dev/desktop/core"
	"satchel.dev/desktop/install"
)

// TestProblem classifies the errors of installs for the window.
func TestProblem(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{fmt.Errorf("downloading: %w", context.Canceled), core.ProblemCancelled},
		{connect.NewError(connect.CodeUnavailable, errors.New("dial tcp: refused")), core.ProblemOffline},
		{fmt.Errorf("%w: sha256 differs", install.ErrVerify), core.ProblemVerify},
		{fmt.Errorf("%w in /games", install.ErrDiskSpace), core.ProblemDiskSpace},
		{fmt.Errorf("writing: %w", syscall.ENOSPC), core.ProblemDiskSpace},
		{fmt.Errorf("%w: lantern-drift", install.ErrBusy), core.ProblemBusy},
		{install.ErrMoving, core.ProblemMoving},
		{&client.Error{Code: connect.CodePermissionDenied, Message: "you do not own this game"}, core.ProblemRefused},
		{errors.New("something else"), core.ProblemOther},
	} {
		if got := core.Problem(tc.err); got != tc.want {
			t.Errorf("Problem(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
