package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/plugboard/plugboard/internal/domain"
)

// refreshMargin is how long before its expiry a token is replaced, so that it does not expire
// in flight.
const refreshMargin = 30 * time.Second

func usable(t *domain.OAuthToken, now time.Time) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || t.Expiry.After(now.Add(refreshMargin)))
}

// token returns an access token for an OAuth2 credential: the cached one while it is usable,
// otherwise a new one. rejected is a token the API just refused (401): it is never returned
// again. Concurrent callers share one fetch per credential (singleflight here, a row lock on
// PostgreSQL across replicas).
func (e *Executor) token(ctx context.Context, orgID string, cred *domain.ActionCredential, rejected string) (*domain.OAuthToken, error) {
	if cred.Token != nil && usable(cred.Token, e.now()) && cred.Token.AccessToken != rejected {
		return cred.Token, nil
	}
	v, err, _ := e.flight.Do(cred.ID+"#"+rejected, func() (any, error) {
		return e.Store.LockCredentialToken(ctx, orgID, cred.ID, func(current *domain.OAuthToken) (*domain.OAuthToken, error) {
			if usable(current, e.now()) && current.AccessToken != rejected {
				return current, nil // fetched meanwhile by another caller or replica
			}
			e.tokenFetches.Add(1)
			return e.fetchToken(ctx, cred, current)
		})
	})
	if err != nil {
		return nil, err
	}
	t := v.(*domain.OAuthToken)
	cred.Token = t
	return t, nil
}

// tokenEndpoint is the x/oauth2 configuration of cred's token URL, and ctx carrying the
// guarded client to call it with. The token URL's own host gets the client secret; a redirect
// must not take it elsewhere.
func tokenEndpoint(ctx context.Context, cred *domain.ActionCredential, client *http.Client) (context.Context, *oauth2.Config) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
	ctx = context.WithValue(ctx, redirectPolicyKey{}, &redirectPolicy{secrets: newRedactor([]domain.ActionCredential{*cred})})
	settings := cred.Config.OAuth2
	return ctx, &oauth2.Config{
		ClientID:     cred.Value(domain.FieldClientID),
		ClientSecret: cred.Value(domain.FieldClientSecret),
		Endpoint:     oauth2.Endpoint{TokenURL: *settings.TokenURL},
		Scopes:       settings.Scopes,
	}
}

// fetchToken asks the token URL for a token with golang.org/x/oauth2: a refresh token when one
// is at hand, else the configured grant.
func (e *Executor) fetchToken(ctx context.Context, cred *domain.ActionCredential, current *domain.OAuthToken) (*domain.OAuthToken, error) {
	settings := cred.Config.OAuth2
	if settings == nil || settings.Grant == nil {
		return nil, errors.New("the OAuth2 grant is not configured")
	}
	if settings.TokenURL == nil {
		if at := cred.Value(domain.FieldAccessToken); at != "" {
			return &domain.OAuthToken{AccessToken: at}, nil
		}
		return nil, errors.New("the OAuth2 config has no token URL")
	}
	client := e.clients.get(cred.Config.VerifySSL)
	if settings.Audience != nil {
		client = withFormParam(client, *settings.TokenURL, "audience", *settings.Audience)
	}
	ctx, conf := tokenEndpoint(ctx, cred, client)
	refresh := cred.Value(domain.FieldRefreshToken)
	if current != nil && current.RefreshToken != "" {
		refresh = current.RefreshToken
	}
	if refresh != "" {
		t, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh, Expiry: time.Unix(1, 0)}).Token()
		if err == nil {
			return fromOAuth2(t, refresh), nil
		}
		if *settings.Grant == domain.GrantAuthorizationCode {
			return nil, tokenError(err)
		}
		// The refresh token may have expired: fall back to the grant itself.
	}
	var (
		t   *oauth2.Token
		err error
	)
	switch *settings.Grant {
	case domain.GrantClientCredentials:
		cc := clientcredentials.Config{ClientID: conf.ClientID, ClientSecret: conf.ClientSecret, TokenURL: conf.Endpoint.TokenURL, Scopes: conf.Scopes}
		t, err = cc.Token(ctx)
	case domain.GrantPassword:
		t, err = conf.PasswordCredentialsToken(ctx, cred.Value(domain.FieldUsername), cred.Value(domain.FieldPassword))
	case domain.GrantAuthorizationCode:
		if at := cred.Value(domain.FieldAccessToken); at != "" {
			return &domain.OAuthToken{AccessToken: at}, nil
		}
		return nil, errors.New("the authorization code grant needs a refresh token or an access token in the credential")
	}
	if err != nil {
		return nil, tokenError(err)
	}
	return fromOAuth2(t, ""), nil
}

func fromOAuth2(t *oauth2.Token, refresh string) *domain.OAuthToken {
	out := &domain.OAuthToken{AccessToken: t.AccessToken, TokenType: t.TokenType, RefreshToken: t.RefreshToken, Expiry: t.Expiry}
	if out.RefreshToken == "" {
		out.RefreshToken = refresh
	}
	return out
}

// TokenError is a token URL's refusal: its HTTP status and OAuth2 error code (such as
// invalid_grant), never its body.
type TokenError struct {
	Status int
	Code   string
}

func (e *TokenError) Error() string {
	detail := ""
	if e.Code != "" {
		detail = ": " + e.Code
	}
	return fmt.Sprintf("the token URL refused the request (HTTP %d%s)", e.Status, detail)
}

// OAuthCode is the OAuth2 error code the token URL answered ("" when none).
func (e *TokenError) OAuthCode() string { return e.Code }

// tokenError says in plain words why the token URL did not give a token, without its body.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		return &TokenError{Status: re.Response.StatusCode, Code: re.ErrorCode}
	}
	return fmt.Errorf("fetching a token failed: %w", err)
}

// withFormParam adds name=value to form posts to tokenURL: x/oauth2 has no way to send an
// audience with the password grant, which identity providers such as Auth0 require.
func withFormParam(c *http.Client, tokenURL, name, value string) *http.Client {
	wrapped := *c
	wrapped.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodPost && strings.HasPrefix(req.URL.String(), tokenURL) && req.Body != nil &&
			strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			body, err := readAll(req)
			if err != nil {
				return nil, err
			}
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, err
			}
			if form.Get(name) == "" {
				form.Set(name, value)
			}
			setBody(req, []byte(form.Encode()))
		}
		return c.Transport.RoundTrip(req)
	})
	return &wrapped
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
