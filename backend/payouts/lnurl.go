package payouts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"satchel.dev/backend/lightning/bolt11"
)

// LNURLConfig says how Lightning Address servers, which are untrusted, are talked to.
type LNURLConfig struct {
	// AllowHTTP lets addresses be resolved, and callbacks called, over plain HTTP. Only for
	// local testing: in production every request is HTTPS.
	AllowHTTP bool
	// AllowPrivate lets requests reach loopback, private, link-local and other non-public
	// addresses. Only for local testing: in production an address whose domain resolves to one
	// (or a callback pointing at one) is refused, so a developer cannot make the server call
	// into its own network.
	AllowPrivate bool
	// RequestTimeout bounds each request, from dialing to the last byte of the answer.
	// Default 10 s.
	RequestTimeout time.Duration
	// MaxResponseBytes is the largest answer read; a longer one is refused. Default 64 KiB.
	MaxResponseBytes int64
	// MaxRedirects is how many redirects a request follows, all on the host first asked;
	// a redirect to another host is refused. Default 3.
	MaxRedirects int
	// RootCAs, if set, replaces the system's certificate authorities (tests with their own).
	RootCAs *x509.CertPool
}

// WithDefaults returns c with zero fields set to their defaults.
func (c LNURLConfig) WithDefaults() LNURLConfig {
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 10 * time.Second
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = 64 << 10
	}
	if c.MaxRedirects == 0 {
		c.MaxRedirects = 3
	}
	return c
}

// Validate reports a setting that cannot work.
func (c LNURLConfig) Validate() error {
	switch {
	case c.RequestTimeout < 0:
		return fmt.Errorf("payouts: LNURL.RequestTimeout %v is negative", c.RequestTimeout)
	case c.MaxResponseBytes < 1024:
		return fmt.Errorf("payouts: LNURL.MaxResponseBytes %d is below 1024: pay requests would not fit", c.MaxResponseBytes)
	case c.MaxRedirects < 0:
		return fmt.Errorf("payouts: LNURL.MaxRedirects %d is negative", c.MaxRedirects)
	}
	return nil
}

// PayRequest is a Lightning Address's LUD-06 pay request.
type PayRequest struct {
	Address     string
	Callback    *url.URL
	MinSendable int64 // msat
	MaxSendable int64 // msat
	// Metadata is the metadata string exactly as served: an invoice's description hash must
	// be its SHA-256.
	Metadata string
	// Description is the metadata's text/plain entry.
	Description string
}

// Resolver turns Lightning Addresses into verified invoices. It is safe for concurrent use.
type Resolver struct {
	cfg     LNURLConfig
	network string
	now     func() time.Time
	client  *http.Client
}

// NewResolver returns a resolver whose invoices must be on network (a BOLT 11 prefix such as
// "bc" or "bcrt": the invoice provider's Network). now is the clock deciding expiry (nil:
// time.Now).
func NewResolver(cfg LNURLConfig, network string, now func() time.Time) (*Resolver, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	dialer := &net.Dialer{Timeout: cfg.RequestTimeout, Control: dialGuard(cfg.AllowPrivate)}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would dial on our behalf, past the guard
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs},
		TLSHandshakeTimeout:    cfg.RequestTimeout,
		ResponseHeaderTimeout:  cfg.RequestTimeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	r := &Resolver{cfg: cfg, network: network, now: now}
	r.client = &http.Client{Transport: tr, Timeout: cfg.RequestTimeout, CheckRedirect: r.checkRedirect}
	return r, nil
}

// errRedirect marks a refused redirect.
type errRedirect struct{ msg string }

func (e *errRedirect) Error() string { return e.msg }

func (r *Resolver) checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	switch {
	case len(via) > r.cfg.MaxRedirects:
		return &errRedirect{fmt.Sprintf("it redirected more than %d times (a redirect loop?)", r.cfg.MaxRedirects)}
	case !strings.EqualFold(req.URL.Host, first.Host):
		return &errRedirect{fmt.Sprintf("it redirected to another host (%s), which is refused", req.URL.Host)}
	case req.URL.Scheme != "https" && !r.cfg.AllowHTTP:
		return &errRedirect{"it redirected to plain HTTP, which is refused: serve it over HTTPS"}
	}
	return nil
}

