// Package config reads Plugboard's settings from flags and the environment: every setting has
// a PLUGBOARD_… variable and a --flag; a flag given on the command line wins over the variable,
// which wins over the default.
package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Config is everything the binary needs to run.
type Config struct {
	// Addr is where `serve` listens.
	Addr string
	// DatabaseURL selects the database: postgres://… for PostgreSQL, otherwise a SQLite file.
	DatabaseURL string
	// DatabaseDirectURL reaches PostgreSQL without a pooler, for what needs a session of its
	// own: migrations (an advisory lock) and the cross-server bus's LISTEN. Empty: DatabaseURL
	// (see DirectURL).
	DatabaseDirectURL string
	// MaxOpenConns bounds the database pool; 0 picks a default.
	MaxOpenConns int
	// StatementCache is how pgx runs statements on PostgreSQL: prepare (named prepared
	// statements per connection), describe or none (for a pooler in transaction mode).
	StatementCache string
	// KeyCacheTTL is how long a verified API key is trusted without a database read: the
	// bound on a revocation made on another replica while the cross-server bus is down.
	KeyCacheTTL time.Duration
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// SecretKey is the base64 AES-256 key that seals credential values. Empty with SQLite: a
	// key file next to the database is used, created on first start.
	SecretKey string
	// RetiredSecretKeys are comma-separated base64 keys still accepted for decryption while
	// `plugboard secrets rotate` re-encrypts with SecretKey.
	RetiredSecretKeys string
	// JWT configures identity-provider tokens; unset (no key source) disables them.
	JWT JWT
	// Outbound bounds the HTTP calls actions make.
	Outbound Outbound
	// Serving limits and switches.
	Introspection, Playground string // "on", "off" or "auto" (on with SQLite, off with PostgreSQL)
	// DirectReads is "off" to answer every read with gqlgen's executor (a switch to rule the
	// direct one out when a read looks wrong).
	DirectReads                  string
	MaxBodyBytes                 int64
	RequestTimeout               time.Duration
	MaxDepth, MaxComplexity      int
	MaxAliases, MaxRootFields    int
	MaxTokens, MaxFields         int
	MaxConcurrent                int
	ReadTimeout, WriteTimeout    time.Duration
	IdleTimeout, ShutdownTimeout time.Duration
	// DrainDelay is how long a stopping server keeps serving with /readyz failing, so that a
	// load balancer's health check takes it out before it stops accepting (0: none).
	DrainDelay time.Duration
	// MemoryLimit is the Go runtime's soft heap limit in bytes (0: none); GOMEMLIMIT wins.
	MemoryLimit int64
	// GCPercent is the Go collector's target (GOGC); the GOGC variable wins.
	GCPercent int
	// CORSOrigins are the origins of browser apps allowed to call the API ("*": any).
	CORSOrigins []string
	// PprofAddr, when set, serves net/http/pprof there (keep it on loopback).
	PprofAddr string
	// EventRetention is how long stored webhook events are kept.
	EventRetention time.Duration
	// HookMaxBodyBytes caps a webhook delivery's body.
	HookMaxBodyBytes int64
	// MaxWebSockets bounds the open GraphQL WebSocket connections of a server.
	MaxWebSockets int
	// TrustedProxies are the load balancers whose X-Forwarded-For names the client (for the
	// per-client caps); from any other peer the header is ignored.
	TrustedProxies []netip.Prefix
	// RateLimit is each caller's request budget (PLUGBOARD_RATE_LIMIT); zero Requests: off.
	RateLimit RateLimit
	// RateBurst is the requests a caller may send at once (0: RateLimit.Requests).
	RateBurst int
	// PublicURLSetting is where browsers reach the server (PLUGBOARD_PUBLIC_URL); empty:
	// http:// + Addr (see PublicURL).
	PublicURLSetting string
	// ConnectRedirectOrigins are the origins redirectURL of startOAuthConnect and
	// createConnectSession may point to.
	ConnectRedirectOrigins []string
}

// PublicURL is the base of the URLs the server hands out (OAuth redirect URI, connect pages),
// without a trailing slash.
func (c Config) PublicURL() string {
	if c.PublicURLSetting != "" {
		return strings.TrimSuffix(c.PublicURLSetting, "/")
	}
	return "http://" + c.Addr
}

