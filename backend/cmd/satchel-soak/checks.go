package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// settle brings every part back and waits until the store has caught up with what the load
// did: every payment of the buyer's node ended and settled, every payout ended, every
// announcement delivered. Each wait is bounded and names what it waited for.
func (s *soak) settle(ctx context.Context, db *pgxpool.Pool) error {
	if err := s.env.startPG(ctx); err != nil {
		return err
	}
	if err := s.env.s3.Start(); err != nil {
		return err
	}
	if err := s.env.owner.try(s.env.relays[0].Up); err != nil {
		return err
	}
	for _, in := range s.instances {
		if err := in.start(ctx); err != nil {
			return err
		}
	}
	if err := s.waitReady(ctx, true, time.Minute); err != nil {
		return err
	}
	if err := s.releaseHeld(ctx, 2*time.Minute); err != nil {
		return err
	}
	count := func(query string, args ...any) func() (int, error) {
		return func() (n int, err error) { return n, db.QueryRow(ctx, query, args...).Scan(&n) }
	}
	waits := []struct {
		what  string
		limit time.Duration
		left  func() (int, error)
	}{
		{"every payment the buyer's node made to be settled (its purchase no longer PENDING)", 2 * time.Minute,
			count(`SELECT count(*) FROM purchases WHERE status = 'PENDING' AND invoice_id = ANY($1)`, s.paymentHashes())},
		{"every payout to end (SENT, FAILED or CANCELED)", 3 * time.Minute,
			count(`SELECT count(*) FROM payouts WHERE status IN ('SCHEDULED', 'RETRYING')`)},
		{"every announcement to be signed and delivered to every relay", 2 * time.Minute,
			count(`SELECT (SELECT count(*) FROM announcement_deliveries WHERE status <> 'SENT')
			            + (SELECT count(*) FROM announcements WHERE events IS NULL AND skipped IS NULL)`)},
	}
	for _, w := range waits {
		deadline := time.Now().Add(w.limit)
		for {
			n, err := w.left()
			if err == nil && n == 0 {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("waiting %v for %s: %d left (%v)", w.limit, w.what, n, err)
			}
			sleep(ctx, 500*time.Millisecond)
		}
	}
	return nil
}

// checks returns the run's verdicts.
func (s *soak) checks(ctx context.Context, db *pgxpool.Pool) []check {
	cs := []check{s.checkLedger(ctx), s.checkPayments(ctx, db), s.checkPayouts(ctx, db), s.checkInstalls(),
		s.checkRecovered(), s.checkAnnouncements(ctx, db), s.checkPublished(ctx, db)}
	return append(cs, s.checkInstances()...)
}

