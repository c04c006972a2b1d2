package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"satchel.dev/shared/nostr"
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
	LogFormat      string   // text or json
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
	return nil
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
	admins := fs.String("admins", getenv("SATCHEL_ADMINS"), "comma-separated admin public keys, npub or hex ($SATCHEL_ADMINS)")
	proxy := fs.Bool("behind-tls-proxy", false, "a TLS proxy is in front; allows a non-loopback listen address without TLS ($SATCHEL_BEHIND_TLS_PROXY)")
	demo := fs.Bool("demo", false, "load the demo catalog at start ($SATCHEL_DEMO)")
	maxBody := fs.Int64("max-body-bytes", 0, "largest RPC request body (default 1048576) ($SATCHEL_MAX_BODY_BYTES)")
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
	if v := getenv("SATCHEL_MAX_BODY_BYTES"); !set["max-body-bytes"] && v != "" && err == nil {
		if *maxBody, err = strconv.ParseInt(v, 10, 64); err != nil {
			err = fmt.Errorf("$SATCHEL_MAX_BODY_BYTES=%q: use a number of bytes", v)
		}
	}
	if err != nil {
		return Config{}, err
	}
	c.BehindTLSProxy, c.Demo, c.MaxBodyBytes = *proxy, *demo, *maxBody
	for _, a := range strings.Split(*admins, ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.Admins = append(c.Admins, a)
		}
	}
	c = c.WithDefaults()
	return c, c.Validate()
}
