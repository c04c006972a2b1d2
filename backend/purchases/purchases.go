// Package purchases sells games over Lightning: it opens purchases with an invoice from the
// provider, applies the provider's settlements exactly once, expires unpaid invoices, and
// moves guest purchases to the players who claim them. It composes the postgres repositories,
// a lightning.Provider and the notifier that pushes changes to streams.
package purchases

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/market"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/ratelimit"
)

// Config sets the rules of buying.
type Config struct {
	FeeBps        int           // the platform's fee in basis points (1000 = 10%)
	InvoiceExpiry time.Duration // how long an invoice can be paid
	// ReceiptSecret derives a guest's receipt code from their request id, so a retried guest
	// purchase returns the same code although only its hash is stored.
	ReceiptSecret []byte
	// CreatePer and CreateBurst limit purchase creation per identity and per client address.
	CreatePer   time.Duration
	CreateBurst int
	// CodePer and CodeBurst limit wrong receipt codes per client address.
	CodePer   time.Duration
	CodeBurst int
	// OnSettled, if set, is called with the settlement lag (from the provider's settlement to
	// the purchase recorded PAID) of each purchase paid (for metrics).
	OnSettled func(lag time.Duration)
}

// WithDefaults returns c with unset fields given their defaults.
func (c Config) WithDefaults() Config {
	if c.InvoiceExpiry == 0 {
		c.InvoiceExpiry = 15 * time.Minute
	}
	if c.CreatePer == 0 {
		c.CreatePer, c.CreateBurst = 6*time.Second, 20
	}
	if c.CodePer == 0 {
		c.CodePer, c.CodeBurst = 10*time.Second, 20
	}
	return c
}

// Service runs buying.
type Service struct {
	repo     *postgres.PurchaseRepo
	library  *postgres.LibraryRepo
	notifier *postgres.Notifier
	provider lightning.Provider
	cfg      Config
	log      *slog.Logger
	byUser   *ratelimit.Limiter
	byIP     *ratelimit.Limiter
	codes    *ratelimit.Limiter
	now      func() time.Time
}

// New returns the buying service.
func New(repo *postgres.PurchaseRepo, library *postgres.LibraryRepo, notifier *postgres.Notifier, provider lightning.Provider, cfg Config, log *slog.Logger) (*Service, error) {
	cfg = cfg.WithDefaults()
	if cfg.FeeBps < 0 || cfg.FeeBps > 10000 {
		return nil, fmt.Errorf("purchases: fee of %d basis points is outside 0..10000", cfg.FeeBps)
	}
	if len(cfg.ReceiptSecret) < 16 {
		return nil, errors.New("purchases: the receipt secret must have at least 16 bytes")
	}
	return &Service{repo: repo, library: library, notifier: notifier, provider: provider, cfg: cfg, log: log,
		byUser: ratelimit.New(cfg.CreatePer, cfg.CreateBurst), byIP: ratelimit.New(cfg.CreatePer, cfg.CreateBurst),
		codes: ratelimit.New(cfg.CodePer, cfg.CodeBurst), now: time.Now}, nil
}

// TestMoney reports whether the provider pays with test money (the dev provider).
func (s *Service) TestMoney() bool { return s.provider.Name() == "dev" }

// Provider is the invoice provider purchases are paid through.
func (s *Service) Provider() lightning.Provider { return s.provider }

// Create opens a purchase of a game for the caller, signed in or guest. It returns the
// purchase and, for a guest, the receipt code (returned again on a retry with the same
// request id).
func (s *Service) Create(ctx context.Context, a market.Actor, gameID, requestID string, c market.Client) (market.Purchase, string, error) {
	if err := market.ValidateID("game_id", gameID); err != nil {
		return market.Purchase{}, "", err
	}
	key, err := market.RequestKey(a, requestID)
	if err != nil {
		return market.Purchase{}, "", err
	}
	code, codeHash := "", ""
	if a.Anonymous() {
		if code, codeHash, err = s.receipt(requestID); err != nil {
			return market.Purchase{}, "", err
		}
	}
	if key != "" {
		if p, err := s.repo.PurchaseByRequestKey(ctx, key); err == nil {
			return p, code, nil
		}
	}
	who := "guest"
	if !a.Anonymous() {
		who = a.UserID
	}
	if !s.byUser.Allow(who) || !s.byIP.Allow(c.IP) {
		return market.Purchase{}, "", market.Errorf(market.CodeResourceExhausted, "too many purchases opened recently: wait a minute and try again")
	}
	g, err := s.repo.GameByID(ctx, gameID)
	if err != nil {
		return market.Purchase{}, "", err
	}
	if err := market.CheckPurchasable(g); err != nil {
		return market.Purchase{}, "", err
	}
	if !a.Anonymous() {
		if ent, err := s.repo.Entitlement(ctx, a.UserID, g.ID); err == nil {
			return market.Purchase{}, "", market.Errorf(market.CodeAlreadyExists, "you already own %q (entitlement %s)", g.Title, ent)
		} else if market.ErrorCode(err) != market.CodeNotFound {
			return market.Purchase{}, "", err
		}
	}
	p := market.Purchase{GameID: g.ID, BuyerUserID: a.UserID, GuestCodeHash: codeHash, AmountMsat: g.PriceMsat}
	if g.PriceMsat == 0 {
		now := s.now()
		p.Status, p.PaidAt = market.PurchasePaid, &now
		p, err = s.repo.GrantFree(ctx, p, key)
		return s.retried(ctx, p, code, key, err)
	}
	inv, err := s.provider.CreateInvoice(ctx, g.PriceMsat, "Satchel: "+g.Title, s.cfg.InvoiceExpiry)
	if err != nil {
		s.log.ErrorContext(ctx, "creating an invoice", "err", err)
		return market.Purchase{}, "", market.Errorf(market.CodeUnavailable, "the Lightning node cannot make an invoice right now: try again in a minute")
	}
	p.Status, p.Provider, p.InvoiceID, p.PaymentRequest, p.ExpiresAt = market.PurchasePending, s.provider.Name(), inv.ID, inv.PaymentRequest, &inv.ExpiresAt
	p, err = s.repo.CreatePending(ctx, p, key)
	if err != nil {
		if cerr := s.provider.CancelInvoice(context.WithoutCancel(ctx), inv.ID); cerr != nil {
			s.log.WarnContext(ctx, "canceling an unused invoice", "invoice", inv.ID, "err", cerr)
		}
	}
	return s.retried(ctx, p, code, key, err)
}