// checkLedger runs satchel-server check-ledger on the database.
func (s *soak) checkLedger(ctx context.Context) check {
	cmd := exec.CommandContext(ctx, s.serverBin, "check-ledger")
	cmd.Env = []string{"DATABASE_URL=" + s.env.dsn, "PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	detail := strings.TrimSpace(string(out))
	if err != nil {
		detail = fmt.Sprintf("%v: %s", err, clip(detail, 2000))
	}
	return check{name: "check-ledger", ok: err == nil, detail: clip(detail, 2000)}
}

// checkPayments compares the buyer node's payments with the purchases: every payment that
// succeeded maps to exactly one purchase, PAID (or REFUNDED by the admin), with its
// INVOICE_PAID entry; none is still in flight; and every payment the players saw succeed is
// among them.
func (s *soak) checkPayments(ctx context.Context, db *pgxpool.Pool) check {
	c := check{name: "buyer payments ↔ PAID purchases"}
	pays, err := s.env.buyerNode.Payments(ctx)
	if err != nil {
		c.detail = err.Error()
		return c
	}
	var bad []string
	succeeded := map[string]bool{}
	for _, p := range pays {
		switch p.Status {
		case "SUCCEEDED":
			succeeded[p.PaymentHash] = true
		case "IN_FLIGHT":
			bad = append(bad, "payment "+p.PaymentHash+" still in flight")
		}
	}
	for hash := range succeeded {
		rows, err := db.Query(ctx, `
			SELECT p.id, p.status, (SELECT count(*) FROM ledger_entries l WHERE l.purchase_id = p.id AND l.type = 'INVOICE_PAID')
			FROM purchases p WHERE p.invoice_id = $1`, hash)
		if err != nil {
			c.detail = err.Error()
			return c
		}
		var n int
		for rows.Next() {
			var id, status string
			var paidEntries int
			if err := rows.Scan(&id, &status, &paidEntries); err != nil {
				rows.Close()
				c.detail = err.Error()
				return c
			}
			n++
			if !(status == "PAID" || status == "REFUNDED" && s.isRefunded(id)) || paidEntries != 1 {
				bad = append(bad, fmt.Sprintf("payment %s: purchase %s is %s with %d INVOICE_PAID entries", hash, id, status, paidEntries))
			}
		}
		rows.Close()
		if n != 1 {
			bad = append(bad, fmt.Sprintf("payment %s maps to %d purchases", hash, n))
		}
	}
	for _, hash := range s.paymentHashes() {
		if !succeeded[hash] {
			bad = append(bad, "payment "+hash+" succeeded for a player but the buyer's node does not list it as SUCCEEDED")
		}
	}
	c.ok = len(bad) == 0
	c.detail = fmt.Sprintf("%d payments, each one PAID purchase", len(succeeded))
	if !c.ok {
		c.detail = clip(strings.Join(bad, "; "), 2000)
	}
	return c
}

// checkPayouts: every payout SENT, or CANCELED because the admin refunded its purchase.
func (s *soak) checkPayouts(ctx context.Context, db *pgxpool.Pool) check {
	c := check{name: "payouts"}
	rows, err := db.Query(ctx, `SELECT purchase_id, status, coalesce(last_error, '') FROM payouts`)
	if err != nil {
		c.detail = err.Error()
		return c
	}
	defer rows.Close()
	counts := map[string]int{}
	var bad []string
	for rows.Next() {
		var id, status, lastErr string
		if err := rows.Scan(&id, &status, &lastErr); err != nil {
			c.detail = err.Error()
			return c
		}
		counts[status]++
		if status != "SENT" && !(status == "CANCELED" && s.isRefunded(id)) {
			bad = append(bad, fmt.Sprintf("purchase %s: payout %s (%s)", id, status, lastErr))
		}
	}
	c.ok = len(bad) == 0 && counts["SENT"] > 0
	c.detail = fmt.Sprintf("%d SENT, %d CANCELED by refunds", counts["SENT"], counts["CANCELED"])
	if len(bad) > 0 {
		c.detail = clip(strings.Join(bad, "; "), 2000)
	}
	return c
}

// checkInstalls: every finished install is the published build, byte for byte.
func (s *soak) checkInstalls() check {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := check{name: "installs byte-for-byte the published build", ok: len(s.badInstalls) == 0 && s.installs > 0}
	c.detail = fmt.Sprintf("%d installs checked against their manifests", s.installs)
	if len(s.badInstalls) > 0 {
		c.detail = clip(strings.Join(s.badInstalls, "; "), 2000)
	}
	return c
}

// checkRecovered: every killed install recovered (its launcher started again, the current
// version verified).
func (s *soak) checkRecovered() check {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := check{name: "killed installs recovered", ok: true}
	var steps []string
	for _, r := range s.crashes {
		steps = append(steps, r.step)
		if !r.recovered {
			c.ok = false
		}
	}
	if s.cfg.Faults && len(s.crashes) == 0 {
		c.ok = false
	}
	c.detail = fmt.Sprintf("%d killed (at %s), then installed", len(s.crashes), strings.Join(steps, ", "))
	return c
}

// checkAnnouncements: every signed announcement event is stored exactly once by every relay,
// the one that was down included.
func (s *soak) checkAnnouncements(ctx context.Context, db *pgxpool.Pool) check {
	c := check{name: "announcements once per relay"}
	rows, err := db.Query(ctx, `SELECT events FROM announcements WHERE events IS NOT NULL`)
	if err != nil {
		c.detail = err.Error()
		return c
	}
	defer rows.Close()
	var bad []string
	n := 0
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			c.detail = err.Error()
			return c
		}
		var events []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &events); err != nil {
			c.detail = err.Error()
			return c
		}
		for _, ev := range events {
			n++
			for i, r := range s.env.relays {
				if got := r.Saved(ev.ID); got != 1 {
					bad = append(bad, fmt.Sprintf("event %s stored %d times by relay %d", ev.ID, got, i))
				}
			}
		}
	}
	c.ok = len(bad) == 0 && n > 0
	c.detail = fmt.Sprintf("%d events, each stored once by each of %d relays", n, len(s.env.relays))
	if len(bad) > 0 {
		c.detail = clip(strings.Join(bad, "; "), 2000)
	}
	return c
}

