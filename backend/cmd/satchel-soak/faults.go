package main

import (
	"context"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"

	"satchel.dev/backend/payouts/lnurltest"
)

// The faults, each injected at least once per run, in a random order (from the seed).
const (
	faultKill     = "kill-9"       // an instance killed right after a payment (settlements in flight), restarted
	faultPostgres = "postgres"     // PostgreSQL stopped (immediate mode) and started again
	faultLND      = "lnd-restart"  // the platform's LND node restarted: settlement streams break
	faultHold     = "payout-held"  // payouts held in flight by the developers' node, an instance killed meanwhile
	faultS3       = "s3-down"      // the S3 server killed during uploads and downloads, then back
	faultRelay    = "relay-down"   // one of the two relays down for a while
	faultInstall  = "install-kill" // a launcher killed at an install step, then run again
)

var faultKinds = []string{faultKill, faultPostgres, faultLND, faultHold, faultS3, faultRelay, faultInstall}

// crashResult is what a player reports of an install the soak had killed.
type crashResult struct {
	player, slug, step string
	killed             bool   // the CLI died of SIGKILL at the step
	why                string // why it did not, when it did not
	recovered          bool   // its next start recovered, and the current version still verifies
}

// installSteps are where an install is killed: midDownload is the soak's own SIGKILL once a
// download slowed to a crawl reports its first bytes; the others are steps where the satchel CLI's
// crash hook (SATCHEL_TEST_CRASH_AT) kills itself.
var installSteps = []string{midDownload, "after-extract", "after-rename"}

const midDownload = "mid-download"

// runFaults injects every kind of fault once, in a random order spread over the run, then more
// at random while time is left. It returns when the last one is over; the error is a fault
// that could not be injected or recovered from.
func (s *soak) runFaults(ctx context.Context, until time.Time) error {
	rng := s.rng()
	kinds := append([]string(nil), faultKinds...)
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	// Each fault takes about this long; the gaps share what is left of the run.
	est := 10*time.Second + s.cfg.HoldFor
	for i := 0; ; i++ {
		var kind string
		if i < len(kinds) {
			kind = kinds[i]
			left := time.Until(until) - time.Duration(len(kinds)-i)*est
			if !sleep(ctx, time.Duration(rng.Int64N(int64(max(left/time.Duration(len(kinds)-i), time.Second))))) {
				return nil
			}
		} else {
			if time.Until(until) < 2*est || !sleep(ctx, time.Duration(rng.Int64N(int64(20*time.Second)))) {
				return nil
			}
			kind = faultKinds[rng.IntN(len(faultKinds))]
		}
		if err := s.inject(ctx, rng, kind); err != nil {
			return fmt.Errorf("fault %s: %w", kind, err)
		}
	}
}

// inject injects one fault and returns once what it broke is back.
func (s *soak) inject(ctx context.Context, rng *mrand.Rand, kind string) error {
	switch kind {
	case faultKill:
		select { // a payment from before this fault does not count
		case <-s.paid:
		default:
		}
		select { // right after a payment: its settlement is under way on some instance
		case <-s.paid:
		case <-time.After(20 * time.Second):
		case <-ctx.Done():
			return nil
		}
		return s.killOne(ctx, rng, kind)
	case faultPostgres:
		return s.postgresDown(ctx, rng)
	case faultLND:
		end := s.rec.fault(kind, "the platform's LND node restarted")
		defer end()
		return s.env.network.Restart(ctx, s.env.network.Platform)
	case faultHold:
		return s.holdPayouts(ctx, rng)
	case faultS3:
		end := s.rec.fault(kind, "the S3 server killed")
		defer end()
		s.env.s3.Stop()
		sleep(ctx, 3*time.Second+time.Duration(rng.Int64N(int64(3*time.Second))))
		return s.env.s3.Start()
	case faultRelay:
		end := s.rec.fault(kind, "relay "+s.env.relays[0].URL+" down")
		defer end()
		s.env.relays[0].Down()
		sleep(ctx, 8*time.Second+time.Duration(rng.Int64N(int64(7*time.Second))))
		return s.env.owner.try(s.env.relays[0].Up)
	case faultInstall:
		return s.killInstall(ctx, rng)
	}
	return fmt.Errorf("unknown fault %q", kind)
}

// killOne kills a random running instance (leaving one at least) with SIGKILL and starts it
// again after a moment.
func (s *soak) killOne(ctx context.Context, rng *mrand.Rand, kind string) error {
	var up []*instance
	for _, in := range s.instances {
		if in.up() {
			up = append(up, in)
		}
	}
	if len(up) < 2 {
		return nil
	}
	in := up[rng.IntN(len(up))]
	end := s.rec.fault(kind, fmt.Sprintf("instance %d killed (SIGKILL)", in.n))
	defer end()
	in.kill()
	sleep(ctx, time.Second+time.Duration(rng.Int64N(int64(3*time.Second))))
	return in.start(ctx)
}

