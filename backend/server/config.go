package server

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"satchel.dev/backend/announce"
	"satchel.dev/backend/blob/s3"
	"satchel.dev/backend/builds"
	"satchel.dev/backend/lightning/lnd"
	"satchel.dev/backend/market"
	"satchel.dev/backend/purchases"
	"satchel.dev/shared/nostr"
	"satchel.dev/shared/zipsafe"
)

// Config is the server's configuration (cmd/satchel-server reads it from flags and SATCHEL_*
// environment variables). The zero value plus WithDefaults is the embedded default: loopback,
// a private PostgreSQL cluster under .data.
type Config struct {
	Listen         string   // host:port to listen on
	PublicURL      string   // scheme://host[:port] clients use; NIP-98 signatures are checked against it
	DatabaseURL    string   // an existing PostgreSQL; empty starts the private cluster under DataDir
	DataDir        string   // where the private cluster (and later the local blob store) live
	TLSCert        string   // PEM certificate file; with TLSKey, the server speaks HTTPS
	TLSKey         string   // PEM key file
	BehindTLSProxy bool     // a TLS-terminating proxy sits in front: allows a non-loopback address without TLS
	Admins         []string // admin public keys, hex (npub accepted in configuration)
	MaxBodyBytes   int64    // limit of an RPC request body
	Demo           bool     // load the demo catalog at start
	DemoGame       string   // the satchel-demo-game program the demo builds carry
	LogFormat      string   // text or json
	// Secret keys the local store's signed URLs and the download IP hashes: hex, at least 32
	// bytes. Empty: read from (or created in) <data-dir>/secret. Instances sharing a database
	// must share it.
	Secret        string
	MaxBuildBytes int64 // largest build zip
	MaxZipEntries int   // most entries in a build zip
	MaxZipBytes   int64 // largest total uncompressed size of a build zip
	MaxZipRatio   float64
	S3            s3.Config // S3-compatible storage for builds; unset Endpoint: a local directory
	// InvoiceProvider is "dev" (test money, the default) or "lnd" (real money through LND).
	InvoiceProvider string
	LND             lnd.Config    // the LND node, with InvoiceProvider "lnd"
	FeeBps          int           // the platform's fee in basis points (1000 = 10%; flags default to 1000)
	InvoiceExpiry   time.Duration // how long a purchase's invoice can be paid
	// MinPriceSats is the lowest price of a paid game, in sats (market.DefaultMinPriceMsat
	// by default): the developer's net must be an amount a Lightning Address can receive.
	MinPriceSats int64
	// PurchaseRate is how many purchases one identity, or one client address, may open per
	// minute (with bursts of twice as many).
	PurchaseRate int
	// NostrRelays are the relays announcements go to (ws:// or wss://); announcing on Nostr
	// is on when there are any.
	NostrRelays []string
	// NostrKeyFile holds the platform's Nostr key (nsec or hex) that signs announcements.
	NostrKeyFile string
	// NostrKey is the platform's key itself, from $SATCHEL_NOSTR_KEY only (never a flag, so it
	// never shows in the process list); NostrKeyFile wins when both are set.
	NostrKey string
	// GameLink and FileLink are the templates of the links announcements carry: a game's page
	// ("{slug}") and a release's build ("{slug}", "{version}"). Defaults under the public URL.
	GameLink string
	FileLink string
	// MetricsListen is the host:port of a separate listener serving /metrics; empty: no metrics.
	MetricsListen string
	// Pprof serves net/http/pprof under /debug/pprof/ on the metrics listener (it needs
	// MetricsListen) and turns on block and mutex profiling. Off by default: it is for measuring.
	Pprof bool
	// UploadExpiry is how long an upload URL accepts the start of a PUT
	// (builds.DefaultUploadExpiry when 0). No flag sets it; tests shorten it.
	UploadExpiry time.Duration
}