// errBlocked marks a connection refused because of where it would go.
type errBlocked struct{ addr netip.Addr }

func (e *errBlocked) Error() string {
	return fmt.Sprintf("%s is a private, loopback or otherwise non-public address", e.addr)
}

// dialGuard refuses connections to non-public addresses, checked on the address actually
// dialed (after DNS), so a name that resolves differently the second time gains nothing.
func dialGuard(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return err
		}
		if !publicAddr(ip) {
			return &errBlocked{ip}
		}
		return nil
	}
}

// nonPublic are the ranges no Lightning Address server of the internet lives in.
var nonPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3",
		"::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "2002::/16",
		"fc00::/7", "fe80::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// publicAddr reports whether ip is a public unicast address.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return ip.IsValid() && ip.IsGlobalUnicast()
}

var lud16Name = regexp.MustCompile(`^[a-z0-9\-_.+]+$`)

// addressURL is the LUD-16 URL of a Lightning Address: scheme://domain/.well-known/lnurlp/name.
func (r *Resolver) addressURL(address string) (*url.URL, error) {
	name, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(address)), "@")
	if !ok || !lud16Name.MatchString(name) || domain == "" || strings.ContainsAny(domain, "/?#@\\ ") {
		return nil, fmt.Errorf("%q is not a Lightning Address (name@domain): set a valid payout address", address)
	}
	scheme := "https"
	if r.cfg.AllowHTTP {
		scheme = "http"
	}
	u := &url.URL{Scheme: scheme, Host: domain, Path: "/.well-known/lnurlp/" + name}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%q is not a Lightning Address (name@domain): set a valid payout address", address)
	}
	return u, nil
}

// lnurlError is a LUD-06 error reply.
type lnurlError struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// get fetches u and decodes its JSON answer into out, refusing what an untrusted server may
// try: no answer, a huge answer, redirects away, an error status, not JSON, {"status":"ERROR"}.
func (r *Resolver) get(ctx context.Context, u *url.URL, out any) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "satchel-payouts")
	res, err := r.client.Do(req)
	if err != nil {
		return r.explain(u, err)
	}
	defer res.Body.Close()
	if res.ContentLength > r.cfg.MaxResponseBytes {
		return fmt.Errorf("%s answered %d bytes, more than the %d a pay request may have", u.Host, res.ContentLength, r.cfg.MaxResponseBytes)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, r.cfg.MaxResponseBytes+1))
	if err != nil {
		return r.explain(u, err)
	}
	if int64(len(body)) > r.cfg.MaxResponseBytes {
		return fmt.Errorf("%s answered more than %d bytes, more than a pay request may have", u.Host, r.cfg.MaxResponseBytes)
	}
	var e lnurlError
	jsonErr := json.Unmarshal(body, &e)
	if jsonErr == nil && strings.EqualFold(e.Status, "ERROR") {
		reason := e.Reason
		if reason == "" {
			reason = "no reason given"
		}
		return fmt.Errorf("%s refused: %q", u.Host, clip(reason, 200))
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered HTTP %d to %s: check that the address exists at your wallet provider", u.Host, res.StatusCode, u.Redacted())
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s answered something that is not LNURL JSON (%v): %q", u.Host, err, clip(string(body), 80))
	}
	return nil
}

