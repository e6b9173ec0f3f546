package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/plugboard/plugboard/internal/config"
	"github.com/plugboard/plugboard/internal/domain"
)

// JWTOptions tune the verifier beyond the configuration; tests shorten the JWKS refresh limits.
type JWTOptions struct {
	// HTTPClient fetches the JWKS.
	HTTPClient *http.Client
	// UnknownKIDRefreshEvery limits refetches of the JWKS for tokens with an unknown key id
	// (default 10 s), so that forged kids cannot make Plugboard hammer the identity provider.
	UnknownKIDRefreshEvery time.Duration
	// RefreshInterval refetches the JWKS in the background (default 1 h).
	RefreshInterval time.Duration
	Now             func() time.Time
}

// JWTVerifier authenticates identity-provider id_tokens.
type JWTVerifier struct {
	parser      *jwt.Parser
	keyfunc     jwt.Keyfunc
	orgClaim    string
	scopesClaim string
	orgs        domain.OrganisationService
	logger      *slog.Logger
	now         func() time.Time

	mu       sync.Mutex
	knownOrg map[string]time.Time // organisation id -> when it was last seen to exist
}

// asymmetric are the algorithms accepted by default from a JWKS.
var asymmetric = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
var hmacAlgs = []string{"HS256", "HS384", "HS512"}

// NewJWTVerifier builds a verifier from the configuration. It refuses unsafe set-ups: no issuer
// or audience, more than one key source, HMAC without the explicit development switch,
// "none", and HMAC algorithms next to a public key (the classic key-confusion attack).
func NewJWTVerifier(ctx context.Context, cfg config.JWT, orgs domain.OrganisationService, logger *slog.Logger, opts JWTOptions) (*JWTVerifier, error) {
	sources := 0
	for _, s := range []string{cfg.JWKSURL, cfg.PublicKey + cfg.PublicKeyFile, cfg.HMACSecret} {
		if s != "" {
			sources++
		}
	}
	switch {
	case sources != 1:
		return nil, errors.New("jwt: configure exactly one key source: a JWKS URL, a public key, or (for development) an HMAC secret")
	case cfg.Issuer == "" || cfg.Audience == "":
		return nil, errors.New("jwt: the issuer and the audience are required")
	case cfg.PublicKey != "" && cfg.PublicKeyFile != "":
		return nil, errors.New("jwt: give the public key inline or as a file, not both")
	case cfg.HMACSecret != "" && !cfg.AllowHMAC:
		return nil, errors.New("jwt: an HMAC secret is for development only; set PLUGBOARD_JWT_ALLOW_HMAC=true to accept it")
	case cfg.HMACSecret != "" && len(cfg.HMACSecret) < 32:
		return nil, errors.New("jwt: the HMAC secret must be at least 32 bytes")
	}
	v := &JWTVerifier{orgClaim: cfg.OrgClaim, scopesClaim: cfg.ScopesClaim, orgs: orgs, logger: logger, now: opts.Now, knownOrg: map[string]time.Time{}}
	if v.now == nil {
		v.now = time.Now
	}
	var defaults []string
	switch {
	case cfg.JWKSURL != "":
		kf, err := jwksKeyfunc(ctx, cfg.JWKSURL, logger, opts)
		if err != nil {
			return nil, err
		}
		v.keyfunc, defaults = kf, asymmetric
	case cfg.HMACSecret != "":
		secret := []byte(cfg.HMACSecret)
		v.keyfunc = func(*jwt.Token) (any, error) { return secret, nil }
		defaults = hmacAlgs
	default:
		pemText := cfg.PublicKey
		if cfg.PublicKeyFile != "" {
			b, err := os.ReadFile(cfg.PublicKeyFile)
			if err != nil {
				return nil, fmt.Errorf("jwt: read public key: %w", err)
			}
			pemText = string(b)
		}
		key, algs, err := parsePublicKey(pemText)
		if err != nil {
			return nil, err
		}
		v.keyfunc = func(*jwt.Token) (any, error) { return key, nil }
		defaults = algs
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = defaults
	}
	for _, a := range algs {
		switch {
		case strings.EqualFold(a, "none"):
			return nil, errors.New(`jwt: the "none" algorithm is never accepted`)
		case !slices.Contains(defaults, a):
			return nil, fmt.Errorf("jwt: algorithm %q does not fit the configured key (allowed: %s)", a, strings.Join(defaults, ", "))
		}
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(algs),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(v.now),
	)
	return v, nil
}