// WithDefaults returns c with every unset field given its default.
func (c Config) WithDefaults() Config {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = ".data"
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.LogFormat == "" {
		c.LogFormat = "text"
	}
	if c.InvoiceProvider == "" {
		c.InvoiceProvider = "dev"
	}
	if c.InvoiceExpiry == 0 {
		c.InvoiceExpiry = purchases.DefaultInvoiceExpiry
	}
	if c.PurchaseRate == 0 {
		c.PurchaseRate = 10
	}
	if c.MinPriceSats == 0 {
		c.MinPriceSats = market.DefaultMinPriceMsat / 1000
	}
	lim := zipsafe.DefaultLimits()
	if c.MaxBuildBytes == 0 {
		c.MaxBuildBytes = builds.DefaultMaxBuildBytes
	}
	if c.MaxZipEntries == 0 {
		c.MaxZipEntries = lim.MaxEntries
	}
	if c.MaxZipBytes == 0 {
		c.MaxZipBytes = lim.MaxTotalBytes
	}
	if c.MaxZipRatio == 0 {
		c.MaxZipRatio = lim.MaxRatio
	}
	return c
}

// Validate checks the configuration and says what to change. It normalises Admins and
// PublicURL.
func (c *Config) Validate() error {
	for _, check := range []func() error{c.validateListeners, c.validateAdmins, c.validateLimits, c.validateMoney, c.validateAnnouncing} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// validateListeners checks where the server listens and how it is reached: TLS or a TLS proxy
// off loopback, the public URL (normalised to scheme://host), the metrics listener.
func (c *Config) validateListeners() error {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("listen %q: use host:port, as in 127.0.0.1:8080", c.Listen)
	}
	tls := c.TLSCert != "" || c.TLSKey != ""
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("give both --tls-cert and --tls-key, or neither")
	}
	if !tls && !c.BehindTLSProxy && !loopback(host) {
		return fmt.Errorf("refusing to listen on %s without TLS: give --tls-cert and --tls-key, "+
			"or --behind-tls-proxy with --public-url https://... when a proxy terminates TLS", c.Listen)
	}
	if c.BehindTLSProxy && !strings.HasPrefix(c.PublicURL, "https://") {
		return errors.New("--behind-tls-proxy needs --public-url https://<the proxy's host>: signatures are checked against it")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
			return fmt.Errorf("public-url %q: use scheme://host[:port] with no path, as in https://satchel.example.com", c.PublicURL)
		}
		c.PublicURL = u.Scheme + "://" + u.Host
	}
	if c.Pprof && c.MetricsListen == "" {
		return errors.New("pprof is served on the metrics listener: give --metrics-listen too")
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			return fmt.Errorf("metrics-listen %q: use host:port, as in 127.0.0.1:9090", c.MetricsListen)
		}
		if c.MetricsListen == c.Listen {
			return errors.New("metrics-listen must differ from listen: /metrics is never served on the public listener")
		}
	}
	return nil
}

// validateAdmins checks the admins' public keys and normalises them to hex.
func (c *Config) validateAdmins() error {
	for i, a := range c.Admins {
		pk, err := nostr.ParsePublicKey(a)
		if err != nil {
			return fmt.Errorf("admin %q is not a public key (npub or 64 hex characters): %v", a, err)
		}
		c.Admins[i] = pk.Hex()
	}
	return nil
}

// validateLimits checks the request and build limits, the log format, the secret and S3.
func (c *Config) validateLimits() error {
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("max-body-bytes %d is too small: use at least 1024", c.MaxBodyBytes)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("log-format %q: use text or json", c.LogFormat)
	}
	if c.Secret != "" {
		if b, err := hex.DecodeString(c.Secret); err != nil || len(b) < 32 {
			return errors.New("secret: use at least 32 random bytes as hex (openssl rand -hex 32)")
		}
	}
	if c.MaxBuildBytes < 1 || c.MaxZipEntries < 1 || c.MaxZipBytes < 1 || c.MaxZipRatio < 1 {
		return errors.New("the build limits must be positive (and max-zip-ratio at least 1)")
	}
	if c.S3.Endpoint != "" && (c.S3.Bucket == "" || c.S3.AccessKey == "" || c.S3.SecretKey == "") {
		return errors.New("s3-endpoint needs s3-bucket, s3-access-key and s3-secret-key")
	}
	return nil
}