// explain turns a transport error into a sentence a developer can act on.
func (r *Resolver) explain(u *url.URL, err error) error {
	var redirect *errRedirect
	var blocked *errBlocked
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &redirect):
		return fmt.Errorf("%s: %s", u.Host, redirect.msg)
	case errors.As(err, &blocked):
		return fmt.Errorf("%s is at %s, a private, loopback or otherwise non-public address: refused; a Lightning Address must be served from the public internet",
			u.Host, blocked.addr)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("the domain %s does not resolve (%v): check the Lightning Address", u.Hostname(), dnsErr.Err)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Errorf("%s did not answer within %v", u.Host, r.cfg.RequestTimeout)
	}
	return fmt.Errorf("%s could not be reached: %v", u.Host, err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// clip shortens s to n bytes for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// ResolveAddress fetches and checks the pay request of a Lightning Address (LUD-16, LUD-06):
// tag payRequest, a callback URL it may call, sendable amounts, and metadata that is a JSON
// array with a text/plain entry. Errors name the address and what is wrong.
func (r *Resolver) ResolveAddress(ctx context.Context, address string) (PayRequest, error) {
	u, err := r.addressURL(address)
	if err != nil {
		return PayRequest{}, err
	}
	var raw struct {
		Tag         string      `json:"tag"`
		Callback    string      `json:"callback"`
		MinSendable json.Number `json:"minSendable"`
		MaxSendable json.Number `json:"maxSendable"`
		Metadata    *string     `json:"metadata"`
	}
	if err := r.get(ctx, u, &raw); err != nil {
		return PayRequest{}, fmt.Errorf("Lightning Address %s: %w", address, err)
	}
	bad := func(format string, args ...any) (PayRequest, error) {
		return PayRequest{}, fmt.Errorf("Lightning Address %s: the pay request from %s is not valid (LUD-06): %s", address, u.Host, fmt.Sprintf(format, args...))
	}
	if raw.Tag != "payRequest" {
		return bad("its tag is %q, not \"payRequest\"", clip(raw.Tag, 40))
	}
	cb, err := url.Parse(raw.Callback)
	if err != nil || !cb.IsAbs() || cb.Hostname() == "" || cb.User != nil {
		return bad("its callback %q is not an absolute URL", clip(raw.Callback, 100))
	}
	if cb.Scheme != "https" && !(cb.Scheme == "http" && r.cfg.AllowHTTP) {
		return bad("its callback %q is not HTTPS", clip(raw.Callback, 100))
	}
	lo, err1 := msat(raw.MinSendable)
	hi, err2 := msat(raw.MaxSendable)
	if err1 != nil || err2 != nil || lo < 1 || hi < lo {
		return bad("minSendable %q and maxSendable %q must be whole millisatoshi with 1 <= minSendable <= maxSendable", raw.MinSendable, raw.MaxSendable)
	}
	if raw.Metadata == nil {
		return bad("it has no metadata")
	}
	desc, err := parseMetadata(*raw.Metadata)
	if err != nil {
		return bad("its metadata %s", err)
	}
	return PayRequest{Address: address, Callback: cb, MinSendable: lo, MaxSendable: hi, Metadata: *raw.Metadata, Description: desc}, nil
}

// msat reads a JSON number of millisatoshi (some servers write 1000.0).
func msat(n json.Number) (int64, error) {
	if v, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f > 1<<53 {
		return 0, fmt.Errorf("not a whole number: %q", n)
	}
	return int64(f), nil
}

// parseMetadata checks LUD-06 metadata (a JSON array of [type, content] arrays) and returns its
// text/plain content.
func parseMetadata(m string) (string, error) {
	var entries [][]json.RawMessage
	if err := json.Unmarshal([]byte(m), &entries); err != nil {
		return "", errors.New("is not a JSON array of [type, content] pairs")
	}
	text, found := "", false
	for _, e := range entries {
		if len(e) < 2 {
			return "", errors.New("has an entry that is not a [type, content] pair")
		}
		var typ string
		if err := json.Unmarshal(e[0], &typ); err != nil {
			return "", errors.New("has an entry whose type is not a string")
		}
		if typ == "text/plain" {
			if err := json.Unmarshal(e[1], &text); err != nil {
				return "", errors.New("has a text/plain entry that is not a string")
			}
			found = true
		}
	}
	if !found {
		return "", errors.New("has no text/plain entry")
	}
	return text, nil
}

// NotSendableError is RequestInvoice's refusal of an amount outside the pay request's
// minSendable..maxSendable: the address says it never accepts it, so asking again will not
// help; only another address, or wallet, will.
type NotSendableError struct {
	Address                  string
	MinSendable, MaxSendable int64 // msat
	AmountMsat               int64
}

func (e *NotSendableError) Error() string {
	return fmt.Sprintf("Lightning Address %s accepts %d to %d msat, but the payout is %d msat: use an address or wallet that accepts this amount",
		e.Address, e.MinSendable, e.MaxSendable, e.AmountMsat)
}

// RequestInvoice asks the pay request's callback for an invoice of amountMsat and verifies it:
// a valid BOLT 11 invoice (its signature checked), for exactly amountMsat, with a description
// hash equal to SHA-256 of the metadata, on the resolver's network, not expired. An amount
// outside the pay request's sendable range is a *NotSendableError.
func (r *Resolver) RequestInvoice(ctx context.Context, pr PayRequest, amountMsat int64) (Invoice, error) {
	if amountMsat < pr.MinSendable || amountMsat > pr.MaxSendable {
		return Invoice{}, &NotSendableError{Address: pr.Address, MinSendable: pr.MinSendable, MaxSendable: pr.MaxSendable, AmountMsat: amountMsat}
	}
	cb := *pr.Callback
	q := cb.Query()
	q.Set("amount", strconv.FormatInt(amountMsat, 10))
	cb.RawQuery = q.Encode()
	var raw struct {
		PR string `json:"pr"`
	}
	if err := r.get(ctx, &cb, &raw); err != nil {
		return Invoice{}, fmt.Errorf("Lightning Address %s: asking for an invoice: %w", pr.Address, err)
	}
	bad := func(format string, args ...any) (Invoice, error) {
		return Invoice{}, fmt.Errorf("Lightning Address %s: the invoice from %s is refused: %s", pr.Address, cb.Host, fmt.Sprintf(format, args...))
	}
	if raw.PR == "" {
		return bad("the callback answered no invoice (\"pr\")")
	}
	inv, err := bolt11.Decode(raw.PR)
	if err != nil {
		return bad("it is not a valid BOLT 11 invoice (%v)", err)
	}
	if inv.Network != r.network {
		return bad("it is for network %q (ln%s...), but this server pays on %q (ln%s...)", inv.Network, inv.Network, r.network, r.network)
	}
	if inv.AmountMsat != amountMsat {
		return bad("it is for %d msat, but %d msat was asked", inv.AmountMsat, amountMsat)
	}
	if inv.DescriptionHash == nil || !inv.DescriptionMatches(pr.Metadata) {
		return bad("its description hash is not the SHA-256 of the pay request's metadata (LUD-06)")
	}
	if now := r.now(); inv.Expired(now) {
		return bad("it expired at %s, %v before it was received", inv.ExpiresAt().UTC().Format(time.RFC3339), now.Sub(inv.ExpiresAt()).Round(time.Second))
	}
	return Invoice{
		PaymentRequest: strings.TrimPrefix(strings.ToLower(strings.TrimSpace(raw.PR)), "lightning:"),
		PaymentHash:    hex.EncodeToString(inv.PaymentHash[:]),
		AmountMsat:     inv.AmountMsat,
		ExpiresAt:      inv.ExpiresAt(),
		Address:        pr.Address,
	}, nil
}

// Invoice resolves a Lightning Address and returns a verified invoice of amountMsat from it.
func (r *Resolver) Invoice(ctx context.Context, address string, amountMsat int64) (Invoice, error) {
	pr, err := r.ResolveAddress(ctx, address)
	if err != nil {
		return Invoice{}, err
	}
	return r.RequestInvoice(ctx, pr, amountMsat)
}

// CheckAddress reports whether a Lightning Address answers a valid pay request now: for a
// live check when a developer sets their payout address.
func (r *Resolver) CheckAddress(ctx context.Context, address string) error {
	_, err := r.ResolveAddress(ctx, address)
	return err
}