// postgresDown stops PostgreSQL, checks that every instance's /readyz says so, starts it again
// after a few seconds and waits until every instance is ready again.
func (s *soak) postgresDown(ctx context.Context, rng *mrand.Rand) error {
	end := s.rec.fault(faultPostgres, "PostgreSQL stopped (immediate mode)")
	defer end()
	if err := s.env.stopPG(ctx); err != nil {
		return err
	}
	if err := s.waitReady(ctx, false, 30*time.Second); err != nil {
		return err
	}
	s.rec.logf("every running instance's /readyz answers not ready")
	sleep(ctx, 2*time.Second+time.Duration(rng.Int64N(int64(3*time.Second))))
	if err := s.env.startPG(ctx); err != nil {
		return err
	}
	return s.waitReady(ctx, true, time.Minute)
}

// waitReady waits until every running instance's /readyz answers ready (or, with !want, not
// ready), for at most limit.
func (s *soak) waitReady(ctx context.Context, want bool, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var wrong []int
		for _, in := range s.instances {
			if in.up() && in.ready(ctx) != want {
				wrong = append(wrong, in.n)
			}
		}
		if len(wrong) == 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("waiting %v for /readyz of instances %v to answer ready=%t", limit, wrong, want)
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

// holdPayouts makes the developers' node hold the payouts it is paid (hold invoices), waits
// until one is held in flight, kills an instance meanwhile, and lets them through after
// HoldFor.
func (s *soak) holdPayouts(ctx context.Context, rng *mrand.Rand) error {
	end := s.rec.fault(faultHold, "the developers' node holds the payouts it receives")
	defer end()
	s.env.lnurl.SetMode(lnurltest.Hold)
	began := time.Now()
	deadline := began.Add(90 * time.Second)
	for !s.heldPayment(ctx) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.env.lnurl.SetMode(lnurltest.Honest)
			return fmt.Errorf("no payout was held in flight within 90 s of holding them")
		}
		sleep(ctx, 200*time.Millisecond)
	}
	s.rec.logf("a payout is held in flight")
	if err := s.killOne(ctx, rng, faultKill); err != nil {
		return err
	}
	sleep(ctx, s.cfg.HoldFor-time.Since(began))
	s.env.lnurl.SetMode(lnurltest.Honest)
	return s.releaseHeld(ctx, time.Minute)
}

// heldPayment reports whether the developers' node holds a payment of a hold invoice.
func (s *soak) heldPayment(ctx context.Context) bool {
	for _, inv := range s.env.lnurl.Issued() {
		if inv.Preimage == nil {
			continue
		}
		if st, err := s.env.buyerNode.Invoice(ctx, inv.Hash); err == nil && st.State == "ACCEPTED" {
			return true
		}
	}
	return false
}

// releaseHeld settles every held payment of the hold invoices issued, until none is OPEN or
// held any more (a payout asked for one before the hold ended pays it later), for at most limit.
func (s *soak) releaseHeld(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		open := 0
		for _, inv := range s.env.lnurl.Issued() {
			if inv.Preimage == nil {
				continue
			}
			st, err := s.env.buyerNode.Invoice(ctx, inv.Hash)
			switch {
			case err != nil:
				open++
			case st.State == "ACCEPTED":
				if err := s.env.buyerNode.SettleHold(ctx, inv.Preimage); err != nil {
					return fmt.Errorf("releasing the held payout %s: %w", hex.EncodeToString(inv.Hash), err)
				}
				s.rec.count("held payouts released")
			case st.State == "OPEN":
				open++
			}
		}
		if open == 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("waiting %v for the %d hold invoices still open to be paid and released", limit, open)
		}
		sleep(ctx, 200*time.Millisecond)
	}
}

// killInstall has the next fresh install killed at a random step, and waits until the player
// ran the launcher again. An install that was not killed (it failed before the step) arms it
// again; after 5 such, the fault fails, saying why each was not.
func (s *soak) killInstall(ctx context.Context, rng *mrand.Rand) error {
	step := installSteps[rng.IntN(len(installSteps))]
	end := s.rec.fault(faultInstall, "the next install is killed at "+step)
	defer end()
	var missed []string
	for range 5 {
		select {
		case s.crash <- step:
		case <-ctx.Done():
			return nil
		}
		select {
		case res := <-s.crashed:
			if !res.killed {
				s.rec.logf("%s's install of %s was not killed at %s: %s", res.player, res.slug, step, res.why)
				missed = append(missed, res.why)
				continue
			}
			s.rec.logf("%s's install of %s killed at %s; recovered: %t", res.player, res.slug, res.step, res.recovered)
			s.mu.Lock()
			s.crashes = append(s.crashes, res)
			s.mu.Unlock()
			return nil
		case <-time.After(3 * time.Minute):
			return fmt.Errorf("no install ran within 3 minutes of arming the kill at %s", step)
		case <-ctx.Done():
			return nil
		}
	}
	return fmt.Errorf("5 installs armed to be killed at %s were not: %s", step, strings.Join(missed, "; "))
}

// sleep waits for d or until ctx ends, and reports whether ctx is still live. Faults use it
// for their timing; checks wait on state instead.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