// RateLimit is a number of requests per window.
type RateLimit struct {
	Requests int
	Window   time.Duration
}

// ParseRateLimit reads "N/s" or "N/m"; "off" or "0" is off.
func ParseRateLimit(s string) (RateLimit, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "off" || s == "0" {
		return RateLimit{}, nil
	}
	n, unit, ok := strings.Cut(s, "/")
	requests, err := strconv.Atoi(n)
	window := map[string]time.Duration{"s": time.Second, "m": time.Minute}[unit]
	if !ok || err != nil || requests < 0 || window == 0 {
		return RateLimit{}, fmt.Errorf("%q: want N/s or N/m (such as 50/s or 600/m), or off", s)
	}
	return RateLimit{Requests: requests, Window: window}, nil
}

// Enabled resolves an on/off/auto switch: auto is on for the embedded SQLite default, off for
// PostgreSQL (production).
func (c Config) Enabled(value string) bool {
	switch value {
	case "on":
		return true
	case "off":
		return false
	}
	return c.SecretKeyFile() != ""
}

// Outbound bounds executeAction and testConnection calls.
type Outbound struct {
	Timeout        time.Duration
	ConnectTimeout time.Duration
	MaxBodyBytes   int64
	MaxRedirects   int
	// Allow opens address ranges the SSRF guard refuses (loopback, private, link-local…).
	Allow []netip.Prefix
}

// JWT configures the verification of identity-provider id_tokens.
type JWT struct {
	// Exactly one key source: a JWKS URL, a PEM public key (inline or in a file), or an HMAC
	// secret that is only accepted when AllowHMAC is set (development).
	JWKSURL       string
	PublicKey     string
	PublicKeyFile string
	HMACSecret    string
	AllowHMAC     bool
	// Algorithms allowed in tokens; empty picks the ones that fit the key source.
	Algorithms []string
	Issuer     string
	Audience   string
	// OrgClaim names the claim holding the organisation id; ScopesClaim the one holding scopes
	// (a space-separated string or an array).
	OrgClaim    string
	ScopesClaim string
	// Leeway is the clock skew tolerated on exp, nbf and iat.
	Leeway time.Duration
}

// Enabled tells whether any key source is configured.
func (j JWT) Enabled() bool {
	return j.JWKSURL != "" || j.PublicKey != "" || j.PublicKeyFile != "" || j.HMACSecret != ""
}

// Defaults of the contract.
const (
	DefaultAddr        = "127.0.0.1:8080"
	DefaultDatabaseURL = "plugboard.db"
)

type setting struct {
	env, flag, def, usage string
	apply                 func(c *Config, v string) error
}

func str(dst func(c *Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *dst(c) = v; return nil }
}

func switchValue(dst func(c *Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		switch v = strings.ToLower(v); v {
		case "on", "true", "1":
			*dst(c) = "on"
		case "off", "false", "0":
			*dst(c) = "off"
		case "auto", "":
			*dst(c) = "auto"
		default:
			return fmt.Errorf("%q is not on, off or auto", v)
		}
		return nil
	}
}

func positiveInt(dst func(c *Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive integer", v)
		}
		*dst(c) = n
		return nil
	}
}

func duration(dst func(c *Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("%q is not a duration such as 5s", v)
		}
		*dst(c) = d
		return nil
	}
}

