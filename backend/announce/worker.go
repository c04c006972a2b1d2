package announce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"satchel.dev/backend/market"
	"satchel.dev/shared/nostr"
)

// Config sets where and how announcements go.
type Config struct {
	// Relays are the relays every announcement is delivered to (ws:// or wss://). Announcing
	// is off without any.
	Relays []string
	// Key is the platform's key, which signs every announcement.
	Key nostr.Signer
	// Links makes the game and file addresses the events carry.
	Links Links
	// Timeout bounds one attempt at one relay: connecting, sending both events and reading
	// both answers (default 15 s).
	Timeout time.Duration
	// MaxAttempts is how many failed attempts make a delivery FAILED (default 20).
	MaxAttempts int
	// After the nth failed attempt at a relay the next waits BackoffBase × 2^(n-1), at most
	// BackoffMax (defaults 10 s and 1 h: twenty attempts span about sixteen hours).
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// OnAttempt, if set, is called after every attempt (for metrics).
	OnAttempt func(relay string, ok bool)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = 15 * time.Second
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 20
	}
	if c.BackoffBase == 0 {
		c.BackoffBase = 10 * time.Second
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports a setting that cannot work, naming it.
func (c Config) Validate() error {
	if len(c.Relays) == 0 {
		return errors.New("announce: no relays")
	}
	for _, r := range c.Relays {
		if err := ValidateRelayURL(r); err != nil {
			return err
		}
	}
	switch {
	case c.Key == nil:
		return errors.New("announce: the platform's key is required to sign announcements")
	case c.Links.Game == "" || c.Links.File == "":
		return errors.New("announce: the game and file link templates are required")
	case c.Timeout < 100*time.Millisecond:
		return fmt.Errorf("announce: Timeout %v is too short", c.Timeout)
	case c.MaxAttempts < 1:
		return fmt.Errorf("announce: MaxAttempts %d must be at least 1", c.MaxAttempts)
	case c.BackoffBase <= 0 || c.BackoffMax < c.BackoffBase:
		return fmt.Errorf("announce: BackoffBase %v must be positive and at most BackoffMax %v", c.BackoffBase, c.BackoffMax)
	}
	return nil
}

// Backoff is how long to wait after the nth failed attempt (n >= 1).
func (c Config) Backoff(n int) time.Duration {
	d := c.BackoffBase
	for i := 1; i < n && d < c.BackoffMax; i++ {
		d *= 2
	}
	return min(d, c.BackoffMax)
}

// Workers returns the sign job's and the delivery job's workers. Add both to the River client
// that works Queue.
func Workers(store Store, cfg Config, log *slog.Logger) (*SignWorker, *DeliverWorker, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	return &SignWorker{store: store, cfg: cfg, log: log}, &DeliverWorker{store: store, cfg: cfg, log: log}, nil
}

// SignWorker works Args: it signs an announcement's events (once) and adds its deliveries.
type SignWorker struct {
	river.WorkerDefaults[Args]
	store Store
	cfg   Config
	log   *slog.Logger
}

// Work signs the announcement's events unless they are signed already, then adds a delivery
// per configured relay. An announcement whose game left the store, or whose release has no
// build, is skipped: nothing is signed or sent.
func (w *SignWorker) Work(ctx context.Context, job *river.Job[Args]) error {
	id := job.Args.AnnouncementID
	a, events, err := w.store.Announcement(ctx, id)
	if market.ErrorCode(err) == market.CodeNotFound {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if events == nil {
		if !a.Game.Status.InStore() || a.Release.Build == nil {
			reason := fmt.Sprintf("game %q is %s now: it is not announced", a.Game.Slug, a.Game.Status)
			if a.Release.Build == nil {
				reason = fmt.Sprintf("release %s of %q has no build", a.Release.Version, a.Game.Slug)
			}
			w.log.InfoContext(ctx, "announcement skipped", "announcement", id, "reason", reason)
			return w.store.Skip(ctx, id, reason)
		}
		unsigned, err := Events(a, w.cfg.Links, w.cfg.Now())
		if err != nil {
			return river.JobCancel(err)
		}
		if err := Sign(w.cfg.Key, unsigned); err != nil {
			return err
		}
		if events, err = w.store.SaveEvents(ctx, id, unsigned); err != nil {
			return err
		}
		w.log.InfoContext(ctx, "announcement signed", "announcement", id, "kind", a.Kind, "game", a.Game.Slug,
			"version", a.Release.Version, "note", events[0].ID, "file", events[1].ID)
	}
	return w.store.AddDeliveries(ctx, id, w.cfg.Relays)
}

// DeliverWorker works DeliverArgs: one attempt at one relay per run.
type DeliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	store Store
	cfg   Config
	log   *slog.Logger
}

// Timeout bounds one run: one attempt, with room to record it.
func (w *DeliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration {
	return w.cfg.Timeout + 10*time.Second
}

// Work makes one attempt to deliver the announcement's events to the delivery's relay and
// records it. It returns nil once the delivery is SENT, FAILED or SKIPPED, and snoozes the job
// until the next attempt otherwise. Errors are unexpected (the database did not answer) and
// retried by River.
func (w *DeliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	d, err := w.store.Delivery(ctx, job.Args.DeliveryID)
	if market.ErrorCode(err) == market.CodeNotFound {
		return river.JobCancel(err)
	}
	if err != nil || d.Status.Final() {
		return err
	}
	if !d.GameStatus.InStore() {
		reason := fmt.Sprintf("game %q is %s now: no longer announced", d.GameSlug, d.GameStatus)
		w.log.InfoContext(ctx, "announcement delivery skipped", "delivery", d.ID, "relay", d.Relay, "reason", reason)
		return w.store.SkipDelivery(ctx, d.ID, reason)
	}
	now := w.cfg.Now()
	if d.NextAttemptAt != nil && now.Before(*d.NextAttemptAt) {
		return river.JobSnooze(d.NextAttemptAt.Sub(now)) // an early run (a duplicate or rescued job)
	}
	attemptCtx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	answer, perr := Publish(attemptCtx, d.Relay, d.Events)
	cancel()
	a := Attempt{N: d.AttemptCount + 1, OK: perr == nil, Result: answer, StartedAt: now}
	if perr != nil {
		a.Result = perr.Error()
	}
	final := !a.OK && a.N >= w.cfg.MaxAttempts
	wait := w.cfg.Backoff(a.N)
	after, err := w.store.RecordAttempt(context.WithoutCancel(ctx), d.ID, a, final, w.cfg.Now().Add(wait))
	if err != nil {
		return err
	}
	if w.cfg.OnAttempt != nil {
		w.cfg.OnAttempt(d.Relay, a.OK)
	}
	if a.OK {
		w.log.InfoContext(ctx, "announcement delivered", "delivery", d.ID, "relay", d.Relay, "attempt", a.N, "answer", a.Result)
		return nil
	}
	w.log.WarnContext(ctx, "announcement delivery attempt failed", "delivery", d.ID, "relay", d.Relay, "attempt", a.N,
		"status", after.Status, "err", a.Result)
	if after.Status.Final() {
		return nil
	}
	return river.JobSnooze(wait)
}
