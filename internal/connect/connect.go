// Package connect connects customers' accounts to connections: the OAuth2 authorization-code
// flow with PKCE (startOAuthConnect and GET /oauth/callback) and hosted connect pages
// (createConnectSession and /connect/<token>), which an account's owner uses without any
// Plugboard key.
package connect

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/plugboard/plugboard/internal/domain"
)

// How long a flow's state and a connect page's token live.
const (
	FlowTTL    = 10 * time.Minute
	SessionTTL = 30 * time.Minute
)

// Exchanger trades an authorization code for tokens (the outbound executor, behind its guard).
type Exchanger interface {
	ExchangeCode(ctx context.Context, config domain.AuthSchemeConfig, values []domain.Variable, code, verifier, redirectURI string) (*domain.OAuthToken, error)
}

// Store is what the service reads and writes.
type Store interface {
	domain.ConnectStore
	FindConnection(ctx context.Context, orgID, id string) (*domain.Connection, error)
	FindConnector(ctx context.Context, orgID, id string) (*domain.Connector, error)
	ListCredentials(ctx context.Context, orgID, connectionID string, kind *domain.CredentialKind) ([]domain.Credential, error)
	SetCredential(ctx context.Context, orgID, connectionID string, in domain.CredentialInput) (*domain.Credential, error)
}

// Service starts flows and sessions and serves the keyless routes that complete them.
type Service struct {
	Store     Store
	Exchanger Exchanger
	// PublicURL is where browsers reach this server (PLUGBOARD_PUBLIC_URL), without a
	// trailing slash: the OAuth redirect URI and connect pages' URLs start with it.
	PublicURL string
	// RedirectOrigins are the origins redirectURL may point to
	// (PLUGBOARD_CONNECT_REDIRECT_ORIGINS); none allows no redirectURL at all.
	RedirectOrigins []string
	Logger          *slog.Logger
	Now             func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// RedirectURI is the callback address to register with providers.
func (s *Service) RedirectURI() string { return s.PublicURL + "/oauth/callback" }

// CheckRedirectURL refuses a redirectURL outside the allowed origins (no open redirect).
// Origins compare as browsers do: letter case aside and with the scheme's default port
// implied; surrounding spaces are refused, not trimmed, whichever end they are at.
func (s *Service) CheckRedirectURL(field string, raw *string) error {
	if raw == nil {
		return nil
	}
	if strings.TrimSpace(*raw) != *raw {
		return domain.Invalid(field, "must not begin or end with spaces")
	}
	u, err := url.Parse(*raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return domain.Invalid(field, "must be an absolute http or https URL")
	}
	origin := originOf(u)
	for _, o := range s.RedirectOrigins {
		if allowed, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(o), "/")); err == nil && originOf(allowed) == origin {
			return nil
		}
	}
	if len(s.RedirectOrigins) == 0 {
		return domain.Invalid(field, "no redirect origins are allowed on this server (PLUGBOARD_CONNECT_REDIRECT_ORIGINS is empty); omit redirectURL")
	}
	return domain.Invalid(field, "origin %s is not among the allowed redirect origins (PLUGBOARD_CONNECT_REDIRECT_ORIGINS)", origin)
}

