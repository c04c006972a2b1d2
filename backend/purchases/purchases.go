// Package purchases sells games over Lightning: it opens purchases with an invoice from the
// provider, applies the provider's settlements exactly once, expires unpaid invoices, and
// moves guest purchases to the players who claim them. It declares what it needs (Store,
// LibraryStore, Notifier; package postgres implements them) and composes them with a
// lightning.Provider.
package purchases

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/market"
	"satchel.dev/backend/ratelimit"
)

// Defaults of Config, for the server's flags.
const (
	DefaultFeeBps        = 1000             // the platform's fee: 10%
	DefaultInvoiceExpiry = 15 * time.Minute // how long an invoice can be paid
	DefaultSettlers      = 16               // settlements applied at once
	MinInvoiceExpiry     = time.Minute      // the shortest invoice expiry CheckInvoiceExpiry allows
)

// CheckFeeBps refuses a platform fee outside 0 to 10000 basis points (0 to 100%).
func CheckFeeBps(bps int) error {
	if bps < 0 || bps > 10000 {
		return fmt.Errorf("fee of %d basis points: use 0 to 10000 basis points (1000 = 10%%)", bps)
	}
	return nil
}

// CheckInvoiceExpiry refuses an invoice expiry shorter than MinInvoiceExpiry: a buyer needs
// time to pay.
func CheckInvoiceExpiry(d time.Duration) error {
	if d < MinInvoiceExpiry {
		return fmt.Errorf("invoice expiry %v: use at least %v", d, MinInvoiceExpiry)
	}
	return nil
}

// Config sets the rules of buying.
type Config struct {
	FeeBps        int           // the platform's fee in basis points (1000 = 10%; see CheckFeeBps)
	InvoiceExpiry time.Duration // how long an invoice can be paid (DefaultInvoiceExpiry when 0)
	// ReceiptSecret keys the seal of guests' receipt codes, so a retried guest purchase returns
	// the same code although only its hash is stored in the clear.
	ReceiptSecret []byte
	// MinPriceMsat is the lowest price of a paid game that is for sale (market.DefaultMinPriceMsat
	// when 0): below it, the developer's net could not be paid out.
	MinPriceMsat int64
	// CreatePer and CreateBurst limit purchase creation per identity and per client address.
	CreatePer   time.Duration
	CreateBurst int
	// CodePer and CodeBurst limit wrong receipt codes per client address.
	CodePer   time.Duration
	CodeBurst int
	// Settlers is how many settlements RunSettlements applies at once (DefaultSettlers when 0).
	Settlers int
	// OnSettled, if set, is called with the settlement lag (from the provider's settlement to
	// the purchase recorded PAID) of each purchase paid (for metrics).
	OnSettled func(lag time.Duration)
	// OnUnaccounted, if set, is called with the kind of each payment received that no sale
	// accounts for ("underpaid", "late", "duplicate"; see SettleOutcome), for metrics.
	OnUnaccounted func(kind string)
	// OnReconcileError, if set, is called for each purchase that could not be reconciled with
	// its invoice, for metrics.
	OnReconcileError func()
}