// Settings lists every setting, for flags, the environment and docs/production.md's table.
var settings = []setting{
	{"PLUGBOARD_ADDR", "addr", DefaultAddr, "listen address of serve", str(func(c *Config) *string { return &c.Addr })},
	{"PLUGBOARD_DATABASE_URL", "database-url", DefaultDatabaseURL, "postgres://… for PostgreSQL, otherwise a SQLite file", str(func(c *Config) *string { return &c.DatabaseURL })},
	{"PLUGBOARD_DATABASE_DIRECT_URL", "database-direct-url", "", "PostgreSQL URL bypassing any pooler, for migrations and the cross-server bus's LISTEN connection (default: the database URL)", str(func(c *Config) *string { return &c.DatabaseDirectURL })},
	{"PLUGBOARD_DB_MAX_CONNS", "db-max-conns", "0", "database pool size (0: 16 on PostgreSQL, 4 on SQLite)", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a non-negative integer", v)
		}
		c.MaxOpenConns = n
		return nil
	}},
	{"PLUGBOARD_DB_STATEMENT_CACHE", "db-statement-cache", "prepare", "how PostgreSQL statements run: prepare (named prepared statements per connection), describe or none (through pgbouncer in transaction mode)", func(c *Config, v string) error {
		switch v = strings.ToLower(strings.TrimSpace(v)); v {
		case "prepare", "describe", "none":
			c.StatementCache = v
			return nil
		}
		return fmt.Errorf("%q is not prepare, describe or none", v)
	}},
	{"PLUGBOARD_KEY_CACHE_TTL", "key-cache-ttl", "5s", "how long a verified API key is trusted without a database read", duration(func(c *Config) *time.Duration { return &c.KeyCacheTTL })},
	{"PLUGBOARD_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", str(func(c *Config) *string { return &c.LogLevel })},
	{"PLUGBOARD_SECRET_KEY", "", "", "base64 AES-256 key sealing credential values (environment only: flags show in process lists)", str(func(c *Config) *string { return &c.SecretKey })},
	{"PLUGBOARD_RETIRED_SECRET_KEYS", "", "", "comma-separated old keys accepted for decryption during rotation (environment only)", str(func(c *Config) *string { return &c.RetiredSecretKeys })},
	{"PLUGBOARD_JWT_JWKS_URL", "jwt-jwks-url", "", "JWKS URL of the identity provider", str(func(c *Config) *string { return &c.JWT.JWKSURL })},
	{"PLUGBOARD_JWT_PUBLIC_KEY", "", "", "PEM public key (RSA, ECDSA P-256 or Ed25519) verifying tokens (environment only)", str(func(c *Config) *string { return &c.JWT.PublicKey })},
	{"PLUGBOARD_JWT_PUBLIC_KEY_FILE", "jwt-public-key-file", "", "file holding the PEM public key", str(func(c *Config) *string { return &c.JWT.PublicKeyFile })},
	{"PLUGBOARD_JWT_HMAC_SECRET", "", "", "HMAC secret for development tokens (environment only; needs PLUGBOARD_JWT_ALLOW_HMAC)", str(func(c *Config) *string { return &c.JWT.HMACSecret })},
	{"PLUGBOARD_JWT_ALLOW_HMAC", "jwt-allow-hmac", "false", "accept HMAC-signed tokens (development only)", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		c.JWT.AllowHMAC = b
		return nil
	}},
	{"PLUGBOARD_JWT_ALGORITHMS", "jwt-algorithms", "", "comma-separated allowed algorithms (default: those of the key source)", func(c *Config, v string) error {
		c.JWT.Algorithms = nil
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				c.JWT.Algorithms = append(c.JWT.Algorithms, a)
			}
		}
		return nil
	}},
	{"PLUGBOARD_JWT_ISSUER", "jwt-issuer", "", "required iss of tokens", str(func(c *Config) *string { return &c.JWT.Issuer })},
	{"PLUGBOARD_JWT_AUDIENCE", "jwt-audience", "", "required aud of tokens", str(func(c *Config) *string { return &c.JWT.Audience })},
	{"PLUGBOARD_JWT_ORG_CLAIM", "jwt-org-claim", "org_id", "claim holding the organisation id", str(func(c *Config) *string { return &c.JWT.OrgClaim })},
	{"PLUGBOARD_JWT_SCOPES_CLAIM", "jwt-scopes-claim", "scope", "claim holding the scopes (space-separated string or array)", str(func(c *Config) *string { return &c.JWT.ScopesClaim })},
	{"PLUGBOARD_INTROSPECTION", "introspection", "auto", "GraphQL introspection: on, off, or auto (on with SQLite, off with PostgreSQL)", switchValue(func(c *Config) *string { return &c.Introspection })},
	{"PLUGBOARD_PLAYGROUND", "playground", "auto", "the playground at /: on, off, or auto (on with SQLite, off with PostgreSQL)", switchValue(func(c *Config) *string { return &c.Playground })},
	{"PLUGBOARD_DIRECT_READS", "direct-reads", "on", "answer plain reads of connectors, versions and connections with the direct executor (off: gqlgen answers all)", switchValue(func(c *Config) *string { return &c.DirectReads })},
	{"PLUGBOARD_MAX_BODY_BYTES", "max-body-bytes", "1048576", "largest request body accepted", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive number of bytes", v)
		}
		c.MaxBodyBytes = n
		return nil
	}},
	{"PLUGBOARD_REQUEST_TIMEOUT", "request-timeout", "30s", "time limit of one GraphQL request", duration(func(c *Config) *time.Duration { return &c.RequestTimeout })},
	{"PLUGBOARD_MAX_DEPTH", "max-depth", "12", "deepest selection nesting accepted", positiveInt(func(c *Config) *int { return &c.MaxDepth })},
	{"PLUGBOARD_MAX_COMPLEXITY", "max-complexity", "50000", "highest operation complexity accepted (list fields count their page size)", positiveInt(func(c *Config) *int { return &c.MaxComplexity })},
	{"PLUGBOARD_MAX_ALIASES", "max-aliases", "30", "most aliased fields in one operation", positiveInt(func(c *Config) *int { return &c.MaxAliases })},
	{"PLUGBOARD_MAX_ROOT_FIELDS", "max-root-fields", "20", "most top-level fields in one operation", positiveInt(func(c *Config) *int { return &c.MaxRootFields })},
	{"PLUGBOARD_MAX_TOKENS", "max-tokens", "5000", "most tokens in a query text (send large values as variables)", positiveInt(func(c *Config) *int { return &c.MaxTokens })},
	{"PLUGBOARD_MAX_FIELDS", "max-fields", "300", "most fields and fragments in one document", positiveInt(func(c *Config) *int { return &c.MaxFields })},
	{"PLUGBOARD_MAX_CONCURRENT_REQUESTS", "max-concurrent-requests", "16", "GraphQL requests executing at once; more wait their turn", positiveInt(func(c *Config) *int { return &c.MaxConcurrent })},
	{"PLUGBOARD_HTTP_READ_TIMEOUT", "http-read-timeout", "30s", "time to read a request", duration(func(c *Config) *time.Duration { return &c.ReadTimeout })},
	{"PLUGBOARD_HTTP_WRITE_TIMEOUT", "http-write-timeout", "60s", "time to write a response", duration(func(c *Config) *time.Duration { return &c.WriteTimeout })},
	{"PLUGBOARD_HTTP_IDLE_TIMEOUT", "http-idle-timeout", "120s", "how long an idle keep-alive connection stays open", duration(func(c *Config) *time.Duration { return &c.IdleTimeout })},
	{"PLUGBOARD_DRAIN_DELAY", "drain-delay", "5s", "after SIGTERM, how long /readyz fails while requests are still served, before the server stops accepting (0 for none; a second signal ends it)", duration(func(c *Config) *time.Duration { return &c.DrainDelay })},
	{"PLUGBOARD_SHUTDOWN_TIMEOUT", "shutdown-timeout", "20s", "how long in-flight requests may finish after SIGTERM", duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"PLUGBOARD_MEMORY_LIMIT", "memory-limit", "64MiB", "soft heap limit of the Go runtime (0 for none; GOMEMLIMIT wins), e.g. 256MiB", func(c *Config, v string) error {
		n, err := parseBytes(v)
		if err != nil {
			return err
		}
		c.MemoryLimit = n
		return nil
	}},
	{"PLUGBOARD_GC_PERCENT", "gc-percent", "200", "heap growth that triggers a garbage collection, in percent of the live heap (GOGC wins)", positiveInt(func(c *Config) *int { return &c.GCPercent })},
	{"PLUGBOARD_CORS_ORIGINS", "cors-origins", "", "comma-separated origins of browser apps allowed to call the API (* for any; none by default)", func(c *Config, v string) error {
		c.CORSOrigins = nil
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.CORSOrigins = append(c.CORSOrigins, o)
			}
		}
		return nil
	}},
	{"PLUGBOARD_RATE_LIMIT", "rate-limit", "off", "request budget of each API key or JWT subject, per server: N/s or N/m (such as 50/s); off or 0 turns it off", func(c *Config, v string) error {
		var err error
		c.RateLimit, err = ParseRateLimit(v)
		return err
	}},
	{"PLUGBOARD_RATE_BURST", "rate-burst", "0", "requests a caller may send at once under PLUGBOARD_RATE_LIMIT (0: its N)", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%q: want a whole number, 0 or more", v)
		}
		c.RateBurst = n
		return nil
	}},
	{"PLUGBOARD_PUBLIC_URL", "public-url", "", "where browsers reach this server, such as https://plugboard.example.com: every URL handed out starts with it: the OAuth redirect URI (+ /oauth/callback), connect pages and webhook URLs (default: http:// + PLUGBOARD_ADDR)", func(c *Config, v string) error {
		v = strings.TrimSpace(v)
		if v == "" {
			c.PublicURLSetting = ""
			return nil
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("%q is not an http(s) URL such as https://plugboard.example.com", v)
		}
		c.PublicURLSetting = v
		return nil
	}},
	{"PLUGBOARD_CONNECT_REDIRECT_ORIGINS", "connect-redirect-origins", "", "comma-separated origins (such as https://app.example.com) that redirectURL of startOAuthConnect and createConnectSession may lead to; none by default", func(c *Config, v string) error {
		c.ConnectRedirectOrigins = nil
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSuffix(strings.TrimSpace(o), "/"); o == "" {
				continue
			}
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
				return fmt.Errorf("%q is not an origin such as https://app.example.com", o)
			}
			c.ConnectRedirectOrigins = append(c.ConnectRedirectOrigins, o)
		}
		return nil
	}},
	{"PLUGBOARD_PPROF_ADDR", "pprof-addr", "", "serve Go profiles (net/http/pprof) on this address, e.g. 127.0.0.1:6060; off by default", str(func(c *Config) *string { return &c.PprofAddr })},
	{"PLUGBOARD_OUTBOUND_TIMEOUT", "outbound-timeout", "10s", "limit of a whole outbound call", duration(func(c *Config) *time.Duration { return &c.Outbound.Timeout })},
	{"PLUGBOARD_OUTBOUND_CONNECT_TIMEOUT", "outbound-connect-timeout", "10s", "limit of connecting (and the TLS handshake) of an outbound call", duration(func(c *Config) *time.Duration { return &c.Outbound.ConnectTimeout })},
	{"PLUGBOARD_OUTBOUND_MAX_BODY_BYTES", "outbound-max-body-bytes", "1048576", "response bodies longer than this are cut and flagged", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive number of bytes", v)
		}
		c.Outbound.MaxBodyBytes = n
		return nil
	}},
	{"PLUGBOARD_OUTBOUND_MAX_REDIRECTS", "outbound-max-redirects", "5", "redirects followed by an outbound call", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a non-negative integer", v)
		}
		c.Outbound.MaxRedirects = n
		if n == 0 {
			c.Outbound.MaxRedirects = -1 // none, as opposed to the default
		}
		return nil
	}},
	{"PLUGBOARD_OUTBOUND_ALLOW", "outbound-allow", "", "comma-separated CIDRs the SSRF guard lets outbound calls reach (e.g. 10.1.0.0/16)", prefixes(func(c *Config) *[]netip.Prefix { return &c.Outbound.Allow })},
	{"PLUGBOARD_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated CIDRs of the load balancers in front of the server: from them, X-Forwarded-For names the client (e.g. 10.0.0.0/8)", prefixes(func(c *Config) *[]netip.Prefix { return &c.TrustedProxies })},
	{"PLUGBOARD_EVENT_RETENTION", "event-retention", "168h", "how long webhook events are kept (a Go duration)", duration(func(c *Config) *time.Duration { return &c.EventRetention })},
	{"PLUGBOARD_HOOK_MAX_BODY_BYTES", "hook-max-body-bytes", "1048576", "largest webhook delivery body accepted (413 over it)", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive number of bytes", v)
		}
		c.HookMaxBodyBytes = n
		return nil
	}},
	{"PLUGBOARD_MAX_WEBSOCKETS", "max-websockets", "1000", "GraphQL WebSocket connections (subscriptions) open at once on a server", positiveInt(func(c *Config) *int { return &c.MaxWebSockets })},
	{"PLUGBOARD_JWT_LEEWAY", "jwt-leeway", "30s", "clock skew tolerated on exp, nbf and iat", duration(func(c *Config) *time.Duration { return &c.JWT.Leeway })},
}