// originOf is u's origin in lower case, without the scheme's default port.
func originOf(u *url.URL) string {
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if port == "" || scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

// StartOAuth begins an authorization-code flow for one config of a connection.
func (s *Service) StartOAuth(ctx context.Context, orgID, connectionID, configID string, redirectURL *string) (*domain.OAuthConnectStart, error) {
	if err := s.CheckRedirectURL("redirectURL", redirectURL); err != nil {
		return nil, err
	}
	target, err := s.Store.ConnectTarget(ctx, orgID, connectionID, configID)
	if err != nil {
		return nil, err
	}
	returnURL := ""
	if redirectURL != nil {
		returnURL = *redirectURL
	}
	return s.startFlow(ctx, orgID, target, returnURL, domain.ActorFrom(ctx))
}

// authorizationCode checks that a config can run the flow and its credential is ready.
func authorizationCode(target *domain.ConnectTarget) error {
	c := target.Config
	o := c.OAuth2
	if c.SchemeType != domain.SchemeOAuth2 || o == nil || o.Grant == nil || *o.Grant != domain.GrantAuthorizationCode {
		return domain.Invalid("authSchemeConfigId", "config %q is not an OAUTH2 config with the AUTHORIZATION_CODE grant", c.Key)
	}
	if o.AuthorizeURL == nil || o.TokenURL == nil {
		return domain.Invalid("authSchemeConfigId", "config %q needs oauth2.authorizeURL and oauth2.tokenURL", c.Key)
	}
	cred := domain.ActionCredential{Values: target.Values}
	if cred.Value(domain.FieldClientID) == "" {
		return domain.Invalid("authSchemeConfigId", "set the connection's ACTION credential for config %q first with setCredential: clientId (and clientSecret for a confidential client)", c.Key)
	}
	return nil
}

// startFlow stores a new flow and returns the provider's authorization URL.
func (s *Service) startFlow(ctx context.Context, orgID string, target *domain.ConnectTarget, returnURL, actor string) (*domain.OAuthConnectStart, error) {
	if err := authorizationCode(target); err != nil {
		return nil, err
	}
	state := randomToken()
	flow := &domain.OAuthFlow{
		OrganisationID: orgID, ConnectionID: target.Connection.ID, ConfigKey: target.Config.Key, Actor: actor,
		Verifier: oauth2.GenerateVerifier(), ReturnURL: returnURL, ExpiresAt: s.now().Add(FlowTTL),
	}
	if err := s.Store.CreateOAuthFlow(ctx, flow, hash(state)); err != nil {
		return nil, err
	}
	o := target.Config.OAuth2
	conf := oauth2.Config{
		ClientID:    (&domain.ActionCredential{Values: target.Values}).Value(domain.FieldClientID),
		Endpoint:    oauth2.Endpoint{AuthURL: *o.AuthorizeURL, TokenURL: *o.TokenURL},
		RedirectURL: s.RedirectURI(),
		Scopes:      o.Scopes,
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(flow.Verifier)}
	if o.Audience != nil {
		opts = append(opts, oauth2.SetAuthURLParam("audience", *o.Audience))
	}
	return &domain.OAuthConnectStart{AuthorizationURL: conf.AuthCodeURL(state, opts...), ExpiresAt: flow.ExpiresAt.UTC()}, nil
}

// CreateSession creates a hosted connect page for one connection.
func (s *Service) CreateSession(ctx context.Context, orgID, connectionID string, redirectURL *string) (*domain.ConnectSessionURL, error) {
	if err := s.CheckRedirectURL("redirectURL", redirectURL); err != nil {
		return nil, err
	}
	if _, err := s.Store.FindConnection(ctx, orgID, connectionID); err != nil {
		return nil, err
	}
	token := "pbc_" + randomToken()
	cs := &domain.ConnectSession{
		OrganisationID: orgID, ConnectionID: connectionID, RedirectURL: redirectURL, Actor: domain.ActorFrom(ctx),
		ExpiresAt: s.now().Add(SessionTTL),
	}
	if err := s.Store.CreateConnectSession(ctx, cs, hash(token)); err != nil {
		return nil, err
	}
	return &domain.ConnectSessionURL{URL: s.PublicURL + "/connect/" + token, ExpiresAt: cs.ExpiresAt.UTC()}, nil
}

// randomToken is 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hash is what is stored of a state or a token: finding the row needs the secret itself.
func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// errorCode picks what the callback reports of a failed exchange: the provider's OAuth2 code
// when it gave a well-formed one, else server_error.
func errorCode(err error) string {
	var coded interface{ OAuthCode() string }
	if errors.As(err, &coded) {
		if c := coded.OAuthCode(); safeCode(c) {
			return c
		}
	}
	return "server_error"
}

// safeCode accepts OAuth2 error codes (RFC 6749 §4.1.2.1: printable ASCII without quotes and
// backslashes), short, so that what is echoed into a URL or page is a code and nothing else.
func safeCode(c string) bool {
	if c == "" || len(c) > 64 {
		return false
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// withStatus adds status (and error) to a return URL's query.
func withStatus(raw, errCode string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Del("error")
	if errCode == "" {
		q.Set("status", "ok")
	} else {
		q.Set("status", "error")
		q.Set("error", errCode)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