// jwksKeyfunc finds a token's key in the identity provider's JWKS. Known kids come from the
// cache. An unknown kid (after a key rotation, or forged) refetches the JWKS at most once per
// UnknownKIDRefreshEvery: a token that finds the budget spent is refused at once, never kept
// waiting; one that is allowed waits for the fetch, bounded by the HTTP timeout, and tokens
// arriving meanwhile share that fetch.
//
// jwkset's own unknown-kid refresh cannot do this: it runs the JWKS request under the same
// deadline as its wait for the rate limiter (RateLimitWaitMax), so a deadline short enough not
// to keep refused tokens waiting fails every refetch of an identity provider more than that far
// away. Its limiter is therefore only ever asked when ours allowed a refetch.
func jwksKeyfunc(ctx context.Context, url string, logger *slog.Logger, opts JWTOptions) (jwt.Keyfunc, error) {
	every := opts.UnknownKIDRefreshEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	const httpTimeout = 10 * time.Second
	refreshInterval := opts.RefreshInterval
	if refreshInterval <= 0 {
		refreshInterval = time.Hour
	}
	client := opts.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	storage, err := jwkset.NewStorageFromHTTP(url, jwkset.HTTPClientStorageOptions{
		Client:                    client,
		Ctx:                       ctx,
		HTTPTimeout:               httpTimeout,
		NoErrorReturnFirstHTTPReq: true,
		RefreshInterval:           refreshInterval,
		RefreshErrorHandler: func(ctx context.Context, err error) {
			logger.WarnContext(ctx, "refresh JWKS", "url", url, "error", err.Error())
		},
	})
	if err != nil {
		return nil, fmt.Errorf("jwt: JWKS %s: %w", url, err)
	}
	// cached reads the keys fetched so far and never fetches.
	cached, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: storage})
	if err != nil {
		return nil, fmt.Errorf("jwt: JWKS %s: %w", url, err)
	}
	// refetching fetches the JWKS again whenever it is asked for a kid it does not hold; it is
	// only asked after limiter allowed a refetch. RateLimitWaitMax bounds the fetch.
	refetchingClient, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{url: storage},
		RefreshUnknownKID: rate.NewLimiter(rate.Inf, 1),
		RateLimitWaitMax:  httpTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("jwt: JWKS %s: %w", url, err)
	}
	refetching, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: refetchingClient})
	if err != nil {
		return nil, fmt.Errorf("jwt: JWKS %s: %w", url, err)
	}
	limiter := rate.NewLimiter(rate.Every(every), 1)
	var flight singleflight.Group
	return func(token *jwt.Token) (any, error) {
		key, err := cached.Keyfunc(token)
		if !errors.Is(err, jwkset.ErrKeyNotFound) {
			return key, err
		}
		// Everyone waiting shares one fetch; the first of them takes it from the budget. Its
		// outcome matters less than the cache afterwards: a token that found the budget spent
		// may still find its key, fetched by a flight that ended a moment before. A failed
		// fetch is logged by the refresh error handler.
		flight.Do("refetch", func() (any, error) {
			if !limiter.Allow() {
				return nil, nil
			}
			return refetching.Keyfunc(token)
		})
		return cached.Keyfunc(token)
	}, nil
}

// parsePublicKey reads a PEM public key and returns the algorithms that fit it.
func parsePublicKey(pemText string) (any, []string, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, nil, errors.New("jwt: the public key is not PEM")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		if rsaKey, rerr := x509.ParsePKCS1PublicKey(block.Bytes); rerr == nil {
			key = rsaKey
		} else {
			return nil, nil, fmt.Errorf("jwt: parse public key: %w", err)
		}
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		return k, []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return k, []string{"ES256"}, nil
		case elliptic.P384():
			return k, []string{"ES384"}, nil
		case elliptic.P521():
			return k, []string{"ES512"}, nil
		}
	case ed25519.PublicKey:
		return k, []string{"EdDSA"}, nil
	}
	return nil, nil, fmt.Errorf("jwt: unsupported public key type %T", key)
}