// RegisterFlags adds a flag for every setting that may be given on the command line. Secrets
// are environment-only: command lines are visible to every user of the machine.
func RegisterFlags(fs *pflag.FlagSet) {
	for _, s := range settings {
		if s.flag != "" {
			fs.String(s.flag, "", fmt.Sprintf("%s (env %s, default %q)", s.usage, s.env, s.def))
		}
	}
}

// Load reads the configuration: flags set in fs (which may be nil), then the environment, then
// defaults. A malformed value is an error naming the flag or variable, never its value when it
// may be a secret.
func Load(fs *pflag.FlagSet) (Config, error) {
	var c Config
	for _, s := range settings {
		v, source := s.def, "default of "+s.env
		if e, ok := os.LookupEnv(s.env); ok && e != "" {
			v, source = e, s.env
		}
		if fs != nil && s.flag != "" {
			if f := fs.Lookup(s.flag); f != nil && f.Changed {
				v, source = f.Value.String(), "--"+s.flag
			}
		}
		if err := s.apply(&c, v); err != nil {
			return c, fmt.Errorf("%s: %w", source, err)
		}
	}
	return c, nil
}

// parseBytes reads a size such as 80MiB, 512MB, 1GiB or a plain number of bytes.
func parseBytes(v string) (int64, error) {
	units := []struct {
		suffix string
		factor int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	s := strings.TrimSpace(v)
	factor := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, factor = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size such as 80MiB", v)
	}
	return n * factor, nil
}