// validateMoney checks the invoice provider and the prices, fees and rates of buying.
func (c *Config) validateMoney() error {
	lndSet := c.LND.URL != "" || c.LND.TLSCertPath != "" || c.LND.MacaroonPath != ""
	switch {
	case c.InvoiceProvider == "dev" && lndSet:
		return errors.New("the dev invoice provider (test money) cannot run with LND settings: use --invoice-provider lnd for real money, or drop the --lnd-* settings")
	case c.InvoiceProvider == "lnd" && (c.LND.URL == "" || c.LND.TLSCertPath == "" || c.LND.MacaroonPath == "" || c.LND.Network == ""):
		return errors.New("--invoice-provider lnd needs --lnd-url, --lnd-tls-cert, --lnd-macaroon and --lnd-network")
	case c.InvoiceProvider != "dev" && c.InvoiceProvider != "lnd":
		return fmt.Errorf("invoice-provider %q: use dev (test money) or lnd", c.InvoiceProvider)
	}
	if err := purchases.CheckFeeBps(c.FeeBps); err != nil {
		return fmt.Errorf("fee-bps: %w", err)
	}
	if c.MinPriceSats < 1 || c.MinPriceSats*1000 > market.MaxPriceMsat {
		return fmt.Errorf("min-price-sats %d: use 1 to %d sats", c.MinPriceSats, market.MaxPriceMsat/1000)
	}
	if c.PurchaseRate < 1 {
		return fmt.Errorf("purchase-rate %d: use at least 1 purchase per minute", c.PurchaseRate)
	}
	if err := purchases.CheckInvoiceExpiry(c.InvoiceExpiry); err != nil {
		return fmt.Errorf("invoice-expiry: %w", err)
	}
	return nil
}

// validateAnnouncing checks the Nostr relays, the platform's key and the links announcements
// carry.
func (c *Config) validateAnnouncing() error {
	for _, r := range c.NostrRelays {
		if err := announce.ValidateRelayURL(r); err != nil {
			return fmt.Errorf("nostr-relays: %v", err)
		}
	}
	if len(c.NostrRelays) > 0 && c.NostrKeyFile == "" && c.NostrKey == "" {
		return errors.New("announcing on Nostr (--nostr-relays) needs the platform's key to sign with: " +
			"give --nostr-key-file PATH (a file holding an nsec or 64 hex characters) or set $SATCHEL_NOSTR_KEY")
	}
	if c.NostrKey != "" && c.NostrKeyFile == "" {
		if _, err := nostr.ParseSecretKey(c.NostrKey); err != nil {
			return errors.New("$SATCHEL_NOSTR_KEY is not a Nostr secret key: use an nsec or 64 hex characters")
		}
	}
	for _, l := range []struct{ name, value string }{{"game-link", c.GameLink}, {"file-link", c.FileLink}} {
		if l.value == "" {
			continue
		}
		u, err := url.Parse(l.value)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.Contains(l.value, "{slug}") {
			return fmt.Errorf("%s %q: use an http(s) URL with {slug} in it, as in https://satchel.example.com/games/{slug}", l.name, l.value)
		}
	}
	return nil
}

// platformKey reads the platform's Nostr key from NostrKeyFile, or NostrKey.
func (c Config) platformKey() (nostr.SecretKey, error) {
	if c.NostrKeyFile == "" {
		return nostr.ParseSecretKey(c.NostrKey)
	}
	raw, err := os.ReadFile(c.NostrKeyFile)
	if err != nil {
		return nostr.SecretKey{}, fmt.Errorf("nostr-key-file: %w", err)
	}
	k, err := nostr.ParseSecretKey(strings.TrimSpace(string(raw)))
	if err != nil {
		return nostr.SecretKey{}, fmt.Errorf("nostr-key-file %s does not hold a Nostr secret key: put an nsec or 64 hex characters in it", c.NostrKeyFile)
	}
	return k, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