// WithDefaults returns c with unset fields given their defaults.
func (c Config) WithDefaults() Config {
	if c.InvoiceExpiry == 0 {
		c.InvoiceExpiry = DefaultInvoiceExpiry
	}
	if c.Settlers == 0 {
		c.Settlers = DefaultSettlers
	}
	if c.MinPriceMsat == 0 {
		c.MinPriceMsat = market.DefaultMinPriceMsat
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
	repo     Store
	library  LibraryStore
	notifier Notifier
	provider lightning.Provider
	cfg      Config
	log      *slog.Logger
	byUser   *ratelimit.Limiter
	byIP     *ratelimit.Limiter
	codes    *ratelimit.Limiter
	sealer   cipher.AEAD // seals guests' receipt codes (see receipt)
	now      func() time.Time
}

// New returns the buying service.
func New(repo Store, library LibraryStore, notifier Notifier, provider lightning.Provider, cfg Config, log *slog.Logger) (*Service, error) {
	cfg = cfg.WithDefaults()
	if err := CheckFeeBps(cfg.FeeBps); err != nil {
		return nil, fmt.Errorf("purchases: %w", err)
	}
	if cfg.Settlers < 1 {
		return nil, fmt.Errorf("purchases: %d settlers: use at least 1", cfg.Settlers)
	}
	if len(cfg.ReceiptSecret) < 16 {
		return nil, errors.New("purchases: the receipt secret must have at least 16 bytes")
	}
	sealer, err := newSealer(cfg.ReceiptSecret)
	if err != nil {
		return nil, err
	}
	return &Service{repo: repo, library: library, notifier: notifier, provider: provider, cfg: cfg, log: log,
		byUser: ratelimit.New(cfg.CreatePer, cfg.CreateBurst), byIP: ratelimit.New(cfg.CreatePer, cfg.CreateBurst),
		codes: ratelimit.New(cfg.CodePer, cfg.CodeBurst), sealer: sealer, now: time.Now}, nil
}

// TestMoney reports whether the provider pays with test money (the dev provider).
func (s *Service) TestMoney() bool { return s.provider.Name() == "dev" }

// Provider is the invoice provider purchases are paid through.
func (s *Service) Provider() lightning.Provider { return s.provider }

// Create opens a purchase of a game for the caller, signed in or guest. It returns the
// purchase and, for a guest, the receipt code. Nobody is charged twice by accident: a retry
// with the same request id (and, for a guest, the same client secret) returns the purchase it
// made, with its receipt code; a signed-in buyer with an open purchase of the game gets that
// one (same invoice) until it expires; an owned game is refused.
func (s *Service) Create(ctx context.Context, a market.Actor, gameID, requestID, clientSecret string, c market.Client) (market.Purchase, string, error) {
	if err := market.ValidateID("game_id", gameID); err != nil {
		return market.Purchase{}, "", err
	}
	key, err := market.RequestKey(a, gameID, requestID, clientSecret)
	if err != nil {
		return market.Purchase{}, "", err
	}
	if key != "" {
		if p, err := s.repo.PurchaseByRequestKey(ctx, key); err == nil {
			return p, s.unseal(p), nil
		} else if market.ErrorCode(err) != market.CodeNotFound {
			return market.Purchase{}, "", err
		}
	}
	if !a.Anonymous() {
		// Owned first: a buyer who got the game meanwhile (a guest receipt claimed) must not
		// be handed the open purchase's invoice to pay again.
		if err := s.refuseOwned(ctx, a.UserID, gameID); err != nil {
			return market.Purchase{}, "", err
		}
		if p, ok, err := s.open(ctx, a.UserID, gameID); err != nil || ok {
			return p, "", err
		}
	}
	// A guest is limited by address alone (an IPv6 client by its /64), never in a bucket that
	// all guests share.
	if (!a.Anonymous() && !s.byUser.Allow(a.UserID)) || !s.byIP.Allow(ratelimit.ClientKey(c.IP)) {
		return market.Purchase{}, "", market.Errorf(market.CodeResourceExhausted, "too many purchases opened recently: wait a minute and try again")
	}
	g, err := s.repo.GameByID(ctx, gameID)
	if err != nil {
		return market.Purchase{}, "", err
	}
	if err := market.CheckPurchasable(a, g); err != nil {
		return market.Purchase{}, "", err
	}
	if g.PriceMsat > 0 && g.PriceMsat < s.cfg.MinPriceMsat {
		return market.Purchase{}, "", market.Errorf(market.CodeFailedPrecondition,
			"%q costs less than this store's minimum price, so its developer could not be paid: it is not for sale until its developer raises the price", g.Title)
	}
	p := market.Purchase{GameID: g.ID, BuyerUserID: a.UserID, AmountMsat: g.PriceMsat}
	code := ""
	if a.Anonymous() {
		if code, p.GuestCodeHash, p.SealedReceipt, err = s.receipt(); err != nil {
			return market.Purchase{}, "", err
		}
	}
	if g.PriceMsat == 0 {
		now := s.now()
		p.Status, p.PaidAt = market.PurchasePaid, &now
		p, err = s.repo.GrantFree(ctx, p, key)
		return s.retried(ctx, a, g.ID, p, code, key, err)
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
	return s.retried(ctx, a, g.ID, p, code, key, err)
}

// refuseOwned is CodeAlreadyExists, naming the game, when the user holds a live entitlement
// to it, and nil when they do not.
func (s *Service) refuseOwned(ctx context.Context, userID, gameID string) error {
	ent, err := s.repo.Entitlement(ctx, userID, gameID)
	if market.ErrorCode(err) == market.CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	title := gameID
	if g, err := s.repo.GameByID(ctx, gameID); err == nil {
		title = g.Title
	}
	return market.Errorf(market.CodeAlreadyExists, "you already own %q (entitlement %s)", title, ent)
}

// open returns the buyer's open purchase of the game while its invoice can be paid (ok true).
// One whose invoice has expired is closed first, so that a new purchase can be opened, or
// settled, if it was paid meanwhile: then the buyer owns the game (CodeAlreadyExists).
func (s *Service) open(ctx context.Context, userID, gameID string) (market.Purchase, bool, error) {
	p, err := s.repo.OpenPurchase(ctx, userID, gameID)
	if market.ErrorCode(err) == market.CodeNotFound {
		return market.Purchase{}, false, nil
	}
	if err != nil {
		return market.Purchase{}, false, err
	}
	if p.ExpiresAt == nil || s.now().Before(*p.ExpiresAt) {
		return p, true, nil
	}
	if err := s.reconcile(ctx, p); market.ErrorCode(err) == market.CodeInternal {
		s.log.ErrorContext(ctx, "closing an expired purchase", "purchase", p.ID, "invoice", p.InvoiceID, "err", err)
		return market.Purchase{}, false, market.Errorf(market.CodeUnavailable,
			"your last purchase of this game expired and cannot be closed right now: try again in a minute")
	} else if err != nil {
		return market.Purchase{}, false, err
	}
	// Paid meanwhile, it was just settled: the buyer owns the game now.
	return market.Purchase{}, false, s.refuseOwned(ctx, userID, gameID)
}

// retried turns losing a race into the purchase that won it: a retry of the same request, or
// (for a signed-in buyer) a second purchase of the game opened at the same moment.
func (s *Service) retried(ctx context.Context, a market.Actor, gameID string, p market.Purchase, code, key string, err error) (market.Purchase, string, error) {
	switch {
	case errors.Is(err, ErrOpenPurchase):
		var ok bool
		if p, ok, err = s.open(ctx, a.UserID, gameID); err == nil && !ok {
			err = market.Errorf(market.CodeUnavailable, "another purchase of this game was just closed: try again")
		}
		code = ""
	case market.ErrorCode(err) == market.CodeAlreadyExists && key != "":
		// This request's purchase, made by a retry of it; else the refusal stands (another
		// request of the buyer got the game first).
		if mine, kerr := s.repo.PurchaseByRequestKey(ctx, key); kerr == nil {
			p, code, err = mine, s.unseal(mine), nil
		} else if market.ErrorCode(kerr) != market.CodeNotFound {
			err = kerr
		}
	}
	if err != nil {
		return market.Purchase{}, "", err
	}
	return p, code, nil
}

// receipt makes a guest's receipt code from 128 random bits: the code, the hash the database
// keeps to find it, and the code sealed under the server's secret for a retry (see unseal).
func (s *Service) receipt() (code, hash string, sealed []byte, err error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", "", nil, err
	}
	code = market.NewReceiptCode(raw)
	if hash, err = market.ReceiptHash(code); err != nil {
		return "", "", nil, err
	}
	aead := s.sealer
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(code)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", "", nil, err
	}
	return code, hash, aead.Seal(nonce, nonce, []byte(code), []byte(hash)), nil
}