// retried turns losing a race with a retry of the same request into that request's purchase.
func (s *Service) retried(ctx context.Context, p market.Purchase, code, key string, err error) (market.Purchase, string, error) {
	if market.ErrorCode(err) == market.CodeAlreadyExists && key != "" {
		p, err = s.repo.PurchaseByRequestKey(ctx, key)
	}
	if err != nil {
		return market.Purchase{}, "", err
	}
	return p, code, nil
}

// receipt makes a guest's receipt code: derived from the request id when there is one (so a
// retry gets the same code), random otherwise.
func (s *Service) receipt(requestID string) (code, hash string, err error) {
	var raw [16]byte
	if requestID != "" {
		m := hmac.New(sha256.New, s.cfg.ReceiptSecret)
		m.Write([]byte("receipt\x00" + requestID))
		copy(raw[:], m.Sum(nil))
	} else if _, err := rand.Read(raw[:]); err != nil {
		return "", "", err
	}
	code = market.NewReceiptCode(raw)
	hash, err = market.ReceiptHash(code)
	return code, hash, err
}

// codeHash checks a receipt code given by a client. Clients that gave too many wrong codes
// lately are refused before any lookup (see wrongCode).
func (s *Service) codeHash(code string, c market.Client) (string, error) {
	if code == "" {
		return "", nil
	}
	if s.codes.Exhausted(c.IP) {
		return "", market.Errorf(market.CodeResourceExhausted, "too many wrong receipt codes: wait a minute and try again")
	}
	hash, err := market.ReceiptHash(code)
	return hash, s.wrongCode(err, c)
}

// wrongCode counts err against the client's wrong codes when it says a code was wrong (not
// well formed, or matching nothing), and returns it.
func (s *Service) wrongCode(err error, c market.Client) error {
	if code := market.ErrorCode(err); code == market.CodeInvalid || code == market.CodeNotFound {
		s.codes.Allow(c.IP)
	}
	return err
}

// Get returns a purchase to its buyer or to the holder of its receipt code.
func (s *Service) Get(ctx context.Context, a market.Actor, id, code string, c market.Client) (market.Purchase, error) {
	if err := market.ValidateID("purchase_id", id); err != nil {
		return market.Purchase{}, err
	}
	hash, err := s.codeHash(code, c)
	if err != nil {
		return market.Purchase{}, err
	}
	p, err := s.repo.Purchase(ctx, id)
	if err != nil {
		return market.Purchase{}, err
	}
	if err := market.CheckPurchaseAccess(a, p, hash); err != nil {
		if hash != "" {
			return market.Purchase{}, s.wrongCode(err, c)
		}
		return market.Purchase{}, err
	}
	return p, nil
}

// Watch calls send with the purchase now and after each change of its status, until the
// status is final or ctx ends. Changes come from any server instance through the notifier.
func (s *Service) Watch(ctx context.Context, a market.Actor, id, code string, c market.Client, send func(market.Purchase) error) error {
	notes, stop := s.notifier.Subscribe(postgres.PurchaseChannel)
	defer stop()
	p, err := s.Get(ctx, a, id, code, c)
	if err != nil {
		return err
	}
	if err := send(p); err != nil {
		return err
	}
	check := time.NewTicker(30 * time.Second) // in case a notification was dropped
	defer check.Stop()
	for !p.Status.Final() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case payload := <-notes:
			if payload != id && payload != postgres.Resync {
				continue
			}
		case <-check.C:
		}
		next, err := s.repo.Purchase(ctx, id)
		if err != nil {
			return err
		}
		if next.Status != p.Status {
			if err := send(next); err != nil {
				return err
			}
		}
		p = next
	}
	return nil
}

// Claim moves a guest purchase and its entitlement to the signed-in caller.
func (s *Service) Claim(ctx context.Context, a market.Actor, code string, c market.Client) (market.Purchase, error) {
	if err := market.RequireUser(a); err != nil {
		return market.Purchase{}, err
	}
	if code == "" {
		return market.Purchase{}, market.Errorf(market.CodeInvalid, "receipt_code is required")
	}
	hash, err := s.codeHash(code, c)
	if err != nil {
		return market.Purchase{}, err
	}
	p, err := s.repo.Claim(ctx, hash, a.UserID)
	return p, s.wrongCode(err, c)
}

// EntitlementByReceipt returns the entitlement a receipt code holds to a game, for downloads.
func (s *Service) EntitlementByReceipt(ctx context.Context, code, gameID string, c market.Client) (string, error) {
	hash, err := s.codeHash(code, c)
	if err != nil {
		return "", err
	}
	id, err := s.repo.EntitlementByReceipt(ctx, hash, gameID)
	return id, s.wrongCode(err, c)
}