// Messages of rejected tokens: what a legitimate client needs, nothing about which check of
// the signature or key lookup failed.
var (
	errTokenInvalid  = domain.Errorf(domain.CodeUnauthenticated, "invalid token")
	errTokenExpired  = domain.Errorf(domain.CodeUnauthenticated, "the token has expired")
	errTokenNotYet   = domain.Errorf(domain.CodeUnauthenticated, "the token is not valid yet")
	errTokenNoOrg    = domain.Errorf(domain.CodeUnauthenticated, "the token names no organisation")
	errTokenOrgGone  = domain.Errorf(domain.CodeUnauthenticated, "the token's organisation does not exist")
	orgCheckInterval = time.Minute
)

// Authenticate verifies a token and returns its principal.
func (v *JWTVerifier) Authenticate(ctx context.Context, token string) (*Principal, error) {
	claims := jwt.MapClaims{}
	_, err := v.parser.ParseWithClaims(token, claims, v.keyfunc)
	if err != nil {
		v.logger.InfoContext(ctx, "token rejected", "reason", err.Error())
		switch {
		case errors.Is(err, jwt.ErrTokenExpired):
			return nil, errTokenExpired
		case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
			return nil, errTokenNotYet
		}
		return nil, errTokenInvalid
	}
	p := &Principal{Scopes: scopesOf(claims[v.scopesClaim])}
	if sub, _ := claims["sub"].(string); sub != "" {
		p.Subject = "jwt:" + sub
	}
	org, _ := claims[v.orgClaim].(string)
	switch {
	case org == "" && !p.Has(domain.ScopePlatformAdmin):
		return nil, errTokenNoOrg
	case org != "":
		if err := v.checkOrg(ctx, org); err != nil {
			return nil, err
		}
		p.OrganisationID = org
	}
	return p, nil
}

// checkOrg confirms the organisation exists, remembering the answer for a minute.
func (v *JWTVerifier) checkOrg(ctx context.Context, id string) error {
	now := v.now()
	v.mu.Lock()
	seen, ok := v.knownOrg[id]
	v.mu.Unlock()
	if ok && now.Sub(seen) < orgCheckInterval {
		return nil
	}
	if _, err := v.orgs.FindOrganisation(ctx, id); err != nil {
		if domain.ErrorCode(err) == domain.CodeNotFound {
			return errTokenOrgGone
		}
		return err
	}
	v.mu.Lock()
	if len(v.knownOrg) > 100_000 {
		v.knownOrg = map[string]time.Time{}
	}
	v.knownOrg[id] = now
	v.mu.Unlock()
	return nil
}

// scopesOf reads a scope claim, a space-separated string or an array of strings, keeping the
// scopes Plugboard knows (identity providers add their own, such as openid).
func scopesOf(claim any) []domain.Scope {
	var names []string
	switch c := claim.(type) {
	case string:
		names = strings.Fields(c)
	case []any:
		for _, e := range c {
			if s, ok := e.(string); ok {
				names = append(names, strings.Fields(s)...)
			}
		}
	}
	known := append(slices.Clone(domain.OrganisationScopes), domain.ScopePlatformAdmin)
	var scopes []domain.Scope
	for _, n := range names {
		if s := domain.Scope(n); slices.Contains(known, s) {
			scopes = append(scopes, s)
		}
	}
	return domain.NormalizeScopes(scopes)
}

// Authenticator routes a bearer token: Plugboard API keys by their prefix, anything else to the
// JWT verifier when one is configured.
type Authenticator struct {
	Keys *Keys
	JWT  *JWTVerifier
}

// Authenticate verifies token as an API key or a JWT.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if strings.HasPrefix(token, APIKeyPrefix) {
		return a.Keys.Authenticate(ctx, token)
	}
	if a.JWT != nil && strings.Count(token, ".") == 2 {
		return a.JWT.Authenticate(ctx, token)
	}
	return nil, errTokenInvalid
}
