package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"satchel.dev/backend/announce"
	"satchel.dev/backend/blob/s3"
	"satchel.dev/backend/lightning/lnd"
	"satchel.dev/backend/market"
	"satchel.dev/shared/nostr"
	"satchel.dev/shared/zipsafe"
)

// Config is the server's configuration, from flags and SATCHEL_* environment variables (a flag
// wins over its variable). The zero value plus WithDefaults is the embedded default: loopback,
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
		c.InvoiceExpiry = 15 * time.Minute
	}
	if c.PurchaseRate == 0 {
		c.PurchaseRate = 10
	}
	if c.MinPriceSats == 0 {
		c.MinPriceSats = market.DefaultMinPriceMsat / 1000
	}
	lim := zipsafe.DefaultLimits()
	if c.MaxBuildBytes == 0 {
		c.MaxBuildBytes = 8 << 30
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

// Validate checks the configuration and says what to change. It normalises Admins to hex.
func (c *Config) Validate() error {
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
	for i, a := range c.Admins {
		pk, err := nostr.ParsePublicKey(a)
		if err != nil {
			return fmt.Errorf("admin %q is not a public key (npub or 64 hex characters): %v", a, err)
		}
		c.Admins[i] = pk.Hex()
	}
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
	lndSet := c.LND.URL != "" || c.LND.TLSCertPath != "" || c.LND.MacaroonPath != ""
	switch {
	case c.InvoiceProvider == "dev" && lndSet:
		return errors.New("the dev invoice provider (test money) cannot run with LND settings: use --invoice-provider lnd for real money, or drop the --lnd-* settings")
	case c.InvoiceProvider == "lnd" && (c.LND.URL == "" || c.LND.TLSCertPath == "" || c.LND.MacaroonPath == "" || c.LND.Network == ""):
		return errors.New("--invoice-provider lnd needs --lnd-url, --lnd-tls-cert, --lnd-macaroon and --lnd-network")
	case c.InvoiceProvider != "dev" && c.InvoiceProvider != "lnd":
		return fmt.Errorf("invoice-provider %q: use dev (test money) or lnd", c.InvoiceProvider)
	}
	if c.FeeBps < 0 || c.FeeBps > 10000 {
		return fmt.Errorf("fee-bps %d: use 0 to 10000 basis points (1000 = 10%%)", c.FeeBps)
	}
	if c.MinPriceSats < 1 || c.MinPriceSats*1000 > market.MaxPriceMsat {
		return fmt.Errorf("min-price-sats %d: use 1 to %d sats", c.MinPriceSats, market.MaxPriceMsat/1000)
	}
	if c.PurchaseRate < 1 {
		return fmt.Errorf("purchase-rate %d: use at least 1 purchase per minute", c.PurchaseRate)
	}
	if c.InvoiceExpiry < time.Minute {
		return fmt.Errorf("invoice-expiry %v: use at least a minute", c.InvoiceExpiry)
	}
	if c.S3.Endpoint != "" && (c.S3.Bucket == "" || c.S3.AccessKey == "" || c.S3.SecretKey == "") {
		return errors.New("s3-endpoint needs s3-bucket, s3-access-key and s3-secret-key")
	}
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

// parseConfig reads flags from args, each defaulting to its SATCHEL_* variable from getenv.
func parseConfig(name string, args []string, getenv func(string) string) (Config, error) {
	var c Config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	str := func(p *string, flagName, env, usage string) {
		fs.StringVar(p, flagName, getenv(env), usage+" ($"+env+")")
	}
	str(&c.Listen, "listen", "SATCHEL_LISTEN", "host:port to listen on (default 127.0.0.1:8080)")
	str(&c.PublicURL, "public-url", "SATCHEL_PUBLIC_URL", "scheme://host[:port] clients use and sign for (default: the listen address)")
	str(&c.DatabaseURL, "database-url", "DATABASE_URL", "PostgreSQL URL; empty starts a private cluster under the data dir")
	str(&c.DataDir, "data-dir", "SATCHEL_DATA_DIR", "folder for the private cluster and local data (default .data)")
	str(&c.TLSCert, "tls-cert", "SATCHEL_TLS_CERT", "TLS certificate (PEM) to serve HTTPS")
	str(&c.TLSKey, "tls-key", "SATCHEL_TLS_KEY", "TLS private key (PEM)")
	str(&c.LogFormat, "log-format", "SATCHEL_LOG_FORMAT", "text or json (default text)")
	str(&c.DemoGame, "demo-game", "SATCHEL_DEMO_GAME", "the satchel-demo-game program for demo builds (default: beside this binary)")
	str(&c.Secret, "secret", "SATCHEL_SECRET", "hex key for signed URLs and IP hashes (default: <data-dir>/secret, created once)")
	str(&c.S3.Endpoint, "s3-endpoint", "SATCHEL_S3_ENDPOINT", "S3-compatible host:port for builds (default: a local directory)")
	str(&c.InvoiceProvider, "invoice-provider", "SATCHEL_INVOICE_PROVIDER", "dev (test money, default) or lnd (real money)")
	str(&c.LND.URL, "lnd-url", "SATCHEL_LND_URL", "LND REST URL, https://host:port")
	str(&c.LND.TLSCertPath, "lnd-tls-cert", "SATCHEL_LND_TLS_CERT", "LND's tls.cert")
	str(&c.LND.MacaroonPath, "lnd-macaroon", "SATCHEL_LND_MACAROON", "LND's admin.macaroon")
	str(&c.LND.Network, "lnd-network", "SATCHEL_LND_NETWORK", "the node's chain: bc, tb or bcrt")
	str(&c.S3.Region, "s3-region", "SATCHEL_S3_REGION", "S3 region")
	str(&c.S3.Bucket, "s3-bucket", "SATCHEL_S3_BUCKET", "S3 bucket for builds")
	str(&c.S3.AccessKey, "s3-access-key", "SATCHEL_S3_ACCESS_KEY", "S3 access key")
	str(&c.S3.SecretKey, "s3-secret-key", "SATCHEL_S3_SECRET_KEY", "S3 secret key")
	str(&c.NostrKeyFile, "nostr-key-file", "SATCHEL_NOSTR_KEY_FILE", "file holding the platform's Nostr key (nsec or hex) that signs announcements; or set $SATCHEL_NOSTR_KEY")
	str(&c.GameLink, "game-link", "SATCHEL_GAME_LINK", "link to a game in announcements, {slug} replaced (default <public-url>/games/{slug})")
	str(&c.FileLink, "file-link", "SATCHEL_FILE_LINK", "a build's download link in NIP-94 events, {slug} and {version} replaced (default <public-url>/games/{slug}/releases/{version}/build.zip)")
	str(&c.MetricsListen, "metrics-listen", "SATCHEL_METRICS_LISTEN", "host:port of a separate listener for Prometheus's /metrics (default: off)")
	relays := fs.String("nostr-relays", getenv("SATCHEL_NOSTR_RELAYS"), "comma-separated relays (ws:// or wss://) to announce listed games and published releases on (default: none, announcing off) ($SATCHEL_NOSTR_RELAYS)")
	admins := fs.String("admins", getenv("SATCHEL_ADMINS"), "comma-separated admin public keys, npub or hex ($SATCHEL_ADMINS)")
	proxy := fs.Bool("behind-tls-proxy", false, "a TLS proxy is in front; allows a non-loopback listen address without TLS ($SATCHEL_BEHIND_TLS_PROXY)")
	demo := fs.Bool("demo", false, "load the demo catalog at start ($SATCHEL_DEMO)")
	maxBody := fs.Int64("max-body-bytes", 0, "largest RPC request body (default 1048576) ($SATCHEL_MAX_BODY_BYTES)")
	s3TLS := fs.Bool("s3-tls", false, "use HTTPS to reach S3 ($SATCHEL_S3_TLS)")
	maxBuild := fs.Int64("max-build-bytes", 0, "largest build zip (default 8 GiB) ($SATCHEL_MAX_BUILD_BYTES)")
	maxEntries := fs.Int("max-zip-entries", 0, "most entries in a build zip (default 10000) ($SATCHEL_MAX_ZIP_ENTRIES)")
	maxZip := fs.Int64("max-zip-bytes", 0, "largest uncompressed total of a build zip (default 16 GiB) ($SATCHEL_MAX_ZIP_BYTES)")
	feeBps := fs.Int("fee-bps", 1000, "platform fee in basis points, 1000 = 10% ($SATCHEL_FEE_BPS)")
	purchaseRate := fs.Int("purchase-rate", 0, "purchases one identity or address may open per minute (default 10) ($SATCHEL_PURCHASE_RATE)")
	minPrice := fs.Int64("min-price-sats", 0, "lowest price of a paid game, in sats, so the developer's share can be paid out (default 1000) ($SATCHEL_MIN_PRICE_SATS)")
	expiry := fs.Duration("invoice-expiry", 0, "how long an invoice can be paid (default 15m) ($SATCHEL_INVOICE_EXPIRY)")
	maxRatio := fs.Float64("max-zip-ratio", 0, "largest compression ratio in a build zip (default 200) ($SATCHEL_MAX_ZIP_RATIO)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	boolEnv := func(flagName, env string, p *bool) {
		if v := getenv(env); !set[flagName] && v != "" && err == nil {
			*p, err = strconv.ParseBool(v)
			if err != nil {
				err = fmt.Errorf("$%s=%q: use true or false", env, v)
			}
		}
	}
	boolEnv("behind-tls-proxy", "SATCHEL_BEHIND_TLS_PROXY", proxy)
	boolEnv("demo", "SATCHEL_DEMO", demo)
	boolEnv("s3-tls", "SATCHEL_S3_TLS", s3TLS)
	numEnv := func(flagName, env string, parse func(string) error) {
		if v := getenv(env); !set[flagName] && v != "" && err == nil {
			if parse(v) != nil {
				err = fmt.Errorf("$%s=%q: use a number", env, v)
			}
		}
	}
	numEnv("max-body-bytes", "SATCHEL_MAX_BODY_BYTES", func(v string) (e error) { *maxBody, e = strconv.ParseInt(v, 10, 64); return })
	numEnv("max-build-bytes", "SATCHEL_MAX_BUILD_BYTES", func(v string) (e error) { *maxBuild, e = strconv.ParseInt(v, 10, 64); return })
	numEnv("max-zip-entries", "SATCHEL_MAX_ZIP_ENTRIES", func(v string) (e error) { *maxEntries, e = strconv.Atoi(v); return })
	numEnv("max-zip-bytes", "SATCHEL_MAX_ZIP_BYTES", func(v string) (e error) { *maxZip, e = strconv.ParseInt(v, 10, 64); return })
	numEnv("fee-bps", "SATCHEL_FEE_BPS", func(v string) (e error) { *feeBps, e = strconv.Atoi(v); return })
	numEnv("purchase-rate", "SATCHEL_PURCHASE_RATE", func(v string) (e error) { *purchaseRate, e = strconv.Atoi(v); return })
	numEnv("min-price-sats", "SATCHEL_MIN_PRICE_SATS", func(v string) (e error) { *minPrice, e = strconv.ParseInt(v, 10, 64); return })
	numEnv("invoice-expiry", "SATCHEL_INVOICE_EXPIRY", func(v string) (e error) { *expiry, e = time.ParseDuration(v); return })
	numEnv("max-zip-ratio", "SATCHEL_MAX_ZIP_RATIO", func(v string) (e error) { *maxRatio, e = strconv.ParseFloat(v, 64); return })
	if err != nil {
		return Config{}, err
	}
	c.BehindTLSProxy, c.Demo, c.MaxBodyBytes, c.S3.UseTLS = *proxy, *demo, *maxBody, *s3TLS
	c.MaxBuildBytes, c.MaxZipEntries, c.MaxZipBytes, c.MaxZipRatio = *maxBuild, *maxEntries, *maxZip, *maxRatio
	c.FeeBps, c.InvoiceExpiry, c.PurchaseRate, c.MinPriceSats = *feeBps, *expiry, *purchaseRate, *minPrice
	for _, a := range strings.Split(*admins, ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.Admins = append(c.Admins, a)
		}
	}
	for _, r := range strings.Split(*relays, ",") {
		if r = strings.TrimSpace(r); r != "" {
			c.NostrRelays = append(c.NostrRelays, r)
		}
	}
	c.NostrKey = strings.TrimSpace(getenv("SATCHEL_NOSTR_KEY"))
	c = c.WithDefaults()
	return c, c.Validate()
}
