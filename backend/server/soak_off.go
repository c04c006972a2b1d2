//go:build !soak

package server

import (
	"github.com/riverqueue/river"

	"satchel.dev/backend/announce"
	"satchel.dev/backend/payouts"
)

// tuneQueue leaves the payout worker's and the job queue's settings as they are: only the soak
// build changes them (soak.go).
func tuneQueue(*payouts.Config, *river.Config) {}

// tuneAnnounce leaves the announcement workers' settings as they are (see soak.go).
func tuneAnnounce(*announce.Config) {}
