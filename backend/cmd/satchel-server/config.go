package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"satchel.dev/backend/purchases"
	"satchel.dev/backend/server"
)

// parseConfig reads the flags of command (serve, migrate, check-ledger) from args, each
// defaulting to its SATCHEL_* variable from getenv, and reads the secrets the *-file flags name.
// It returns helpRequested for -h, and a usageError for a wrong command line or configuration.
func parseConfig(command string, args []string, getenv func(string) string) (server.Config, error) {
	fs := flag.NewFlagSet("satchel-server "+command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c, err := readConfig(fs, args, getenv)
	return c, usage(err, command, fs)
}

// readConfig is parseConfig on the flag set fs.
func readConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (server.Config, error) {
	var c server.Config
	str := func(p *string, flagName, env, usage string) {
		fs.StringVar(p, flagName, getenv(env), usage+" ($"+env+")")
	}
	// A secret's variable is read after parsing, so that -h never prints it as the default.
	secretEnv := map[string]func(){}
	secret := func(p *string, flagName, env, usage string) {
		fs.StringVar(p, flagName, "", usage+" ($"+env+")")
		secretEnv[flagName] = func() { *p = getenv(env) }
	}
	str(&c.Listen, "listen", "SATCHEL_LISTEN", "host:port to listen on (default 127.0.0.1:8080)")
	str(&c.PublicURL, "public-url", "SATCHEL_PUBLIC_URL", "scheme://host[:port] clients use and sign for (default: the listen address)")
	str(&c.DatabaseURL, "database-url", "DATABASE_URL", "PostgreSQL URL; empty starts a private cluster under the data dir")
	str(&c.DataDir, "data-dir", "SATCHEL_DATA_DIR", "folder for the private cluster and local data (default .data)")
	str(&c.TLSCert, "tls-cert", "SATCHEL_TLS_CERT", "TLS certificate (PEM) to serve HTTPS")
	str(&c.TLSKey, "tls-key", "SATCHEL_TLS_KEY", "TLS private key (PEM)")
	str(&c.LogFormat, "log-format", "SATCHEL_LOG_FORMAT", "text or json (default text)")
	str(&c.DemoGame, "demo-game", "SATCHEL_DEMO_GAME", "the satchel-demo-game program for demo builds (default: beside this binary)")
	secret(&c.Secret, "secret", "SATCHEL_SECRET", "hex key for signed URLs and IP hashes (default: <data-dir>/secret, created once; prefer --secret-file: the process list shows flags)")
	str(&c.S3.Endpoint, "s3-endpoint", "SATCHEL_S3_ENDPOINT", "S3-compatible host:port for builds (default: a local directory)")
	str(&c.InvoiceProvider, "invoice-provider", "SATCHEL_INVOICE_PROVIDER", "dev (test money, default) or lnd (real money)")
	str(&c.LND.URL, "lnd-url", "SATCHEL_LND_URL", "LND REST URL, https://host:port")
	str(&c.LND.TLSCertPath, "lnd-tls-cert", "SATCHEL_LND_TLS_CERT", "LND's tls.cert")
	str(&c.LND.MacaroonPath, "lnd-macaroon", "SATCHEL_LND_MACAROON", "LND's admin.macaroon")
	str(&c.LND.Network, "lnd-network", "SATCHEL_LND_NETWORK", "the node's chain: bc, tb or bcrt")
	str(&c.S3.Region, "s3-region", "SATCHEL_S3_REGION", "S3 region")
	str(&c.S3.Bucket, "s3-bucket", "SATCHEL_S3_BUCKET", "S3 bucket for builds")
	str(&c.S3.AccessKey, "s3-access-key", "SATCHEL_S3_ACCESS_KEY", "S3 access key")
	secret(&c.S3.SecretKey, "s3-secret-key", "SATCHEL_S3_SECRET_KEY", "S3 secret key (prefer --s3-secret-key-file: the process list shows flags)")
	var secretFile, s3SecretFile string
	str(&secretFile, "secret-file", "SATCHEL_SECRET_FILE", "file holding the --secret key, so that it is never on the command line")
	str(&s3SecretFile, "s3-secret-key-file", "SATCHEL_S3_SECRET_KEY_FILE", "file holding the S3 secret key, so that it is never on the command line")
	str(&c.NostrKeyFile, "nostr-key-file", "SATCHEL_NOSTR_KEY_FILE", "file holding the platform's Nostr key (nsec or hex) that signs announcements; or set $SATCHEL_NOSTR_KEY")
	str(&c.GameLink, "game-link", "SATCHEL_GAME_LINK", "link to a game in announcements, {slug} replaced (default <public-url>/games/{slug})")
	str(&c.FileLink, "file-link", "SATCHEL_FILE_LINK", "a build's download link in NIP-94 events, {slug} and {version} replaced (default <public-url>/games/{slug}/releases/{version}/build.zip)")
	str(&c.MetricsListen, "metrics-listen", "SATCHEL_METRICS_LISTEN", "host:port of a separate listener for Prometheus's /metrics (default: off)")
	relays := fs.String("nostr-relays", getenv("SATCHEL_NOSTR_RELAYS"), "comma-separated relays (ws:// or wss://) to announce listed games and published releases on (default: none, announcing off) ($SATCHEL_NOSTR_RELAYS)")
	admins := fs.String("admins", getenv("SATCHEL_ADMINS"), "comma-separated admin public keys, npub or hex ($SATCHEL_ADMINS)")
	proxy := fs.Bool("behind-tls-proxy", false, "a TLS proxy is in front; allows a non-loopback listen address without TLS ($SATCHEL_BEHIND_TLS_PROXY)")
	demo := fs.Bool("demo", false, "load the demo catalog at start ($SATCHEL_DEMO)")
	pprof := fs.Bool("pprof", false, "serve net/http/pprof's /debug/pprof/ on the metrics listener, with block and mutex profiles on; for measuring only ($SATCHEL_PPROF)")
	maxBody := fs.Int64("max-body-bytes", 0, "largest RPC request body (default 1048576) ($SATCHEL_MAX_BODY_BYTES)")
	s3TLS := fs.Bool("s3-tls", false, "use HTTPS to reach S3 ($SATCHEL_S3_TLS)")
	maxBuild := fs.Int64("max-build-bytes", 0, "largest build zip (default 8 GiB) ($SATCHEL_MAX_BUILD_BYTES)")
	maxEntries := fs.Int("max-zip-entries", 0, "most entries in a build zip (default 10000) ($SATCHEL_MAX_ZIP_ENTRIES)")
	maxZip := fs.Int64("max-zip-bytes", 0, "largest uncompressed total of a build zip (default 16 GiB) ($SATCHEL_MAX_ZIP_BYTES)")
	feeBps := fs.Int("fee-bps", purchases.DefaultFeeBps, "platform fee in basis points, 1000 = 10% ($SATCHEL_FEE_BPS)")
	purchaseRate := fs.Int("purchase-rate", 0, "purchases one identity or address may open per minute (default 10) ($SATCHEL_PURCHASE_RATE)")
	minPrice := fs.Int64("min-price-sats", 0, "lowest price of a paid game, in sats, so the developer's share can be paid out (default 1000) ($SATCHEL_MIN_PRICE_SATS)")
	expiry := fs.Duration("invoice-expiry", 0, fmt.Sprintf("how long an invoice can be paid (default %v) ($SATCHEL_INVOICE_EXPIRY)", purchases.DefaultInvoiceExpiry))
	maxRatio := fs.Float64("max-zip-ratio", 0, "largest compression ratio in a build zip (default 200) ($SATCHEL_MAX_ZIP_RATIO)")
	if err := fs.Parse(args); err != nil {
		return server.Config{}, err
	}
	if fs.NArg() > 0 {
		return server.Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, fromEnv := range secretEnv {
		if !set[name] {
			fromEnv()
		}
	}
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
	boolEnv("pprof", "SATCHEL_PPROF", pprof)
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
		return server.Config{}, err
	}
	c.BehindTLSProxy, c.Demo, c.MaxBodyBytes, c.S3.UseTLS = *proxy, *demo, *maxBody, *s3TLS
	c.Pprof = *pprof
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
	if c.Secret, err = fromFile(c.Secret, "secret", secretFile); err != nil {
		return server.Config{}, err
	}
	if c.S3.SecretKey, err = fromFile(c.S3.SecretKey, "s3-secret-key", s3SecretFile); err != nil {
		return server.Config{}, err
	}
	c = c.WithDefaults()
	return c, c.Validate()
}

// fromFile returns the secret held in file (surrounding space trimmed), or value when no file
// is named. Naming both is refused.
func fromFile(value, name, file string) (string, error) {
	if file == "" {
		return value, nil
	}
	if value != "" {
		return "", fmt.Errorf("give --%s or --%s-file, not both", name, name)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s-file: %w", name, err)
	}
	secret := strings.TrimSpace(string(raw))
	if secret == "" {
		return "", fmt.Errorf("%s-file %s is empty", name, file)
	}
	return secret, nil
}
