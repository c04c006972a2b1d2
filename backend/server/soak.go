//go:build soak

package server

import (
	"time"

	"github.com/riverqueue/river"

	"satchel.dev/backend/announce"
	"satchel.dev/backend/payouts"
)

// The soak build of the server (go build -tags soak), which only backend/cmd/satchel-soak runs.
// Its developers' Lightning Addresses are served on loopback over plain HTTP, so payouts may
// go there; and payouts, announcements and jobs whose worker died are retried within seconds,
// so that a run of minutes sees every fault recover. The default build has none of this.

// tuneQueue sets the payout worker's and the job queue's soak settings.
func tuneQueue(p *payouts.Config, q *river.Config) {
	p.LNURL.AllowHTTP, p.LNURL.AllowPrivate = true, true
	p.PaymentTimeout, p.BackoffBase, p.BackoffMax, p.RecheckInterval = 10*time.Second, 2*time.Second, 10*time.Second, 2*time.Second
	q.JobTimeout, q.RescueStuckJobsAfter = 30*time.Second, 30*time.Second
}

// tuneAnnounce sets the announcement workers' soak settings.
func tuneAnnounce(a *announce.Config) { a.BackoffBase, a.BackoffMax = 2*time.Second, 10*time.Second }