// checkPublished: every release a push reported published is published in the database.
func (s *soak) checkPublished(ctx context.Context, db *pgxpool.Pool) check {
	c := check{name: "published releases kept"}
	var bad []string
	s.mu.Lock()
	rels := append([][2]string(nil), s.published...)
	s.mu.Unlock()
	for _, r := range rels {
		var ok bool
		err := db.QueryRow(ctx, `
			SELECT r.published_at IS NOT NULL FROM releases r JOIN games g ON g.id = r.game_id
			WHERE g.slug = $1 AND r.version = $2`, r[0], r[1]).Scan(&ok)
		if err != nil || !ok {
			bad = append(bad, fmt.Sprintf("%s %s (%v)", r[0], r[1], err))
		}
	}
	c.ok = len(bad) == 0 && len(rels) > 0
	c.detail = fmt.Sprintf("%d releases published", len(rels))
	if len(bad) > 0 {
		c.detail = "not published: " + clip(strings.Join(bad, "; "), 2000)
	}
	return c
}

// Leak limits: from the first third of a process's samples to its last third, goroutines and
// resident memory may grow by this fraction, or by the absolute margin, whichever is larger.
const (
	growthFraction    = 0.5
	goroutineMargin   = 60
	memoryMarginBytes = 64 << 20
)

// checkInstances: no goroutine leak and flat memory in each process of each instance that ran
// long enough to tell (six samples or more).
func (s *soak) checkInstances() []check {
	var out []check
	for _, in := range s.instances {
		c := check{name: fmt.Sprintf("instance %d goroutines and memory flat", in.n), ok: true}
		var parts []string
		judged := 0
		for i, life := range in.allLives() {
			if len(life) < 6 {
				continue
			}
			judged++
			third := len(life) / 3
			g0, g1 := peak(life[:third], func(m metricSample) float64 { return m.goroutines }), peak(life[len(life)-third:], func(m metricSample) float64 { return m.goroutines })
			m0, m1 := peak(life[:third], func(m metricSample) float64 { return m.rssBytes }), peak(life[len(life)-third:], func(m metricSample) float64 { return m.rssBytes })
			gOK := g1 <= max(g0*(1+growthFraction), g0+goroutineMargin)
			mOK := m1 <= max(m0*(1+growthFraction), m0+memoryMarginBytes)
			c.ok = c.ok && gOK && mOK
			parts = append(parts, fmt.Sprintf("process %d: goroutines %.0f→%.0f, RSS %.0f→%.0f MiB", i+1, g0, g1, m0/(1<<20), m1/(1<<20)))
		}
		c.detail = strings.Join(parts, "; ")
		if judged == 0 {
			c.detail = "no process ran long enough to judge"
		}
		out = append(out, c)
	}
	return out
}

func peak(ms []metricSample, f func(metricSample) float64) float64 {
	v := 0.0
	for _, m := range ms {
		v = max(v, f(m))
	}
	return v
}