// unseal returns the receipt code sealed in a guest purchase, "" when there is none (not a
// guest's, claimed, or sealed under another secret).
func (s *Service) unseal(p market.Purchase) string {
	aead := s.sealer
	if len(p.SealedReceipt) < aead.NonceSize() {
		return ""
	}
	n := aead.NonceSize()
	code, err := aead.Open(nil, p.SealedReceipt[:n], p.SealedReceipt[n:], []byte(p.GuestCodeHash))
	if err != nil {
		s.log.Warn("a sealed receipt code does not open: was the server secret changed?", "purchase", p.ID)
		return ""
	}
	return string(code)
}

// newSealer returns the AEAD that seals receipt codes, keyed by the receipt secret.
func newSealer(secret []byte) (cipher.AEAD, error) {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("satchel receipt seal"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// codeHash checks a receipt code given by a client. Clients that gave too many wrong codes
// lately are refused before any lookup (see wrongCode).
func (s *Service) codeHash(code string, c market.Client) (string, error) {
	if code == "" {
		return "", nil
	}
	if s.codes.Exhausted(ratelimit.ClientKey(c.IP)) {
		return "", market.Errorf(market.CodeResourceExhausted, "too many wrong receipt codes: wait a minute and try again")
	}
	hash, err := market.ReceiptHash(code)
	return hash, s.wrongCode(err, c)
}

// wrongCode counts err against the client's wrong codes when it says a code was wrong (not
// well formed, or matching nothing), and returns it.
func (s *Service) wrongCode(err error, c market.Client) error {
	if code := market.ErrorCode(err); code == market.CodeInvalid || code == market.CodeNotFound {
		s.codes.Allow(ratelimit.ClientKey(c.IP))
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
	notes, stop := s.notifier.PurchaseChanges()
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
			if payload != id && payload != Resync {
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