// FromEnv reads the configuration from the environment alone.
func FromEnv() (Config, error) { return Load(nil) }

// DirectURL is the URL of the sessions a pooler in transaction mode would break (LISTEN,
// migrations' advisory lock): DatabaseDirectURL, or DatabaseURL when it is not set.
func (c Config) DirectURL() string {
	if c.DatabaseDirectURL != "" {
		return c.DatabaseDirectURL
	}
	return c.DatabaseURL
}

// SecretKeyFile is where the embedded default keeps its generated key: next to the SQLite
// database file. It is empty for PostgreSQL, whose replicas must share a configured key.
func (c Config) SecretKeyFile() string {
	u := c.DatabaseURL
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		return ""
	}
	u = strings.TrimPrefix(strings.TrimPrefix(u, "sqlite:"), "file:")
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	if u == "" || strings.Contains(u, ":memory:") {
		return ""
	}
	return u + ".secret-key"
}

// shutdownMargin is what a drain waits beyond the longest request deadline: the answer of a
// request stopped at its deadline still has to be written.
const shutdownMargin = 2 * time.Second

// ShutdownGrace is how long a stopping server lets in-flight requests finish: the shutdown
// timeout, but never less than the request timeout plus a margin, so that a rolling restart
// does not cut a request that is still within its own deadline.
func (c Config) ShutdownGrace() time.Duration {
	return max(c.ShutdownTimeout, c.RequestTimeout+shutdownMargin)
}

// prefixes reads a comma-separated list of CIDRs (a bare address is its own /32 or /128).
func prefixes(field func(*Config) *[]netip.Prefix) func(*Config, string) error {
	return func(c *Config, v string) error {
		list := field(c)
		*list = nil
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			prefix, err := netip.ParsePrefix(p)
			if err != nil {
				addr, aerr := netip.ParseAddr(p)
				if aerr != nil {
					return fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", p)
				}
				prefix = netip.PrefixFrom(addr, addr.BitLen())
			}
			*list = append(*list, prefix)
		}
		return nil
	}
}
